package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.fasterxml.jackson.databind.JsonNode;

import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.PipelineOps;


/**
 * The source connector against real parts: the bqemulator BigQuery emulator (from PyPI) and an
 * embedded KRaft broker with a distributed Connect worker; the topic is read back like any
 * consumer would.
 */
@Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
class SourceConnectorIT {

    static BigQueryRest bq;
    static EmbeddedConnectCluster connect;
    static EmbeddedSync sync;

    @BeforeAll
    static void start() throws Exception {
        sync = EmbeddedSync.start("source-it", Map.of(), new java.util.Properties());
        bq = sync.bq;
        connect = sync.connect;
    }

    @AfterAll
    static void stop() {
        if (sync != null) {
            sync.close();
        }
    }

    /** Version v of the demo table: each version inserts, updates, deletes and keeps rows. */
    static String usersTable(String table, int v) {
        return "CREATE OR REPLACE TABLE src." + table + " AS SELECT id,\n"
            + "  CONCAT('user ', CAST(id AS STRING), IF(MOD(id, 3) = " + (v % 3) + ", CONCAT(' ü', CAST(" + v + " AS STRING)), '')) AS name,\n"
            + "  CAST(id AS FLOAT64) * 1.5 + IF(MOD(id, 5) = " + (v % 5) + ", " + v + ", 0) AS score,\n"
            + "  TIMESTAMP_ADD(TIMESTAMP '2024-01-01 00:00:00 UTC', INTERVAL id * 1000001 MICROSECOND) AS seen_at\n"
            + "FROM UNNEST(GENERATE_ARRAY(1, " + (200 + 20 * v) + ")) AS id\n"
            + "WHERE MOD(id, 7) != " + (v % 7);
    }

    /** The same rows, computed here: what the topic must hold after the run of version v. */
    static Map<Long, Map<String, Object>> expectedUsers(int v) {
        Map<Long, Map<String, Object>> rows = new TreeMap<>();
        for (long id = 1; id <= 200 + 20L * v; id++) {
            if (id % 7 == v % 7) {
                continue;
            }
            Map<String, Object> r = new HashMap<>();
            r.put("id", id);
            r.put("name", "user " + id + (id % 3 == v % 3 ? " ü" + v : ""));
            r.put("score", id * 1.5 + (id % 5 == v % 5 ? v : 0));
            r.put("seen_at", 1_704_067_200_000_000L + id * 1_000_001L);
            rows.put(id, r);
        }
        return rows;
    }

    static void assertTopicMirrors(String topic, Map<Long, Map<String, Object>> expected) {
        Map<String, JsonNode> latest = TopicContents.read(sync.ops, topic).latest();
        Map<Long, JsonNode> byId = new TreeMap<>();
        latest.forEach((k, v) -> byId.put(v.get("id").asLong(), v));
        assertEquals(expected.keySet(), byId.keySet(), "keys in the topic");
        expected.forEach((id, row) -> {
            JsonNode got = byId.get(id);
            assertEquals(row.get("name"), got.get("name").asText(), "name of " + id);
            assertEquals((Double) row.get("score"), got.get("score").asDouble(), 1e-9, "score of " + id);
            assertEquals(row.get("seen_at"), got.get("seen_at").asLong(), "seen_at of " + id);
        });
    }

    @Test
    void fiveRunsMirrorTheQueryAndANoChangeRunEmitsNothing() throws Exception {
        String name = "users_five";
        for (int v = 1; v <= 5; v++) {
            bq.query(usersTable(name, v));
            if (v == 1) {
                connect.configureConnector(name, sync.connectorConfig(name, name));
            } else {
                sync.triggerRun(name);
            }
            PipelineOps.RunSummary summary = sync.awaitRun(name, v);
            assertTopicMirrors(name, expectedUsers(v));
            if (v > 1) {
                assertTrue(summary.added() > 0 && summary.changed() > 0 && summary.removed() > 0,
                    "run " + v + " has inserts, updates and deletes: " + summary);
            }
        }
        int before = TopicContents.read(sync.ops, name).records.size();
        sync.triggerRun(name);
        PipelineOps.RunSummary noChange = sync.awaitRun(name, 6);
        assertEquals(0, noChange.added() + noChange.changed() + noChange.removed());
        assertEquals(before, TopicContents.read(sync.ops, name).records.size(), "a run with no change emits nothing");

        // A column added to the query is carried from the next run on.
        bq.query(usersTable(name, 5).replace("AS seen_at\n", "AS seen_at, CONCAT('tier-', CAST(MOD(id, 4) AS STRING)) AS tier\n"));
        sync.triggerRun(name);
        sync.awaitRun(name, 7);
        Map<String, JsonNode> latest = TopicContents.read(sync.ops, name).latest();
        assertEquals(expectedUsers(5).size(), latest.size());
        latest.values().forEach(v -> assertEquals("tier-" + (v.get("id").asLong() % 4), v.get("tier").asText()));
    }

    @Test
    void badDataFailsTheRunBeforeEmittingAndTheNextGoodRunProceeds() throws Exception {
        String name = "users_bad";
        bq.query(usersTable(name, 1));
        connect.configureConnector(name, sync.connectorConfig(name, name));
        sync.awaitRun(name, 1);
        int good = TopicContents.read(sync.ops, name).records.size();

        bq.query(usersTable(name, 2) + " UNION ALL SELECT 5, 'dup', 1.0, CURRENT_TIMESTAMP()");
        sync.triggerRun(name);
        String trace = sync.awaitFailure(name);
        assertTrue(trace.contains("Sync 'users_bad'") && trace.contains("occur more than once") && trace.contains("{\"id\":5}"), trace);

        bq.query(usersTable(name, 2) + " UNION ALL SELECT NULL, 'null key', 1.0, CURRENT_TIMESTAMP()");
        sync.triggerRun(name);
        trace = sync.awaitFailure(name, trace);
        assertTrue(trace.contains("NULL in key column") && trace.contains("{\"id\":null}"), trace);

        bq.query("DROP TABLE src." + name); // the query no longer validates: the operator restarts the failed task
        sync.restartFailedTask(name);
        trace = sync.awaitFailure(name, trace);
        assertTrue(trace.contains("the query failed in BigQuery") && trace.contains(name), trace);
        assertEquals(good, TopicContents.read(sync.ops, name).records.size(), "failed runs emitted nothing");

        bq.query(usersTable(name, 2));
        sync.restartFailedTask(name);
        sync.awaitRun(name, 2);
        assertTopicMirrors(name, expectedUsers(2));
    }

    @Test
    void anEmptyResultIsHeldByTheMassDeleteGuardUntilConfirmed() throws Exception {
        String name = "users_guard";
        bq.query(usersTable(name, 1));
        Map<String, String> config = sync.connectorConfig(name, name);
        connect.configureConnector(name, config);
        sync.awaitRun(name, 1);
        int good = TopicContents.read(sync.ops, name).records.size();

        bq.query("CREATE OR REPLACE TABLE src." + name + " AS SELECT * FROM src." + name + " WHERE FALSE");
        sync.triggerRun(name);
        String trace = sync.awaitFailure(name);
        assertTrue(trace.contains("held by the mass-delete guard") && trace.contains("mass.delete.allow.run=2"), trace);
        assertEquals(good, TopicContents.read(sync.ops, name).records.size());

        config.put("mass.delete.allow.run", "2");
        connect.configureConnector(name, config);
        sync.triggerRun(name);
        PipelineOps.RunSummary summary = sync.awaitRun(name, 2);
        assertEquals(expectedUsers(1).size(), summary.removed());
        TopicContents after = TopicContents.read(sync.ops, name);
        assertTrue(after.latest().isEmpty());
        assertNull(after.records.get(after.records.size() - 1).value());
    }


    @Test
    void anOffsetResetRepublishesEveryRowAndStillTombstonesRemovedKeys() throws Exception {
        String name = "users_reset";
        bq.query(usersTable(name, 1));
        connect.configureConnector(name, sync.connectorConfig(name, name));
        sync.awaitRun(name, 1);

        // The operator resets the sync (Connect's offsets REST API) while the data changes.
        connect.stopConnector(name);
        connect.resetConnectorOffsets(name);
        bq.query(usersTable(name, 2));
        int before = TopicContents.read(sync.ops, name).records.size();
        connect.resumeConnector(name);
        PipelineOps.RunSummary summary = sync.awaitRun(name, 2);
        assertEquals("resync", summary.mode());
        assertEquals(expectedUsers(2).size(), summary.added() + summary.changed(),
            "every current row is published again");
        long gone = expectedUsers(1).keySet().stream().filter(id -> !expectedUsers(2).containsKey(id)).count();
        assertEquals(gone, summary.removed(), "keys gone since the retained snapshot get a tombstone");
        TopicContents after = TopicContents.read(sync.ops, name);
        assertEquals(before + expectedUsers(2).size() + gone, after.records.size());
        assertTopicMirrors(name, expectedUsers(2));

        // alterOffsets validates what operators send.
        String bad = connect.endpointForResource("connectors/" + name + "/offsets");
        connect.stopConnector(name);
        var response = connect.requestPatch(bad, "{\"offsets\":[{\"partition\":{\"sync\":\"" + name + "\"},\"offset\":{\"run\":\"x\"}}]}");
        assertTrue(response.getStatus() >= 400, "rejected: " + response.getStatus());
        assertTrue(String.valueOf(response.getEntity()).contains("\\\"run\\\" must be an integer"));
        connect.resumeConnector(name);
    }
}
