package io.bq2k.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An HTTP proxy in front of the emulator's REST API that answers the next n requests with the
 * retryable errors BigQuery gives under load (503 backendError, 429 rateLimitExceeded, alternately)
 * instead of forwarding them. The connector's REST endpoint points here; the Storage Read API (gRPC)
 * goes to the emulator directly.
 *
 * <p>It can also <b>freeze</b> (BigQuery hangs): while frozen, every request is held without an answer,
 * and an answer the emulator gives to a request forwarded before the freeze is held too. {@link #thaw()}
 * answers every held request with 503 without forwarding it (the network lost it); later requests are
 * forwarded again. {@link #freezeOnJob} freezes at the first {@code jobs.insert} whose job id contains a
 * marker, holding that request, so a test can freeze a task exactly at one step. Every request that
 * is forwarded to the emulator is recorded ({@link #forwardedLog()}), with the job id it carries.
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
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern JOB_IN_PATH = Pattern.compile("/(?:jobs|queries)/([^/?]+)");

    /** One request forwarded to the emulator: when (epoch ms), method, path, and the job id it carries (null: none). */
    record Forwarded(long atMs, String method, String path, String jobId) { }

    /** One request held while frozen: when it arrived and was answered, and whether the 503 reached the client. */
    record Held(long arrivedMs, String method, String path, String jobId, long answeredMs, boolean delivered) { }

    private final List<Forwarded> forwardedLog = new CopyOnWriteArrayList<>();
    private final List<Held> heldLog = new CopyOnWriteArrayList<>();
    private final AtomicInteger holding = new AtomicInteger();
    /** Completed by {@link #thaw()}; null while not frozen. */
    private volatile CompletableFuture<Void> gate;
    private volatile String freezeOnJob;
    private volatile String frozeAtJob;

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

    /** From now on, every request is held without an answer until {@link #thaw()}. */
    synchronized void freeze() {
        if (gate == null) {
            gate = new CompletableFuture<>();
        }
    }

    /** Freezes at the first {@code POST …/jobs} whose job id contains {@code marker}; that request is held. */
    void freezeOnJob(String marker) {
        freezeOnJob = marker;
    }

    /** The job id of the request {@link #freezeOnJob} froze at (null: not yet). */
    String frozeAtJob() {
        return frozeAtJob;
    }

    boolean frozen() {
        return gate != null;
    }

    /** Answers every held request with 503 (not forwarded); later requests are forwarded again. */
    void thaw() {
        CompletableFuture<Void> g;
        synchronized (this) {
            g = gate;
            gate = null;
            freezeOnJob = null;
        }
        if (g != null) {
            g.complete(null);
        }
    }

    /** Requests being held right now. */
    int holding() {
        return holding.get();
    }

    /** Every request forwarded to the emulator so far, in forwarding order. */
    List<Forwarded> forwardedLog() {
        return new ArrayList<>(forwardedLog);
    }

    /** Every request held (and answered 503 on thaw) so far; those still held are not in it yet. */
    List<Held> heldLog() {
        return new ArrayList<>(heldLog);
    }

    /** The job id a request carries: {@code jobReference.jobId} of a {@code jobs.insert} (body unzipped), or the id in a jobs/queries path. */
    static String jobIdOf(String method, String path, byte[] body) {
        if ("POST".equals(method) && path.endsWith("/jobs") && body.length > 0) {
            try {
                JsonNode id = JSON.readTree(body).path("jobReference").path("jobId");
                return id.isTextual() ? id.asText() : null;
            } catch (IOException e) {
                return null;
            }
        }
        Matcher m = JOB_IN_PATH.matcher(path);
        return m.find() ? java.net.URLDecoder.decode(m.group(1), StandardCharsets.UTF_8) : null;
    }

    private static byte[] gunzip(byte[] body) {
        try (InputStream in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(body))) {
            return in.readAllBytes();
        } catch (IOException e) {
            return body;
        }
    }

    /** Holds the exchange until the gate opens (at most 10 minutes), then answers 503: the request is lost. */
    private void holdThenLose(HttpExchange ex, CompletableFuture<Void> g, long arrived, String method, String path, String jobId) {
        holding.incrementAndGet();
        try {
            g.get(10, TimeUnit.MINUTES);
        } catch (Exception e) {
            // thawed by timeout or interrupted: answer anyway
        } finally {
            holding.decrementAndGet();
        }
        byte[] error = ("{\"error\":{\"code\":503,\"message\":\"connection lost while BigQuery hung\",\"errors\":[{\"reason\":"
                + "\"backendError\",\"message\":\"connection lost while BigQuery hung\"}],\"status\":\"UNAVAILABLE\"}}").getBytes(StandardCharsets.UTF_8);
        boolean delivered;
        try {
            ex.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
            ex.sendResponseHeaders(503, error.length);
            ex.getResponseBody().write(error);
            ex.getResponseBody().flush();
            delivered = true;
        } catch (IOException e) {
            delivered = false; // the client gave up waiting (its read timeout)
        }
        heldLog.add(new Held(arrived, method, path, jobId, System.currentTimeMillis(), delivered));
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            long arrived = System.currentTimeMillis();
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getRawPath();
            String encoding = ex.getRequestHeaders().getFirst("Content-Encoding");
            String jobId = jobIdOf(method, path, encoding != null && encoding.toLowerCase(Locale.ROOT).contains("gzip") ? gunzip(body) : body);
            String marker = freezeOnJob;
            if (marker != null && jobId != null && "POST".equals(method) && path.endsWith("/jobs") && jobId.contains(marker)) {
                freeze();
                freezeOnJob = null;
                frozeAtJob = jobId;
            }
            CompletableFuture<Void> g = gate;
            if (g != null) {
                holdThenLose(ex, g, arrived, method, path, jobId);
                return;
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
            forwardedLog.add(new Forwarded(arrived, method, path, jobId));
            try {
                r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            forwarded.incrementAndGet();
            CompletableFuture<Void> lost = gate;
            if (lost != null) { // frozen while the emulator answered: the answer is lost too
                holdThenLose(ex, lost, arrived, method, path, jobId);
                return;
            }
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
        thaw();
        server.stop(0);
        executor.shutdownNow();
    }
}
