package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

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
import io.bq2k.cli.ConnectorDeployer;

/**
 * The whole pipeline on the real local stack (emulator, MariaDB 11.4, KRaft broker, distributed
 * worker with our plugin and the stock Debezium JDBC sink), deployed through the Connect REST API:
 * <ol>
 *   <li>I1 over six runs with inserts, updates and deletes: MySQL equals the expected rows (every
 *       column, NULLs, exact DECIMAL, DATETIME(6) micros, DATE, non-ASCII text);</li>
 *   <li>an independent consumer's latest-per-key equals the query result, also after log compaction;</li>
 *   <li>I4/I2: SIGKILL of the worker in the middle of a run of ~60,000 changes, restart: MySQL and the
 *       topic converge, and per partition no key's versions go backwards.</li>
 *   <li>staging cleanup: after six runs the staging dataset holds only the tables of the committed base
 *       and of the last run;</li>
 *   <li>{@code json.columns}: STRUCT and ARRAY columns arrive in MariaDB as LONGTEXT holding the JSON
 *       text BigQuery's TO_JSON_STRING gives ({@code text}); with {@code json} the topic carries the same
 *       text as {@code io.debezium.data.Json}, which Debezium's sink cannot write into MariaDB (its task fails).</li>
 * </ol>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineE2EIT {

    static final Duration RUN_TIMEOUT = Duration.ofMinutes(6);
    static final Duration CONVERGE_TIMEOUT = Duration.ofMinutes(4);

    LocalStack stack;
    Path tmp;
    BigQueryRest bq;
    PipelineOps ops;
    final MirrorCheck check = new MirrorCheck(VersionedTable.COLUMNS);

    // state of test 1 for test 2
    final VersionedTable mirror = new VersionedTable("e2e.mirror_src", 400, 40, 4);
    static final String MIRROR_TOPIC = "e2e.mirror";
    int mirrorLastVersion;

    @BeforeAll
    void up() throws Exception {
        tmp = Files.createTempDirectory("bq2k-e2e-");
        stack = LocalStack.builder().randomPorts(false).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx1g").bqLogLevel("warning").stopOnJvmExit(true).build();
        long t0 = System.nanoTime();
        stack.up();
        log("stack up in %.1fs: %s", (System.nanoTime() - t0) / 1e9, stack.lastStartDurations());
        bq = new BigQueryRest(stack.bqRestUrl(), "demo");
        ops = PipelineOps.of(stack);
        bq.query("CREATE SCHEMA IF NOT EXISTS e2e");
    }

    @AfterAll
    void down() {
        if (stack != null) {
            stack.down(Boolean.getBoolean("e2e.keepData"));
        }
    }

    static void log(String fmt, Object... args) {
        System.out.printf("[e2e] " + fmt + "%n", args);
    }

    Map<String, String> sourceConfig(String topic, String query, String staging, int partitions, int chunkRows) {
        Map<String, String> c = ConnectorConfigs.source(stack, topic, query, staging);
        c.put("read.chunk.rows", String.valueOf(chunkRows));
        c.put("topic.creation.default.partitions", String.valueOf(partitions));
        return c;
    }

    Map<String, String> sinkConfig(String topic, String table) {
        return ConnectorConfigs.sink(stack, topic, table);
    }

    void assertFixture(VersionedTable t, int v) {
        MirrorCheck.Result r = check.compare(check.rows(t.rows(v)), check.readBigQuery(bq, t.query()));
        assertTrue(r.equal(), () -> "fixture: the emulator's version " + v + " differs from the Java formula: " + r.summary());
    }

    void assertMySqlConverges(VersionedTable t, String table, int v) throws Exception {
        long t0 = System.nanoTime();
        MirrorCheck.Result r = check.awaitMySqlEquals(stack::mysqlConnection, table, check.rows(t.rows(v)), CONVERGE_TIMEOUT, null);
        assertTrue(r.equal(), () -> "I1: MySQL " + table + " after version " + v + ": " + r.summary());
        log("MySQL %s equals version %d (%d rows) after %.1fs", table, v, r.expectedRows(), (System.nanoTime() - t0) / 1e9);
    }

    // ------------------------------------------------------------------ 1. mirror over runs

    @Test
    @Order(1)
    void mysqlMirrorsEveryRun() throws Exception {
        // Compacted, and compacting eagerly (test 2 reads it after the cleaner ran). delete.retention.ms
        // stays at its default (1 day): a tombstone must outlive the sink's lag, or the sink never sees the
        // delete (a 100 ms retention here lost deletes: Kafka's semantics, documented in the README).
        assertTrue(stack.createTopic(MIRROR_TOPIC, 2, Map.of("cleanup.policy", "compact", "segment.ms", "100",
                "min.cleanable.dirty.ratio", "0.01", "min.compaction.lag.ms", "0")));
        bq.query(mirror.createSql(1));
        assertFixture(mirror, 1);
        ConnectorDeployer d = stack.deployer();
        d.deploy("sink-e2e-mirror", sinkConfig(MIRROR_TOPIC, "e2e_mirror"));
        d.awaitRunning("sink-e2e-mirror", Duration.ofSeconds(90));
        d.deploy("source-e2e-mirror", sourceConfig(MIRROR_TOPIC, mirror.query(), "bq2k_staging_mirror", 2, 20_000));
        d.awaitRunning("source-e2e-mirror", Duration.ofSeconds(90));

        int versions = 6;
        for (int v = 1; v <= versions; v++) {
            long t0 = System.nanoTime();
            if (v > 1) {
                bq.query(mirror.createSql(v));
                assertFixture(mirror, v);
                ops.triggerRun("source-e2e-mirror");
            }
            PipelineOps.RunSummary s = ops.awaitRun(MIRROR_TOPIC + ".runs", v, RUN_TIMEOUT);
            log("version %d: %s (%.1fs)", v, s, (System.nanoTime() - t0) / 1e9);
            long[] c = mirror.changes(v);
            assertTrue(v == 1 || (c[0] > 0 && c[1] > 0 && c[2] > 0), "each version inserts, updates and deletes");
            assertArrayEquals(c, new long[] {s.added(), s.changed(), s.removed()},
                    "run " + v + " summary (added, changed, removed) vs the Java diff of versions " + (v - 1) + " and " + v);
            assertEquals(mirror.rows(v).size(), s.rows(), "rows of run " + v);
            assertMySqlConverges(mirror, "e2e_mirror", v);
        }
        mirrorLastVersion = versions;

        // Cleanup (design.md): at the start of run 6 the committed offset was run 5's done, so tables of runs 1-4 are
        // dropped; run 5 (the base of run 6) and run 6 (the base of the next run) are kept.
        List<String> staging = bq.tableNames("bq2k_staging_mirror");
        java.util.Set<String> kept = new java.util.TreeSet<>();
        for (String t : staging) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^source_e2e_mirror_[0-9a-z]+__(snap|diff)_(\\d+)$").matcher(t);
            assertTrue(m.matches(), "unexpected table in the staging dataset: " + t + " (all: " + staging + ")");
            kept.add(m.group(1) + "_" + m.group(2));
        }
        log("staging dataset after %d runs: %s", versions, staging);
        assertEquals(java.util.Set.of("snap_5", "diff_5", "snap_6", "diff_6"), kept,
                "after run 6 the staging dataset holds the tables of runs 5 (the committed base at run 6's start) and 6 only");

        // Spot-check the MySQL column types the sink created (documented mapping).
        log("MySQL column types: %s", VersionedTable.assertSinkColumnTypes(stack, "e2e_mirror"));
    }

    // ------------------------------------------------------------------ 2. independent consumer, compaction

    /** Latest value per key of a topic read from the beginning (tombstones remove), as canonical rows. */
    MirrorCheck.Rows latestPerKey(List<PipelineOps.TopicRecord> records) {
        Map<Object, List<Object>> latest = new HashMap<>();
        for (PipelineOps.TopicRecord r : records) {
            JsonNode key = PipelineOps.payload(r.key());
            long id = key.get("id").asLong();
            if (r.value() == null) {
                latest.remove(id);
            } else {
                latest.put(id, check.fromConnectJson(PipelineOps.payload(r.value()), 9));
            }
        }
        return new MirrorCheck.Rows(latest);
    }

    @Test
    @Order(2)
    void independentConsumerReproducesQueryResultAlsoAfterCompaction() throws Exception {
        assertTrue(mirrorLastVersion > 0, "needs test 1");
        MirrorCheck.Rows expected = check.readBigQuery(bq, mirror.query());
        List<PipelineOps.TopicRecord> all = ops.readAll(MIRROR_TOPIC);
        MirrorCheck.Result before = check.compare(expected, latestPerKey(all));
        assertTrue(before.equal(), () -> "latest-per-key of the topic vs the query result: " + before.summary());
        long end = ops.endOffsets(MIRROR_TOPIC).values().stream().mapToLong(Long::longValue).sum();
        log("consumer: %d records read (log end %d), latest-per-key = query result (%d rows)", all.size(), end, expected.size());

        // The cleaner runs on its own schedule (segment.ms=100 rolls segments at once): wait until it has
        // removed superseded records, i.e. fewer records remain than offsets were written.
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        List<PipelineOps.TopicRecord> compacted = all;
        while (compacted.size() >= end && System.nanoTime() < deadline) {
            Thread.sleep(2000);
            compacted = ops.readAll(MIRROR_TOPIC);
        }
        int n = compacted.size();
        assertTrue(n < end, "log compaction did not remove anything within 3 min (" + n + " records for " + end + " offsets)");
        MirrorCheck.Result after = check.compare(expected, latestPerKey(compacted));
        assertTrue(after.equal(), () -> "after compaction, latest-per-key vs the query result: " + after.summary());
        long tombstones = compacted.stream().filter(r -> r.value() == null).count();
        log("after compaction: %d records left for %d offsets written (%d tombstones), log start %s; latest-per-key still = query result",
                n, end, tombstones, ops.beginningOffsets(MIRROR_TOPIC));
    }

    // ------------------------------------------------------------------ 3. SIGKILL mid-run

    @Test
    @Order(3)
    void workerKilledInTheMiddleOfARunResumesWithoutGoingBackwards() throws Exception {
        VersionedTable big = new VersionedTable("e2e.big_src", 60_000, 100, 1); // period 1: every row changes each version
        String topic = "e2e.big";
        String table = "e2e_big";
        stack.createCompactedTopic(topic, 3);
        bq.query(big.createSql(1));
        ConnectorDeployer d = stack.deployer();
        Map<String, String> sink = sinkConfig(topic, table);
        d.deploy("sink-e2e-big", sink);
        d.awaitRunning("sink-e2e-big", Duration.ofSeconds(90));
        d.deploy("source-e2e-big", sourceConfig(topic, big.query(), "bq2k_staging_big", 3, 2000));
        d.awaitRunning("source-e2e-big", Duration.ofSeconds(90));
        PipelineOps.RunSummary s1 = ops.awaitRun(topic + ".runs", 1, RUN_TIMEOUT);
        log("big run 1: %s", s1);
        assertMySqlConverges(big, table, 1);

        long[] c2 = big.changes(2);
        long changes = c2[0] + c2[1] + c2[2];
        assertTrue(changes >= 50_000, "run 2 has " + changes + " changes");
        long endAfterRun1 = ops.endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
        bq.query(big.createSql(2));
        ops.triggerRun("source-e2e-big");
        long t0 = System.nanoTime();
        long written;
        while (true) {
            written = ops.endOffsets(topic).values().stream().mapToLong(Long::longValue).sum() - endAfterRun1;
            if (written >= 4000) {
                break;
            }
            assertTrue(System.nanoTime() - t0 < RUN_TIMEOUT.toNanos(), "run 2 wrote nothing");
            Thread.sleep(20);
        }
        stack.killWorker();
        long atKill = ops.endOffsets(topic).values().stream().mapToLong(Long::longValue).sum() - endAfterRun1;
        log("SIGKILLed the worker %.1fs into run 2 with %d of its %d changes on the topic (%d when the kill was decided)",
                (System.nanoTime() - t0) / 1e9, atKill, changes, written);
        assertTrue(atKill < changes, "the kill came too late: run 2 was complete (" + atKill + " of " + changes + ")");
        assertTrue(ops.latestRun(topic + ".runs").run() == 1, "run 2 must not have finished before the kill");

        stack.restartWorker();
        PipelineOps.RunSummary s2 = ops.awaitRun(topic + ".runs", 2, RUN_TIMEOUT);
        log("big run 2 after the restart: %s", s2);
        assertMySqlConverges(big, table, 2);

        // Topic: latest-per-key = version 2; per partition, per key, versions never decrease (run order);
        // a key lives on one partition.
        List<PipelineOps.TopicRecord> records = ops.readAll(topic);
        long total = records.size();
        long duplicates = total - endAfterRun1 - changes;
        MirrorCheck.Result latest = check.compare(check.rows(big.rows(2)), latestPerKey(records));
        assertTrue(latest.equal(), () -> "I4: topic latest-per-key vs version 2: " + latest.summary());
        Map<Long, Integer> partitionOf = new HashMap<>();
        for (PipelineOps.TopicRecord r : records) {
            long id = PipelineOps.payload(r.key()).get("id").asLong();
            Integer p = partitionOf.putIfAbsent(id, r.partition());
            assertTrue(p == null || p == r.partition(), "key " + id + " on partitions " + p + " and " + r.partition());
        }
        List<String> backwards = VersionedTable.versionsGoingBackwards(records, Set.of());
        assertTrue(backwards.isEmpty(), () -> "I2: versions went backwards: " + backwards);
        log("topic %s: %d records (%d from run 1, %d changes in run 2, %d re-sent after the kill), no key went backwards",
                topic, total, endAfterRun1, changes, duplicates);
        assertNotNull(s2);
    }

    // ------------------------------------------------------------------ 4. json.columns

    @Test
    @Order(4)
    void jsonColumnsArriveAsJsonText() throws Exception {
        bq.query("CREATE OR REPLACE TABLE e2e.json_src AS SELECT id AS id, STRUCT(id AS n, CONCAT('Zoë #', CAST(id AS STRING)) AS s,"
                + " IF(MOD(id, 3) = 0, NULL, id / 4) AS f) AS attrs, [id, id * 2] AS tags FROM UNNEST(GENERATE_ARRAY(1, 30)) AS id");
        String query = "SELECT id AS id, attrs AS attrs, tags AS tags FROM e2e.json_src";
        // What the JSON text must be: BigQuery's own TO_JSON_STRING of each column, read from the emulator.
        String asText = "SELECT id AS id, TO_JSON_STRING(attrs) AS attrs, TO_JSON_STRING(tags) AS tags FROM e2e.json_src";
        MirrorCheck text = MirrorCheck.forQuery(bq, asText, "id");
        MirrorCheck.Rows expected = text.readBigQuery(bq, asText);
        ConnectorDeployer d = stack.deployer();

        // json.columns=text (the default): a plain string, LONGTEXT in MariaDB, equal to TO_JSON_STRING.
        stack.createCompactedTopic("e2e.json", 1);
        d.deploy("sink-e2e-json", sinkConfig("e2e.json", "e2e_json"));
        Map<String, String> source = sourceConfig("e2e.json", query, "bq2k_staging_json", 1, 1000);
        assertEquals(null, source.get("json.columns"), "the shipped config keeps the default");
        d.deploy("source-e2e-json", source);
        ops.awaitRun("e2e.json.runs", 1, RUN_TIMEOUT);
        MirrorCheck.Result r = text.awaitMySqlEquals(stack::mysqlConnection, "e2e_json", expected, CONVERGE_TIMEOUT, null);
        assertTrue(r.equal(), () -> "json.columns=text: MySQL vs TO_JSON_STRING of the query result: " + r.summary());
        try (var c = stack.mysqlConnection(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS"
                     + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'e2e_json' ORDER BY ORDINAL_POSITION")) {
            Map<String, String> types = new LinkedHashMap<>();
            while (rs.next()) {
                types.put(rs.getString(1), rs.getString(2));
            }
            log("json.columns=text: MySQL column types %s; e.g. attrs of id 3 = %s", types, expected.asMap().get(3L).get(1));
            assertEquals("longtext", types.get("attrs"));
            assertEquals("longtext", types.get("tags"));
        }

        // json.columns=json: the same text, as a string named io.debezium.data.Json.
        stack.createCompactedTopic("e2e.json2", 1);
        Map<String, String> json = sourceConfig("e2e.json2", query, "bq2k_staging_json", 1, 1000);
        json.put("json.columns", "json");
        d.deploy("source-e2e-json2", json);
        ops.awaitRun("e2e.json2.runs", 1, RUN_TIMEOUT);
        List<PipelineOps.TopicRecord> records = ops.readAll("e2e.json2");
        assertEquals(expected.size(), records.size(), "one record per row");
        for (PipelineOps.TopicRecord rec : records) {
            JsonNode value = com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(rec.value());
            for (JsonNode f : value.path("schema").path("fields")) {
                if (List.of("attrs", "tags").contains(f.path("field").asText())) {
                    assertEquals("string", f.path("type").asText(), f.toString());
                    assertEquals("io.debezium.data.Json", f.path("name").asText(), f.toString());
                }
            }
            long id = value.path("payload").path("id").asLong();
            List<Object> want = expected.asMap().get(id);
            assertEquals(want.get(1), value.path("payload").path("attrs").asText(), "attrs of id " + id);
            assertEquals(want.get(2), value.path("payload").path("tags").asText(), "tags of id " + id);
        }
        log("json.columns=json: %d records, attrs and tags are io.debezium.data.Json strings equal to TO_JSON_STRING", records.size());
        // Documented: Debezium's sink writes such a string with CAST(? AS JSON), which MariaDB does not have.
        d.deploy("sink-e2e-json2", sinkConfig("e2e.json2", "e2e_json2"));
        String trace = d.awaitTaskFailed("sink-e2e-json2", null, Duration.ofMinutes(2));
        List<String> causes = trace.lines().filter(l -> l.startsWith("Caused by:")).toList();
        log("json.columns=json into MariaDB: the sink task failed: %s", causes);
        assertTrue(causes.stream().anyMatch(l -> l.toUpperCase(java.util.Locale.ROOT).contains("JSON")),
                "the sink must fail on the JSON cast: " + causes);
        try (var c = stack.mysqlConnection()) {
            assertEquals(0, MirrorCheck.count(c, "e2e_json2"), "no row written by the failed sink");
        }
    }
}
