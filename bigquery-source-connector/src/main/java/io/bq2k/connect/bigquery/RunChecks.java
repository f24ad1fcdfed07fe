package io.bq2k.connect.bigquery;

import java.util.List;
import java.util.Locale;

/**
 * The decisions that hold or fail a run before it emits anything, apart from the BigQuery steps' own checks:
 * shared by the task's run ({@link SyncRunner}) and the dry run ({@link DryRun}), so both say the same.
 */
final class RunChecks {

    private RunChecks() { }

    /**
     * The records' shape of a run's snapshot under key columns {@code keys}.
     *
     * @throws RunFailure when a key column is missing or not of a key type, or a column has no mapping
     */
    static RecordShape shape(String sync, long run, com.google.cloud.bigquery.FieldList fields, List<String> keys, SyncConfig config) {
        try {
            return RecordShape.of(fields, keys, config.topic(), config.columnStyle());
        } catch (RecordShape.InvalidShape e) {
            throw new RunFailure(sync, "run " + run + ": " + e.getMessage() + ". Nothing was emitted; the next run after the fix starts from the same baseline.");
        }
    }

    /**
     * The run after a re-key run waits until the operator confirms the sink applied the re-key's tombstones.
     *
     * @return the failure that holds it, or null
     */
    static RunFailure heldAfterRekey(String sync, Plan plan, SyncConfig config, RecordContract contract) {
        if (!(plan instanceof Plan.Initial i) || i.afterRekey() <= 0 || config.massDeleteAllowRun() == i.run()) {
            return null;
        }
        return new RunFailure(sync, "run " + i.run() + " republishes every row under the new key " + contract.keys() + " and waits for the sink: "
            + "re-key run " + i.afterRekey() + " tombstoned every key under the old key, and on a topic with more than one partition a sink "
            + "that has not applied those tombstones yet could apply one after the new row of the same MySQL row. Nothing was emitted. "
            + "When the sink has consumed run " + i.afterRekey() + " (bin/status: MySQL holds run " + i.afterRekey() + " completely; or its lag is 0), "
            + "set " + SyncConfig.MASS_DELETE_ALLOW_RUN + "=" + i.run() + " and restart the connector.");
    }

    /**
     * A resync after {@code temporal.precision} changed cannot go ahead when a key column is temporal.
     *
     * @return the failure, or null
     */
    static RunFailure temporalKeyChanged(String sync, long run, Plan plan, boolean precisionChanged, RecordShape current) {
        List<ColumnMapping> temporal = current.keyColumns().stream().filter(ColumnMapping::isTemporal).toList();
        if (!(plan instanceof Plan.Resync) || !precisionChanged || temporal.isEmpty()) {
            return null;
        }
        return new RunFailure(sync, "run " + run + ": " + SyncConfig.TEMPORAL_PRECISION + " changed while key column(s) "
            + temporal.stream().map(ColumnMapping::name).toList()
            + " are temporal: every key would change its representation, and the keys published in the old one could not be "
            + "tombstoned. Nothing was emitted. Restore " + SyncConfig.TEMPORAL_PRECISION + ", or re-seed the sync (stop the sink, "
            + "empty the MySQL table, delete and recreate the topic, reset this connector's offsets, resume).");
    }

    /**
     * What the mass-delete guard decides for a run.
     *
     * @param held    the run is held: it fails with {@code failure}
     * @param why     the decision in words
     * @param failure the task's failure when held, else null
     */
    record Guard(boolean held, String why, RunFailure failure) { }

    /**
     * The mass-delete guard: removals above {@code mass.delete.max.ratio} of the rows consumers hold hold the run until
     * {@code mass.delete.allow.run} names it.
     *
     * @param rowsHeld rows of the base's snapshot (for an initial plan, of the largest re-examined snapshot)
     */
    static Guard massDelete(String sync, SyncConfig config, long run, String mode, long removed, long rowsHeld) {
        double ratio = config.massDeleteMaxRatio();
        if (ratio >= 1.0) {
            return new Guard(false, "off (" + SyncConfig.MASS_DELETE_MAX_RATIO + "=" + ratio + ")", null);
        }
        if (removed == 0) {
            return new Guard(false, "passes: nothing is removed", null);
        }
        if (rowsHeld <= 0) {
            return new Guard(false, "passes: consumers hold no rows yet", null);
        }
        String share = String.format(Locale.ROOT, "%d of %d rows (%.1f%%)", removed, rowsHeld, 100.0 * removed / rowsHeld);
        if (removed <= ratio * rowsHeld) {
            return new Guard(false, "passes: removes " + share + ", within " + SyncConfig.MASS_DELETE_MAX_RATIO + "=" + ratio, null);
        }
        if (config.massDeleteAllowRun() == run) {
            return new Guard(false, "passes: removes " + share + ", confirmed by " + SyncConfig.MASS_DELETE_ALLOW_RUN + "=" + run, null);
        }
        RunFailure failure = new RunFailure(sync, String.format(Locale.ROOT,
            "run %d (%s) is held by the mass-delete guard: it would remove %d of %d rows (%.1f%%), more than %s=%s. Nothing was emitted. "
                + "An empty or truncated result after an upstream failure looks exactly like this: check the query's inputs. "
                + "If the removal is intended, set %s=%d (confirms this run only) or raise %s, then restart the connector.",
            run, mode, removed, rowsHeld, 100.0 * removed / rowsHeld, SyncConfig.MASS_DELETE_MAX_RATIO, ratio,
            SyncConfig.MASS_DELETE_ALLOW_RUN, run, SyncConfig.MASS_DELETE_MAX_RATIO));
        return new Guard(true, "holds the run: removes " + share + ", more than " + SyncConfig.MASS_DELETE_MAX_RATIO + "=" + ratio
            + " (" + SyncConfig.MASS_DELETE_ALLOW_RUN + "=" + run + " confirms it)", failure);
    }
}
