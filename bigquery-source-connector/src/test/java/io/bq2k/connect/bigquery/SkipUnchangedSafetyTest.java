package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/**
 * {@code schedule.skip.unchanged.inputs} skips a run only where unchanged last-modified times prove an unchanged
 * result: every table the query reads is listed by the dry run (fewer than BigQuery's 50), each a standard table,
 * and the query calls nothing whose result changes by itself. Otherwise the run goes ahead, saying why.
 */
class SkipUnchangedSafetyTest {

    /** BigQuery whose dry run lists {@code tables} (name -> type) as the query's referenced tables. */
    private static FakeBigQueryServer server(Map<String, String> tables) throws IOException {
        String refs = tables.keySet().stream().map(t -> "{\"projectId\":\"proj-1\",\"datasetId\":\"src\",\"tableId\":\"" + t + "\"}")
            .collect(Collectors.joining(","));
        return new FakeBigQueryServer(call -> {
            if (call.equals("POST /bigquery/v2/projects/proj-1/jobs")) {
                return new FakeBigQueryServer.Reply(200, "{\"kind\":\"bigquery#job\",\"jobReference\":{\"projectId\":\"proj-1\",\"jobId\":\"dry\"},"
                    + "\"status\":{\"state\":\"DONE\"},\"configuration\":{\"query\":{\"query\":\"q\",\"dryRun\":true}},"
                    + "\"statistics\":{\"query\":{\"referencedTables\":[" + refs + "],\"schema\":{\"fields\":[]}}}}");
            }
            String prefix = "GET /bigquery/v2/projects/proj-1/datasets/src/tables/";
            if (call.startsWith(prefix) && tables.containsKey(call.substring(prefix.length()))) {
                String name = call.substring(prefix.length());
                String type = tables.get(name);
                return new FakeBigQueryServer.Reply(200, "{\"kind\":\"bigquery#table\",\"id\":\"proj-1:src." + name + "\",\"tableReference\":"
                    + "{\"projectId\":\"proj-1\",\"datasetId\":\"src\",\"tableId\":\"" + name + "\"},\"type\":\"" + type + "\","
                    + "\"lastModifiedTime\":\"" + (1_700_000_000_000L + name.length()) + "\""
                    + (type.equals("VIEW") ? ",\"view\":{\"query\":\"SELECT 1\"}" : type.equals("EXTERNAL")
                        ? ",\"externalDataConfiguration\":{\"sourceFormat\":\"CSV\",\"sourceUris\":[\"gs://b/x.csv\"]}" : ",\"schema\":{\"fields\":[]}")
                    + "}");
            }
            return FakeBigQueryServer.error(404, "notFound", "Not found: " + call);
        });
    }

    private static UnchangedInputs inputs(Map<String, String> tables, String query) throws IOException {
        try (FakeBigQueryServer server = server(tables);
             BigQueryGateway gateway = new BigQueryGateway(server.config(Map.of(SyncConfig.QUERY, query)), () -> false)) {
            return new BigQueryRunSteps(server.config(Map.of(SyncConfig.QUERY, query)), gateway, (t, c, s) -> List.of()).inputs();
        }
    }

    @Test
    void standardTablesAreSafeAndTheirLastChangesCompared() throws IOException {
        UnchangedInputs in = inputs(Map.of("users", "TABLE", "orders", "TABLE"), "SELECT * FROM src.users JOIN src.orders USING (id)");
        assertNull(in.notSafeBecause());
        assertEquals(Map.of("proj-1.src.users", 1_700_000_000_005L, "proj-1.src.orders", 1_700_000_000_006L), in.lastModified());
    }

    @Test
    void aViewOrAnExternalTableIsNotSafe() throws IOException {
        String view = inputs(Map.of("users", "TABLE", "active", "VIEW"), "SELECT * FROM src.active").notSafeBecause();
        assertTrue(view != null && view.contains("proj-1.src.active is a VIEW"), view);
        String external = inputs(Map.of("feed", "EXTERNAL"), "SELECT * FROM src.feed").notSafeBecause();
        assertTrue(external != null && external.contains("proj-1.src.feed is a EXTERNAL"), external);
    }

    @Test
    void fiftyReferencedTablesOrMoreAreNotSafe() throws IOException {
        Map<String, String> many = IntStream.range(0, 50).boxed().collect(Collectors.toMap(i -> "t" + i, i -> "TABLE"));
        String why = inputs(many, "SELECT 1").notSafeBecause();
        assertTrue(why != null && why.contains("reads 50 tables or more, and BigQuery lists at most 50"), why);
    }

    @Test
    void noListedTableOrANonDeterministicCallIsNotSafe() throws IOException {
        String none = inputs(Map.of(), "SELECT 1 AS id").notSafeBecause();
        assertTrue(none != null && none.contains("BigQuery lists no table"), none);
        String today = inputs(Map.of("users", "TABLE"), "SELECT * FROM src.users WHERE day = CURRENT_DATE()").notSafeBecause();
        assertTrue(today != null && today.contains("CURRENT_DATE"), today);
    }
}
