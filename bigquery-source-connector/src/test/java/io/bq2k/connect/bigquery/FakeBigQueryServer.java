package io.bq2k.connect.bigquery;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/** A scripted BigQuery REST endpoint for unit tests of the gateway: records every call, answers from a function. */
final class FakeBigQueryServer implements AutoCloseable {

    /** An answer: HTTP status and JSON body. */
    record Reply(int status, String json) { }

    final List<String> calls = new ArrayList<>();
    /** Request bodies, in the order of the calls that had one (query statements, table updates). */
    final List<String> bodies = new ArrayList<>();
    private final HttpServer server;

    FakeBigQueryServer(Function<String, Reply> answer) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String call = ex.getRequestMethod() + " " + ex.getRequestURI().getPath();
            byte[] raw = ex.getRequestBody().readAllBytes();
            if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
                raw = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(raw)).readAllBytes();
            }
            String body = new String(raw, StandardCharsets.UTF_8);
            synchronized (calls) {
                calls.add(call);
                if (!body.isEmpty()) {
                    bodies.add(body);
                }
            }
            Reply r = answer.apply(call);
            reply(ex, r.status(), r.json());
        });
        server.start();
    }

    private static void reply(HttpExchange ex, int code, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(code, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    static Reply error(int code, String reason, String message) {
        return new Reply(code, "{\"error\":{\"code\":" + code + ",\"message\":\"" + message + "\",\"errors\":[{\"reason\":\"" + reason + "\"}]}}");
    }

    /** A config pointing at this server (no credentials, one attempt per call). */
    SyncConfig config() {
        return config(Map.of());
    }

    /** {@link #config()} with more settings. */
    SyncConfig config(Map<String, String> more) {
        Map<String, String> props = new java.util.HashMap<>(Map.of(SyncConfig.PROJECT, "proj-1", SyncConfig.QUERY, "SELECT 1 AS id",
            SyncConfig.KEY_COLUMNS, "id", SyncConfig.TOPIC, "t", SyncConfig.STAGING_DATASET, "stage", SyncConfig.CREDENTIALS_TYPE, "none",
            SyncConfig.ENDPOINT, "http://127.0.0.1:" + server.getAddress().getPort(), SyncConfig.RETRY_MAX_ATTEMPTS, "1"));
        props.putAll(more);
        return new SyncConfig(props);
    }

    List<String> methods() {
        synchronized (calls) {
            return calls.stream().map(c -> c.substring(0, c.indexOf(' '))).toList();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
