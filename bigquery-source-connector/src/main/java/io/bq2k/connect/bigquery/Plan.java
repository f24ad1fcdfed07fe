package io.bq2k.connect.bigquery;

import java.util.List;
import java.util.OptionalLong;

/**
 * What the next run of a sync does, decided by {@link Planner} from the committed offset and the
 * staging tables. Every plan but {@link Resume} takes a new snapshot; the old side of its diff says
 * which keys it compares by fingerprint (the baseline) and which it re-examines whatever their
 * fingerprint (keys an earlier attempt or run may have published). The table in docs/design.md
 * says why each is safe.
 */
public sealed interface Plan {

    /** The run id: stable across retries of the same situation, so a guard confirmation names it. */
    long run();

    /** The run whose published state consumers hold before this run (0: none known). */
    long base();

    /** Key columns the base was published under. */
    List<String> baseKeys();

    /** For the log line, the run summary and the metrics. */
    String mode();

    /** Why, in words, for the log. */
    String why();

    /** The old side of the diff (not used by {@link Resume}). */
    SyncSql.OldSide oldSide(StagingTables staging);

    /**
     * No baseline: every current row is published; keys of the listed tables are tombstoned when gone.
     *
     * @param afterRekey the re-key run this run follows (its tombstones must be applied first), or 0
     */
    record Initial(long run, List<TableRef> reexamine, List<String> baseKeys, long afterRekey) implements Plan {
        public Initial(long run, List<TableRef> reexamine, List<String> baseKeys) {
            this(run, reexamine, baseKeys, 0);
        }

        public long base() { return 0; }
        public String mode() { return reexamine.isEmpty() ? "initial" : "resync"; }
        public String why() {
            return reexamine.isEmpty() ? "nothing published before: it publishes every row"
                : "no baseline: it publishes every row and re-examines every key of " + reexamine;
        }
        public SyncSql.OldSide oldSide(StagingTables staging) { return new SyncSql.OldSide(OptionalLong.empty(), reexamine); }
    }

    /** Against the baseline: only changed, added and removed keys. */
    record Incremental(long run, long base, List<String> baseKeys) implements Plan {
        public String mode() { return "incremental"; }
        public String why() { return "against run " + base; }
        public SyncSql.OldSide oldSide(StagingTables staging) { return SyncSql.OldSide.incremental(base); }
    }

    /**
     * Run {@code run} again after an attempt that may have published part of it: against the
     * baseline, plus every key of the earlier attempt's tables (its values may differ from both).
     */
    record Retake(long run, long base, List<TableRef> reexamine, List<String> baseKeys) implements Plan {
        public String mode() { return "retake"; }
        public String why() { return "an earlier attempt may have published part of it: against run " + base + ", re-examining every key of " + reexamine; }
        public SyncSql.OldSide oldSide(StagingTables staging) { return new SyncSql.OldSide(OptionalLong.of(base), reexamine); }
    }

    /**
     * The record contract changed (topic, value representation): every current row is published
     * again, and every key the base or an attempt published is re-examined.
     */
    record Resync(long run, long base, List<TableRef> reexamine, List<String> baseKeys, String reason) implements Plan {
        public String mode() { return "resync"; }
        public String why() { return reason + ": it publishes every row again and re-examines every key of " + reexamine; }
        public SyncSql.OldSide oldSide(StagingTables staging) { return new SyncSql.OldSide(OptionalLong.empty(), reexamine); }
    }

    /** Continue emitting run {@code run}'s existing diff after position (bucket, seq). */
    record Resume(long run, long base, int bucket, long seq, List<String> baseKeys) implements Plan {
        public String mode() { return "resume"; }
        public String why() { return "continuing after bucket " + bucket + " seq " + seq; }
        public SyncSql.OldSide oldSide(StagingTables staging) { throw new UnsupportedOperationException("a resume reads the existing diff"); }
    }
}
