package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;
import static io.bq2k.bench.BenchRun.RUN_TIMEOUT;
import static io.bq2k.bench.BenchRun.ms;
import static io.bq2k.bench.Stats.fmtN;
import static io.bq2k.bench.Stats.mb;
import static io.bq2k.bench.Stats.median;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.bq2k.stack.PipelineOps;

/**
 * Case 6 ({@code --memory}): on one worker with nothing else deployed (no sink: the issue is about the
 * source's memory, and a sink's consumer buffers and batches would add heap of their own), a
 * warm-up sync of N/10 rows, then per repetition a fresh sync of the first N/10 rows and one of
 * all N rows, twice each (a plain pass, then a live pass). Every run is run 1 of a new sync (new topic and staging dataset), so its
 * changes are all inserts: N/10 and N changes.
 * <ul>
 * <li>plain pass (nothing forced): emission rate (records / emit_ms), the worker's CPU seconds
 *     (utime+stime of the whole process: task, producer, GC and JIT threads), heap used sampled
 *     every 250 ms, heap used after each GC (from the worker's GC notifications);
 * <li>live pass: the same run again with a full GC forced in the worker every 1/20 of the plain
 *     run's emission time (at most every 250 ms), so both peaks are maxima of about as many samples
 *     taken while records flow (measured: the live heap sits ~10 MB above the idle worker's, with
 *     short rises of ~20 MB more that a sparser sampling of a short run misses); the most
 *     heap used after one of them (the opening one included) is the run's peak live heap - the figure
 *     of the target, since G1's heap after a young GC also holds prematurely promoted garbage that grows
 *     with the time since its last marking cycle, i.e. with the run's length, not with what the
 *     connector holds.
 * </ul>
 */
final class MemoryCase {

    /** Full GCs forced in the worker during the emission of a run of the live pass (about; at most one per 250 ms). */
    static final int LIVE_SAMPLES = 20;

    /** One run; {@code liveEveryMs > 0}: a live pass, a full GC forced in the worker that often. */
    record MemRun(long changes, int rep, long liveEveryMs, long emitted, double emitS, double runS, double workerCpuS, WorkerMemory.Peak peak,
                  Map<String, Double> cpu) {
        double rowsPerS() {
            return emitted / emitS;
        }

        boolean live() {
            return liveEveryMs > 0;
        }
    }

    private final BenchRun run;
    private final KeptSync kept;

    MemoryCase(BenchRun run, KeptSync kept) {
        this.run = run;
        this.kept = kept;
    }

    /** Runs the case; returns whether its target (peak live heap ratio <= 1.2) was met. */
    boolean run(Results res) throws Exception {
        BenchStack st = run.stack();
        long large = run.opts().rows, small = large / 10, warm = small;
        int reps = run.opts().reps;
        log("== memory: the source alone (no sink), a warm-up sync of %s rows, then %s- and %s-change runs, plain and with ~%d forced full GCs"
                + " (%d repetition(s)); worker heap %s", fmtN(warm), fmtN(small), fmtN(large), LIVE_SAMPLES, reps, run.opts().connectHeap);
        if (kept != null) {
            kept.remove(st.deployer);
        }
        long workerPid = st.workerPid();
        memoryRun(warm, 0, 0, workerPid);
        List<MemRun> runs = new ArrayList<>();
        for (int rep = 1; rep <= reps; rep++) {
            MemRun ps = memoryRun(small, rep, 0, workerPid), pl = memoryRun(large, rep, 0, workerPid);
            runs.add(ps);
            runs.add(pl);
            for (MemRun plain : List.of(ps, pl)) {
                runs.add(memoryRun(plain.changes(), rep, Math.max(250, Math.round(plain.emitS() * 1000 / LIVE_SAMPLES)), workerPid));
            }
        }
        run.details().put("memory", runs.stream().map(MemoryCase::details).toList());
        double[] live = new double[2], polled = new double[2], afterGc = new double[2];
        long[] sizes = {small, large};
        for (int i = 0; i < 2; i++) {
            long n = sizes[i];
            List<MemRun> plain = runs.stream().filter(r -> r.changes() == n && !r.live()).toList();
            List<MemRun> lv = runs.stream().filter(r -> r.changes() == n && r.live()).toList();
            live[i] = median(lv, r -> r.peak().liveHeapPeak() / 1e6);
            polled[i] = median(plain, r -> r.peak().heapUsedPolled() / 1e6);
            afterGc[i] = median(plain, r -> r.peak().heapAfterGcPeak() / 1e6);
            res.memRow(new Results.MemRow(fmtN(n) + "-change run", n, median(plain, MemRun::rowsPerS), live[i],
                    median(lv, r -> r.peak().heapAtStart() / 1e6), polled[i], afterGc[i], median(plain, MemRun::workerCpuS), median(plain, MemRun::runS)));
        }
        res.memRatio = live[1] / live[0];
        res.memRatioPolled = polled[1] / polled[0];
        res.memRatioAfterGc = afterGc[1] / afterGc[0];
        boolean met = res.memRatio <= 1.2;
        res.target("Worker peak heap (live: used after a forced full GC) of the " + fmtN(large) + "-change run within 20% of the "
                + fmtN(small) + "-change run", met, String.format("%.2fx (without forced GCs: sampled peak heap used %.2fx, peak used after a GC %.2fx)",
                        res.memRatio, res.memRatioPolled, res.memRatioAfterGc));
        return met;
    }

    private static Map<String, Object> details(MemRun r) {
        Map<String, Object> m = new LinkedHashMap<>();
        WorkerMemory.Peak pk = r.peak();
        m.put("changes", r.changes()); m.put("rep", r.rep()); m.put("pass", r.live() ? "live" : "plain"); m.put("full_gc_every_ms", r.liveEveryMs());
        m.put("emitted", r.emitted()); m.put("emit_s", r.emitS()); m.put("run_s", r.runS()); m.put("rows_per_s", r.rowsPerS());
        m.put("worker_cpu_s", r.workerCpuS()); m.put("cpu_s", r.cpu());
        m.put("live_heap_peak", pk.liveHeapPeak()); m.put("full_gcs", pk.fullGcs().size());
        m.put("heap_after_gc_peak", pk.heapAfterGcPeak()); m.put("heap_after_full_gc_at_start", pk.heapAtStart());
        m.put("heap_used_polled_max", pk.heapUsedPolled()); m.put("heap_pools_peak", pk.heapPoolsPeak());
        m.put("old_gen_collection_usage_max", pk.oldGenAfterGc()); m.put("rss_hwm", pk.rssHwm()); m.put("rss_polled_max", pk.rssPolled());
        m.put("gc_count", pk.gcs().size()); m.put("gc_pause_ms", pk.gcPauseMs()); m.put("gcs", pk.gcs());
        return m;
    }

    /**
     * Waits until the worker runs no connector and no task (a DELETE returns before the task has stopped
     * and closed its producer), then 2 s more: a run's opening full GC must not see the previous run's task.
     */
    private void awaitIdleWorker() throws InterruptedException {
        WorkerMemory memory = run.stack().memory;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String bean = "kafka.connect:type=connect-worker-metrics";
        Object tasks = null, connectors = null;
        while (true) {
            tasks = memory.attribute(bean, "task-count");
            connectors = memory.attribute(bean, "connector-count");
            if (tasks instanceof Number t && t.doubleValue() == 0 && connectors instanceof Number c && c.doubleValue() == 0) {
                break;
            }
            if (System.nanoTime() > deadline) {
                log("  (the worker still reports %s connector(s), %s task(s) after 60 s: measuring anyway)", connectors, tasks);
                break;
            }
            Thread.sleep(200);
        }
        Thread.sleep(2000);
    }

    /** A fresh sync of the first {@code n} rows, the source alone; rep 0 is the (unreported) warm-up. */
    private MemRun memoryRun(long n, int rep, long liveEveryMs, long workerPid) throws Exception {
        BenchStack st = run.stack();
        String name = st.nextSync("bench-mem");
        String topic = "bench." + name;
        st.local.createCompactedTopic(topic, run.opts().partitions);
        String q = BenchData.QUERY + " WHERE id <= " + n;
        long expected = Signature.ofQuery(st.bq, q).count();
        awaitIdleWorker();
        double l1 = HostMetrics.load1();
        st.memory.start(liveEveryMs); // full GC in the worker, peaks reset
        Map<String, Double> c0 = st.host.cpu();
        double w0 = HostMetrics.cpuSeconds(workerPid);
        long wall0 = System.currentTimeMillis();
        st.deployer.deploy(name, st.sourceConfig(topic, q, st.staging()));
        PipelineOps.RunSummary s = st.ops.awaitRun(topic + ".runs", 1, RUN_TIMEOUT);
        double workerCpu = HostMetrics.cpuSeconds(workerPid) - w0;
        Map<String, Double> cpuUsed = HostMetrics.cpuDelta(c0, st.host.cpu());
        WorkerMemory.Peak pk = st.memory.stop();
        double emitS = ms(s.payload(), "emit_ms") / 1000;
        double runS = (s.payload().path("finished_at_ms").asLong() - wall0) / 1000.0;
        MemRun r = new MemRun(n, rep, liveEveryMs, s.emitted(), emitS, runS, Math.round(workerCpu * 10) / 10.0, pk, cpuUsed);
        log("  %s %s-change run%s: %s; run %.1fs (deploy -> finished), emit %.2fs = %,.0f rows/s; worker CPU %.1fs; live heap peak %s"
                        + " (%d full GCs; after the opening one %s); heap used after a GC peak %s; %d GCs, %d ms paused; sampled peak heap used %s,"
                        + " heap pools' peak %s, RSS peak %s; load %.1f",
                rep == 0 ? "warm-up" : "rep " + rep, fmtN(n), liveEveryMs > 0 ? " (live pass: full GC every " + liveEveryMs + " ms)" : "", s, runS, emitS,
                r.rowsPerS(), workerCpu, mb(pk.liveHeapPeak()), pk.fullGcs().size(), mb(pk.heapAtStart()), mb(pk.heapAfterGcPeak()),
                pk.gcs().size(), pk.gcPauseMs(), mb(pk.heapUsedPolled()), mb(pk.heapPoolsPeak()), mb(pk.rssHwm()), l1);
        log("    CPU seconds per process during the run: %s", cpuUsed);
        if (s.emitted() != expected) {
            run.failures().add("memory run of " + expected + " rows emitted " + s.emitted());
        }
        st.deployer.delete(name);
        st.local.deleteTopic(topic);
        return r;
    }
}
