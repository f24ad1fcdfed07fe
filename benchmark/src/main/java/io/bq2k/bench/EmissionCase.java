package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;
import static io.bq2k.bench.BenchRun.RUN_TIMEOUT;
import static io.bq2k.bench.BenchRun.ms;
import static io.bq2k.bench.Stats.fmtN;
import static io.bq2k.bench.Stats.mb;
import static io.bq2k.bench.Stats.median;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.bq2k.stack.PipelineOps;

/**
 * Cases 4 and 5, with nothing else deployed in the worker: a fresh sync of N/10 and of N rows with
 * no sink on the topic - the source's emission rate (records / emit_ms, cross-checked with the
 * topic's end offsets over time) and the worker's memory (JMX heap peaks, RSS) - and after each
 * N-row run the sink alone on the filled topic.
 */
final class EmissionCase {

    private final BenchRun run;
    private final KeptSync kept;

    EmissionCase(BenchRun run, KeptSync kept) {
        this.run = run;
        this.kept = kept;
    }

    void run(Results res) throws Exception {
        BenchStack st = run.stack();
        BenchOptions opts = run.opts();
        long rows = opts.rows;
        int reps = opts.reps;
        log("== 4/5. source emission alone (no sink on the topic) and worker memory, %d repetition(s) each", reps);
        // Nothing else runs in the worker during these runs.
        if (kept != null) {
            kept.remove(st.deployer);
        }
        long small = rows / 10;
        List<Double> rate = new ArrayList<>(), rateOffsets = new ArrayList<>(), sinkAlone = new ArrayList<>();
        Map<Long, List<WorkerMemory.Peak>> peaks = new LinkedHashMap<>();
        List<Map<String, Object>> raw = new ArrayList<>();
        for (long n : new long[] {small, rows}) {
            for (int rep = 1; rep <= reps; rep++) {
                String name = st.nextSync("bench-emit");
                String topic = "bench." + name;
                st.local.createCompactedTopic(topic, opts.partitions);
                String q = n == rows ? BenchData.QUERY : BenchData.QUERY + " WHERE id <= " + n;
                st.memory.start();
                OffsetSampler sampler = new OffsetSampler(st.local, topic, opts.partitions);
                sampler.start();
                double l1 = HostMetrics.load1();
                Map<String, Double> c0 = st.host.cpu();
                st.deployer.deploy(name, st.sourceConfig(topic, q, st.staging()));
                PipelineOps.RunSummary s = st.ops.awaitRun(topic + ".runs", 1, RUN_TIMEOUT);
                Map<String, Double> cpuUsed = HostMetrics.cpuDelta(c0, st.host.cpu());
                sampler.stop();
                WorkerMemory.Peak pk = st.memory.stop();
                log("  CPU seconds per process during the run (emission alone): %s", cpuUsed);
                double emitS = ms(s.payload(), "emit_ms") / 1000;
                double r = s.emitted() / emitS;
                double ro = sampler.rate(s.emitted());
                log("  %s-change rep %d: %s; emit %.2fs = %,.0f records/s (from topic end offsets %,.0f records/s); heap peak %s (polled %s, old gen after GC %s), RSS peak %s load %.1f",
                        fmtN(n), rep, s, emitS, r, ro, mb(pk.heapPoolsPeak()), mb(pk.heapUsedPolled()), mb(pk.oldGenAfterGc()), mb(pk.rssHwm()), l1);
                long expectedN = Signature.ofQuery(st.bq, q).count();
                if (s.emitted() != expectedN) {
                    run.failures().add("emission run of " + expectedN + " rows emitted " + s.emitted());
                }
                if (n == rows) {
                    rate.add(r);
                    rateOffsets.add(ro);
                }
                peaks.computeIfAbsent(n, k -> new ArrayList<>()).add(pk);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("changes", n); m.put("rep", rep); m.put("emit_s", emitS); m.put("records_per_s", r); m.put("records_per_s_offsets", ro);
                m.put("heap_pools_peak", pk.heapPoolsPeak()); m.put("heap_used_polled_max", pk.heapUsedPolled());
                m.put("old_gen_after_gc_max", pk.oldGenAfterGc()); m.put("rss_hwm", pk.rssHwm()); m.put("rss_polled_max", pk.rssPolled());
                m.put("summary", s.payload()); m.put("load1_before", l1); m.put("cpu_s", cpuUsed);
                st.deployer.delete(name);
                if (n == rows) {
                    sinkAlone.add(sinkAlone(name, topic, q, m));
                }
                raw.add(m);
                st.local.deleteTopic(topic);
            }
        }
        run.details().put("emission_memory", raw);
        res.add("Source emission alone, " + fmtN(rows) + "-change run, sink absent (records/s)", median(rate), Double.NaN, Double.NaN,
                String.format("%.2fx target 150k", median(rate) / 150_000),
                String.format("from emit_ms of the run summary; from topic end offsets over time: %,.0f records/s", median(rateOffsets)));
        res.add("Sink alone on the filled topic of that run (rows/s)", median(sinkAlone), Double.NaN, Double.NaN, "",
                "Debezium JDBC sink, " + opts.sinkTasks + " task(s), " + opts.partitions + " partition(s), batch " + opts.sinkBatch
                        + (opts.compactJson ? ", schema-less JSON + schema.content" : ", JSON with schemas"));
        res.target("Source emission >= 150,000 records/s", median(rate) >= 150_000, String.format("%,.0f records/s", median(rate)));
        memoryRows(res, peaks.get(small), peaks.get(rows), small, rows);
    }

    /** The sink alone on the filled topic (source done): its apply rate without competition, in rows/s. */
    private double sinkAlone(String name, String topic, String query, Map<String, Object> m) throws Exception {
        BenchStack st = run.stack();
        String table = name.replace('-', '_');
        Signature expectedSig = Signature.ofQuery(st.bq, query);
        Map<String, Double> s0 = st.host.cpu();
        long t0 = System.nanoTime();
        st.deployer.deploy("sink-" + name, st.sinkConfig(topic, table));
        Signature.await(st.local, table, expectedSig, RUN_TIMEOUT);
        double secs = (System.nanoTime() - t0) / 1e9;
        Map<String, Double> sinkCpu = HostMetrics.cpuDelta(s0, st.host.cpu());
        log("  sink alone on the filled topic: %,d rows in %.1fs = %,.0f rows/s; CPU seconds: %s", expectedSig.count(), secs,
                expectedSig.count() / secs, sinkCpu);
        m.put("sink_alone_s", secs); m.put("sink_alone_cpu_s", sinkCpu);
        st.deployer.delete("sink-" + name);
        st.dropTable(table);
        return expectedSig.count() / secs;
    }

    /** Case 5's rows: the worker's peak heap and RSS of the N/10- and the N-change runs (medians), and the target. */
    private static void memoryRows(Results res, List<WorkerMemory.Peak> smallRuns, List<WorkerMemory.Peak> largeRuns, long small, long rows) {
        double hS = median(smallRuns, WorkerMemory.Peak::heapPoolsPeak), hL = median(largeRuns, WorkerMemory.Peak::heapPoolsPeak);
        double oS = median(smallRuns, WorkerMemory.Peak::oldGenAfterGc), oL = median(largeRuns, WorkerMemory.Peak::oldGenAfterGc);
        double rS = median(smallRuns, WorkerMemory.Peak::rssHwm), rL = median(largeRuns, WorkerMemory.Peak::rssHwm);
        res.add("Worker peak heap, " + fmtN(small) + "-change run (MB)", hS / 1e6, Double.NaN, Double.NaN, "",
                String.format("old gen after GC %.0f MB; heap pools' peak after a full GC and reset (-Xmx in --connect-heap)", oS / 1e6));
        res.add("Worker peak heap, " + fmtN(rows) + "-change run (MB)", hL / 1e6, Double.NaN, Double.NaN,
                String.format("%.2fx the %s run", hL / hS, fmtN(small)), String.format("old gen after GC %.0f MB", oL / 1e6));
        res.add("Worker peak RSS, " + fmtN(small) + "-change run (MB)", rS / 1e6, Double.NaN, Double.NaN, "", "VmHWM after clear_refs");
        res.add("Worker peak RSS, " + fmtN(rows) + "-change run (MB)", rL / 1e6, Double.NaN, Double.NaN, String.format("%.2fx", rL / rS), "");
        res.target("Peak heap of the " + fmtN(rows) + "-change run within 20% of the " + fmtN(small) + "-change run", hL <= 1.2 * hS,
                String.format("%.2fx (old gen after GC %.2fx)", hL / hS, oS > 0 ? oL / oS : Double.NaN));
    }
}
