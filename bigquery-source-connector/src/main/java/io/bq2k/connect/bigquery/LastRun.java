package io.bq2k.connect.bigquery;

import java.util.Map;

/**
 * What the run history says about the last completed run, carried on its {@code done} offset: when it
 * started and ended, the query and trigger it ran with, and its inputs' last-modified times (a hash). A
 * restarted task schedules its next run from it instead of running at once, and its freshness metrics
 * survive the restart. Offsets written before these fields existed have none (null).
 *
 * @param inputs hash of the input tables' last-modified times, or "" when skipping was not safe
 */
record LastRun(long startedMs, long endedMs, String query, String trigger, String inputs) {

    static final String STARTED = "started";
    static final String ENDED = "ended";
    static final String QUERY = "query";
    static final String TRIGGER = "trigger";
    static final String INPUTS = "inputs";

    void writeTo(Map<String, Object> offset) {
        offset.put(STARTED, startedMs);
        offset.put(ENDED, endedMs);
        offset.put(QUERY, query);
        offset.put(TRIGGER, trigger);
        offset.put(INPUTS, inputs);
    }

    /** The last run of a {@code done} offset; null for any other offset, or one without these fields. */
    static LastRun of(Map<String, ?> offset) {
        if (offset == null || !Boolean.TRUE.equals(offset.get(SyncOffset.DONE)) || !(offset.get(STARTED) instanceof Number started)
            || !(offset.get(ENDED) instanceof Number ended)) {
            return null;
        }
        return new LastRun(started.longValue(), ended.longValue(), text(offset, QUERY), text(offset, TRIGGER), text(offset, INPUTS));
    }

    private static String text(Map<String, ?> offset, String key) {
        Object v = offset.get(key);
        return v == null ? "" : v.toString();
    }

    /** A short, stable hash of a text (a query, a list of inputs): offsets never hold the text itself. */
    static String hash(String text) {
        return RecordContract.shortHash(text);
    }

    /** Hash of the inputs' last-modified times; "" when there are none to compare. */
    static String inputsHash(Map<String, Long> inputs) {
        return inputs == null ? "" : hash(new java.util.TreeMap<>(inputs).toString());
    }
}
