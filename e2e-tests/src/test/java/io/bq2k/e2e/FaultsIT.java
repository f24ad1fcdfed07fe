package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Properties;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

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
 * runs queued while the sink is paused. Each kill asserts the phase it names at the moment of the kill
 * (the run's BigQuery jobs submitted so far, seen by the proxy; the run's records on the topic; the
 * committed offset), and the MySQL outage asserts the sink task FAILED before it is restarted. After
 * each: MySQL equals the query result read from the emulator (I1, I4) and, on the topic, no key's
 * versions go backwards (I2).
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
    /** The query result of each version, read from the emulator when the version was created. */
    final Map<Integer, MirrorCheck.Rows> results = new HashMap<>();
    KafkaConsumer<byte[], byte[]> probe;

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
        results.put(version, check.readBigQuery(bq, table.query()));
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
        if (probe != null) {
            probe.close();
        }
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

    /** Records on the data topic (its end offsets: no transactions on this worker), read through one long-lived consumer. */
    long onTopic() {
        if (probe == null) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            probe = new KafkaConsumer<>(p);
        }
        try {
            List<TopicPartition> tps = probe.partitionsFor(TOPIC, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(TOPIC, i.partition())).collect(Collectors.toList());
            return probe.endOffsets(tps, Duration.ofSeconds(10)).values().stream().mapToLong(Long::longValue).sum();
        } catch (RuntimeException e) {
            probe.close(); // the broker restarted under it: ask through a fresh consumer
            probe = null;
            return ops.endOffsets(TOPIC).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** The run-history topic's latest finished run. */
    long latestRun() {
        return ops.latestRun(TOPIC + ".runs").run();
    }

    /** The source offset committed last (read from the worker's offsets topic; works while the worker is down). */
    JsonNode committedOffset() {
        return ops.committedSourceOffset("connect-offsets", SOURCE);
    }

    /** bq2k_<sync>_<run>_<step>_<task instance>_<attempt> (QueryJobs); a step may hold underscores (durable_diff). */
    static final java.util.regex.Pattern JOB_ID = java.util.regex.Pattern.compile("^bq2k_source_faults_.*_(\\d+)_([a-z_]+?)_([0-9a-z]+)_(\\d+)$");

    /** The steps of run {@code run} whose BigQuery job was submitted through the proxy so far, in order (snapshot, check, diff, ...). */
    List<String> jobsSubmitted(int run) {
        List<String> steps = new ArrayList<>();
        for (FaultyBigQueryProxy.Forwarded f : proxy.forwardedLog()) {
            if ("POST".equals(f.method()) && f.path().endsWith("/jobs") && f.jobId() != null) {
                java.util.regex.Matcher m = JOB_ID.matcher(f.jobId());
                if (m.matches() && Long.parseLong(m.group(1)) == run && !steps.contains(m.group(2))) {
                    steps.add(m.group(2));
                }
            }
        }
        return steps;
    }

    /** What the kill hit: the run's records on the topic, its jobs submitted, the latest summary, the committed offset. */
    record AtKill(long records, List<String> jobs, long latestSummary, JsonNode committed) { }

    /**
     * Kills the worker and reads what the kill hit (nothing of it changes while the worker is down), then starts
     * the worker again. The phase assertions come after {@link #assertConverged}, so that a kill landing
     * elsewhere fails its test only.
     */
    AtKill killAndRestartWorker(long before) {
        stack.killWorker();
        AtKill k = new AtKill(onTopic() - before, jobsSubmitted(version), latestRun(), committedOffset());
        stack.restartWorker();
        return k;
    }

    /** Keys whose row differs between two query results (added, changed or removed): the changes of a run. */
    static long changedKeys(MirrorCheck.Rows before, MirrorCheck.Rows after) {
        java.util.Set<Object> keys = new java.util.HashSet<>(before.asMap().keySet());
        keys.addAll(after.asMap().keySet());
        return keys.stream().filter(k -> !java.util.Objects.equals(before.asMap().get(k), after.asMap().get(k))).count();
    }

    /** Starts the next version's run and waits until {@code fraction} of its changes are on the topic (0: do not wait). */
    long startRun(double fraction) throws InterruptedException {
        return startRun(fraction, null);
    }

    /** {@link #startRun(double)}, with {@code fault} made after the config update's validation and before the run starts. */
    long startRun(double fraction, Runnable fault) throws InterruptedException {
        long before = onTopic();
        bq.query(table.createSql(++version));
        results.put(version, check.readBigQuery(bq, table.query()));
        long changes = changedKeys(results.get(version - 1), results.get(version));
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
        MirrorCheck.Result r = check.awaitMySqlEquals(stack::mysqlConnection, "faults_rows", results.get(version),
                Duration.ofMinutes(4), null);
        assertTrue(r.equal(), () -> "MySQL after run " + version + ": " + r.summary());
        List<String> backwards = VersionedTable.versionsGoingBackwards(ops.readAll(TOPIC), Set.of());
        assertTrue(backwards.isEmpty(), "I2: versions went backwards: " + backwards);
        log("run %d converged: MySQL equals the query result read from the emulator (%d rows), no key went backwards", version, r.expectedRows());
    }

    @Test
    @Order(1)
    void workerKilledDuringSnapshot() throws Exception {
        // The kill follows the run's snapshot job (CREATE OR REPLACE TABLE …__snap_<run>) as soon as the proxy
        // forwards it: the phase is proven by the jobs submitted by the kill (the snapshot, not the key check).
        long before = onTopic();
        startRun(0);
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        while (!jobsSubmitted(version).contains("snapshot")) {
            assertTrue(System.nanoTime() < deadline, "no snapshot job of run " + version);
            Thread.sleep(5);
        }
        AtKill k = killAndRestartWorker(before);
        log("run %d: killed during its snapshot: jobs submitted %s, %d change(s) on the topic", version, k.jobs(), k.records());
        assertConverged();
        assertEquals(List.of("snapshot"), k.jobs(), "the kill must land in the snapshot step");
        assertEquals(0, k.records(), "nothing of run " + version + " emitted at the kill");
    }

    @Test
    @Order(2)
    void workerKilledDuringCheckAndDiff() throws Exception {
        // The kill follows the run's diff job as soon as the proxy forwards it: the snapshot and the key check are
        // done, the diff (or its stats) runs, and the tables are not made durable yet (no change can be emitted).
        long before = onTopic();
        startRun(0);
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        while (!jobsSubmitted(version).contains("diff")) {
            assertTrue(System.nanoTime() < deadline, "no diff job of run " + version);
            Thread.sleep(5);
        }
        AtKill k = killAndRestartWorker(before);
        log("run %d: killed after its snapshot and key check: jobs submitted %s, %d change(s) on the topic", version, k.jobs(), k.records());
        assertConverged();
        assertEquals(List.of("snapshot", "check"), k.jobs().subList(0, 2), "jobs of run " + version + ": " + k.jobs());
        assertTrue(k.jobs().stream().noneMatch(j -> j.startsWith("durable")), "the kill must land in the diff: " + k.jobs());
        assertEquals(0, k.records(), "nothing of run " + version + " emitted at the kill");
    }

    @Test
    @Order(3)
    void workerKilledEarlyInEmission() throws Exception {
        long before = onTopic();
        long changes = startRun(0.05);
        AtKill k = killAndRestartWorker(before);
        log("run %d: killed early in emission with %d of %d changes (%.1f%%) on the topic, committed offset %s", version, k.records(),
                changes, 100.0 * k.records() / changes, k.committed());
        assertConverged();
        assertTrue(k.records() >= 0.05 * changes && k.records() < 0.3 * changes, "early in emission: " + k.records() + " of " + changes);
        assertEquals(version - 1, k.latestSummary(), "run " + version + " completed before the kill");
    }

    @Test
    @Order(4)
    void workerKilledLateInEmission() throws Exception {
        long before = onTopic();
        long changes = startRun(0.8);
        AtKill k = killAndRestartWorker(before);
        log("run %d: killed late in emission with %d of %d changes (%.1f%%) on the topic, committed offset %s", version, k.records(),
                changes, 100.0 * k.records() / changes, k.committed());
        assertConverged();
        assertTrue(k.records() >= 0.8 * changes && k.records() < changes, "late in emission (80% or more, not all): " + k.records() + " of " + changes);
        assertEquals(version - 1, k.latestSummary(), "run " + version + " completed before the kill");
    }

    @Test
    @Order(5)
    void workerKilledRightAfterTheLastChange() throws Exception {
        // After the last change the run waits for its acknowledgements, writes its summary and commits {run, done}
        // within the next offset flush (1 s). The phase is proven when, at the kill, every change is on the topic and
        // the committed offset is not yet the run's `done`; a kill that came later than that is retried on the next run.
        for (int attempt = 1; ; attempt++) {
            long before = onTopic();
            long changes = startRun(1.0);
            AtKill k = killAndRestartWorker(before);
            JsonNode committed = k.committed();
            boolean done = committed != null && committed.path("run").asLong() == version && committed.path("done").asBoolean(false);
            log("run %d (attempt %d): killed with %d of %d changes on the topic, summary written: %s, committed offset %s", version,
                    attempt, k.records(), changes, k.latestSummary() == version, committed);
            assertConverged();
            assertEquals(changes, k.records(), "every change of run " + version + " is on the topic at the kill");
            if (!done) {
                break;
            }
            assertTrue(attempt < 3, "three kills came after the run's done offset was committed");
        }
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
        // Debezium's sink retries failed statements (flush.max.retries) but fails its task when it cannot
        // get a connection at all; the operator's move, once MySQL is back, is to restart what failed.
        // Nothing is lost: the topic holds every change and the sink resumes at its committed offsets.
        long down = System.nanoTime();
        double failedAfter = -1;
        String trace = null;
        while (System.nanoTime() - down < Duration.ofSeconds(30).toNanos()) {
            JsonNode task = stack.deployer().status("sink-faults").path("tasks").path(0);
            if (failedAfter < 0 && "FAILED".equals(task.path("state").asText())) {
                failedAfter = (System.nanoTime() - down) / 1e9;
                trace = task.path("trace").asText().lines().findFirst().orElse("");
            }
            Thread.sleep(500);
        }
        stack.startMariaDb();
        String state = stack.deployer().status("sink-faults").path("tasks").path(0).path("state").asText();
        log("sink task FAILED %.1fs into the 30 s outage (%s); state once MariaDB is back, before the restart: %s", failedAfter, trace, state);
        assertTrue(failedAfter >= 0, "the sink task did not fail during the MariaDB outage");
        assertEquals("FAILED", state, "the sink task before POST …/restart?onlyFailed=true");
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
            paused = check.compare(results.get(applied), check.readMySql(c, "faults_rows"));
        }
        assertTrue(paused.equal(), () -> "while paused MySQL keeps run " + applied + ": " + paused.summary());
        ops.resume("sink-faults");
        assertConverged();
    }

    static void signal(String name, long pid) throws Exception {
        new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start().waitFor();
    }
}
