package io.bq2k.connect.bigquery;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Decides the next run of a sync from the committed source offset and the sync's staging tables
 * (pure: no I/O, so the simulation test drives it through thousands of situations). Never guesses:
 * when a table the decision needs is gone, it fails the run before anything is emitted.
 */
public class Planner {

    private final String sync;
    private final StagingTables staging;
    private final String owner;
    private final RecordContract contract;
    private final boolean resumeTrusted;

    /**
     * @param resumeTrusted false when a transformation or errors.tolerance=all may drop records: under
     *                      exactly-once Connect reports a dropped record only after its transaction committed
     *                      offsets past it, so an interrupted run is taken again rather than resumed
     */
    public Planner(String sync, StagingTables staging, String owner, RecordContract contract, boolean resumeTrusted) {
        this.sync = sync;
        this.staging = staging;
        this.resumeTrusted = resumeTrusted;
        this.owner = owner;
        this.contract = contract;
    }

    /**
     * @param committed the committed offset, or null (a new sync, or offsets reset by the operator)
     * @param staged    every table of this sync's prefix in the staging dataset
     * @throws RunFailure when another connector owns the tables, or a table the decision needs is gone
     */
    public Plan plan(SyncOffset committed, List<StagedTable> staged) {
        for (StagedTable t : staged) {
            if (t.owner() != null && !t.owner().equals(owner)) {
                throw new RunFailure(sync, "staging table " + t.ref() + " is owned by another connector (label bq2k_owner=" + t.owner()
                    + ", this connector is " + owner + "): two connectors share the staging name '" + sync + "'. Nothing was emitted and "
                    + "nothing of the other sync was touched. Give this connector its own " + SyncConfig.SYNC_NAME + " (or its own "
                    + SyncConfig.STAGING_DATASET + ").");
            }
        }
        if (committed == null) {
            long highest = staged.stream().mapToLong(StagedTable::run).max().orElse(0);
            return new Plan.Initial(highest + 1, refs(staged, t -> true), contract.keys());
        }
        List<String> baseKeys = committed.keys() != null ? committed.keys() : contract.keys();
        String contractChange = contract.changeFrom(committed.contract());
        long n = committed.run();
        switch (committed.kind()) {
            case DONE -> {
                return afterBase(n + 1, n + 1, n, committed.diff(), baseKeys, contractChange, staged);
            }
            case ABANDONED -> {
                // No committed offset points into run n's tables, so the retake may re-create them under the same id.
                if (find(staged, StagedTable.Kind.DIFF, n).isEmpty()) {
                    throw lost("run " + n + " was abandoned after publishing part of it, but its diff table " + staging.diff(n).quoted()
                        + " is gone", "which keys it published");
                }
                long base = Math.max(committed.base(), 0);
                return base > 0 ? afterBase(n, n, base, -1, baseKeys, contractChange, staged)
                    : new Plan.Initial(n, refs(staged, t -> !(t.isSnapshot() && t.run() == n)), baseKeys);
            }
            default -> {
                Optional<StagedTable> snap = find(staged, StagedTable.Kind.SNAPSHOT, n);
                Optional<StagedTable> diff = find(staged, StagedTable.Kind.DIFF, n);
                if (diff.isEmpty()) {
                    throw lost("run " + n + " was being emitted (committed offset: bucket " + committed.bucket() + ", seq " + committed.seq()
                        + ") but its diff table " + staging.diff(n).quoted() + " is gone", "the rest of run " + n + " and which keys it already published");
                }
                long base = committed.base() >= 0 ? committed.base()
                    : find(staged, StagedTable.Kind.SNAPSHOT, n - 1).map(StagedTable::run).orElse(0L);
                boolean otherDiff = committed.diff() >= 0 && committed.diff() != diff.get().created();
                if (resumeTrusted && !diff.get().abandoned() && !otherDiff && snap.isPresent() && contractChange == null) {
                    // Under the key it started with, even if key.columns changed since: the next run re-keys.
                    return new Plan.Resume(n, base, committed.bucket(), committed.seq(), baseKeys);
                }
                // Not resumable: a change was not written (offsets may be committed past it), the diff the position
                // points into was re-created, the snapshot that becomes the baseline is gone, or the rest would go out
                // under another contract. Take the run again under a new id, so that the committed position keeps
                // pointing into the tables it was taken from; every key of run n's diff is re-examined.
                long fresh = staged.stream().mapToLong(StagedTable::run).max().orElse(n) + 1;
                return base > 0 ? afterBase(fresh, n, base, -1, baseKeys, contractChange, staged)
                    : new Plan.Initial(fresh, refs(staged, t -> t.run() >= n && !t.isSnapshot()), baseKeys);
            }
        }
    }

    /**
     * Run {@code run} after base run {@code base} was completely handed over; diffs from run {@code attemptsFrom}
     * on belong to attempts that may have published part of their changes. {@code baseDiff}: the base diff's
     * creation time as its summary recorded it, or -1.
     */
    private Plan afterBase(long run, long attemptsFrom, long base, long baseDiff, List<String> baseKeys, String contractChange,
                           List<StagedTable> staged) {
        StagedTable baseline = requireBaseline(staged, base);
        // Diffs of earlier attempts (and of later runs whose summaries were not committed, or after an offset
        // rewind) hold every key those attempts may have published. A diff older than the base's own diff was
        // there when the base was planned: the base re-examined its keys, so it is settled. The base's diff
        // version comes from its summary's offset (a restored table has a new creation time).
        long settledBefore = baseDiff >= 0 ? baseDiff : find(staged, StagedTable.Kind.DIFF, base).map(StagedTable::created).orElse(0L);
        List<TableRef> attempts = refs(staged, t -> t.run() >= attemptsFrom && !t.isSnapshot() && t.created() > settledBefore);
        if (baseline.rows() == 0) {
            // Nothing published survives the base (an empty result, or a re-key run): no fingerprints to compare.
            // After a re-key run (its summary names the old key): the new keys wait until its tombstones are applied.
            return new Plan.Initial(run, attempts, contract.keys(), baseKeys.equals(contract.keys()) ? 0 : base);
        }
        if (contractChange != null) {
            List<TableRef> reexamine = new ArrayList<>();
            reexamine.add(baseline.ref());
            reexamine.addAll(attempts);
            return new Plan.Resync(run, base, reexamine, baseKeys, contractChange);
        }
        return attempts.isEmpty() ? new Plan.Incremental(run, base, baseKeys) : new Plan.Retake(run, base, attempts, baseKeys);
    }

    private StagedTable requireBaseline(List<StagedTable> staged, long base) {
        return find(staged, StagedTable.Kind.SNAPSHOT, base).orElseThrow(() -> lost("the snapshot of baseline run " + base + " ("
            + staging.snapshot(base).quoted() + ") is gone", "which keys MySQL and the topic's other consumers hold"));
    }

    private RunFailure lost(String what, String without) {
        return lost(sync, what, without);
    }

    /** A table a run needs is gone: the run fails, naming it and the two ways out. */
    static RunFailure lost(String sync, String what, String without) {
        return new RunFailure(sync, what + " (dropped by someone, or the staging dataset was recreated: tables a run may still need "
            + "never expire). Without it the connector cannot know " + without + ", so it does not guess. Nothing was emitted; "
            + "the topic and MySQL keep their last state. Either restore the table with BigQuery time travel "
            + "(bq cp '<dataset>.<table>@-3600000' <dataset>.<table>, within the dataset's time-travel window) and restart the task; "
            + "or re-seed: stop the sink, empty the MySQL table, delete and recreate the topic, reset this connector's offsets "
            + "(DELETE /connectors/<name>/offsets) and resume.");
    }

    /**
     * The rows consumers hold before a run (what the mass-delete guard compares removals with): those of the base's
     * snapshot, or for a plan without a base the largest snapshot listed (its keys are re-examined).
     */
    static long rowsConsumersHold(Plan plan, List<StagedTable> staged) {
        return plan.base() > 0 ? find(staged, StagedTable.Kind.SNAPSHOT, plan.base()).map(StagedTable::rows).orElse(0L)
            : staged.stream().filter(StagedTable::isSnapshot).mapToLong(StagedTable::rows).max().orElse(0);
    }

    private static Optional<StagedTable> find(List<StagedTable> staged, StagedTable.Kind kind, long run) {
        return staged.stream().filter(t -> t.kind() == kind && t.run() == run).findFirst();
    }

    private static List<TableRef> refs(List<StagedTable> staged, Predicate<StagedTable> which) {
        return staged.stream().filter(which).sorted(Comparator.comparingLong(StagedTable::run).thenComparing(StagedTable::kind))
            .map(StagedTable::ref).toList();
    }
}
