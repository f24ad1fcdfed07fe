package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;
import static io.bq2k.bench.BenchRun.RUN_TIMEOUT;
import static io.bq2k.bench.BenchRun.ms;
import static io.bq2k.bench.Stats.fmtN;
import static io.bq2k.bench.Stats.median;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.bq2k.stack.PipelineOps;

/**
 * Case 2, the incremental refresh: per repetition 1% of the rows change in BigQuery (0.5% updates,
 * 0.25% inserts, 0.25% deletes; {@link BenchData#changeSql}); ours is a triggered run of the kept
 * sync, timed until MySQL's signature equals the new result, split into trigger, BigQuery, emission
 * and sink tail; the baselines reload everything (they cannot see changes).
 */
final class IncrementalCase {

    private final BenchRun run;
    private final KeptSync kept;

    IncrementalCase(BenchRun run, KeptSync kept) {
        this.run = run;
        this.kept = kept;
    }

    void run(Results res) throws Exception {
        BenchStack st = run.stack();
        long rows = run.opts().rows;
        int reps = run.opts().reps;
        log("== 2. incremental refresh: 1%% of the rows change (0.5%% updates, 0.25%% inserts, 0.25%% deletes), %d repetition(s)", reps);
        List<Double> ours = new ArrayList<>(), seed = new ArrayList<>(), ups = new ArrayList<>(), bqS = new ArrayList<>(),
                emitS = new ArrayList<>(), sinkS = new ArrayList<>(), startS = new ArrayList<>(), changes = new ArrayList<>();
        String seedOk = null, upsOk = null;
        List<Map<String, Object>> raw = new ArrayList<>();
        for (int rep = 1; rep <= reps; rep++) {
            long maxId = Long.parseLong(st.bq.scalar("SELECT MAX(id) AS m FROM " + BenchData.TABLE));
            for (String sql : BenchData.changeSql(rows, rep, maxId)) {
                st.bq.query(sql);
            }
            Signature expected = Signature.ofQuery(st.bq, BenchData.QUERY);
            long n = ++kept.run;
            double l1 = HostMetrics.load1();
            long t0 = System.nanoTime();
            long wall0 = System.currentTimeMillis();
            st.ops.triggerRun(kept.source);
            long tEq = Signature.await(st.local, kept.table, expected, RUN_TIMEOUT);
            PipelineOps.RunSummary s = st.ops.awaitRun(kept.runsTopic(), n, Duration.ofMinutes(2));
            double total = (tEq - t0) / 1e9;
            JsonNode pl = s.payload();
            double bqWork = (ms(pl, "snapshot_ms") + ms(pl, "check_ms") + ms(pl, "diff_ms")) / 1000;
            double emit = ms(pl, "emit_ms") / 1000;
            double start = (pl.path("started_at_ms").asLong() - wall0) / 1000.0;
            double sinkTail = (wall0 + total * 1000 - pl.path("finished_at_ms").asLong()) / 1000;
            log("  rep %d ours: run %d %s; MySQL equal %.2fs after the trigger (trigger %.2fs, BigQuery %.2fs, emit %.2fs, sink after emit %.2fs) load %.1f",
                    rep, n, s, total, start, bqWork, emit, sinkTail, l1);
            ours.add(total); bqS.add(bqWork); emitS.add(emit); sinkS.add(sinkTail); startS.add(start); changes.add((double) s.emitted());
            run.check().checkOurs("incremental", kept.table, rep);

            Baselines.Pass sp = st.baselines.seed(BenchData.QUERY, Baselines.SEED_TABLE);
            log("  rep %d seed script full reload: %.1fs", rep, sp.seconds());
            String so = run.check().checkBaseline("incremental", "seed", Baselines.SEED_TABLE, rep);
            seedOk = so != null ? so : seedOk;
            Baselines.Pass up = st.baselines.upsert(BenchData.QUERY, Baselines.UPSERT_TABLE);
            log("  rep %d upsert loader full reload: %.1fs", rep, up.seconds());
            String uo = run.check().checkBaseline("incremental", "upsert", Baselines.UPSERT_TABLE, rep);
            upsOk = uo != null ? uo : upsOk;
            seed.add(sp.seconds()); ups.add(up.seconds());
            raw.add(Map.of("rep", rep, "ours_s", total, "seed_s", sp.seconds(), "upsert_s", up.seconds(), "bq_s", bqWork, "emit_s", emit,
                    "sink_after_emit_s", sinkTail, "trigger_s", start, "summary", pl, "load1_before", l1));
        }
        run.details().put("incremental", raw);
        double o = median(ours);
        res.add("Incremental refresh, 1% of " + fmtN(rows) + " changed (seconds)", o, median(seed), median(ups),
                String.format("%.1fx faster than upsert reload", median(ups) / o),
                String.format("ours = trigger (config update, task restart) %.2fs + BigQuery (snapshot+check+diff) %.2fs + emission %.2fs + sink apply after emission %.2fs; %,.0f changes",
                        median(startS), median(bqS), median(emitS), median(sinkS), median(changes)));
        res.add("Incremental refresh: MySQL equals the new result", run.failures().stream().noneMatch(f -> f.startsWith("incremental")) ? 1 : 0,
                Double.NaN, Double.NaN, "", "ours: correct (1 = yes); seed: " + seedOk + " (never updates or deletes); upsert: " + upsOk
                        + " (never deletes)");
        res.target("Incremental 1% >= 10x faster than a full upsert reload, and correct", median(ups) / o >= 10,
                String.format("%.1fx", median(ups) / o));
    }
}
