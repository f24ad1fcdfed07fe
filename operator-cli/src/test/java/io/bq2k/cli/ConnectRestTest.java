package io.bq2k.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

/** The worker's settling answers are retried; any other answer is returned as it is. */
class ConnectRestTest {

    @Test
    void aRebalanceExpectedAnswerIsRetriedOtherErrorsAreNot() throws Exception {
        AtomicInteger settling = new AtomicInteger();
        AtomicInteger broken = new AtomicInteger();
        HttpServer worker = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        worker.createContext("/connectors/settling/config", ex -> {
            boolean first = settling.incrementAndGet() == 1;
            reply(ex, first ? 500 : 200, first
                ? "{\"error_code\":500,\"message\":\"Request cannot be completed because a rebalance is expected\"}" : "{}");
        });
        worker.createContext("/connectors/broken/config", ex -> {
            broken.incrementAndGet();
            reply(ex, 500, "{\"error_code\":500,\"message\":\"boom\"}");
        });
        worker.start();
        try {
            ConnectRest rest = new ConnectRest("http://127.0.0.1:" + worker.getAddress().getPort());
            assertEquals(200, rest.send("GET", "/connectors/settling/config", null).statusCode());
            assertEquals(2, settling.get(), "retried once the rebalance was expected");
            assertEquals(500, rest.send("GET", "/connectors/broken/config", null).statusCode());
            assertEquals(1, broken.get(), "another server error is not retried");
        } finally {
            worker.stop(0);
        }
    }

    private static void reply(com.sun.net.httpserver.HttpExchange ex, int status, String body) throws java.io.IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }
}
