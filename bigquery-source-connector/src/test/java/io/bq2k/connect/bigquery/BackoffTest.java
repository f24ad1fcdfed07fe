package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void growsPerConsecutiveFailureUpToItsCapAndResetsOnSuccess() {
        Backoff b = new Backoff(500, 3_000, 60_000, 1_800_000, d -> d);
        assertEquals(500, b.failed(false));
        assertEquals(1_000, b.failed(false));
        assertEquals(2_000, b.failed(false));
        assertEquals(3_000, b.failed(false));
        assertEquals(3_000, b.failed(false));
        b.succeeded();
        assertEquals(500, b.failed(false));
    }

    @Test
    void quotaErrorsWaitLong() {
        Backoff b = new Backoff(500, 30_000, 60_000, 1_800_000, d -> d);
        assertEquals(60_000, b.failed(true));
        assertEquals(120_000, b.failed(true));
        for (int i = 0; i < 10; i++) {
            b.failed(true);
        }
        assertEquals(1_800_000, b.failed(true));
    }
}
