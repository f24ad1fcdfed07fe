package io.bq2k.connect.bigquery;

import java.util.function.LongUnaryOperator;

/**
 * How long a run waits before it retries a step that failed transiently: exponential with jitter,
 * from the first failure of a step until the step succeeds. Quota errors have their own, longer
 * schedule. Waiting happens between polls, never inside one.
 */
final class Backoff {

    private final long initialMs;
    private final long maxMs;
    private final long quotaInitialMs;
    private final long quotaMaxMs;
    /** Picks a delay in [d/2, d]; a test passes the identity. */
    private final LongUnaryOperator jitter;
    private int failures;

    Backoff(long initialMs, long maxMs, long quotaInitialMs, long quotaMaxMs, LongUnaryOperator jitter) {
        this.initialMs = initialMs;
        this.maxMs = maxMs;
        this.quotaInitialMs = quotaInitialMs;
        this.quotaMaxMs = quotaMaxMs;
        this.jitter = jitter;
    }

    static Backoff of(SyncConfig config) {
        return new Backoff(config.retryInitialBackoffMs(), config.retryMaxBackoffMs(), config.retryQuotaInitialBackoffMs(),
            config.retryQuotaMaxBackoffMs(), d -> java.util.concurrent.ThreadLocalRandom.current().nextLong(d / 2, d + 1));
    }

    /** One more consecutive failure; returns the delay before the next attempt. */
    long failed(boolean quota) {
        failures++;
        long base = quota ? quotaInitialMs : initialMs;
        long cap = quota ? quotaMaxMs : maxMs;
        long d = base;
        for (int i = 1; i < failures && d < cap; i++) {
            d *= 2;
        }
        return jitter.applyAsLong(Math.max(1, Math.min(cap, d)));
    }

    /** Consecutive failures so far. */
    int failures() {
        return failures;
    }

    void succeeded() {
        failures = 0;
    }
}
