package io.bq2k.stack;

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

/**
 * A minimal BigQuery REST client ({@code jobs.query} + {@code jobs.getQueryResults} paging) for the
 * emulator (or any endpoint that takes no credentials). Values come back as BigQuery's JSON strings.
 * A failed query (the emulator answers HTTP 200 with an {@code errors} array) throws.
 */
public final class BigQueryRest {

    /** A query result: column names and rows of raw string values (null for SQL NULL). */
    public record Result(List<String> columns, List<String> types, List<List<String>> rows) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String baseUrl;
    private final String project;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1) // uvicorn rejects the h2c upgrade
            .connectTimeout(Duration.ofSeconds(5)).build();

    public BigQueryRest(String restUrl, String project) {
        this.baseUrl = restUrl.replaceAll("/+$", "") + "/bigquery/v2/projects/" + project;
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
