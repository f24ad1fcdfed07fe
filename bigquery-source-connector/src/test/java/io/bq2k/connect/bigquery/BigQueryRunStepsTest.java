package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldList;
import com.google.cloud.bigquery.StandardSQLTypeName;

/** The diff's bucket count and the diff stats of {@link BigQueryRunSteps} against a scripted BigQuery endpoint. */
class BigQueryRunStepsTest {

    private static final String TABLES = "/bigquery/v2/projects/proj-1/datasets/stage/tables/";

    private static String table(String name, Long rows) {
        return "{\"kind\":\"bigquery#table\",\"id\":\"proj-1:stage." + name + "\",\"tableReference\":{\"projectId\":\"proj-1\",\"datasetId\":\"stage\","
            + "\"tableId\":\"" + name + "\"}," + (rows == null ? "" : "\"numRows\":\"" + rows + "\",") + "\"creationTime\":\"1700000000000\","
            + "\"type\":\"TABLE\",\"schema\":{\"fields\":[]}}";
    }

    private static final String JOB = "{\"kind\":\"bigquery#job\",\"id\":\"proj-1:US.j1\",\"jobReference\":{\"projectId\":\"proj-1\",\"jobId\":\"j1\","
        + "\"location\":\"US\"},\"status\":{\"state\":\"DONE\"},\"statistics\":{\"query\":{\"totalBytesProcessed\":\"0\"}},"
        + "\"configuration\":{\"query\":{\"query\":\"SELECT 1\",\"useLegacySql\":false}}}";

    /** jobs.insert (every job is done at once) and jobs.get. */
    private static boolean isJobCall(String call) {
        return call.startsWith("POST /bigquery/v2/projects/proj-1/jobs") || call.startsWith("GET /bigquery/v2/projects/proj-1/jobs/");
    }

    /** A query answer: the stats columns, and these rows (bucket, part, last_seq, changes, added, changed, removed, oversize). */
    private static String queryResult(long[]... rows) {
        StringBuilder json = new StringBuilder("{\"kind\":\"bigquery#queryResponse\",\"jobReference\":{\"projectId\":\"proj-1\",\"jobId\":\"j1\","
            + "\"location\":\"US\"},\"jobComplete\":true,\"totalRows\":\"" + rows.length + "\",\"schema\":{\"fields\":[");
        String[] names = {"bucket", "part", "last_seq", "changes", "added", "changed", "removed", "oversize"};
        for (int i = 0; i < names.length; i++) {
            json.append(i == 0 ? "" : ",").append("{\"name\":\"").append(names[i]).append("\",\"type\":\"INTEGER\",\"mode\":\"NULLABLE\"}");
        }
        json.append("]},\"rows\":[");
        for (int r = 0; r < rows.length; r++) {
            json.append(r == 0 ? "" : ",").append("{\"f\":[");
            for (int i = 0; i < rows[r].length; i++) {
                json.append(i == 0 ? "" : ",").append("{\"v\":\"").append(rows[r][i]).append("\"}");
            }
            json.append("]}");
        }
        return json.append("]}").toString();
    }

    /** BigQuery with these tables (name -> rows; null: no row count), answering every query with {@code result}. */
    private static FakeBigQueryServer server(Map<String, Long> tables, String result) throws IOException {
        return new FakeBigQueryServer(call -> {
            if (call.startsWith("GET " + TABLES) || call.startsWith("PUT " + TABLES)) {
                String name = call.substring(call.indexOf(TABLES) + TABLES.length());
                return tables.containsKey(name) ? new FakeBigQueryServer.Reply(200, table(name, tables.get(name)))
                    : FakeBigQueryServer.error(404, "notFound", "Not found: Table proj-1:stage." + name);
            }
            if (call.startsWith("GET /bigquery/v2/projects/proj-1/queries/")) {
                return new FakeBigQueryServer.Reply(200, result);
            }
            if (isJobCall(call)) {
                return new FakeBigQueryServer.Reply(200, JOB);
            }
            return FakeBigQueryServer.error(400, "invalid", "unexpected " + call);
        });
    }

    private static final RecordShape SHAPE = RecordShape.of(FieldList.of(Field.of("id", StandardSQLTypeName.INT64),
        Field.of("name", StandardSQLTypeName.STRING)), List.of("id"), "t",
        new ColumnMapping.Style(SyncConfig.TemporalPrecision.MICROS, SyncConfig.JsonColumns.TEXT));

    private static String statement(FakeBigQueryServer server, String startsWith) {
        return server.bodies.stream().filter(b -> b.contains(startsWith)).findFirst()
            .orElseThrow(() -> new AssertionError("no statement " + startsWith + " in " + server.bodies));
    }

    private static int bucketsOfDiff(Map<String, Long> tables, SyncSql.OldSide oldSide, Map<String, String> config) throws IOException {
        try (FakeBigQueryServer server = server(tables, queryResult());
             BigQueryGateway gateway = new BigQueryGateway(server.config(config), () -> false)) {
            BigQueryRunSteps steps = new BigQueryRunSteps(server.config(config), gateway, (t, c, s) -> List.of());
            steps.diff(7, oldSide, SHAPE);
            String diff = statement(server, "CREATE OR REPLACE TABLE `proj-1.stage.users__diff_7`");
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("AS INT64\\), (\\d+)\\) AS _bq2k_bucket").matcher(diff);
            assertTrue(m.find(), diff);
            return Integer.parseInt(m.group(1));
        }
    }

    private static final Map<String, String> USERS = Map.of(SyncConfig.SYNC_NAME, "users");

    @Test
    void theDiffTakesOneBucketPerTwoMillionRowsOfTheTablesItCompares() throws IOException {
        Map<String, Long> tables = new HashMap<>(Map.of("users__snap_7", 150_000_000L, "users__snap_6", 100_000_000L, "users__diff_7", 0L));
        assertEquals(125, bucketsOfDiff(tables, SyncSql.OldSide.incremental(6), USERS));
        // re-examined tables count too
        tables.put("users__diff_5", 30_000_000L);
        assertEquals(140, bucketsOfDiff(tables, new SyncSql.OldSide(OptionalLong.of(6), List.of(new DatasetRef("proj-1", "stage").table("users__diff_5"))), USERS));
        // small tables: one bucket
        assertEquals(1, bucketsOfDiff(Map.of("users__snap_7", 1_000_000L, "users__snap_6", 999_000L, "users__diff_7", 0L), SyncSql.OldSide.incremental(6), USERS));
        assertEquals(1, bucketsOfDiff(Map.of("users__snap_7", 0L, "users__diff_7", 0L), new SyncSql.OldSide(OptionalLong.empty(), List.of()), USERS));
    }

    @Test
    void diffBucketsCapsTheCount() throws IOException {
        Map<String, String> capped = new HashMap<>(USERS);
        capped.put(SyncConfig.DIFF_BUCKETS, "16");
        assertEquals(16, bucketsOfDiff(Map.of("users__snap_7", 150_000_000L, "users__snap_6", 100_000_000L, "users__diff_7", 0L),
            SyncSql.OldSide.incremental(6), capped));
    }

    @Test
    void anUnknownRowCountNeverMakesBucketsLarger() {
        assertEquals(10, BigQueryRunSteps.maxChanges(List.of(BigInteger.valueOf(4), BigInteger.valueOf(6))));
        assertEquals(SyncSql.MAX_BUCKETS * SyncSql.CHANGES_PER_BUCKET + 4, BigQueryRunSteps.maxChanges(Arrays.asList(BigInteger.valueOf(4), null)));
        assertEquals(Long.MAX_VALUE, BigQueryRunSteps.maxChanges(List.of(BigInteger.TWO.pow(70), BigInteger.ONE)));
        assertEquals(0, BigQueryRunSteps.maxChanges(List.of()));
    }

    @Test
    void statsReadsTheBytePartsOfEachBucket() throws IOException {
        Map<String, String> config = new HashMap<>(USERS);
        config.put(SyncConfig.READ_CHUNK_BYTES, Long.toString(2L << 20));
        String result = queryResult(
            new long[] {0, 0, 40, 40, 40, 0, 0, 0},
            new long[] {0, 1, 45, 5, 0, 5, 0, 0},
            new long[] {2, 0, 7, 7, 0, 0, 7, 0});
        try (FakeBigQueryServer server = server(Map.of(), result);
             BigQueryGateway gateway = new BigQueryGateway(server.config(config), () -> false)) {
            DiffStats s = new BigQueryRunSteps(server.config(config), gateway, (t, c, sh) -> List.of()).stats(7, SHAPE);
            assertEquals(List.of(45L, 0L, 7L), Arrays.stream(s.bucketChanges()).boxed().toList());
            assertEquals(40, s.added());
            assertEquals(5, s.changed());
            assertEquals(7, s.removed());
            List<Chunk> chunks = new ArrayList<>();
            s.chunksAfter(0, 0, 100).forEachRemaining(chunks::add);
            assertEquals(List.of(new Chunk(0, 1, 40), new Chunk(0, 41, 45), new Chunk(2, 1, 7)), chunks);
            String stats = statement(server, "SELECT bucket, part");
            assertTrue(stats.contains("/ 2097152) AS INT64) AS part"), stats);
            assertTrue(stats.contains("COUNTIF(_bq2k_bytes > 1000000) AS oversize"), stats);
        }
    }

    @Test
    void anOversizeChangeFailsTheRunNamingTheLargest() throws IOException {
        String stats = queryResult(new long[] {0, 0, 3, 3, 3, 0, 0, 1});
        String largest = "{\"kind\":\"bigquery#queryResponse\",\"jobReference\":{\"projectId\":\"proj-1\",\"jobId\":\"j1\",\"location\":\"US\"},"
            + "\"jobComplete\":true,\"totalRows\":\"1\",\"schema\":{\"fields\":[{\"name\":\"key\",\"type\":\"STRING\"},{\"name\":\"row_bytes\",\"type\":\"INTEGER\"},"
            + "{\"name\":\"c0\",\"type\":\"INTEGER\"},{\"name\":\"c1\",\"type\":\"INTEGER\"}]},"
            + "\"rows\":[{\"f\":[{\"v\":\"{\\\"id\\\":3}\"},{\"v\":\"2000000\"},{\"v\":\"1\"},{\"v\":\"1999950\"}]}]}";
        int[] queries = new int[1];
        try (FakeBigQueryServer server = new FakeBigQueryServer(call -> {
            if (call.startsWith("GET /bigquery/v2/projects/proj-1/queries/")) {
                return new FakeBigQueryServer.Reply(200, queries[0]++ == 0 ? stats : largest);
            }
            if (isJobCall(call)) {
                return new FakeBigQueryServer.Reply(200, JOB);
            }
            return FakeBigQueryServer.error(400, "invalid", "unexpected " + call);
        }); BigQueryGateway gateway = new BigQueryGateway(server.config(USERS), () -> false)) {
            RunFailure e = assertThrows(RunFailure.class,
                () -> new BigQueryRunSteps(server.config(USERS), gateway, (t, c, sh) -> List.of()).stats(7, SHAPE));
            assertTrue(e.getMessage().contains("1 row(s) are larger than record.max.bytes=1000000"), e.getMessage());
            assertTrue(e.getMessage().contains("in column `name`"), e.getMessage());
        }
    }
}
