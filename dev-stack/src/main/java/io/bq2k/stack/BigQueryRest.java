package io.bq2k.stack;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A minimal BigQuery REST client for the emulator (or any endpoint that takes no credentials):
 * statements ({@code jobs.query} + {@code jobs.getQueryResults} paging; DDL and DML too), table
 * metadata, and load jobs of newline-delimited JSON (multipart upload). Values come back as
 * BigQuery's JSON strings. A failed query (the emulator answers HTTP 200 with an {@code errors}
 * array) or load job throws.
 */
public final class BigQueryRest {

    /** A query result: column names and rows of raw string values (null for SQL NULL). */
    public record Result(List<String> columns, List<String> types, List<List<String>> rows) {}

    /** A column of a load job's schema: name, type ({@code INT64}, {@code STRING} ...), mode ({@code REQUIRED} ...; null: not given). */
    public record Field(String name, String type, String mode) {
        public static Field of(String name, String type) {
            return new Field(name, type, null);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String rootUrl;
    private final String baseUrl;
    private final String project;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1) // uvicorn rejects the h2c upgrade
            .connectTimeout(Duration.ofSeconds(5)).build();

    public BigQueryRest(String restUrl, String project) {
        this.rootUrl = restUrl.replaceAll("/+$", "");
        this.baseUrl = rootUrl + "/bigquery/v2/projects/" + project;
        this.project = project;
    }

    public String project() {
        return project;
    }

    /** Runs a statement (DDL/DML or SELECT) and returns every row (all pages). */
    public Result query(String sql) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("query", sql);
        body.put("useLegacySql", false);
        body.put("maxResults", 50_000);
        body.put("timeoutMs", 600_000);
        JsonNode r = call("POST", baseUrl + "/queries", body, sql);
        String jobId = r.path("jobReference").path("jobId").asText();
        while (!r.path("jobComplete").asBoolean(true)) {
            r = call("GET", baseUrl + "/queries/" + enc(jobId) + "?timeoutMs=10000&maxResults=50000", null, sql);
        }
        List<String> columns = new ArrayList<>();
        List<String> types = new ArrayList<>();
        for (JsonNode f : r.path("schema").path("fields")) {
            columns.add(f.path("name").asText());
            types.add(f.path("type").asText());
        }
        List<List<String>> rows = new ArrayList<>();
        addRows(r, rows);
        String token = r.path("pageToken").asText(null);
        while (token != null && !token.isEmpty()) {
            r = call("GET", baseUrl + "/queries/" + enc(jobId) + "?maxResults=50000&pageToken=" + enc(token), null, sql);
            if (columns.isEmpty()) {
                for (JsonNode f : r.path("schema").path("fields")) {
                    columns.add(f.path("name").asText());
                    types.add(f.path("type").asText());
                }
            }
            addRows(r, rows);
            token = r.path("pageToken").asText(null);
        }
        return new Result(columns, types, rows);
    }

    /** The single value of a one-row, one-column query. */
    public String scalar(String sql) {
        Result r = query(sql);
        if (r.rows().size() != 1 || r.rows().get(0).size() != 1) {
            throw new IllegalStateException("expected one value from: " + sql + " but got " + r.rows().size() + " row(s)");
        }
        return r.rows().get(0).get(0);
    }

    /** Whether table {@code dataset.table} exists ({@code tables.get} answers 200 rather than 404). */
    public boolean tableExists(String dataset, String table) {
        return table(dataset, table) != null;
    }

    /** The metadata of table {@code dataset.table} ({@code tables.get}: labels, numRows, schema ...), or null when it does not exist. */
    public JsonNode table(String dataset, String table) {
        return get(baseUrl + "/datasets/" + enc(dataset) + "/tables/" + enc(table));
    }

    /** The names of every table of a dataset ({@code tables.list}, every page), empty when the dataset does not exist. */
    public List<String> tableNames(String dataset) {
        List<String> names = new ArrayList<>();
        String token = null;
        do {
            JsonNode r = get(baseUrl + "/datasets/" + enc(dataset) + "/tables?maxResults=1000" + (token == null ? "" : "&pageToken=" + enc(token)));
            if (r == null) {
                return names;
            }
            for (JsonNode t : r.path("tables")) {
                names.add(t.path("tableReference").path("tableId").asText());
            }
            token = r.path("nextPageToken").asText(null);
        } while (token != null && !token.isEmpty());
        return names;
    }

    /**
     * Loads newline-delimited JSON into {@code dataset.table} with one load job ({@code jobs.insert},
     * multipart upload; the table is created if needed) and waits until the job is done.
     *
     * @param writeDisposition {@code WRITE_TRUNCATE}, {@code WRITE_APPEND} or {@code WRITE_EMPTY}
     * @throws IllegalStateException when the upload is refused, the job fails or is not done within 10 minutes
     */
    public void loadNdjson(String dataset, String table, List<Field> schema, String writeDisposition, String ndjson) {
        ObjectNode load = JSON.createObjectNode();
        load.putObject("destinationTable").put("projectId", project).put("datasetId", dataset).put("tableId", table);
        load.put("sourceFormat", "NEWLINE_DELIMITED_JSON").put("writeDisposition", writeDisposition).put("createDisposition", "CREATE_IF_NEEDED");
        ArrayNode fields = load.putObject("schema").putArray("fields");
        for (Field f : schema) {
            ObjectNode n = fields.addObject().put("name", f.name()).put("type", f.type());
            if (f.mode() != null) {
                n.put("mode", f.mode());
            }
        }
        ObjectNode cfg = JSON.createObjectNode();
        cfg.putObject("configuration").set("load", load);
        String boundary = "bq2k" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream(ndjson.length() + 2048);
        body.writeBytes(("--" + boundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" + cfg + "\r\n"
                + "--" + boundary + "\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(ndjson.getBytes(StandardCharsets.UTF_8));
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        String url = rootUrl + "/upload/bigquery/v2/projects/" + project + "/jobs?uploadType=multipart";
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10))
                .header("Content-Type", "multipart/related; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build();
        JsonNode job;
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException("load job into " + dataset + "." + table + ": HTTP " + r.statusCode() + ": " + abbreviate(r.body()));
            }
            job = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("BigQuery POST " + url + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        awaitJob(job, Duration.ofMinutes(10));
    }

    /** Polls {@code jobs.get} until the job is DONE; throws when it is not done in time or ended with an {@code errorResult}. */
    private void awaitJob(JsonNode job, Duration timeout) {
        String jobId = job.path("jobReference").path("jobId").asText();
        String location = job.path("jobReference").path("location").asText("");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (job == null || !"DONE".equals(job.path("status").path("state").asText())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("job " + jobId + " not done after " + timeout + ": " + job);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            job = get(baseUrl + "/jobs/" + enc(jobId) + (location.isEmpty() ? "" : "?location=" + enc(location)));
        }
        JsonNode err = job.path("status").path("errorResult");
        if (!err.isMissingNode() && !err.isNull()) {
            throw new IllegalStateException("job " + jobId + " failed: " + job.path("status"));
        }
    }

    /** GET of a REST resource: its JSON, or null on 404. */
    private JsonNode get(String url) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() == 404) {
                return null;
            }
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException("BigQuery GET " + url + " -> HTTP " + r.statusCode() + ": " + abbreviate(r.body()));
            }
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("BigQuery GET " + url + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void addRows(JsonNode r, List<List<String>> rows) {
        for (JsonNode row : r.path("rows")) {
            List<String> values = new ArrayList<>();
            for (JsonNode cell : row.path("f")) {
                JsonNode v = cell.get("v");
                values.add(v == null || v.isNull() ? null : v.isValueNode() ? v.asText() : v.toString());
            }
            rows.add(values);
        }
    }

    private JsonNode call(String method, String url, Object body, String sql) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10))
                .header("Accept", "application/json");
        try {
            if (body != null) {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body), StandardCharsets.UTF_8));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<String> resp = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            JsonNode root;
            try {
                root = resp.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(resp.body());
            } catch (IOException e) {
                throw new IllegalStateException("BigQuery " + method + " " + url + " -> HTTP " + resp.statusCode() + ", not JSON: "
                        + abbreviate(resp.body()));
            }
            JsonNode errors = root.path("errors");
            if (errors.isArray() && errors.size() > 0) {
                throw new IllegalStateException("BigQuery query failed: " + errors + "\n  query: " + abbreviate(sql));
            }
            if (root.has("error")) {
                throw new IllegalStateException("BigQuery query failed: " + root.get("error") + "\n  query: " + abbreviate(sql));
            }
            if (resp.statusCode() / 100 != 2) {
                throw new IllegalStateException("BigQuery " + method + " " + url + " -> HTTP " + resp.statusCode() + ": " + abbreviate(resp.body()));
            }
            return root;
        } catch (IOException e) {
            throw new IllegalStateException("BigQuery " + method + " " + url + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 600 ? s.substring(0, 600) + "…" : s;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
