package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.fasterxml.jackson.databind.JsonNode;

import io.bq2k.connect.bigquery.DryRun;
import io.bq2k.connect.bigquery.DryRunCommand;
import io.bq2k.connect.bigquery.DryRunReport;

import io.bq2k.stack.PipelineOps;

/**
 * The dry run ("plan") against the BigQuery emulator and a sync that ran for real: after the demo's kind of changes
 * (updates, deletes, inserts) it reports the exact counts and sample keys of the next run from the offset Connect's
 * REST API returns, leaves the staging dataset as it found it, and the next real run emits exactly those changes.
 */
@Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
class DryRunIT {

    static EmbeddedSync sync;

    @BeforeAll
    static void start() throws Exception {
        sync = EmbeddedSync.start("dry-run-it", Map.of(), new java.util.Properties());
    }

    @AfterAll
    static void stop() {
        if (sync != null) {
            sync.close();
        }
    }

    /** Users 1..n, shaped like the demo's (a plan, sessions, an experiment group that is NULL for every fourth). */
    static String users(String table, int n) {
        return "CREATE OR REPLACE TABLE src." + table + " AS SELECT id,\n"
            + "  CASE MOD(id, 3) WHEN 0 THEN 'pro' WHEN 1 THEN 'free' ELSE 'team' END AS plan,\n"
            + "  MOD(id * 31, 120) AS sessions_30d,\n"
            + "  CASE MOD(id, 4) WHEN 0 THEN NULL WHEN 1 THEN 'control' ELSE 'variant' END AS experiment_group\n"
            + "FROM UNNEST(GENERATE_ARRAY(1, " + n + ")) AS id";
    }

    private Set<String> stagingTables() {
        return new TreeSet<>(sync.bq.tableNames("bq2k_staging"));
    }

    /** The answer of GET /connectors/{name}/offsets once it says run {@code run} is done (offsets are flushed every 500 ms). */
    private String awaitDoneOffsets(String connector, Map<String, String> config, long run) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            String body = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(sync.connect.endpointForResource("connectors/" + connector + "/offsets"))).GET().build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            Map<String, Object> offset = DryRunCommand.committedOffset(body, config);
            if (offset != null && Boolean.TRUE.equals(offset.get("done")) && ((Number) offset.get("run")).longValue() == run) {
                return body;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("no committed offset for run " + run);
    }

    @Test
    void planReportsTheNextRunExactlyAndLeavesNothing() throws Exception {
        String name = "users_plan";
        sync.bq.query(users(name, 200));
        sync.connect.configureConnector(name, sync.connectorConfig(name, name));
        sync.awaitRun(name, 1);

        // The demo's changes: updates (% 100 = 7: plan and sessions; = 8: experiment group), deletes (= 9), inserts.
        sync.bq.query("UPDATE src." + name + " SET plan = 'pro', sessions_30d = sessions_30d + 1 WHERE MOD(id, 100) = 7");
        sync.bq.query("UPDATE src." + name + " SET experiment_group = 'control' WHERE MOD(id, 100) = 8");
        sync.bq.query("DELETE FROM src." + name + " WHERE MOD(id, 100) = 9");
        sync.bq.query("INSERT INTO src." + name + " SELECT id, 'free', 1, NULL FROM UNNEST(GENERATE_ARRAY(201, 210)) AS id");

        Map<String, String> config = sync.connect.connectorInfo(name).config();
        String offsets = awaitDoneOffsets(name, config, 1);
        System.out.println("GET /connectors/" + name + "/offsets: " + offsets);
        Map<String, Object> committed = DryRunCommand.committedOffset(offsets, config);
        assertEquals(1, ((Number) committed.get("run")).intValue());
        Set<String> before = stagingTables();

        DryRunReport report = DryRun.plan(config, committed);
        System.out.println(report.text());
        System.out.println(report.toJson());

        assertNull(report.error(), report.text());
        assertEquals("EMITS", report.outcome(), report.text());
        assertEquals(2, report.run());
        assertEquals("incremental", report.mode());
        assertEquals(208, report.rows());
        assertEquals(List.of(10L, 4L, 2L), List.of(report.added(), report.changed(), report.removed()), report.text());
        Set<String> added = new TreeSet<>();
        for (int id = 201; id <= 210; id++) {
            added.add("{\"id\":" + id + "}");
        }
        assertEquals(5, report.samples().get("add").size());
        assertTrue(added.containsAll(report.samples().get("add")), report.text());
        assertEquals(Set.of("{\"id\":7}", "{\"id\":107}", "{\"id\":8}", "{\"id\":108}"), Set.copyOf(report.samples().get("change")), report.text());
        assertEquals(Set.of("{\"id\":9}", "{\"id\":109}"), Set.copyOf(report.samples().get("remove")), report.text());
        assertFalse(report.held());
        assertTrue(report.guard().startsWith("passes: removes 2 of 200 rows (1.0%)"), report.guard());
        assertEquals(2, report.tables().size(), report.text());
        report.tables().forEach((t, what) -> {
            assertTrue(t.startsWith("demo.bq2k_staging.users_plan__plan_"), t);
            assertEquals("dropped", what, t);
        });
        assertEquals(before, stagingTables(), "the staging dataset holds the same tables after the dry run");

        // The sync's next real run makes exactly the planned changes.
        sync.triggerRun(name);
        PipelineOps.RunSummary summary = sync.awaitRun(name, 2);
        assertEquals(List.of(10L, 4L, 2L), List.of(summary.added(), summary.changed(), summary.removed()),
            summary.toString());
        assertEquals(208, summary.rows());
    }
}
