package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;
import static io.bq2k.bench.BenchRun.RUN_TIMEOUT;
import static io.bq2k.bench.Stats.fmtN;
import static io.bq2k.bench.Stats.median;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.bq2k.stack.PipelineOps;

/**
 * Case 3, the no-change run: a run of the kept sync triggered with nothing changed, timed from the
 * trigger to its run summary; it must emit 0 records (the source is configured to do the full
 * snapshot + diff anyway, {@code schedule.skip.unchanged.inputs=false}).
 */
final class NoChangeCase {

    private final BenchRun run;
    private final KeptSync kept;

    NoChangeCase(BenchRun run, KeptSync kept) {
        this.run = run;
        this.kept = kept;
    }

    void run(Results res) throws Exception {
        BenchStack st = run.stack();
        int reps = run.opts().reps;
        log("== 3. no-change run (%d repetition(s))", reps);
        List<Double> secs = new ArrayList<>();
        List<Double> emitted = new ArrayList<>();
        List<Map<String, Object>> raw = new ArrayList<>();
        for (int rep = 1; rep <= reps; rep++) {
            long n = ++kept.run;
            long t0 = System.currentTimeMillis();
            st.ops.triggerRun(kept.source);
            PipelineOps.RunSummary s = st.ops.awaitRun(kept.runsTopic(), n, RUN_TIMEOUT);
            double sec = (s.payload().path("finished_at_ms").asLong() - t0) / 1000.0;
            secs.add(sec);
            emitted.add((double) s.emitted());
            log("  rep %d: run %d finished %.1fs after the trigger, %d records emitted (%s)", rep, n, sec, s.emitted(), s);
            raw.add(Map.of("rep", rep, "seconds", sec, "emitted", s.emitted(), "summary", s.payload()));
            if (s.emitted() != 0) {
                run.failures().add("no-change run " + n + " emitted " + s.emitted() + " records");
            }
            run.check().checkOurs("no-change", kept.table, rep);
        }
        run.details().put("no_change", raw);
        res.add("No-change run: seconds (trigger -> run summary)", median(secs), Double.NaN, Double.NaN, "",
                "baselines would reload all " + fmtN(run.opts().rows) + " rows (see the incremental row)");
        res.add("No-change run: records emitted", median(emitted), Double.NaN, Double.NaN, "", "must be 0");
        res.target("No-change run emits 0 records", median(emitted) == 0, String.format("%.0f", median(emitted)));
    }
}
