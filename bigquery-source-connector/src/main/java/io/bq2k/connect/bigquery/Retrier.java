package io.bq2k.connect.bigquery;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.api.gax.rpc.ApiException;
import com.google.cloud.bigquery.BigQueryError;
import com.google.cloud.bigquery.BigQueryException;

/**
 * Retries one BigQuery call on transient errors (HTTP 5xx and 429, rate-limit and backend
 * reasons, connection failures, retryable gRPC statuses) with exponential backoff and jitter.
 * Anything else is permanent and surfaces at once with the server's message.
 */
public final class Retrier {

    private static final Logger log = LoggerFactory.getLogger(Retrier.class);
    private static final Set<String> TRANSIENT_REASONS = Set.of(
        "backendError", "internalError", "rateLimitExceeded", "jobRateLimitExceeded", "jobBackendError", "tableUnavailable");
    private static final Set<Integer> TRANSIENT_HTTP = Set.of(0, 408, 429, 500, 502, 503, 504);

    private final int maxAttempts;
    private final long initialBackoffMs;
    private final long maxBackoffMs;
    private final BooleanSupplier stopping;

    public Retrier(int maxAttempts, long initialBackoffMs, long maxBackoffMs, BooleanSupplier stopping) {
        this.maxAttempts = maxAttempts;
        this.initialBackoffMs = initialBackoffMs;
        this.maxBackoffMs = maxBackoffMs;
        this.stopping = stopping;
    }

    /** Thrown when a transient error outlasted every attempt; the same step can be retried later. */
    public static final class TransientException extends RuntimeException {
        TransientException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Thrown for an error retrying cannot fix, carrying BigQuery's own message. */
    public static final class PermanentException extends RuntimeException {
        PermanentException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public <T> T call(String what, Callable<T> op) {
        long backoff = initialBackoffMs;
        for (int attempt = 1; ; attempt++) {
            try {
                return op.call();
            } catch (PermanentException | TransientException e) {
                throw e;
            } catch (Exception e) {
                if (!isTransient(e)) {
                    throw new PermanentException(what + " failed: " + describe(e), e);
                }
                if (attempt >= maxAttempts || stopping.getAsBoolean()) {
                    throw new TransientException(what + " failed " + attempt + " time(s) with a transient error, last: "
                        + describe(e) + ". It is retried at the next poll.", e);
                }
                long sleep = ThreadLocalRandom.current().nextLong(backoff / 2, backoff + 1);
                log.warn("{} failed with a transient error (attempt {}/{}), retrying in {} ms: {}", what, attempt, maxAttempts, sleep, describe(e));
                sleepInterruptibly(sleep);
                backoff = Math.min(maxBackoffMs, backoff * 2);
            }
        }
    }

    private void sleepInterruptibly(long ms) {
        long end = System.currentTimeMillis() + ms;
        while (System.currentTimeMillis() < end && !stopping.getAsBoolean()) {
            try {
                Thread.sleep(Math.min(200, Math.max(1, end - System.currentTimeMillis())));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static boolean isTransient(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BigQueryException bq) {
                BigQueryError err = bq.getError();
                if (err != null && err.getReason() != null && !err.getReason().isEmpty()) {
                    // BigQuery said why: trust the reason (a failed job can arrive with HTTP code 0).
                    return TRANSIENT_REASONS.contains(err.getReason());
                }
                if (bq.isRetryable() || TRANSIENT_HTTP.contains(bq.getCode())) {
                    return true;
                }
            }
            if (t instanceof BigQueryJobFailure jf) {
                return TRANSIENT_REASONS.contains(jf.reason());
            }
            if (t instanceof ApiException api) {
                return api.isRetryable() || switch (api.getStatusCode().getCode()) {
                    case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL -> true;
                    default -> false;
                };
            }
            if (t instanceof io.grpc.StatusRuntimeException s) {
                return switch (s.getStatus().getCode()) {
                    case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL -> true;
                    default -> false;
                };
            }
            if (t instanceof com.google.api.client.http.HttpResponseException) {
                return false; // an HTTP answer: classified by its status above
            }
            if (t instanceof IOException && !(t instanceof InterruptedIOException && Thread.currentThread().isInterrupted())) {
                return true;
            }
        }
        return false;
    }

    /** BigQuery's own message, without the stack of wrappers around it. */
    static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BigQueryJobFailure jf) {
                return jf.getMessage();
            }
            if (t instanceof BigQueryException bq && bq.getMessage() != null) {
                String reason = bq.getError() == null ? null : bq.getError().getReason();
                return bq.getMessage() + (reason == null ? "" : " (reason: " + reason + ", HTTP " + bq.getCode() + ")");
            }
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /** A job that BigQuery ran and that ended with an error. */
    public static final class BigQueryJobFailure extends RuntimeException {
        private final String reason;

        public BigQueryJobFailure(BigQueryError error) {
            super(error.getMessage() + (error.getReason() == null ? "" : " (reason: " + error.getReason() + ")"));
            this.reason = error.getReason();
        }

        public String reason() {
            return reason;
        }
    }
}
