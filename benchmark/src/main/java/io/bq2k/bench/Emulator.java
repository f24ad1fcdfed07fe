package io.bq2k.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The benchmark's data in the BigQuery emulator: {@code N} narrow "feature" rows loaded with
 * multipart-upload load jobs (NDJSON), and the 1% change of each incremental repetition as DML.
 *
 * <p>Row {@code id} (1..N): {@code f_int = id*7919 mod 1e6}, {@code f_float = (id mod 100000)/16}
 * (exact in binary), {@code f_str = 'u<id>-<hash>'} (NULL when id mod 13 = 0), {@code f_ts} a
 * microsecond TIMESTAMP, {@code f_num} a NUMERIC with 9 decimals.
 */
final class Emulator {

    static final String DATASET = "bench";
    static final String TABLE = DATASET + ".features_src";
    static final String COLUMNS = "id, f_int, f_float, f_str, f_ts, f_num";
    /** The sync's query: every column aliased (the emulator needs it). */
    static final String QUERY = "SELECT id AS id, f_int AS f_int, f_float AS f_float, f_str AS f_str, f_ts AS f_ts, f_num AS f_num FROM " + TABLE;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
    private final String restUrl;
    private final String project;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    Emulator(String restUrl, String project) {
        this.restUrl = restUrl.replaceAll("/+$", "");
        this.project = project;
    }

    static String ndjsonRow(long id) {
        StringBuilder sb = new StringBuilder(160);
        sb.append("{\"id\":").append(id)
          .append(",\"f_int\":").append(id * 7919 % 1_000_000)
          .append(",\"f_float\":").append((id % 100_000) / 16.0)
          .append(",\"f_str\":");
        if (id % 13 == 0) {
            sb.append("null");
        } else {
            sb.append("\"u").append(id).append('-').append(Long.toHexString((id * 2654435761L) & 0xffffffffL)).append('"');
        }
        long micros = 1_700_000_000_000_000L + id * 1_000_003L;
        Instant ts = Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1000);
        sb.append(",\"f_ts\":\"").append(TS.format(ts)).append('"');
        long n = id * 104_729L % 100_000_000_000L;
        sb.append(",\"f_num\":\"").append(n / 1_000_000_000L).append('.').append(String.format("%09d", n % 1_000_000_000L)).append('"');
        return sb.append('}').toString();
    }

    /**
     * Loads rows 1..n into {@link #TABLE} (replacing it) with load jobs of {@code chunk} rows each:
     * the first WRITE_TRUNCATE, the rest WRITE_APPEND. Returns the seconds it took.
     */
    double load(long n, int chunk) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        new io.bq2k.stack.BigQueryRest(restUrl, project).query("CREATE SCHEMA IF NOT EXISTS " + DATASET);
        for (long from = 1; from <= n; from += chunk) {
            long to = Math.min(n, from + chunk - 1);
            StringBuilder data = new StringBuilder((int) (to - from + 1) * 150);
            for (long id = from; id <= to; id++) {
                data.append(ndjsonRow(id)).append('\n');
            }
            loadJob(data.toString(), from == 1 ? "WRITE_TRUNCATE" : "WRITE_APPEND");
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private void loadJob(String ndjson, String disposition) throws IOException, InterruptedException {
        String cfg = "{\"configuration\":{\"load\":{"
                + "\"destinationTable\":{\"projectId\":\"" + project + "\",\"datasetId\":\"" + DATASET + "\",\"tableId\":\"features_src\"},"
                + "\"sourceFormat\":\"NEWLINE_DELIMITED_JSON\",\"writeDisposition\":\"" + disposition + "\",\"createDisposition\":\"CREATE_IF_NEEDED\","
                + "\"schema\":{\"fields\":["
                + "{\"name\":\"id\",\"type\":\"INT64\",\"mode\":\"REQUIRED\"},"
                + "{\"name\":\"f_int\",\"type\":\"INT64\"},{\"name\":\"f_float\",\"type\":\"FLOAT64\"},"
                + "{\"name\":\"f_str\",\"type\":\"STRING\"},{\"name\":\"f_ts\",\"type\":\"TIMESTAMP\"},"
                + "{\"name\":\"f_num\",\"type\":\"NUMERIC\"}]}}}}";
        String boundary = "bq2kbench" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream(ndjson.length() + 2048);
        body.writeBytes(("--" + boundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" + cfg + "\r\n"
                + "--" + boundary + "\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(ndjson.getBytes(StandardCharsets.UTF_8));
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest req = HttpRequest.newBuilder(URI.create(restUrl + "/upload/bigquery/v2/projects/" + project + "/jobs?uploadType=multipart"))
                .timeout(Duration.ofMinutes(10)).header("Content-Type", "multipart/related; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        JsonNode job = JSON.readTree(r.body());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException("load job: HTTP " + r.statusCode() + ": " + r.body());
        }
        String jobId = job.path("jobReference").path("jobId").asText();
        String location = job.path("jobReference").path("location").asText("");
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (!"DONE".equals(job.path("status").path("state").asText())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("load job " + jobId + " not done: " + job);
            }
            Thread.sleep(100);
            String url = restUrl + "/bigquery/v2/projects/" + project + "/jobs/" + jobId + (location.isEmpty() ? "" : "?location=" + location);
            job = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString()).body());
        }
        JsonNode err = job.path("status").path("errorResult");
        if (!err.isMissingNode() && !err.isNull()) {
            throw new IllegalStateException("load job " + jobId + " failed: " + job.path("status"));
        }
    }

    /**
     * Repetition {@code r} (1-based, up to 99) of the 1% change of the issue: half updates
     * ({@code id mod 200 = r}: every column but the key changes, f_int always), a quarter deletes
     * ({@code id mod 400 = 100 + r}), a quarter inserts (new ids above the current maximum).
     */
    static String[] changeSql(long n, int r, long maxId) {
        long inserts = Math.max(1, n / 400);
        return new String[] {
            "UPDATE " + TABLE + " SET f_int = f_int + 1000003, f_float = f_float + 0.5, f_str = CONCAT(COALESCE(f_str, 'n'), 'u"
                + r + "'), f_ts = TIMESTAMP_MICROS(UNIX_MICROS(f_ts) + 1), f_num = f_num + CAST('0.000000001' AS NUMERIC) WHERE MOD(id, 200) = " + r,
            "DELETE FROM " + TABLE + " WHERE MOD(id, 400) = " + (100 + r),
            "INSERT INTO " + TABLE + " (" + COLUMNS + ") SELECT id, MOD(id * 7919, 1000000), CAST(MOD(id, 100000) AS FLOAT64) / 16,"
                + " CONCAT('i', CAST(id AS STRING)), TIMESTAMP_MICROS(1700000000000000 + id * 1000003), CAST('1.5' AS NUMERIC)"
                + " FROM UNNEST(GENERATE_ARRAY(" + (maxId + 1) + ", " + (maxId + inserts) + ")) AS id",
        };
    }
}
