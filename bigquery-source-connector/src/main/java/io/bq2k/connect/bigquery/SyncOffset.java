package io.bq2k.connect.bigquery;

import java.util.HashMap;
import java.util.Map;

/**
 * The source offset of a sync, which says exactly what of which run is handed over to Connect.
 * One source partition per sync ({@code {"sync": name}}), so a sync's offsets are one value.
 * <ul>
 *   <li>{@code {"run": n, "bucket": b, "seq": s}} rides on each change of run n: every change of
 *       buckets below b, and of bucket b up to seq s, is handed over;</li>
 *   <li>{@code {"run": n, "done": true}} rides on run n's summary: run n is complete and is the
 *       baseline of the next run.</li>
 * </ul>
 */
public record SyncOffset(long run, boolean done, int bucket, long seq) {

    static final String SYNC = "sync";
    static final String RUN = "run";
    static final String DONE = "done";
    static final String BUCKET = "bucket";
    static final String SEQ = "seq";

    public static SyncOffset inRun(long run, int bucket, long seq) {
        return new SyncOffset(run, false, bucket, seq);
    }

    public static SyncOffset completed(long run) {
        return new SyncOffset(run, true, 0, 0);
    }

    public static Map<String, String> partition(String sync) {
        return Map.of(SYNC, sync);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new HashMap<>();
        m.put(RUN, run);
        if (done) {
            m.put(DONE, true);
        } else {
            m.put(BUCKET, bucket);
            m.put(SEQ, seq);
        }
        return m;
    }

    /**
     * Reads an offset as stored (numbers may come back as Integer or Long); null stays null.
     *
     * @throws IllegalArgumentException naming what is wrong, for offsets an operator may send
     */
    public static SyncOffset fromMap(Map<String, ?> m) {
        if (m == null) {
            return null;
        }
        long run = number(m, RUN, 1);
        if (Boolean.TRUE.equals(m.get(DONE))) {
            if (m.containsKey(BUCKET) || m.containsKey(SEQ)) {
                throw new IllegalArgumentException("an offset with \"done\": true has only \"run\"");
            }
            return completed(run);
        }
        if (m.containsKey(DONE) && !Boolean.FALSE.equals(m.get(DONE))) {
            throw new IllegalArgumentException("\"done\" must be true or false, got " + m.get(DONE));
        }
        long bucket = number(m, BUCKET, 0);
        if (bucket > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("\"bucket\" is too large: " + bucket);
        }
        return inRun(run, (int) bucket, number(m, SEQ, 0));
    }

    private static long number(Map<String, ?> m, String key, long min) {
        Object v = m.get(key);
        if (!(v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte)) {
            throw new IllegalArgumentException("\"" + key + "\" must be an integer, got " + (v == null ? "nothing" : v));
        }
        long n = ((Number) v).longValue();
        if (n < min) {
            throw new IllegalArgumentException("\"" + key + "\" must be at least " + min + ", got " + n);
        }
        return n;
    }
}
