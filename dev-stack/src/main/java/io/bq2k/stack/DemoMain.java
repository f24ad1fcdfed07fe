package io.bq2k.stack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.bq2k.cli.ConnectorDeployer.ConfigFile;

/**
 * The steps of {@code bin/demo} (each a subcommand, so the script shows the flow):
 * <pre>
 *   load --rows N              create demo.user_features_src in the emulator (N users)
 *   latest-run                 print the number of the sync's latest finished run (0: none)
 *   await --run N [--trigger]  (--trigger: a new schedule.trigger = start the next run now) wait for
 *                              run N's summary, then until MySQL equals the query result (progress lines)
 *   change                     insert, update and delete users in the emulator
 *   verify                     compare the whole MySQL table with the query result: the verdict line
 * </pre>
 * Everything reads the stack's addresses from the environment (like bin/stack) and the sync from
 * config/source-bigquery-demo.json + config/sink-debezium-mysql.json.
 */
public final class DemoMain {

    static final String SRC_TABLE = "demo.user_features_src";

    private final LocalStack stack;
    private final BigQueryRest bq;
    private final PipelineOps ops;
    private final String sourceName;
    private final String query;
    private final String keyColumn;
    private final String topic;
    private final String runsTopic;
    private final String mysqlTable;

    DemoMain(LocalStack stack) {
        this.stack = stack;
        this.bq = new BigQueryRest(stack.bqRestUrl(), stack.bqProject());
        this.ops = PipelineOps.of(stack);
        ConfigFile src = ConnectorConfigs.demoSource(stack);
        ConfigFile sink = ConnectorConfigs.demoSink(stack);
        this.sourceName = src.name();
        this.query = src.config().get("query");
        this.keyColumn = src.config().get("key.columns").trim();
        this.topic = src.config().get("topic");
        String rt = src.config().getOrDefault("run.history.topic", "");
        this.runsTopic = rt.isBlank() ? topic + ".runs" : rt;
        this.mysqlTable = sink.config().getOrDefault("collection.name.format", "user_features");
    }

    /** The per-user feature columns of user {@code id} (a SQL expression over {@code id}). */
    static String userSelect(String from) {
        return String.join("\n", "SELECT",
                "  id AS user_id,",
                "  CASE MOD(id, 7) WHEN 0 THEN 'Deutschland' WHEN 1 THEN 'Österreich' WHEN 2 THEN '日本' WHEN 3 THEN 'España'",
                "    WHEN 4 THEN 'France' WHEN 5 THEN NULL ELSE 'Brasil' END AS country,",
                "  CASE MOD(id, 3) WHEN 0 THEN 'pro' WHEN 1 THEN 'free' ELSE 'team' END AS plan,",
                "  CASE MOD(id, 4) WHEN 0 THEN NULL WHEN 1 THEN 'control' ELSE CONCAT('variant_', CAST(MOD(id, 4) AS STRING)) END AS experiment_group,",
                // PARSE_NUMERIC of the exact text: the emulator may turn NUMERIC casts into DuckDB's DECIMAL(18,3).
                "  IF(MOD(id, 11) = 0, NULL, PARSE_NUMERIC(CONCAT(IF(MOD(id, 23) = 0, '-', ''), CAST(MOD(id * 37, 5000) AS STRING), '.',",
                "    LPAD(CAST(MOD(id * 7919, 1000000000) AS STRING), 9, '0')))) AS ltv_usd,",
                "  CASE WHEN MOD(id, 17) = 0 THEN NULL ELSE TIMESTAMP_MICROS(1763000000000000 + MOD(id * 982451653, 2592000000000)) END AS last_seen_at,",
                "  CASE WHEN MOD(id, 29) = 0 THEN NULL ELSE DATE_FROM_UNIX_DATE(18000 + MOD(id * 13, 2000)) END AS signup_date,",
                "  MOD(id * 31, 120) AS sessions_30d,",
                "  CASE WHEN MOD(id, 19) = 0 THEN NULL ELSE CAST(MOD(id * 7, 1000) AS FLOAT64) / 1000 END AS churn_score,",
                "  MOD(id, 5) = 0 AS viewed_screen_x",
                from);
    }

    void load(int rows) {
        long t0 = System.nanoTime();
        bq.query("CREATE SCHEMA IF NOT EXISTS demo");
        bq.query("CREATE OR REPLACE TABLE " + SRC_TABLE + " AS\n" + userSelect("FROM UNNEST(GENERATE_ARRAY(1, " + rows + ")) AS id"));
        String n = bq.scalar("SELECT COUNT(*) AS n FROM " + SRC_TABLE);
        String q = bq.scalar("SELECT COUNT(*) AS n FROM (" + query + ") AS q");
        System.out.printf("demo: loaded %s users into %s (the sync's query returns %s rows) in %.1fs%n", n, SRC_TABLE, q,
                (System.nanoTime() - t0) / 1e9);
    }

    void change() {
        long max = Long.parseLong(bq.scalar("SELECT MAX(user_id) AS m FROM " + SRC_TABLE));
        long add = Math.max(10, max / 100);
        bq.query("UPDATE " + SRC_TABLE + " SET plan = 'pro', sessions_30d = sessions_30d + 1,"
                + " ltv_usd = ltv_usd + PARSE_NUMERIC('0.000000001'),"
                + " last_seen_at = TIMESTAMP_MICROS(UNIX_MICROS(last_seen_at) + 1) WHERE MOD(user_id, 100) = 7");
        bq.query("UPDATE " + SRC_TABLE + " SET experiment_group = 'control' WHERE MOD(user_id, 100) = 8");
        bq.query("DELETE FROM " + SRC_TABLE + " WHERE MOD(user_id, 100) = 9");
        bq.query("INSERT INTO " + SRC_TABLE + "\n" + userSelect("FROM UNNEST(GENERATE_ARRAY(" + (max + 1) + ", " + (max + add) + ")) AS id"));
        System.out.println("demo: changed the source table: updated users with user_id % 100 = 7 (plan, sessions, ltv +1e-9,"
                + " last_seen_at +1 µs) and = 8 (now in the control group: eligibility changes), deleted user_id % 100 = 9,"
                + " inserted users " + (max + 1) + ".." + (max + add));
        System.out.println("demo: the query now returns " + bq.scalar("SELECT COUNT(*) AS n FROM (" + query + ") AS q") + " rows");
    }

    long latestRun() {
        PipelineOps.RunSummary s = null;
        try {
            if (stack.listTopics().contains(runsTopic)) {
                s = ops.latestRun(runsTopic);
            }
        } catch (RuntimeException e) {
            // no runs yet
        }
        return s == null ? 0 : s.run();
    }

    boolean await(long run, boolean trigger, Duration timeout, Path expectedPlan) throws Exception {
        long t0 = System.nanoTime();
        if (trigger) {
            System.out.println("demo: triggering run " + run + " of " + sourceName + " (PUT /connectors/" + sourceName
                    + "/config with a new schedule.trigger): the task starts it at once");
            ops.triggerRun(sourceName);
        }
        System.out.println("demo: waiting for the summary of run " + run + " on " + runsTopic);
        Thread progress = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(3000);
                    Map<Integer, Long> end = ops.endOffsets(topic);
                    System.out.printf("demo:   %5.1fs  records on %s: %d%n", (System.nanoTime() - t0) / 1e9, topic,
                            end.values().stream().mapToLong(Long::longValue).sum());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                // topic not there yet
            }
        }, "progress");
        progress.setDaemon(true);
        progress.start();
        PipelineOps.RunSummary s;
        try {
            s = ops.awaitRun(runsTopic, run, timeout);
        } finally {
            progress.interrupt();
        }
        System.out.printf("demo: %s (after %.1fs)%n", s, (System.nanoTime() - t0) / 1e9);
        if (expectedPlan != null && !matchesPlan(s, expectedPlan)) {
            return false;
        }
        MirrorCheck check = MirrorCheck.forQuery(bq, query, keyColumn);
        MirrorCheck.Rows expected = check.readBigQuery(bq, query);
        System.out.println("demo: waiting until MySQL " + stack.mysqlDatabase() + "." + mysqlTable + " equals the query result ("
                + expected.size() + " rows)");
        MirrorCheck.Result r = check.awaitMySqlEquals(stack::mysqlConnection, mysqlTable, expected, timeout,
                line -> System.out.printf("demo:   %5.1fs  %s%n", (System.nanoTime() - t0) / 1e9, line));
        System.out.printf("demo: run %d landed: %s (%.1fs)%n", run, r.summary(), (System.nanoTime() - t0) / 1e9);
        return r.equal();
    }

    /** Whether the run changed what {@code bin/bq2k plan --json} said it would (the dry run's counts). */
    private static boolean matchesPlan(PipelineOps.RunSummary s, Path planJson) throws Exception {
        JsonNode plan = new ObjectMapper().readTree(Files.readString(planJson));
        String planned = "+" + plan.path("added").asLong() + " ~" + plan.path("changed").asLong() + " -" + plan.path("removed").asLong();
        String done = "+" + s.added() + " ~" + s.changed() + " -" + s.removed();
        boolean same = planned.equals(done) && plan.path("run").asLong() == s.run();
        System.out.printf("demo: the dry run planned run %d: %s; run %d did %s: %s%n", plan.path("run").asLong(), planned, s.run(), done,
                same ? "as planned" : "DIFFERENT FROM THE PLAN");
        return same;
    }

    boolean verify() throws Exception {
        MirrorCheck check = MirrorCheck.forQuery(bq, query, keyColumn);
        MirrorCheck.Rows expected = check.readBigQuery(bq, query);
        MirrorCheck.Rows actual;
        try (var c = stack.mysqlConnection()) {
            actual = check.readMySql(c, mysqlTable);
        }
        MirrorCheck.Result r = check.compare(expected, actual);
        List<String> cols = new ArrayList<>();
        check.columns().forEach(c -> cols.add(c.name() + ":" + c.type()));
        System.out.println("demo: compared every column " + cols);
        String table = stack.mysqlDatabase() + "." + mysqlTable;
        if (r.equal()) {
            System.out.println("DEMO VERDICT: MySQL table " + table + " equals the BigQuery query result (" + expected.size() + " rows)");
        } else {
            System.out.println("DEMO VERDICT: MISMATCH MySQL table " + table + " vs the BigQuery query result: " + r.summary());
        }
        return r.equal();
    }

    public static void main(String[] args) {
        int code;
        try {
            code = run(args);
        } catch (Exception e) {
            System.err.println("demo: error: " + e.getMessage());
            code = 2;
        }
        System.exit(code);
    }

    static int run(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: DemoMain load --rows N | latest-run | await --run N [--trigger] [--timeout S] [--expect-plan PLAN.json]"
                    + " | change | verify");
            return 2;
        }
        DemoMain demo = new DemoMain(LocalStack.builder().quiet(true).build());
        long run = 0;
        int rows = 100_000;
        boolean trigger = false;
        long timeout = 900;
        Path expectedPlan = null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--rows": rows = Integer.parseInt(args[++i]); break;
                case "--run": run = Long.parseLong(args[++i]); break;
                case "--trigger": trigger = true; break;
                case "--timeout": timeout = Long.parseLong(args[++i]); break;
                case "--expect-plan": expectedPlan = Path.of(args[++i]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        switch (args[0]) {
            case "load": demo.load(rows); return 0;
            case "latest-run": System.out.println(demo.latestRun()); return 0;
            case "await": return demo.await(run, trigger, Duration.ofSeconds(timeout), expectedPlan) ? 0 : 1;
            case "change": demo.change(); return 0;
            case "verify": return demo.verify() ? 0 : 1;
            default: throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }

}
