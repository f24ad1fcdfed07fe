package io.bq2k.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A stand-in for a Connect worker's REST API, enough for the deployer: the validate endpoint answers
 * one definition per submitted key (PASSWORD-typed for {@code connection.password}, optionally an error
 * on one field), {@code PUT /connectors/{name}/config} answers 201, and every request is recorded with
 * its Authorization header and body.
 */
final class FakeConnect implements AutoCloseable {

    record Request(String method, String path, String authorization, String body) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    final List<Request> requests = new CopyOnWriteArrayList<>();
    private final HttpServer server;
    /** A field the validate endpoint reports an error on, or null. */
    volatile String invalidField;

    FakeConnect() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        server.createContext("/", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    List<Request> puts() {
        return requests.stream().filter(r -> r.method().equals("PUT") && r.path().startsWith("/connectors/")).toList();
    }

    private void handle(HttpExchange ex) throws IOException {
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String path = ex.getRequestURI().getRawPath();
        requests.add(new Request(ex.getRequestMethod(), path, ex.getRequestHeaders().getFirst("Authorization"), body));
        if (path.startsWith("/connector-plugins/") && path.endsWith("/config/validate")) {
            respond(ex, 200, validation(JSON.readTree(body)));
        } else if (path.startsWith("/connectors/") && path.endsWith("/config") && ex.getRequestMethod().equals("PUT")) {
            respond(ex, 201, body);
        } else {
            respond(ex, 404, "{\"error_code\":404,\"message\":\"not here\"}");
        }
    }

    private String validation(JsonNode config) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode configs = root.putArray("configs");
        int errors = 0;
        for (var it = config.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            ObjectNode c = configs.addObject();
            c.putObject("definition").put("name", key).put("type", key.endsWith(".password") ? "PASSWORD" : "STRING");
            ObjectNode v = c.putObject("value").put("name", key).put("value", key.endsWith(".password") ? "[hidden]" : config.get(key).asText());
            ArrayNode errs = v.putArray("errors");
            if (key.equals(invalidField)) {
                errs.add("Invalid value for " + key);
                errors++;
            }
        }
        root.put("name", config.path("connector.class").asText()).put("error_count", errors);
        return root.toString();
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
