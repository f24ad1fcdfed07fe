package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;
import static io.bq2k.bench.BenchRun.RUN_TIMEOUT;
import static io.bq2k.bench.BenchRun.ms;
import static io.bq2k.bench.Stats.fmtN;
import static io.bq2k.bench.Stats.median;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.bq2k.stack.PipelineOps;

/**
 * Case 1, the initial sync of all N rows: per repetition the seed script and the upsert loader into
 * empty tables, then ours - a fresh sync (topic, staging dataset, table), timed from the source's
 * deploy until the MySQL table's signature equals the query's. The last repetition's sync stays
 * deployed for the no-change and incremental cases.
 */
final class InitialSyncCase {

    private final BenchRun run;
    private final BenchOptions opts;
    private final BenchStack st;

    InitialSyncCase(BenchRun run) {
        this.run = run;
        this.opts = run.opts();
        this.st = run.stack();
    }

    /** Runs the case; returns the sync it leaves deployed. */
    KeptSync run(Results res) throws Exception {
        long rows = opts.rows;
        int reps = opts.reps;
        log("== 1. initial sync of %,d rows (%d repetition(s))", rows, reps);
        Signature expected = Signature.ofQuery(st.bq, BenchData.QUERY);
        List<Double> ours = new ArrayList<>(), seed = new ArrayList<>(), ups = new ArrayList<>(), upsMysql = new ArrayList<>(),
                seedMysql = new ArrayList<>(), bqS = new ArrayList<>(), emitS = new ArrayList<>();
        List<Map<String, Object>> raw = new ArrayList<>();
        KeptSync kept = null;
        for (int rep = 1; rep <= reps; rep++) {
            // Baselines first (their MySQL writes do not overlap ours).
            try (Connection c = st.local.mysqlConnection()) {
                Baselines.createTable(c, Baselines.SEED_TABLE, true);
                Baselines.createTable(c, Baselines.UPSERT_TABLE, true);
            }
            double l0 = HostMetrics.load1();
            Baselines.Pass sp = st.baselines.seed(BenchData.QUERY, Baselines.SEED_TABLE);
            log("  rep %d seed script: %,d rows in %.1fs = %,.0f rows/s (MySQL statements alone %,.0f rows/s) load %.1f", rep, sp.rows(),
                    sp.seconds(), sp.rowsPerSec(), sp.mysqlRowsPerSec(), l0);
            run.check().checkBaseline("initial", "seed", Baselines.SEED_TABLE, rep);
            Baselines.Pass up = st.baselines.upsert(BenchData.QUERY, Baselines.UPSERT_TABLE);
            log("  rep %d upsert loader: %,d rows in %.1fs = %,.0f rows/s (MySQL statements alone %,.0f rows/s)", rep, up.rows(),
                    up.seconds(), up.rowsPerSec(), up.mysqlRowsPerSec());
            run.check().checkBaseline("initial", "upsert", Baselines.UPSERT_TABLE, rep);
            seed.add(sp.rowsPerSec()); seedMysql.add(sp.mysqlRowsPerSec());
            ups.add(up.rowsPerSec()); upsMysql.add(up.mysqlRowsPerSec());

            // Ours: a fresh sync (topic, staging dataset, table) per repetition.
            String name = st.nextSync("bench-init");
            String topic = "bench." + name;
            String table = name.replace('-', '_');
            st.local.createCompactedTopic(topic, opts.partitions);
            String sinkName = "sink-" + name;
            st.deployer.deploy(sinkName, st.sinkConfig(topic, table));
            st.deployer.awaitRunning(sinkName, Duration.ofSeconds(90));
            double l1 = HostMetrics.load1();
            Map<String, Double> c0 = st.host.cpu();
            long t0 = System.nanoTime();
            long wall0 = System.currentTimeMillis();
            st.deployer.deploy(name, st.sourceConfig(topic, BenchData.QUERY, st.staging()));
            long tEq = Signature.await(st.local, table, expected, RUN_TIMEOUT);
            Map<String, Double> cpuUsed = HostMetrics.cpuDelta(c0, st.host.cpu());
            log("  rep %d ours: CPU seconds per process during the run: %s", rep, cpuUsed);
            PipelineOps.RunSummary s = st.ops.awaitRun(topic + ".runs", 1, Duration.ofMinutes(2));
            double total = (tEq - t0) / 1e9;
            JsonNode pl = s.payload();
            double bqWork = (ms(pl, "snapshot_ms") + ms(pl, "check_ms") + ms(pl, "diff_ms")) / 1000;
            double emit = ms(pl, "emit_ms") / 1000;
            double sinkTail = (wall0 + total * 1000 - pl.path("finished_at_ms").asLong()) / 1000;
            log("  rep %d ours: %,d rows in MySQL %.1fs after the run started = %,.0f rows/s (BigQuery %.1fs, emit %.1fs, sink after emit %.1fs) load %.1f",
                    rep, rows, total, rows / total, bqWork, emit, sinkTail, l1);
            ours.add(rows / total); bqS.add(bqWork); emitS.add(emit);
            raw.add(Map.of("rep", rep, "ours_s", total, "seed_s", sp.seconds(), "upsert_s", up.seconds(), "bq_s", bqWork, "emit_s", emit,
                    "sink_after_emit_s", sinkTail, "summary", pl, "load1_before", l1, "cpu_s", cpuUsed));
            run.check().checkOurs("initial", table, rep);
            if (rep < reps) {
                st.deployer.delete(name);
                st.deployer.delete(sinkName);
                st.dropTable(table);
            } else {
                kept = new KeptSync(name, topic, table, 1);
            }
        }
        run.details().put("initial", raw);
        res.add("Initial sync of " + fmtN(rows) + " rows, end to end (rows/s)", median(ours), median(seed), median(ups),
                String.format("%.2fx upsert, %.2fx seed", median(ours) / median(ups), median(ours) / median(seed)),
                String.format("ours: BigQuery %.1fs, emit %.1fs; baselines' MySQL statements alone: seed %,.0f rows/s, upsert %,.0f rows/s",
                        median(bqS), median(emitS), median(seedMysql), median(upsMysql)));
        res.target("Initial sync >= 1.0x the direct upsert loader and >= 0.35x its MySQL-only rate",
                median(ours) / median(ups) >= 1.0 && median(ours) / median(upsMysql) >= 0.35,
                String.format("%.2fx the loader, %.2fx its MySQL-only rate (schema-less JSON; per record format: the format comparison)",
                        median(ours) / median(ups), median(ours) / median(upsMysql)));
        run.details().put("initial_baselines", Map.of("upsert_rows_s", median(ups), "upsert_mysql_rows_s", median(upsMysql)));
        return kept;
    }
}
