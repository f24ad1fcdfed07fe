package io.bq2k.stack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The randomized fault loop: for a bounded time, mutate the data at random (deletes, updates, inserts),
 * run, and inject a random fault at a random point of the run; after each round MySQL must equal the
 * query result and no key's version may go backwards on the topic. Everything random comes from one
 * seed, printed first; {@code bin/fault-loop --seed S --minutes N} repeats or extends a loop. CI runs it
 * for {@code faultloop.minutes} (3 by default).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultLoopIT {

    static final String TOPIC = "loop.rows";
    static final String SOURCE = "source-loop";
    static final String SINK = "sink-loop";
    static final String MYSQL_TABLE = "loop_rows";
    static final String QUERY = "SELECT " + VersionedTable.VALUES_SQL.replace("\n", " ") + " FROM loop.state";
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(6);

    static final long[] DELETE_MODULI = {5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41};

    enum Fault { NONE, KILL_WORKER, RESTART_BROKER, MYSQL_DOWN, FREEZE_BIGQUERY, BIGQUERY_ERRORS, PAUSE_SINK }

    final long seed = Long.getLong("faultloop.seed", System.currentTimeMillis());
    final double minutes = Double.parseDouble(System.getProperty("faultloop.minutes", "3"));
    final Random random = new Random(seed);
    final MirrorCheck check = new MirrorCheck(VersionedTable.COLUMNS);
    /** The model: id -> epoch of every row the query returns. */
    final TreeMap<Long, Long> model = new TreeMap<>();
    final Map<Fault, Integer> tried = new EnumMap<>(Fault.class);
    long nextId = 1;
    long run;
    boolean sinkPaused;

    LocalStack stack;
    BigQueryRest bq;
    PipelineOps ops;
    FaultyBigQueryProxy proxy;

    static void log(String fmt, Object... args) {
        System.out.printf("[fault-loop] " + fmt + "%n", args);
    }

    @BeforeAll
    void up() throws Exception {
        log("seed %d, %.1f minutes (repeat with: bin/fault-loop --seed %d --minutes %s)", seed, minutes, seed, minutes);
        Path tmp = Files.createTempDirectory("bq2k-loop-");
        stack = LocalStack.builder().randomPorts(false).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx768m").bqLogLevel("warning").stopOnJvmExit(true).build();
        stack.up();
        bq = new BigQueryRest(stack.bqRestUrl(), "demo");
        ops = PipelineOps.of(stack);
        proxy = new FaultyBigQueryProxy(stack.bqRestUrl());
        bq.query("CREATE SCHEMA IF NOT EXISTS loop");
        stack.createCompactedTopic(TOPIC, 2);
        int initial = 5000 + random.nextInt(5000);
        bq.query("CREATE OR REPLACE TABLE loop.state AS SELECT id AS id, 0 AS e FROM UNNEST(GENERATE_ARRAY(1, " + initial + ")) AS id");
        for (long id = 1; id <= initial; id++) {
            model.put(id, 0L);
        }
        nextId = initial + 1;
        Map<String, String> sink = DemoConfigs.sink(stack, TOPIC, MYSQL_TABLE);
        sink.put("batch.size", "1000");
        stack.deployer().deploy(SINK, sink);
        Map<String, String> source = DemoConfigs.source(stack, TOPIC, QUERY, "bq2k_staging_loop");
        source.put("bigquery.endpoint", proxy.url());
        source.put("read.chunk.rows", "500");
        source.put("schedule.skip.unchanged.inputs", "false");
        source.put("bigquery.retry.max.attempts", "8");
        source.put("bigquery.retry.max.backoff.ms", "4000");
        stack.deployer().deploy(SOURCE, source);
        run = 1;
        awaitRoundChecked(Fault.NONE);
    }

    @AfterAll
    void down() {
        if (proxy != null) {
            proxy.close();
        }
        if (stack != null) {
            stack.down(false);
        }
    }

    @Test
    void randomMutationsAndFaultsNeverLoseOrReorderAChange() throws Exception {
        long deadline = System.nanoTime() + (long) (minutes * 60e9);
        int rounds = 0;
        while (System.nanoTime() < deadline) {
            rounds++;
            Fault fault = Fault.values()[random.nextInt(Fault.values().length)];
            double at = random.nextDouble();
            long changes = mutate();
            run++;
            log("round %d: run %d, %d change(s), fault %s at %.0f%% of emission", rounds, run, changes, fault, at * 100);
            inject(fault, at, changes);
            awaitRoundChecked(fault);
            tried.merge(fault, 1, Integer::sum);
        }
        if (sinkPaused) {
            awaitRoundChecked(Fault.NONE); // resumes the sink and checks the queued runs
        }
        log("%d round(s) with seed %d, faults tried: %s; every round converged, no key went backwards", rounds, seed, tried);
    }

    /** Random deletes, updates and inserts, applied to BigQuery and to the model alike. Returns the change count. */
    long mutate() {
        // Deletes: ids with (a id + b) mod m == 0, exactly 1/m of them since m is prime and does not divide a
        // (at most 20%: the mass-delete guard holds runs that remove more than half).
        long m = DELETE_MODULI[random.nextInt(DELETE_MODULI.length)];
        long a = 1 + random.nextInt(997);
        if (a % m == 0) {
            a++;
        }
        long b = random.nextInt(1000);
        long p = 2 + random.nextInt(20);           // updates: ids with (c id + d) mod p == 0 get the next epoch
        long c = 1 + random.nextInt(997);
        long d = random.nextInt(1000);
        long k = 1 + random.nextInt(800);          // inserts: k new ids
        bq.query("CREATE OR REPLACE TABLE loop.prev AS SELECT * FROM loop.state");
        bq.query("CREATE OR REPLACE TABLE loop.state AS"
                + " SELECT id AS id, IF(MOD(id * " + c + " + " + d + ", " + p + ") = 0, e + 1, e) AS e FROM loop.prev"
                + " WHERE MOD(id * " + a + " + " + b + ", " + m + ") != 0"
                + " UNION ALL SELECT id AS id, 0 AS e FROM UNNEST(GENERATE_ARRAY(" + nextId + ", " + (nextId + k - 1) + ")) AS id");
        long changes = k;
        for (Iterator<Map.Entry<Long, Long>> it = model.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Long> e = it.next();
            long id = e.getKey();
            if ((id * a + b) % m == 0) {
                it.remove();
                changes++;
            } else if ((id * c + d) % p == 0) {
                e.setValue(e.getValue() + 1);
                changes++;
            }
        }
        for (long id = nextId; id < nextId + k; id++) {
            model.put(id, 0L);
        }
        nextId += k;
        return changes;
    }

    long onTopic() {
        return ops.endOffsets(TOPIC).values().stream().mapToLong(Long::longValue).sum();
    }

    void inject(Fault fault, double at, long changes) throws Exception {
        if (fault == Fault.PAUSE_SINK && !sinkPaused) {
            ops.pause(SINK);
            sinkPaused = true;
        }
        long before = onTopic();
        if (fault == Fault.BIGQUERY_ERRORS) {
            proxy.failNext(2 + random.nextInt(5));
        }
        ops.restartTask(SOURCE, 0);
        if (fault == Fault.FREEZE_BIGQUERY) {
            Thread.sleep((long) (at * 3000));
            long pid = stack.pid(LocalStack.Component.EMULATOR).orElseThrow();
            FaultsIT.signal("STOP", pid);
            try {
                Thread.sleep(5000 + random.nextInt(10_000));
            } finally {
                FaultsIT.signal("CONT", pid);
            }
            return;
        }
        if (fault == Fault.NONE || fault == Fault.BIGQUERY_ERRORS || fault == Fault.PAUSE_SINK) {
            return;
        }
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        while (onTopic() - before < at * changes) {
            assertTrue(System.nanoTime() < deadline, "run " + run + " did not progress");
            Thread.sleep(5);
        }
        switch (fault) {
            case KILL_WORKER -> {
                stack.killWorker();
                stack.restartWorker();
            }
            case RESTART_BROKER -> {
                stack.stopKafka();
                Thread.sleep(1000 + random.nextInt(4000));
                stack.startKafka();
            }
            case MYSQL_DOWN -> {
                stack.stopMariaDb();
                Thread.sleep(3000 + random.nextInt(10_000));
                stack.startMariaDb();
            }
            default -> throw new AssertionError(fault);
        }
    }

    /** Waits for the run, then checks MySQL against the model and the topic's order per key. */
    void awaitRoundChecked(Fault fault) throws Exception {
        PipelineOps.RunSummary s = ops.awaitRun(TOPIC + ".runs", run, RUN_TIMEOUT);
        if (sinkPaused && fault != Fault.PAUSE_SINK) {
            ops.resume(SINK); // two runs' worth of changes were queued while it was paused
            sinkPaused = false;
        }
        if (sinkPaused) {
            log("run %d done (%s); the sink stays paused into the next round", run, s);
            return;
        }
        List<List<Object>> rows = new ArrayList<>(model.size());
        model.forEach((id, e) -> rows.add(VersionedTable.rowAt(id, e)));
        MirrorCheck.Rows expected = check.rows(rows);
        MirrorCheck.Result r = null;
        for (int attempt = 0; attempt < 8 && (r == null || !r.equal()); attempt++) {
            // A sink that lost MySQL fails its task; restarting what failed is the operator's move (no-op otherwise).
            ops.restartFailed(SINK);
            r = check.awaitMySqlEquals(stack::mysqlConnection, MYSQL_TABLE, expected, Duration.ofSeconds(30), null);
        }
        MirrorCheck.Result result = r;
        assertTrue(result.equal(), () -> "seed " + seed + ", run " + run + " (" + fault + "): MySQL differs from the query result: " + result.summary());
        Map<Long, Long> last = new HashMap<>();
        List<String> backwards = new ArrayList<>();
        for (PipelineOps.TopicRecord rec : ops.readAll(TOPIC)) {
            if (rec.value() == null) {
                continue;
            }
            long id = PipelineOps.payload(rec.key()).get("id").asLong();
            long v = PipelineOps.payload(rec.value()).get("version").asLong();
            Long prev = last.put(id, v);
            if (prev != null && v < prev) {
                backwards.add("id " + id + ": " + prev + " then " + v);
            }
        }
        assertTrue(backwards.isEmpty(), () -> "seed " + seed + ": versions went backwards: " + backwards.subList(0, Math.min(5, backwards.size())));
        log("run %d converged: %s; MySQL equals the query result (%d rows), no key went backwards", run, s, result.expectedRows());
    }
}
