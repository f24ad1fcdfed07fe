package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;

import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.Component;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck;
import io.bq2k.stack.PipelineOps;
import io.bq2k.cli.SyncStatus;

/**
 * Bad input on the real stack, each with the exact error it gets. A "victim" sync (source + Debezium
 * sink into MariaDB) meets every bad config and bad data; after each failed run its topic got no
 * record, MySQL still holds the last good state, and a "bystander" sync on the same worker still runs
 * to completion. Column names include a reserved word and non-ASCII ones throughout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadInputIT {

    static final String VICTIM = "source-victim";
    static final String VICTIM_TOPIC = "bad.victim";
    static final String VICTIM_TABLE = "victim_rows";
    static final String QUERY = "SELECT * FROM bad.victim";
    static final String BYSTANDER = "source-bystander";
    static final String BYSTANDER_TOPIC = "bad.bystander";
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(3);

    LocalStack stack;
    BigQueryRest bq;
    PipelineOps ops;
    Map<String, String> victimConfig;
    final VersionedTable bystander = new VersionedTable("bad.bystander_src", 1500, 30, 3);
    final MirrorCheck bystanderCheck = new MirrorCheck(VersionedTable.COLUMNS);
    int bystanderVersion;
    long victimRun;
    /** The sync's query as the mirror check compares it (composite columns as their JSON text). */
    String checkQuery = QUERY;
    MirrorCheck.Rows lastGood;
    MirrorCheck lastGoodCheck;
    String lastTrace;

    @BeforeAll
    void up() throws Exception {
        Path tmp = Files.createTempDirectory("bq2k-bad-");
        stack = LocalStack.builder().randomPorts(false).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx768m").bqLogLevel("warning").stopOnJvmExit(true).build();
        stack.up();
        bq = new BigQueryRest(stack.bqRestUrl(), "demo");
        ops = PipelineOps.of(stack);
        bq.query("CREATE SCHEMA IF NOT EXISTS bad");

        bq.query(bystander.createSql(++bystanderVersion));
        stack.deployer().deploy("sink-bystander", ConnectorConfigs.sink(stack, BYSTANDER_TOPIC, "bystander_rows"));
        stack.deployer().deploy(BYSTANDER, ConnectorConfigs.source(stack, BYSTANDER_TOPIC, bystander.query(), "bq2k_staging_bystander"));
        awaitBystander();

        bq.query(victimTable(40, ""));
        stack.deployer().deploy("sink-victim", ConnectorConfigs.sink(stack, VICTIM_TOPIC, VICTIM_TABLE));
        victimConfig = ConnectorConfigs.source(stack, VICTIM_TOPIC, QUERY, "bq2k_staging_victim");
        victimConfig.put("schedule.intervall.ms", "60000"); // a typo: warned, not fatal
        stack.deployer().deploy(VICTIM, victimConfig);
        victimConfig.remove("schedule.intervall.ms");
        goodRun(null);
    }

    @AfterAll
    void down() {
        if (stack != null) {
            stack.down(false);
        }
    }

    static void log(String fmt, Object... args) {
        System.out.printf("[bad-input] " + fmt + "%n", args);
    }

    /** id, a reserved word, non-ASCII names; {@code extra} adds or replaces select items. */
    static String victimTable(int rows, String extra) {
        return "CREATE OR REPLACE TABLE bad.victim AS SELECT id AS id, CONCAT('user ', CAST(id AS STRING)) AS name,"
                + " CONCAT('sel-', CAST(id AS STRING)) AS `select`, CAST(id AS FLOAT64) / 4 AS `größe`,"
                + " CONCAT('名前 ', CAST(id AS STRING)) AS `名前`" + extra
                + " FROM UNNEST(GENERATE_ARRAY(1, " + rows + ")) AS id";
    }

    // ------------------------------------------------------------------ helpers

    void awaitBystander() throws Exception {
        ops.awaitRun(BYSTANDER_TOPIC + ".runs", bystanderVersion, RUN_TIMEOUT);
        MirrorCheck.Result r = bystanderCheck.awaitMySqlEquals(stack::mysqlConnection, "bystander_rows",
                bystanderCheck.rows(bystander.rows(bystanderVersion)), Duration.ofMinutes(2), null);
        assertTrue(r.equal(), () -> "bystander: " + r.summary());
    }

    /** The other sync on the worker still runs a full run into MySQL. */
    void assertBystanderStillSyncs() throws Exception {
        bq.query(bystander.createSql(++bystanderVersion));
        ops.triggerRun(BYSTANDER);
        awaitBystander();
        JsonNode sink = stack.deployer().status("sink-victim").path("tasks").path(0);
        assertEquals("RUNNING", sink.path("state").asText(), () -> "the victim's sink keeps running: " + sink);
    }

    JsonNode victimTask() {
        return stack.deployer().status(VICTIM).path("tasks").path(0);
    }

    long victimRecords() {
        return ops.endOffsets(VICTIM_TOPIC).values().stream().mapToLong(Long::longValue).sum();
    }

    /** Applies {@code sql} (if any), starts a run and waits for it to complete; MySQL then equals the query result. */
    void goodRun(String sql) throws Exception {
        if (sql != null) {
            bq.query(sql);
        }
        if (victimRun > 0) {
            ops.triggerRun(VICTIM);
        }
        PipelineOps.RunSummary s = ops.awaitRun(VICTIM_TOPIC + ".runs", ++victimRun, RUN_TIMEOUT);
        log("victim %s", s);
        assertVictimMySqlEqualsQuery();
    }

    void assertVictimMySqlEqualsQuery() throws Exception {
        lastGoodCheck = MirrorCheck.forQuery(bq, checkQuery, "id");
        lastGood = lastGoodCheck.readBigQuery(bq, checkQuery);
        MirrorCheck.Result r = lastGoodCheck.awaitMySqlEquals(stack::mysqlConnection, VICTIM_TABLE, lastGood, Duration.ofMinutes(2), null);
        assertTrue(r.equal(), () -> "victim after run " + victimRun + ": " + r.summary());
    }

    /**
     * Applies {@code sql}, starts a run and expects it to fail with every fragment in the task's trace;
     * nothing reached the topic, MySQL keeps the last good state, the bystander still syncs.
     */
    String failedRun(String sql, String... fragments) throws Exception {
        long before = victimRecords();
        if ("FAILED".equals(victimTask().path("state").asText())) {
            // The failed run is still due: the restarted task runs it at once (a config update would be validated
            // against data that no longer validates).
            bq.query(sql);
            ops.restartFailed(VICTIM);
        } else {
            ops.triggerRunAfter(VICTIM, () -> {
                try {
                    bq.query(sql);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        JsonNode task = victimTask();
        while (!("FAILED".equals(task.path("state").asText()) && !task.path("trace").asText().equals(lastTrace))) {
            assertTrue(System.nanoTime() < deadline, "the run did not fail: " + task);
            Thread.sleep(300);
            task = victimTask();
        }
        lastTrace = task.path("trace").asText();
        String message = lastTrace.lines().findFirst().orElse("");
        log("victim run %d failed: %s", victimRun + 1, message);
        assertTrue(message.contains("Sync 'source_victim_"), message); // the connector name made an identifier, plus its hash
        for (String f : fragments) {
            assertTrue(message.contains(f), "expected '" + f + "' in: " + message);
        }
        assertEquals(before, victimRecords(), "a failed run emitted records");
        MirrorCheck.Result r = lastGoodCheck.compare(lastGood, readVictimMySql());
        assertTrue(r.equal(), () -> "MySQL lost its last good state: " + r.summary());
        assertBystanderStillSyncs();
        return message;
    }

    MirrorCheck.Rows readVictimMySql() throws Exception {
        try (Connection c = stack.mysqlConnection()) {
            return lastGoodCheck.readMySql(c, VICTIM_TABLE);
        }
    }

    List<String> validate(Map<String, String> overrides) {
        Map<String, String> c = new LinkedHashMap<>(victimConfig);
        c.put("name", VICTIM);
        overrides.forEach((k, v) -> {
            if (v == null) {
                c.remove(k);
            } else {
                c.put(k, v);
            }
        });
        return stack.deployer().validate(SyncStatus.SOURCE_CLASS, c);
    }

    void assertRejected(String field, String fragment, Map<String, String> overrides) {
        List<String> errors = validate(overrides);
        log("validate %s -> %s", overrides, errors);
        assertTrue(errors.stream().anyMatch(e -> e.startsWith(field + " = ") && e.contains(fragment)),
                "expected an error on " + field + " containing '" + fragment + "', got " + errors);
    }

    // ------------------------------------------------------------------ configs, through the REST validate call

    @Test
    @Order(1)
    void everyInvalidFieldIsRejectedByTheRestValidateCallNamingIt() {
        String[][] cases = {
            {"bigquery.project", "Not A Project!"},
            {"bigquery.endpoint", "localhost:9050"},
            {"bigquery.storage.endpoint", "http://localhost:9060"},
            {"bigquery.credentials.type", "magic"},
            {"bigquery.retry.max.attempts", "0"},
            {"bigquery.retry.initial.backoff.ms", "-1"},
            {"bigquery.retry.max.backoff.ms", "-1"},
            {"sync.name", "no spaces allowed"},
            {"key.columns", ""},
            {"topic", "not a topic!"},
            {"run.history.topic", "bad topic!"},
            {"staging.dataset", "bad dataset!"},
            {"staging.dataset.create", "perhaps"},
            {"staging.table.expiration.hours", "0"},
            {"temporal.precision", "nanos"},
            {"schedule.interval.ms", "0"},
            {"schedule.cron", "61 * * * *"},
            {"schedule.skip.unchanged.inputs", "perhaps"},
            {"mass.delete.max.ratio", "1.5"},
            {"mass.delete.allow.run", "abc"},
            {"record.max.bytes", "10"},
            {"read.api", "grpc"},
            {"read.chunk.rows", "5"},
            {"diff.buckets", "0"},
        };
        for (String[] c : cases) {
            assertRejected(c[0], "", Map.of(c[0], c[1]));
        }
        assertRejected("bigquery.credentials.json", "Credentials could not be loaded",
                Map.of("bigquery.credentials.type", "service_account_json", "bigquery.credentials.json", "{not json"));
        assertRejected("bigquery.credentials.file", "",
                Map.of("bigquery.credentials.type", "key_file", "bigquery.credentials.file", "/nonexistent/key.json"));
        assertRejected("query", "Set exactly one of 'query' and 'table'", Map.of("table", "bad.victim"));
        assertRejected("query", "Set exactly one of 'query' and 'table'", Map.of("query", ""));
        assertRejected("table", "is not a table name", Map.of("query", "", "table", "no_dataset"));
        assertRejected("run.history.topic", "must differ from the data topic", Map.of("run.history.topic", VICTIM_TOPIC));
    }

    @Test
    @Order(2)
    void brokenQueriesAreRejectedByTheDryRunAtValidate() {
        assertRejected("query", "Syntax error", Map.of("query", "SELEC id FROM bad.victim"));
        assertRejected("query", "Not found", Map.of("query", "SELECT * FROM bad.no_such_table"));
        assertRejected("table", "Not found", Map.of("query", "", "table", "bad.no_such_table"));
        assertRejected("key.columns", "key column `idd` is not in the query result", Map.of("key.columns", "idd"));
        assertRejected("key.columns", "key column `größe` has type FLOAT64, which cannot be a key", Map.of("key.columns", "größe"));
        assertRejected("query", "column `r` has type RANGE",
                Map.of("query", "SELECT *, RANGE(DATE '2024-01-01', DATE '2024-02-01') AS r FROM bad.victim"));
        assertRejected("query", "uses the prefix _bq2k_", Map.of("query", "SELECT *, 1 AS _bq2k_mine FROM bad.victim"));
        assertTrue(validate(Map.of()).isEmpty(), "the good config validates");
    }

    @Test
    @Order(3)
    void unknownKeysAreWarnedInTheWorkerLog() throws Exception {
        String log = Files.readString(stack.logFile(Component.CONNECT));
        assertTrue(log.contains("Unknown config key 'schedule.intervall.ms' is ignored; did you mean 'schedule.interval.ms'?"),
                "no warning for the misspelled key in the worker log");
    }

    // ------------------------------------------------------------------ data, at run time

    @Test
    @Order(10)
    void duplicateKeys() throws Exception {
        failedRun(victimTable(40, "") + " UNION ALL SELECT 7, 'dup', 'x', 1.0, 'y'",
                "1 key(s) of id occur more than once, e.g. key {\"id\":7}", "Nothing was emitted", "Make the key unique");
    }

    @Test
    @Order(11)
    void nullKey() throws Exception {
        failedRun(victimTable(40, "") + " UNION ALL SELECT NULL, 'null', 'x', 1.0, 'y'",
                "1 row(s) have a NULL in key column(s) id, e.g. key {\"id\":null}", "Nothing was emitted", "IS NOT NULL");
    }

    @Test
    @Order(12)
    void keyColumnDisappears() throws Exception {
        failedRun(victimTable(40, "").replace("SELECT id AS id,", "SELECT id AS user_id,"),
                "key column `id` is not in the query result", "fix key.columns or the query", "Nothing was emitted");
    }

    @Test
    @Order(13)
    void keyColumnChangesType() throws Exception {
        failedRun(victimTable(40, "").replace("SELECT id AS id,", "SELECT CAST(id AS STRING) AS id,"),
                "run 2 is held: the key changed from [id INT64] (run 1) to [id STRING]", "Nothing was emitted",
                "cast it back in the query", "mass.delete.allow.run=2");
    }

    @Test
    @Order(15)
    void rowLargerThanTheRecordLimit() throws Exception {
        failedRun(victimTable(40, "").replace("CONCAT('user ', CAST(id AS STRING)) AS name",
                        "IF(id = 7, REPEAT('x', 2000000), CONCAT('user ', CAST(id AS STRING))) AS name"),
                "1 row(s) are larger than record.max.bytes=1000000 bytes as JSON", "key {\"id\":7}", "in column `name`",
                "Nothing was emitted", "max.message.bytes");
    }

    @Test
    @Order(16)
    void multiMegabyteStringsPassOnceTheLimitsAreRaised() throws Exception {
        // The documented fix of the previous case: raise the topic's, the producer's and the connector's limits together.
        try (Admin admin = stack.admin()) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, VICTIM_TOPIC),
                    List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", "16777216"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
        }
        bq.query(victimTable(40, "").replace("CONCAT('user ', CAST(id AS STRING)) AS name",
                "IF(id = 7, REPEAT('x', 2000000), IF(id = 8, REPEAT('ü', 1500000), CONCAT('user ', CAST(id AS STRING)))) AS name"));
        victimConfig.put("record.max.bytes", "8000000");
        victimConfig.put("producer.override.max.request.size", "16777216");
        victimConfig.put("schedule.trigger", "limits raised"); // run now: the reconfigured task starts its run at once
        stack.deployer().deploy(VICTIM, victimConfig);
        PipelineOps.RunSummary s = ops.awaitRun(VICTIM_TOPIC + ".runs", ++victimRun, RUN_TIMEOUT);
        log("victim %s", s);
        assertVictimMySqlEqualsQuery();
        try (Connection c = stack.mysqlConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT LENGTH(name), CHAR_LENGTH(name) FROM " + VICTIM_TABLE + " WHERE id IN (7, 8) ORDER BY id")) {
            assertTrue(rs.next());
            assertEquals(2_000_000, rs.getLong(1));
            assertTrue(rs.next());
            assertEquals(3_000_000, rs.getLong(1), "1.5 million ü are 3 MB of UTF-8");
            assertEquals(1_500_000, rs.getLong(2));
        }
    }

    @Test
    @Order(17)
    void columnsAddedRemovedAndRenamedBetweenRuns() throws Exception {
        // `größe` removed, `名前` renamed to name_ja, note (STRING), attrs (STRUCT) and tags (ARRAY) added.
        checkQuery = "SELECT * EXCEPT (attrs, tags), TO_JSON_STRING(attrs) AS attrs, TO_JSON_STRING(tags) AS tags FROM bad.victim";
        goodRun("CREATE OR REPLACE TABLE bad.victim AS SELECT id AS id, CONCAT('user ', CAST(id AS STRING)) AS name,"
                + " CONCAT('sel-', CAST(id AS STRING)) AS `select`, CONCAT('名前 ', CAST(id AS STRING)) AS name_ja,"
                + " IF(MOD(id, 2) = 0, 'even', NULL) AS note, STRUCT(id AS n, 'ö' AS s) AS attrs, [id, id * 2] AS tags"
                + " FROM UNNEST(GENERATE_ARRAY(1, 40)) AS id");
        List<String> columns = new ArrayList<>();
        try (Connection c = stack.mysqlConnection();
             ResultSet rs = c.getMetaData().getColumns(c.getCatalog(), null, VICTIM_TABLE, null)) {
            while (rs.next()) {
                columns.add(rs.getString("COLUMN_NAME"));
            }
        }
        log("MySQL columns after the schema change: %s", columns);
        assertTrue(columns.containsAll(List.of("id", "name", "select", "name_ja", "note", "attrs", "tags")), columns.toString());
        // Documented: the sink never drops columns; the removed ones keep their last values.
        assertTrue(columns.containsAll(List.of("größe", "名前")), columns.toString());
        checkQuery = QUERY;
    }

    @Test
    @Order(18)
    void emptyResultIsHeldByTheMassDeleteGuardUntilConfirmed() throws Exception {
        failedRun("CREATE OR REPLACE TABLE bad.victim AS SELECT * FROM bad.victim WHERE FALSE",
                "run " + (victimRun + 1) + " (incremental) is held by the mass-delete guard", "mass.delete.allow.run=" + (victimRun + 1));
        victimConfig.put("mass.delete.allow.run", Long.toString(victimRun + 1));
        stack.deployer().deploy(VICTIM, victimConfig);
        PipelineOps.RunSummary s = ops.awaitRun(VICTIM_TOPIC + ".runs", ++victimRun, RUN_TIMEOUT);
        assertEquals(40, s.removed());
        try (Connection c = stack.mysqlConnection()) {
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (MirrorCheck.count(c, VICTIM_TABLE) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(300);
            }
            assertEquals(0, MirrorCheck.count(c, VICTIM_TABLE), "the confirmed run removed every row");
        }
    }
}
