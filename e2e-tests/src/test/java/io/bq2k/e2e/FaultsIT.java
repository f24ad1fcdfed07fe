package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.Component;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck;
import io.bq2k.stack.PipelineOps;

/**
 * Production faults on the real stack, one sync, one run per fault: the worker SIGKILLed at
 * several points of a run (snapshot, check and diff, early and late in emission, after the last change), the broker restarted during emission, MariaDB down for 30 s while the
 * sink writes, the BigQuery emulator frozen during a run, BigQuery answering retryable errors, two
 * runs queued while the sink is paused. After each: MySQL equals the query
 * result (I1, I4) and, on the topic, no key's versions go backwards (I2).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultsIT {

    static final String TOPIC = "faults.rows";
    static final String SOURCE = "source-faults";
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(6);

    LocalStack stack;
    BigQueryRest bq;
    PipelineOps ops;
    FaultyBigQueryProxy proxy;
    final VersionedTable table = new VersionedTable("faults.src", 24_000, 300, 2);
    final MirrorCheck check = new MirrorCheck(VersionedTable.COLUMNS);
    int version;

    @BeforeAll
    void up() throws Exception {
        Path tmp = Files.createTempDirectory("bq2k-faults-");
        stack = LocalStack.builder().randomPorts(false).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx768m").bqLogLevel("warning").stopOnJvmExit(true).build();
        stack.up();
        bq = new BigQueryRest(stack.bqRestUrl(), "demo");
        ops = PipelineOps.of(stack);
        proxy = new FaultyBigQueryProxy(stack.bqRestUrl());
        bq.query("CREATE SCHEMA IF NOT EXISTS faults");
        stack.createCompactedTopic(TOPIC, 2);
        bq.query(table.createSql(++version));
        Map<String, String> sink = ConnectorConfigs.sink(stack, TOPIC, "faults_rows");
        sink.put("batch.size", "1000");
        stack.deployer().deploy("sink-faults", sink);
        Map<String, String> source = ConnectorConfigs.source(stack, TOPIC, table.query(), "bq2k_staging_faults");
        source.put("read.chunk.rows", "1000");
        source.put("bigquery.endpoint", proxy.url()); // REST through the proxy that can answer retryable errors
        source.put("bigquery.retry.max.attempts", "6");
        source.put("bigquery.retry.max.backoff.ms", "8000");
        stack.deployer().deploy(SOURCE, source);
        ops.awaitRun(TOPIC + ".runs", 1, RUN_TIMEOUT);
        assertConverged();
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

    static void log(String fmt, Object... args) {
        System.out.printf("[faults] " + fmt + "%n", args);
    }

    long onTopic() {
        return ops.endOffsets(TOPIC).values().stream().mapToLong(Long::longValue).sum();
    }

    /** Starts the next version's run and waits until {@code fraction} of its changes are on the topic (0: do not wait). */
    long startRun(double fraction) throws InterruptedException {
        return startRun(fraction, null);
    }

    /** {@link #startRun(double)}, with {@code fault} made after the config update's validation and before the run starts. */
    long startRun(double fraction, Runnable fault) throws InterruptedException {
        long before = onTopic();
        bq.query(table.createSql(++version));
        long[] c = table.changes(version);
        long changes = c[0] + c[1] + c[2];
        if (fault == null) {
            ops.triggerRun(SOURCE);
        } else {
            ops.triggerRunAfter(SOURCE, fault);
        }
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        while (fraction > 0 && onTopic() - before < fraction * changes) {
            assertTrue(System.nanoTime() < deadline, "run " + version + " did not progress");
            Thread.sleep(10);
        }
        log("run %d: %d of %d changes on the topic when the fault is injected", version, onTopic() - before, changes);
        return changes;
    }

    void assertConverged() throws Exception {
        ops.awaitRun(TOPIC + ".runs", version, RUN_TIMEOUT);
        MirrorCheck.Result r = check.awaitMySqlEquals(stack::mysqlConnection, "faults_rows", check.rows(table.rows(version)),
                Duration.ofMinutes(4), null);
        assertTrue(r.equal(), () -> "MySQL after run " + version + ": " + r.summary());
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
        assertTrue(backwards.isEmpty(), "I2: versions went backwards: " + backwards.subList(0, Math.min(5, backwards.size())));
        log("run %d converged: MySQL equals the query result (%d rows), no key went backwards", version, r.expectedRows());
    }

    @Test
    @Order(1)
    void workerKilledDuringSnapshot() throws Exception {
        startRun(0);
        Thread.sleep(300);
        stack.killWorker();
        stack.restartWorker();
        assertConverged();
    }

    @Test
    @Order(2)
    void workerKilledDuringCheckAndDiff() throws Exception {
        // The run's snapshot table appearing marks the end of step 1; the kill then lands in the key check
        // or the diff statement, before any change of the run is emitted.
        long before = onTopic();
        startRun(0);
        // The sync name is the connector name made an identifier plus a hash of it (source_faults_<hash>).
        String snapshot = "__snap_" + version;
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        while (bq.tableNames("bq2k_staging_faults").stream().noneMatch(t -> t.startsWith("source_faults_") && t.endsWith(snapshot))) {
            assertTrue(System.nanoTime() < deadline, "no snapshot of run " + version);
            Thread.sleep(20);
        }
        stack.killWorker();
        log("run %d: killed after its snapshot, %d change(s) on the topic", version, onTopic() - before);
        stack.restartWorker();
        assertConverged();
    }

    @Test
    @Order(3)
    void workerKilledEarlyInEmission() throws Exception {
        startRun(0.05);
        stack.killWorker();
        stack.restartWorker();
        assertConverged();
    }

    @Test
    @Order(4)
    void workerKilledLateInEmission() throws Exception {
        startRun(0.8);
        stack.killWorker();
        stack.restartWorker();
        assertConverged();
    }

    @Test
    @Order(5)
    void workerKilledRightAfterTheLastChange() throws Exception {
        startRun(1.0);
        stack.killWorker();
        stack.restartWorker();
        assertConverged();
    }

    @Test
    @Order(6)
    void brokerRestartsDuringEmission() throws Exception {
        startRun(0.3);
        stack.stopKafka();
        Thread.sleep(5000);
        stack.startKafka();
        assertConverged();
    }

    @Test
    @Order(7)
    void mysqlDownForThirtySecondsWhileTheSinkWrites() throws Exception {
        startRun(0.2);
        stack.stopMariaDb();
        Thread.sleep(30_000);
        stack.startMariaDb();
        // Debezium's sink retries failed statements (flush.max.retries) but fails its task when it cannot
        // get a connection at all; the operator's move, once MySQL is back, is to restart what failed.
        // Nothing is lost: the topic holds every change and the sink resumes at its committed offsets.
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline && !"FAILED".equals(stack.deployer().status("sink-faults").path("tasks").path(0).path("state").asText())) {
            Thread.sleep(500);
        }
        log("sink task after the outage: %s", stack.deployer().status("sink-faults").path("tasks").path(0).path("state").asText());
        ops.restartFailed("sink-faults");
        assertConverged();
    }

    @Test
    @Order(8)
    void bigQueryUnavailableDuringARun() throws Exception {
        startRun(0);
        Thread.sleep(200);
        // Frozen rather than stopped: the emulator loses its DuckDB state when stopped mid-statement and
        // then fails to start (an emulator gap). A frozen process is BigQuery unreachable for the client:
        // calls time out, are retried with backoff, and succeed once it answers again.
        long pid = stack.pid(Component.EMULATOR).orElseThrow();
        signal("STOP", pid);
        try {
            Thread.sleep(20_000);
        } finally {
            signal("CONT", pid);
        }
        assertConverged();
    }

    @Test
    @Order(9)
    void bigQueryAnswersRetryableErrors() throws Exception {
        startRun(0, () -> proxy.failNext(5));
        assertConverged();
        assertTrue(proxy.injected() >= 5, "injected " + proxy.injected());
        log("%d BigQuery requests answered 503 backendError / 429 rateLimitExceeded; retried with backoff, the run completed", proxy.injected());
    }

    @Test
    @Order(10)
    void twoRunsQueuedWhileTheSinkIsPausedAreAppliedInOrder() throws Exception {
        ops.pause("sink-faults");
        int applied = version;
        for (int i = 0; i < 2; i++) {
            startRun(0);
            ops.awaitRun(TOPIC + ".runs", version, RUN_TIMEOUT);
        }
        MirrorCheck.Result paused;
        try (var c = stack.mysqlConnection()) {
            paused = check.compare(check.rows(table.rows(applied)), check.readMySql(c, "faults_rows"));
        }
        assertTrue(paused.equal(), () -> "while paused MySQL keeps run " + applied + ": " + paused.summary());
        ops.resume("sink-faults");
        assertConverged();
    }

    static void signal(String name, long pid) throws Exception {
        new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start().waitFor();
    }
}
