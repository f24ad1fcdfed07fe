package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import com.google.api.gax.grpc.GrpcStatusCode;
import com.google.api.gax.rpc.ApiExceptionFactory;
import com.google.cloud.bigquery.BigQueryError;
import com.google.cloud.bigquery.BigQueryException;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

class RetrierTest {

    private static BigQueryException bq(int code, String reason, String message) {
        return new BigQueryException(code, message, new BigQueryError(reason, "somewhere", message));
    }

    // ---- classification ------------------------------------------------------------------------

    @Test
    void transientBigQueryErrors() {
        assertTrue(Retrier.isTransient(new BigQueryException(503, "Service unavailable")));
        assertTrue(Retrier.isTransient(new BigQueryException(500, "Internal")));
        assertTrue(Retrier.isTransient(new BigQueryException(502, "Bad gateway")));
        assertTrue(Retrier.isTransient(new BigQueryException(504, "Gateway timeout")));
        assertTrue(Retrier.isTransient(new BigQueryException(429, "Too many requests")));
        assertTrue(Retrier.isTransient(new BigQueryException(408, "Request timeout")));
        assertTrue(Retrier.isTransient(bq(403, "rateLimitExceeded", "Exceeded rate limits")));
        assertTrue(Retrier.isTransient(bq(403, "jobRateLimitExceeded", "Too many jobs")));
        assertTrue(Retrier.isTransient(bq(400, "backendError", "Backend error")));
        assertTrue(Retrier.isTransient(bq(503, "tableUnavailable", "Table unavailable")));
    }

    @Test
    void connectionFailuresAreTransient() {
        assertTrue(Retrier.isTransient(new ConnectException("Connection refused")));
        assertTrue(Retrier.isTransient(new RuntimeException("wrapped", new ConnectException("Connection refused"))));
        assertTrue(Retrier.isTransient(new SocketTimeoutException("Read timed out")));
        assertTrue(Retrier.isTransient(new BigQueryException(new ConnectException("Connection refused"))));
        assertTrue(Retrier.isTransient(new IllegalStateException("x", new RuntimeException("y", new IOException("reset")))));
    }

    @Test
    void grpcStatuses() {
        assertTrue(Retrier.isTransient(new StatusRuntimeException(Status.UNAVAILABLE)));
        assertTrue(Retrier.isTransient(new StatusRuntimeException(Status.DEADLINE_EXCEEDED)));
        assertTrue(Retrier.isTransient(new StatusRuntimeException(Status.RESOURCE_EXHAUSTED)));
        assertTrue(Retrier.isTransient(new RuntimeException(new StatusRuntimeException(Status.UNAVAILABLE.withDescription("io")))));
        assertFalse(Retrier.isTransient(new StatusRuntimeException(Status.INVALID_ARGUMENT)));
        assertFalse(Retrier.isTransient(new StatusRuntimeException(Status.PERMISSION_DENIED)));
        assertFalse(Retrier.isTransient(new StatusRuntimeException(Status.NOT_FOUND)));
    }

    @Test
    void gaxApiExceptions() {
        assertTrue(Retrier.isTransient(ApiExceptionFactory.createException(
            new StatusRuntimeException(Status.UNAVAILABLE), GrpcStatusCode.of(Status.Code.UNAVAILABLE), false)));
        assertTrue(Retrier.isTransient(ApiExceptionFactory.createException(
            new RuntimeException("x"), GrpcStatusCode.of(Status.Code.INVALID_ARGUMENT), true)), "retryable flag wins");
        assertFalse(Retrier.isTransient(ApiExceptionFactory.createException(
            new RuntimeException("x"), GrpcStatusCode.of(Status.Code.PERMISSION_DENIED), false)));
    }

    @Test
    void permanentBigQueryErrors() {
        assertFalse(Retrier.isTransient(bq(400, "invalidQuery", "Syntax error: Unexpected keyword FROM at [1:8]")));
        assertFalse(Retrier.isTransient(new BigQueryException(404, "Not found: Table p:d.t")));
        assertFalse(Retrier.isTransient(bq(404, "notFound", "Not found: Dataset p:d")));
        assertFalse(Retrier.isTransient(bq(403, "accessDenied", "Access Denied")));
        assertFalse(Retrier.isTransient(new IllegalArgumentException("bad")));
        assertFalse(Retrier.isTransient(new NullPointerException()));
    }

    @Test
    void jobFailures() {
        assertTrue(Retrier.isTransient(new Retrier.BigQueryJobFailure(new BigQueryError("backendError", null, "try again"))));
        assertFalse(Retrier.isTransient(new Retrier.BigQueryJobFailure(new BigQueryError("invalidQuery", null, "Syntax error"))));
        // the job's own verdict wins over an IOException further down
        assertFalse(Retrier.isTransient(new RuntimeException(new Retrier.BigQueryJobFailure(new BigQueryError("invalid", null, "x")))));
    }

    @Test
    void interruptedIoWhileInterruptedIsPermanent() {
        try {
            Thread.currentThread().interrupt();
            assertFalse(Retrier.isTransient(new InterruptedIOException("interrupted")));
        } finally {
            Thread.interrupted();
        }
        assertTrue(Retrier.isTransient(new InterruptedIOException("timed out")));
    }

    @Test
    void describeUsesBigQuerysMessage() {
        assertEquals("Syntax error (reason: invalidQuery, HTTP 400)",
            Retrier.describe(new RuntimeException("wrapper", bq(400, "invalidQuery", "Syntax error"))));
        assertEquals("Syntax error (reason: invalidQuery)",
            Retrier.describe(new Retrier.BigQueryJobFailure(new BigQueryError("invalidQuery", null, "Syntax error"))));
        assertEquals("ConnectException: Connection refused", Retrier.describe(new ConnectException("Connection refused")));
    }

    // ---- call() -------------------------------------------------------------------------------

    /** A fake BigQuery call: throws the given errors in turn, then returns "ok". */
    private static final class Script implements Callable<String> {
        final List<Exception> errors;
        final AtomicInteger calls = new AtomicInteger();

        Script(Exception... errors) {
            this.errors = new ArrayList<>(List.of(errors));
        }

        @Override
        public String call() throws Exception {
            int n = calls.getAndIncrement();
            if (n < errors.size()) {
                throw errors.get(n);
            }
            return "ok";
        }
    }

    private static Retrier retrier(int maxAttempts) {
        return new Retrier(maxAttempts, 1, 2, () -> false);
    }

    @Test
    void successAtOnce() {
        Script s = new Script();
        assertEquals("ok", retrier(3).call("op", s));
        assertEquals(1, s.calls.get());
    }

    @Test
    void transientErrorsAreRetried() {
        Script s = new Script(new BigQueryException(503, "unavailable"), new StatusRuntimeException(Status.UNAVAILABLE),
            new RuntimeException(new ConnectException("refused")));
        String result = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> retrier(4).call("op", s));
        assertEquals("ok", result);
        assertEquals(4, s.calls.get());
    }

    @Test
    void transientErrorsStopAtMaxAttempts() {
        BigQueryException last = new BigQueryException(429, "Too many requests");
        Script s = new Script(new BigQueryException(503, "a"), new BigQueryException(503, "b"), last, new BigQueryException(503, "never"));
        Retrier.TransientException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
            () -> assertThrows(Retrier.TransientException.class, () -> retrier(3).call("snapshot of run 4", s)));
        assertEquals(3, s.calls.get());
        assertSame(last, e.getCause());
        assertTrue(e.getMessage().startsWith("snapshot of run 4 failed 3 time(s) with a transient error, last: Too many requests"), e.getMessage());
        assertTrue(e.getMessage().endsWith("It is retried at the next poll."), e.getMessage());
    }

    @Test
    void oneAttemptMeansNoRetry() {
        Script s = new Script(new BigQueryException(503, "a"));
        assertThrows(Retrier.TransientException.class, () -> retrier(1).call("op", s));
        assertEquals(1, s.calls.get());
    }

    @Test
    void permanentErrorsAreThrownAtOnce() {
        BigQueryException invalid = bq(400, "invalidQuery", "Syntax error: Unexpected end of script");
        Script s = new Script(invalid);
        Retrier.PermanentException e = assertThrows(Retrier.PermanentException.class, () -> retrier(5).call("diff of run 2", s));
        assertEquals(1, s.calls.get());
        assertSame(invalid, e.getCause());
        assertEquals("diff of run 2 failed: Syntax error: Unexpected end of script (reason: invalidQuery, HTTP 400)", e.getMessage());

        Script notFound = new Script(new BigQueryException(404, "Not found: Table p:d.t"));
        assertThrows(Retrier.PermanentException.class, () -> retrier(5).call("get", notFound));
        assertEquals(1, notFound.calls.get());
    }

    @Test
    void permanentAfterTransientStopsRetrying() {
        Script s = new Script(new BigQueryException(503, "a"), new BigQueryException(404, "gone"), new BigQueryException(503, "b"));
        assertThrows(Retrier.PermanentException.class, () -> retrier(5).call("op", s));
        assertEquals(2, s.calls.get());
    }

    @Test
    void ownExceptionsPassThroughUnwrapped() {
        Retrier.PermanentException p = new Retrier.PermanentException("dataset missing", null);
        assertSame(p, assertThrows(Retrier.PermanentException.class, () -> retrier(5).call("op", new Script(p))));
        Retrier.TransientException t = new Retrier.TransientException("inner gave up", null);
        Script s = new Script(t);
        assertSame(t, assertThrows(Retrier.TransientException.class, () -> retrier(5).call("op", s)));
        assertEquals(1, s.calls.get());
    }

    @Test
    void stoppingEndsRetriesEarly() {
        Script s = new Script(new BigQueryException(503, "a"), new BigQueryException(503, "b"));
        Retrier stopping = new Retrier(10, 1, 2, () -> true);
        assertThrows(Retrier.TransientException.class, () -> stopping.call("op", s));
        assertEquals(1, s.calls.get());
    }

    @Test
    void backoffIsBounded() {
        // 6 attempts with a 1..2 ms backoff take far less than a second.
        Script s = new Script(new BigQueryException(503, "a"), new BigQueryException(503, "a"), new BigQueryException(503, "a"),
            new BigQueryException(503, "a"), new BigQueryException(503, "a"), new BigQueryException(503, "a"));
        long start = System.nanoTime();
        assertThrows(Retrier.TransientException.class, () -> retrier(6).call("op", s));
        assertTrue(System.nanoTime() - start < 2_000_000_000L);
        assertEquals(6, s.calls.get());
    }

    @Test
    void quotaErrorsAreNotRetriedWithinACallButMarkedForTheLongBackoff() {
        Script s = new Script(bq(403, "quotaExceeded", "Quota exceeded: Your project exceeded quota for concurrent queries"));
        Retrier.TransientException e = assertThrows(Retrier.TransientException.class, () -> retrier(5).call("snapshot of run 2", s));
        assertEquals(1, s.calls.get());
        assertTrue(e.quota());
        assertTrue(e.getMessage().contains("a BigQuery quota is exhausted"), e.getMessage());
        assertFalse(Retrier.isTransient(bq(403, "quotaExceeded", "q")), "not a short retry");
    }

    @Test
    void aCallSleepsAtMostItsBudgetWhateverTheBackoffSettings() {
        BigQueryException busy = new BigQueryException(503, "busy");
        Script s = new Script(busy, busy, busy, busy, busy, busy, busy, busy);
        Retrier slow = new Retrier(100, 800, 60_000, () -> false); // 800, 1600, … ms: only the first sleep fits in 1 s
        long start = System.nanoTime();
        Retrier.TransientException e = assertThrows(Retrier.TransientException.class, () -> slow.call("op", s));
        assertTrue(System.nanoTime() - start < 3_000_000_000L);
        assertTrue(s.calls.get() <= 3, "calls: " + s.calls.get());
        assertFalse(e.quota());
    }

    @Test
    void anAttemptThatTookLongerThanTheBudgetIsNotRetriedWithinTheCall() {
        // An endpoint that hangs until the read timeout: one attempt, then the step is retried at a later poll.
        AtomicInteger calls = new AtomicInteger();
        Callable<String> hanging = () -> {
            calls.incrementAndGet();
            Thread.sleep(Retrier.IN_CALL_BUDGET_MS + 100);
            throw new SocketTimeoutException("Read timed out");
        };
        assertThrows(Retrier.TransientException.class, () -> retrier(5).call("snapshot of run 3", hanging));
        assertEquals(1, calls.get());
    }
}
