package io.bq2k.stack;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An HTTP proxy in front of the emulator's REST API that answers the next n requests with the
 * retryable errors BigQuery gives under load (503 backendError, 429 rateLimitExceeded, alternately)
 * instead of forwarding them. The connector's REST endpoint points here; the Storage Read API (gRPC)
 * goes to the emulator directly.
 */
final class FaultyBigQueryProxy implements AutoCloseable {

    private static final Set<String> HOP_BY_HOP = Set.of("host", "connection", "content-length", "expect", "upgrade",
            "transfer-encoding", "keep-alive");

    private final String target;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "faulty-bigquery-proxy");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1) // the emulator rejects h2c
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicInteger failNext = new AtomicInteger();
    private final AtomicLong injected = new AtomicLong();
    private final AtomicLong forwarded = new AtomicLong();

    FaultyBigQueryProxy(String targetUrl) throws IOException {
        this.target = targetUrl.replaceAll("/+$", "");
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The next {@code n} requests get a retryable error. */
    void failNext(int n) {
        failNext.set(n);
    }

    long injected() {
        return injected.get();
    }

    long forwarded() {
        return forwarded.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                boolean unavailable = injected.getAndIncrement() % 2 == 0;
                int status = unavailable ? 503 : 429;
                String reason = unavailable ? "backendError" : "rateLimitExceeded";
                byte[] error = ("{\"error\":{\"code\":" + status + ",\"message\":\"injected " + reason + "\",\"errors\":[{\"reason\":\""
                        + reason + "\",\"message\":\"injected " + reason + "\"}],\"status\":\"" + (unavailable ? "UNAVAILABLE" : "RESOURCE_EXHAUSTED")
                        + "\"}}").getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
                ex.sendResponseHeaders(status, error.length);
                ex.getResponseBody().write(error);
                return;
            }
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target + ex.getRequestURI()))
                    .timeout(Duration.ofMinutes(10))
                    .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            for (Map.Entry<String, List<String>> h : ex.getRequestHeaders().entrySet()) {
                if (!HOP_BY_HOP.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                    h.getValue().forEach(v -> b.header(h.getKey(), v));
                }
            }
            HttpResponse<byte[]> r;
            try {
                r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            forwarded.incrementAndGet();
            r.headers().map().forEach((k, vs) -> {
                if (!HOP_BY_HOP.contains(k.toLowerCase(Locale.ROOT)) && !k.startsWith(":")) {
                    ex.getResponseHeaders().put(k, vs);
                }
            });
            byte[] out = r.body();
            ex.sendResponseHeaders(r.statusCode(), out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                ex.getResponseBody().write(out);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
