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
 * reasons, connection failures, retryable gRPC statuses) with a short exponential backoff and
 * jitter, and only while the call has taken less than {@link #IN_CALL_BUDGET_MS} in all (attempts
 * and sleeps): a call runs on a thread of the worker's shared pool, and an endpoint that hangs until
 * the HTTP read timeout must not hold it for several timeouts. A longer outage ends the call with a {@link TransientException},
 * and the caller retries the step later ({@link Backoff}). Quota errors are not retried here at
 * all: BigQuery's guidance is a long backoff. Anything else is permanent and surfaces at once with
 * the server's message.
 */
public final class Retrier {

    private static final Logger log = LoggerFactory.getLogger(Retrier.class);
    private static final Set<String> TRANSIENT_REASONS = Set.of(
        "backendError", "internalError", "rateLimitExceeded", "jobRateLimitExceeded", "jobBackendError", "tableUnavailable");
    private static final Set<Integer> TRANSIENT_HTTP = Set.of(0, 408, 429, 500, 502, 503, 504);
    /** Reasons of errors that last until a quota refills: retried after a long backoff, never within a call. */
    private static final Set<String> QUOTA_REASONS = Set.of("quotaExceeded");
    /** A call is retried within itself only while it has taken less than this, attempts and sleeps included. */
    static final long IN_CALL_BUDGET_MS = 1000;

    private final int maxAttempts;
    private final long initialBackoffMs;
    private final long maxBackoffMs;
    private final BooleanSupplier stopping;
    /** Told of every retry within a call (step, reason): the task's metrics. */
    private volatile java.util.function.BiConsumer<String, String> onRetry = (what, reason) -> { };

    public Retrier(int maxAttempts, long initialBackoffMs, long maxBackoffMs, BooleanSupplier stopping) {
        this.maxAttempts = maxAttempts;
        this.initialBackoffMs = initialBackoffMs;
        this.maxBackoffMs = maxBackoffMs;
        this.stopping = stopping;
    }

    /** Thrown when a transient error outlasted the call's attempts; the same step can be retried later. */
    public static final class TransientException extends RuntimeException {
        private final boolean quota;

        TransientException(String message, Throwable cause) {
            this(message, cause, false);
        }

        TransientException(String message, Throwable cause, boolean quota) {
            super(message, cause);
            this.quota = quota;
        }

        /** A quota ran out: retry after a long backoff. */
        public boolean quota() {
            return quota;
        }
    }

    /** Thrown for an error retrying cannot fix, carrying BigQuery's own message. */
    public static final class PermanentException extends RuntimeException {
        PermanentException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public <T> T call(String what, Callable<T> op) {
        long backoff = Math.min(initialBackoffMs, IN_CALL_BUDGET_MS);
        long start = System.nanoTime();
        for (int attempt = 1; ; attempt++) {
            try {
                return op.call();
            } catch (PermanentException | TransientException | JobStillRunning e) {
                throw e;
            } catch (Exception e) {
                if (isQuota(e) || !isTransient(e)) {
                    throw classified(what, e);
                }
                long sleep = ThreadLocalRandom.current().nextLong(backoff / 2, backoff + 1);
                long elapsedMs = (System.nanoTime() - start) / 1_000_000;
                if (attempt >= maxAttempts || stopping.getAsBoolean() || elapsedMs + sleep > IN_CALL_BUDGET_MS) {
                    throw new TransientException(what + " failed " + attempt + " time(s) with a transient error, last: "
                        + describe(e) + ". It is retried at the next poll.", e);
                }
                log.warn("{} failed with a transient error (attempt {}), retrying in {} ms: {}", what, attempt, sleep, describe(e));
                onRetry.accept(what, describe(e));
                sleepInterruptibly(sleep);
                backoff = Math.min(maxBackoffMs, backoff * 2);
            }
        }
    }

    /** The exception a failed call ends with, without retrying it: quota, transient or permanent. */
    static RuntimeException classified(String what, Exception e) {
        if (e instanceof PermanentException || e instanceof TransientException) {
            return (RuntimeException) e;
        }
        if (isQuota(e)) {
            return new TransientException(what + " failed: a BigQuery quota is exhausted: " + describe(e)
                + ". It is retried after a long backoff (" + SyncConfig.RETRY_QUOTA_INITIAL_BACKOFF_MS + ").", e, true);
        }
        if (isTransient(e)) {
            return new TransientException(what + " failed with a transient error: " + describe(e) + ". It is retried at the next poll.", e);
        }
        return new PermanentException(what + " failed: " + describe(e), e);
    }

    /** Reports every retry within a call to {@code listener} (step, reason). */
    public void onRetry(java.util.function.BiConsumer<String, String> listener) {
        this.onRetry = listener;
    }

    /** A quota error: BigQuery says to retry it after a long backoff. */
    static boolean isQuota(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String reason = t instanceof BigQueryException bq && bq.getError() != null ? bq.getError().getReason()
                : t instanceof BigQueryJobFailure jf ? jf.reason() : null;
            if (reason != null && !reason.isEmpty()) {
                return QUOTA_REASONS.contains(reason);
            }
        }
        return false;
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
