package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/** The staging dataset against a fake BigQuery REST endpoint: a creation race, and a side-effect-free check. */
class StagingDatasetTest {

    private static final String DATASET_JSON = "{\"kind\":\"bigquery#dataset\",\"id\":\"proj-1:stage\","
        + "\"datasetReference\":{\"projectId\":\"proj-1\",\"datasetId\":\"stage\"}}";

    /** Serves GET dataset (404 until created) and POST datasets (always 409: another sync won the race). */
    private static HttpServer fake(List<String> calls, boolean[] exists) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            calls.add(ex.getRequestMethod() + " " + ex.getRequestURI().getPath());
            if (ex.getRequestMethod().equals("POST")) {
                exists[0] = true;
                reply(ex, 409, "{\"error\":{\"code\":409,\"message\":\"Already Exists: Dataset proj-1:stage\",\"errors\":[{\"reason\":\"duplicate\"}]}}");
            } else if (exists[0]) {
                reply(ex, 200, DATASET_JSON);
            } else {
                reply(ex, 404, "{\"error\":{\"code\":404,\"message\":\"Not found: Dataset proj-1:stage\",\"errors\":[{\"reason\":\"notFound\"}]}}");
            }
        });
        server.start();
        return server;
    }

    private static void reply(HttpExchange ex, int code, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(code, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    private static SyncConfig config(HttpServer server) {
        return new SyncConfig(Map.of(SyncConfig.PROJECT, "proj-1", SyncConfig.QUERY, "SELECT 1 AS id", SyncConfig.KEY_COLUMNS, "id",
            SyncConfig.TOPIC, "t", SyncConfig.STAGING_DATASET, "stage", SyncConfig.CREDENTIALS_TYPE, "none",
            SyncConfig.ENDPOINT, "http://127.0.0.1:" + server.getAddress().getPort(), SyncConfig.RETRY_MAX_ATTEMPTS, "1"));
    }

    @Test
    void twoSyncsCreatingTheDatasetAtOnceBothProceed() throws IOException {
        List<String> calls = new ArrayList<>();
        HttpServer server = fake(calls, new boolean[1]);
        try (BigQueryGateway gateway = new BigQueryGateway(config(server), () -> false)) {
            gateway.ensureDataset(new DatasetRef("proj-1", "stage"), true); // 409 on create: the other sync's dataset is used
            assertEquals(List.of("GET", "POST", "GET"), calls.stream().map(c -> c.substring(0, c.indexOf(' '))).toList());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void checkingTheDatasetCreatesNothing() throws IOException {
        List<String> calls = new ArrayList<>();
        HttpServer server = fake(calls, new boolean[1]);
        try (BigQueryGateway gateway = new BigQueryGateway(config(server), () -> false)) {
            assertFalse(gateway.datasetExists(new DatasetRef("proj-1", "stage")));
            assertEquals(List.of("GET"), calls.stream().map(c -> c.substring(0, c.indexOf(' '))).toList());
        } finally {
            server.stop(0);
        }
    }
}
