package io.bq2k.bench;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What every case works with: the options, the stack with its clients and sync configs, the
 * correctness checks, and the run's record - the JSON's "details" (every measurement) and the
 * failures (exit code 1).
 */
record BenchRun(BenchOptions opts, BenchStack stack, Correctness check, Map<String, Object> details, List<String> failures) {

    /** The longest a timed run may take. */
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(30);

    /** A millisecond field of a run summary's payload, 0 when absent. */
    static double ms(JsonNode payload, String field) {
        return payload.path(field).asDouble(0);
    }
}
