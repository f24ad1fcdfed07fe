package io.bq2k.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

import javax.net.ssl.SSLContext;

/**
 * Requests to a Connect worker's REST API. While the worker's group settles — HTTP 409 during a rebalance or
 * for a just-written connector config ("stale configuration"), HTTP 500 "a rebalance is expected" right after a
 * connector was created or deleted — the request is retried for up to a minute; that passes in seconds.
 *
 * <p>An {@code https} URL is reached with the given TLS context (the client properties' trust store);
 * REST basic authentication, when given, is sent with every request.
 */
public final class ConnectRest {

    private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);

    private final String baseUrl;
    private final String authorization;
    private final HttpClient http;

    /** A worker reached without authentication, over plain HTTP or the JVM's default TLS trust. */
    public ConnectRest(String baseUrl) {
        this(baseUrl, null, null, null);
    }

    /**
     * @param user     REST basic-auth user, or null for none
     * @param password its password (never logged)
     * @param tls      the TLS context for an https URL, or null for the JVM's default
     */
    public ConnectRest(String baseUrl, String user, String password, SSLContext tls) {
        this.baseUrl = baseUrl.replaceAll("/+$", "");
        this.authorization = user == null ? null
                : "Basic " + Base64.getEncoder().encodeToString((user + ":" + (password == null ? "" : password)).getBytes(StandardCharsets.UTF_8));
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (tls != null) {
            b.sslContext(tls);
        }
        this.http = b.build();
    }

    public String baseUrl() {
        return baseUrl;
    }

    /**
     * Whether the worker answered that its group is settling: 409 (a rebalance in progress, a config not yet read
     * back) or 500 "a rebalance is expected" (a connector was just created or deleted). Both pass within seconds.
     */
    private static boolean settling(HttpResponse<String> r) {
        return r.statusCode() == 409 || (r.statusCode() == 500 && r.body() != null && r.body().contains("rebalance is expected"));
    }

    /** Sends {@code method path} with an optional JSON body; any status is returned, a settling one only once it persists. */
    public HttpResponse<String> send(String method, String path, String jsonBody) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(60))
                .header("Accept", "application/json");
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (jsonBody != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(jsonBody));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpRequest request = b.build();
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        try {
            while (true) {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (!settling(r) || System.nanoTime() > deadline) {
                    return r;
                }
                Thread.sleep(250);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + baseUrl + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + method + " " + baseUrl + path, e);
        }
    }
}
