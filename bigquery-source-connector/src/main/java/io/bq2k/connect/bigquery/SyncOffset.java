package io.bq2k.connect.bigquery;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The source offset of a sync, which says exactly what of which run is handed over to Connect.
 * One source partition per sync ({@code {"sync": name}}), so a sync's offsets are one value.
 * <ul>
 *   <li>{@code {"run": n, "bucket": b, "seq": s, "base": r}} rides on each change of run n: every
 *       change of buckets below b, and of bucket b up to seq s, is handed over; run r (0: none) is
 *       the state consumers held before run n;</li>
 *   <li>{@code {"run": n, "done": true}} rides on run n's summary: run n is complete and is the
 *       baseline of the next run;</li>
 *   <li>{@code {"run": n, "abandoned": true, "base": r}} rides on the record that abandons run n
 *       (a change of it was not written to Kafka): the next attempt retakes run n and re-examines
 *       every key it may have published.</li>
 * </ul>
 * Each also carries the record contract it was published under ({@code contract}: topic and value
 * representation; {@code keys}: the key columns), so a changed contract is noticed after a restart.
 * An in-run offset also names the version of the diff it points into ({@code diff}: the table's creation
 * time): a retake re-creates the diff, and a position in the old one means nothing in the new one.
 * Offsets written before these fields existed read as "same contract", base and diff "unknown" (-1).
 */
public record SyncOffset(long run, Kind kind, int bucket, long seq, long base, String contract, List<String> keys, long diff) {

    public enum Kind { IN_RUN, DONE, ABANDONED }

    static final String SYNC = "sync";
    static final String RUN = "run";
    static final String DONE = "done";
    static final String ABANDONED = "abandoned";
    static final String BUCKET = "bucket";
    static final String SEQ = "seq";
    static final String BASE = "base";
    static final String CONTRACT = "contract";
    static final String KEYS = "keys";
    static final String DIFF = "diff";

    /** @param diff the creation time of the diff table being read: a position means nothing in another version of it */
    public static SyncOffset inRun(long run, int bucket, long seq, long base, RecordContract contract, long diff) {
        return new SyncOffset(run, Kind.IN_RUN, bucket, seq, base, contract.fingerprint(), contract.keys(), diff);
    }

    /** @param diff the creation time of the run's diff: diffs created before it were re-examined by the run (-1: unknown) */
    public static SyncOffset completed(long run, RecordContract contract, long diff) {
        return new SyncOffset(run, Kind.DONE, 0, 0, run - 1, contract.fingerprint(), contract.keys(), diff);
    }

    public static SyncOffset abandoned(long run, long base, RecordContract contract) {
        return new SyncOffset(run, Kind.ABANDONED, 0, 0, base, contract.fingerprint(), contract.keys(), -1);
    }

    public boolean done() {
        return kind == Kind.DONE;
    }

    public static Map<String, String> partition(String sync) {
        return Map.of(SYNC, sync);
    }

    public Map<String, Object> toMap() {
        if (kind == Kind.IN_RUN) {
            return InRun.map(run, bucket, seq, base, diff, contract, keys == null ? null : String.join(",", keys));
        }
        Map<String, Object> m = new HashMap<>();
        m.put(RUN, run);
        switch (kind) {
            case DONE -> {
                m.put(DONE, true);
                if (diff >= 0) {
                    m.put(DIFF, diff);
                }
            }
            case ABANDONED -> {
                m.put(ABANDONED, true);
                m.put(BASE, base);
            }
        }
        if (contract != null) {
            m.put(CONTRACT, contract);
        }
        if (keys != null) {
            m.put(KEYS, String.join(",", keys));
        }
        return m;
    }

    /**
     * The in-run offsets of one chunk's changes, {@code inRun(run, bucket, seq, base, contract, diff).toMap()} for each seq,
     * with what they share (the contract's fingerprint, a hash, and the key list) computed once per chunk instead of per record.
     */
    public static final class InRun {
        private final long run;
        private final int bucket;
        private final long base;
        private final long diff;
        private final String contract;
        private final String keys;

        public InRun(long run, int bucket, long base, RecordContract contract, long diff) {
            this.run = run;
            this.bucket = bucket;
            this.base = base;
            this.diff = diff;
            this.contract = contract.fingerprint();
            this.keys = contract.keys() == null ? null : String.join(",", contract.keys());
        }

        /** The offset of the change at {@code seq}: a map of its own (Connect keeps it until the record is committed). */
        public Map<String, Object> offset(long seq) {
            return map(run, bucket, seq, base, diff, contract, keys);
        }

        private static Map<String, Object> map(long run, int bucket, long seq, long base, long diff, String contract, String keys) {
            Map<String, Object> m = new HashMap<>();
            m.put(RUN, run);
            m.put(BUCKET, bucket);
            m.put(SEQ, seq);
            m.put(BASE, base);
            if (diff >= 0) {
                m.put(DIFF, diff);
            }
            if (contract != null) {
                m.put(CONTRACT, contract);
            }
            if (keys != null) {
                m.put(KEYS, keys);
            }
            return m;
        }
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
        String contract = m.get(CONTRACT) == null ? null : m.get(CONTRACT).toString();
        List<String> keys = m.get(KEYS) == null ? null : Arrays.stream(m.get(KEYS).toString().split(",")).map(String::trim).toList();
        boolean done = flag(m, DONE);
        boolean abandoned = flag(m, ABANDONED);
        if (done && abandoned) {
            throw new IllegalArgumentException("an offset is either \"done\" or \"abandoned\", not both");
        }
        if ((done || abandoned) && (m.containsKey(BUCKET) || m.containsKey(SEQ))) {
            throw new IllegalArgumentException("an offset with \"" + (done ? DONE : ABANDONED) + "\": true has no \"bucket\" or \"seq\"");
        }
        long base = m.containsKey(BASE) ? number(m, BASE, 0) : -1;
        if (base >= run) {
            throw new IllegalArgumentException("\"base\" must be below \"run\", got " + base);
        }
        if (done) {
            return new SyncOffset(run, Kind.DONE, 0, 0, run - 1, contract, keys, m.containsKey(DIFF) ? number(m, DIFF, 0) : -1);
        }
        if (abandoned) {
            return new SyncOffset(run, Kind.ABANDONED, 0, 0, base, contract, keys, -1);
        }
        long bucket = number(m, BUCKET, 0);
        if (bucket > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("\"bucket\" is too large: " + bucket);
        }
        return new SyncOffset(run, Kind.IN_RUN, (int) bucket, number(m, SEQ, 0), base, contract, keys,
            m.containsKey(DIFF) ? number(m, DIFF, 0) : -1);
    }

    private static boolean flag(Map<String, ?> m, String key) {
        Object v = m.get(key);
        if (v != null && !(v instanceof Boolean)) {
            throw new IllegalArgumentException("\"" + key + "\" must be true or false, got " + v);
        }
        return Boolean.TRUE.equals(v);
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
