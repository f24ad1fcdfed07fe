package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck;
import io.bq2k.stack.PipelineOps;
import io.bq2k.cli.ConnectRest;
import io.bq2k.cli.SyncStatus;

/**
 * The three failures of the issue "MySQL converges after any crash, lost staging table, upstream
 * change or config change", end to end on the real stack; each compares MySQL with the query result
 * read from the emulator:
 * <ol>
 *   <li>a crash after run n emitted part of its changes but before any offset of run n was committed,
 *       followed by an upstream revert: the restarted task retakes run n and re-examines every key the
 *       first attempt published;</li>
 *   <li>a dropped baseline snapshot fails the run loudly (nothing emitted, MySQL kept) instead of a
 *       silent resync, and the sync converges once the table is restored and the task restarted;</li>
 *   <li>connectors whose names sanitize alike ({@code x-h5-1}, {@code x.h5.1}) are two syncs with their
 *       own staging tables; a third connector that names the first's sync explicitly is refused.</li>
 * </ol>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConvergenceIT {

    static final Duration RUN_TIMEOUT = Duration.ofMinutes(4);
    static final Duration CONVERGE_TIMEOUT = Duration.ofMinutes(3);
    static final String OFFSETS_TOPIC = "connect-offsets";
    static final ObjectMapper JSON = new ObjectMapper();

    LocalStack stack;
    BigQueryRest bq;
    PipelineOps ops;

    @BeforeAll
    void up() throws Exception {
        Path tmp = Files.createTempDirectory("bq2k-convergence-");
        // Source offsets are committed only when a task stops (a restart or a reconfiguration), never on a
        // timer: test 1 needs a crash in which no offset of the running run was committed, and this makes
        // that window the whole run instead of one second.
        stack = LocalStack.builder().randomPorts(false).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx768m").bqLogLevel("warning").stopOnJvmExit(true)
                .workerProperty("offset.flush.interval.ms", "600000").build();
        stack.up();
        bq = new BigQueryRest(stack.bqRestUrl(), "demo");
        ops = PipelineOps.of(stack);
        bq.query("CREATE SCHEMA IF NOT EXISTS conv");
    }

    @AfterAll
    void down() {
        if (stack != null) {
            stack.down(Boolean.getBoolean("e2e.keepData"));
        }
    }

    static void log(String fmt, Object... args) {
        System.out.printf("[convergence] " + fmt + "%n", args);
    }

    long onTopic(String topic) {
        return ops.endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * The topic's latest value per key and MySQL {@code table} both equal the result of {@code query} as the
     * emulator computes it now. The topic is checked first: right after a run, the sink may not have applied
     * the run's (or an earlier attempt's) last records yet, so MySQL alone could look right too early, while
     * the topic already holds what the sink will end with.
     */
    MirrorCheck.Rows assertConverged(String query, String topic, String table, String what) throws Exception {
        MirrorCheck check = MirrorCheck.forQuery(bq, query, "id");
        MirrorCheck.Rows expected = check.readBigQuery(bq, query);
        MirrorCheck.Result onTopic = check.compare(expected, check.latestPerKey(ops.readAll(topic), 9));
        assertTrue(onTopic.equal(), () -> what + ": the latest value per key on " + topic + " differs from the query result: " + onTopic.summary());
        long t0 = System.nanoTime();
        MirrorCheck.Result r = check.awaitMySqlEquals(stack::mysqlConnection, table, expected, CONVERGE_TIMEOUT, null);
        assertTrue(r.equal(), () -> what + ": MySQL " + table + " differs from the query result: " + r.summary());
        log("%s: topic %s and MySQL %s equal the query result (%d rows) after %.1fs", what, topic, table, r.expectedRows(),
                (System.nanoTime() - t0) / 1e9);
        return expected;
    }

    static String firstLine(String trace) {
        return trace.lines().findFirst().orElse("");
    }

    // ------------------------------------------------------------------ 1. crash before the first offset commit, then an upstream revert

    static final int CRASH_ROWS = 50_000;

    /** Narrow rows whose values depend on {@code v} only: version 0 and 1 differ in every row. */
    static String crashTable(int v) {
        return "CREATE OR REPLACE TABLE conv.crash_src AS SELECT id AS id, " + v + " AS v,"
                + " CONCAT('row ', CAST(id AS STRING), ' v', CAST(" + v + " AS STRING)) AS s"
                + " FROM UNNEST(GENERATE_ARRAY(1, " + CRASH_ROWS + ")) AS id";
    }

    @Test
    @Order(1)
    void crashBeforeTheFirstOffsetCommitThenUpstreamRevertConverges() throws Exception {
        String source = "source-crash";
        String topic = "conv.crash";
        String table = "conv_crash";
        String query = "SELECT id, v, s FROM conv.crash_src";
        stack.createCompactedTopic(topic, 2);
        bq.query(crashTable(0));
        stack.deployer().deploy("sink-crash", ConnectorConfigs.sink(stack, topic, table));
        Map<String, String> config = ConnectorConfigs.source(stack, topic, query, "bq2k_staging_crash");
        config.put("read.chunk.rows", "2000");
        stack.deployer().deploy(source, config);
        PipelineOps.RunSummary s1 = ops.awaitRun(topic + ".runs", 1, RUN_TIMEOUT);
        log("crash: %s", s1);
        assertConverged(query, topic, table, "run 1");

        // Every row changes upstream; run 2 starts (the task restart commits run 1's {done} offset).
        bq.query(crashTable(1));
        long afterRun1 = onTopic(topic);
        ops.triggerRun(source);
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        while (onTopic(topic) == afterRun1) {
            assertTrue(System.nanoTime() < deadline, "run 2 emitted nothing");
            Thread.sleep(10);
        }
        stack.killWorker();
        long published = onTopic(topic) - afterRun1;
        log("crash: SIGKILLed the worker with %d of run 2's %d changes on the topic", published, CRASH_ROWS);
        assertTrue(published > 0 && published < CRASH_ROWS, "the kill must land inside run 2's emission: " + published + " of " + CRASH_ROWS);
        // Precondition: had an offset of run 2 been committed, the restart would resume run 2's first diff
        // instead of retaking it, and this test would not exercise the retake.
        JsonNode committed = ops.committedSourceOffset(OFFSETS_TOPIC, source);
        log("crash: committed source offset at the kill: %s", committed);
        assertNotNull(committed, "no source offset committed for " + source);
        assertEquals(1, committed.path("run").asLong(), "committed offset at the kill: " + committed);
        assertTrue(committed.path("done").asBoolean(false), "committed offset at the kill: " + committed);
        assertTrue(ops.latestRun(topic + ".runs").run() == 1, "run 2 must not have finished before the kill");

        // Upstream goes back to run 1's result while the worker is down: keys the first attempt published
        // with v=1 do not differ from the baseline any more, yet MySQL will hold v=1 for them.
        bq.query(crashTable(0));
        Instant restart = Instant.now();
        stack.restartWorker();
        PipelineOps.RunSummary s2 = ops.awaitRunStartedSince(topic + ".runs", 2, restart, RUN_TIMEOUT);
        log("crash: after the restart %s", s2);
        assertEquals(2, s2.run());
        assertConverged(query, topic, table, "after the retake of run 2");
        assertEquals("retake", s2.mode(), "a run that emitted without a committed offset is retaken: " + s2);
        assertTrue(s2.emitted() >= published, "the retake re-examines every key the first attempt may have published: " + s2);
    }

    // ------------------------------------------------------------------ 2. lost baseline snapshot

    static String lostTable(String where) {
        return "CREATE OR REPLACE TABLE conv.lost_src AS SELECT id AS id, CONCAT('lost ', CAST(id AS STRING)) AS name,"
                + " CAST(id AS FLOAT64) / 3 AS score FROM UNNEST(GENERATE_ARRAY(1, 1000)) AS id" + where;
    }

    @Test
    @Order(2)
    void lostBaselineFailsLoudlyThenConvergesAfterRestore() throws Exception {
        String source = "source-lost";
        String topic = "conv.lost";
        String table = "conv_lost";
        String staging = "bq2k_staging_lost";
        String query = "SELECT id, name, score FROM conv.lost_src";
        stack.createCompactedTopic(topic, 2);
        bq.query(lostTable(""));
        stack.deployer().deploy("sink-lost", ConnectorConfigs.sink(stack, topic, table));
        stack.deployer().deploy(source, ConnectorConfigs.source(stack, topic, query, staging));
        PipelineOps.RunSummary s1 = ops.awaitRun(topic + ".runs", 1, RUN_TIMEOUT);
        MirrorCheck check = MirrorCheck.forQuery(bq, query, "id");
        MirrorCheck.Rows run1 = assertConverged(query, topic, table, "lost: run 1");
        assertEquals(1000, run1.size());

        bq.query(lostTable(" WHERE MOD(id, 10) != 3"));
        String baseline = s1.sync() + "__snap_1";
        assertTrue(bq.tableExists(staging, baseline), "run 1's snapshot " + staging + "." + baseline + " is not in the staging dataset");
        bq.query("CREATE OR REPLACE TABLE conv.lost_backup AS SELECT * FROM `" + staging + "." + baseline + "`");
        bq.query("DROP TABLE `" + staging + "." + baseline + "`");
        long before = onTopic(topic);
        ops.triggerRun(source);
        String message = firstLine(stack.deployer().awaitTaskFailed(source, null, RUN_TIMEOUT));
        log("lost: run 2 failed: %s", message);
        for (String f : List.of("the snapshot of baseline run 1", "is gone", baseline, "time travel", "Nothing was emitted")) {
            assertTrue(message.contains(f), "expected '" + f + "' in: " + message);
        }
        Thread.sleep(2000); // a late record would show here
        assertEquals(before, onTopic(topic), "the failed run emitted records");
        try (var c = stack.mysqlConnection()) {
            MirrorCheck.Result r = check.compare(run1, check.readMySql(c, table));
            assertTrue(r.equal(), () -> "MySQL lost run 1's state after the failed run: " + r.summary());
        }

        // No time travel in the emulator: the copy taken before the drop stands in for it.
        bq.query("CREATE TABLE `" + staging + "." + baseline + "` AS SELECT * FROM conv.lost_backup");
        Instant restart = Instant.now();
        ops.restartFailed(source);
        PipelineOps.RunSummary s2 = ops.awaitRunStartedSince(topic + ".runs", 2, restart, RUN_TIMEOUT);
        log("lost: after the restore %s", s2);
        assertEquals(2, s2.run());
        // Against the restored baseline: only the 100 removed rows, no resync.
        assertEquals("incremental", s2.mode(), s2.toString());
        assertEquals(List.of(0L, 0L, 100L), List.of(s2.added(), s2.changed(), s2.removed()), s2.toString());
        MirrorCheck.Rows run2 = assertConverged(query, topic, table, "lost: run 2 after the restore");
        assertEquals(900, run2.size());
    }

    // ------------------------------------------------------------------ 3. names that sanitize alike

    static final String STAGING_H5 = "bq2k_staging_h5";

    /**
     * The documented derivation for a connector name with characters outside [A-Za-z0-9_]: replace them,
     * append "_" and 6 hex digits of a hash of the name. Computed here because the intruder must be
     * created (stopped) before the first connector's tables exist; the first's run summary confirms it.
     */
    static String derivedSyncName(String connector) throws Exception {
        byte[] d = MessageDigest.getInstance("SHA-256").digest(("name:" + connector).getBytes(StandardCharsets.UTF_8));
        return connector.replaceAll("[^A-Za-z0-9_]", "_") + "_" + HexFormat.of().formatHex(d, 0, 3);
    }

    /** Staging table name -> its bq2k_owner label (null when it has none), for tables starting with {@code prefix}. */
    Map<String, String> stagingTables(String prefix) {
        Map<String, String> m = new TreeMap<>();
        for (String name : bq.tableNames(STAGING_H5)) {
            if (name.startsWith(prefix)) {
                JsonNode t = bq.table(STAGING_H5, name);
                m.put(name, t == null ? null : t.path("labels").path("bq2k_owner").asText(null));
            }
        }
        return m;
    }

    @Test
    @Order(3)
    void connectorsWhoseNamesSanitizeAlikeKeepTheirOwnStagingTables() throws Exception {
        VersionedTable a = new VersionedTable("conv.h5a_src", 600, 40, 3);
        VersionedTable b = new VersionedTable("conv.h5b_src", 900, 50, 2);
        String[] names = {"x-h5-1", "x.h5.1"};
        VersionedTable[] tables = {a, b};
        String[] topics = {"conv.h5a", "conv.h5b"};
        String[] mysql = {"conv_h5a", "conv_h5b"};
        String syncA = derivedSyncName(names[0]);
        String intruder = "x-h5-intruder";
        String intruderTopic = "conv.h5.intruder";

        for (int i = 0; i < 2; i++) {
            stack.createCompactedTopic(topics[i], 2);
            bq.query(tables[i].createSql(1));
        }
        // Created stopped while no table of sync A exists, so validation has nothing to object to: the
        // run-time check is the last line of defence (a connector stopped for a while, a dataset recreated).
        Map<String, String> intruderConfig = ConnectorConfigs.source(stack, intruderTopic, a.query(), STAGING_H5);
        intruderConfig.put("sync.name", syncA);
        intruderConfig.put("name", intruder);
        Map<String, Object> create = new LinkedHashMap<>();
        create.put("name", intruder);
        create.put("config", intruderConfig);
        create.put("initial_state", "STOPPED");
        var created = new ConnectRest(stack.connectUrl()).send("POST", "/connectors", JSON.writeValueAsString(create));
        assertEquals(201, created.statusCode(), () -> "creating " + intruder + " stopped: " + created.body());

        Instant deployed = Instant.now();
        for (int i = 0; i < 2; i++) {
            stack.deployer().deploy("sink-" + mysql[i], ConnectorConfigs.sink(stack, topics[i], mysql[i]));
            stack.deployer().deploy(names[i], ConnectorConfigs.source(stack, topics[i], tables[i].query(), STAGING_H5));
        }
        String[] syncs = new String[2];
        for (int v = 1; v <= 3; v++) {
            Instant start = v == 1 ? deployed : Instant.now();
            if (v > 1) {
                for (int i = 0; i < 2; i++) {
                    bq.query(tables[i].createSql(v));
                    ops.triggerRun(names[i]); // both run at the same time
                }
            }
            for (int i = 0; i < 2; i++) {
                PipelineOps.RunSummary s = ops.awaitRunStartedSince(topics[i] + ".runs", v, start, RUN_TIMEOUT);
                log("h5: %s %s", names[i], s);
                assertEquals(v, s.run(), s.toString());
                if (v > 1) {
                    assertTrue(s.added() > 0 && s.changed() > 0 && s.removed() > 0, "run " + v + " inserts, updates and deletes: " + s);
                }
                syncs[i] = s.sync();
                assertConverged(tables[i].query(), topics[i], mysql[i], names[i] + " run " + v);
            }
        }
        log("h5: sync names %s", List.of(syncs));
        assertTrue(syncs[0].matches("x_h5_1_[0-9a-f]{6}") && syncs[1].matches("x_h5_1_[0-9a-f]{6}"), List.of(syncs).toString());
        assertNotEquals(syncs[0], syncs[1], "two connectors, one sync name");
        assertEquals(syncA, syncs[0], "sync name derived from " + names[0]);

        // Each sync's tables carry one owner mark, the two marks differ, and nothing sits under the bare
        // sanitized prefix that both names would have shared.
        Map<String, String> tablesA = stagingTables(syncs[0] + "__");
        Map<String, String> tablesB = stagingTables(syncs[1] + "__");
        log("h5: staging tables %s / %s", tablesA, tablesB);
        for (Map<String, String> t : List.of(tablesA, tablesB)) {
            assertTrue(t.keySet().stream().anyMatch(n -> n.contains("__snap_3")), "run 3's snapshot: " + t);
            assertTrue(t.values().stream().distinct().count() == 1 && !t.containsValue(null), "one owner mark per sync: " + t);
        }
        assertNotEquals(tablesA.values().iterator().next(), tablesB.values().iterator().next(), "owner marks");
        assertTrue(stagingTables("x_h5_1__").isEmpty(), "tables under the shared sanitized prefix: " + stagingTables("x_h5_1__"));

        // Deploying a connector onto sync A is refused by validation, naming the field.
        List<String> errors = stack.deployer().validate(SyncStatus.SOURCE_CLASS, intruderConfig);
        log("h5: validate of a connector onto sync %s: %s", syncA, errors);
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("sync.name = ") && e.contains("Give this connector its own sync.name")), errors.toString());

        // The one that slipped through fails at run time and touches nothing of sync A.
        ops.resume(intruder);
        String message = firstLine(stack.deployer().awaitTaskFailed(intruder, null, RUN_TIMEOUT));
        log("h5: %s failed: %s", intruder, message);
        for (String f : List.of("is owned by another connector", "Give this connector its own sync.name", syncA)) {
            assertTrue(message.contains(f), "expected '" + f + "' in: " + message);
        }
        assertEquals(0, onTopic(intruderTopic), "the intruder published records");
        assertEquals(tablesA, stagingTables(syncs[0] + "__"), "sync A's tables after the intruder failed");

        // Sync A keeps syncing.
        bq.query(a.createSql(4));
        Instant start = Instant.now();
        ops.triggerRun(names[0]);
        PipelineOps.RunSummary s4 = ops.awaitRunStartedSince(topics[0] + ".runs", 4, start, RUN_TIMEOUT);
        assertEquals(4, s4.run(), s4.toString());
        assertConverged(a.query(), topics[0], mysql[0], names[0] + " run 4, beside the failed intruder");
        assertFalse(stagingTables(syncs[0] + "__").containsValue(null), "sync A's tables keep their owner mark");
        assertTrue(stack.deployer().delete(intruder));
    }
}
