package io.bq2k.connect.bigquery;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Supplier;

import com.google.cloud.bigquery.FieldList;

/**
 * A dry run of a sync's next run ("plan"): the run the connector would make now, decided by the real {@link Planner}
 * from the committed offset and the sync's staging tables, taken through the connector's own steps — snapshot, key
 * checks, diff, diff stats ({@link RunSteps}, {@link SyncSql}) and the pre-emission checks ({@link RunChecks}) — in
 * tables of its own ({@link StagingTables#dryRun}), which it drops at the end. Nothing is emitted and no table of the
 * sync is written: a task of the sync that runs meanwhile neither sees the dry run's tables nor cancels its jobs.
 */
public final class DryRun {

    /** Sample keys per operation the report shows unless told otherwise. */
    public static final int DEFAULT_SAMPLES = 5;
    /** Transient BigQuery failures of one step before the dry run gives up (a task would retry for ever). */
    private static final int MAX_TRANSIENT_FAILURES = 5;

    private final SyncConfig config;
    private final String sync;
    /** The sync's own steps: list and read its tables; nothing is written through them. */
    private final RunSteps syncSteps;
    /** The dry run's steps: write the tables of {@link StagingTables#dryRun}. */
    private final RunSteps scratch;
    private final int samples;
    private final SyncRunner.Sleeper pause;

    DryRun(SyncConfig config, RunSteps syncSteps, RunSteps scratch, int samples, SyncRunner.Sleeper pause) {
        this.config = config;
        this.sync = config.syncName();
        this.syncSteps = syncSteps;
        this.scratch = scratch;
        this.samples = samples;
        this.pause = pause;
    }

    /**
     * Plans the sync's next run in BigQuery without emitting, with {@link #DEFAULT_SAMPLES} sample keys per operation.
     *
     * @param connectorConfig the connector's config as Connect holds it ({@code GET /connectors/{name}/config}), with {@code name}
     * @param committedOffset the sync's committed source offset, the {@code offset} object of
     *                        {@code GET /connectors/{name}/offsets} for partition {@code {"sync": <sync name>}}; null when none
     *                        (a new sync, or offsets reset: the plan is then the one after a reset)
     * @throws org.apache.kafka.common.config.ConfigException when the config is not valid
     * @throws IllegalArgumentException when the offset is not one of this connector's
     */
    public static DryRunReport plan(Map<String, String> connectorConfig, Map<String, ?> committedOffset) {
        return plan(connectorConfig, committedOffset, DEFAULT_SAMPLES);
    }

    /** {@link #plan(Map, Map)} with {@code samples} sample keys per operation. */
    public static DryRunReport plan(Map<String, String> connectorConfig, Map<String, ?> committedOffset, int samples) {
        SyncConfig config = new SyncConfig(BigQuerySourceConnector.withSyncName(connectorConfig));
        SyncOffset committed = SyncOffset.fromMap(committedOffset);
        try (BigQueryGateway gateway = new BigQueryGateway(config, () -> false)) {
            if (!gateway.datasetExists(config.stagingDataset())) {
                return DryRunReport.notStarted(config.syncName(), "the staging dataset " + config.stagingDataset() + " does not exist yet ("
                    + "the first run creates it when " + SyncConfig.STAGING_DATASET_CREATE + "=true). A dry run leaves nothing behind, so it "
                    + "does not create it: create the dataset in the query's location first, then plan again.");
            }
            RunSteps syncSteps = new BigQueryRunSteps(config, gateway, null);
            RunSteps scratch = BigQueryRunSteps.dryRun(config, gateway, newMarker());
            return new DryRun(config, syncSteps, scratch, samples, Thread::sleep).run(committed);
        }
    }

    /** Eight random lowercase letters and digits: tells this dry run's tables and jobs from any other's. */
    static String newMarker() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        SecureRandom random = new SecureRandom();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /** The dry run of the next run after {@code committed} (null: no committed offset). */
    DryRunReport run(SyncOffset committed) {
        DryRunReport.Builder report = new DryRunReport.Builder(sync, scratch.staging().prefix());
        List<TableRef> touched = new ArrayList<>();
        try {
            plan(committed, report, touched);
        } catch (RunFailure e) {
            report.failure(e.getMessage());
        } catch (RuntimeException e) {
            report.error(e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
            dropAll(touched, report);
            report.bytesProcessed(scratch.bytesProcessed() + syncSteps.bytesProcessed());
        }
        return report.build();
    }

    private void plan(SyncOffset committed, DryRunReport.Builder report, List<TableRef> touched) {
        RecordContract contract = RecordContract.of(config);
        Planner planner = new Planner(sync, syncSteps.staging(), config.ownerId(), contract, !config.mayDropRecords());
        List<StagedTable> staged = step(syncSteps::stagedTables);
        Plan plan = planner.plan(committed, staged);
        long run = plan.run();
        report.plan(run, plan.mode(), plan.why(), committed == null ? null : committed.toMap());
        if (plan instanceof Plan.Resume) {
            return; // no new snapshot: the rest of the existing diff is emitted
        }
        RunFailure heldAfterRekey = RunChecks.heldAfterRekey(sync, plan, config, contract);
        if (heldAfterRekey != null) {
            report.held(heldAfterRekey.getMessage());
            return;
        }
        long rowsHeld = Planner.rowsConsumersHold(plan, staged);
        Map<TableRef, StagedTable> stagedByRef = new HashMap<>();
        staged.forEach(t -> stagedByRef.put(t.ref(), t));
        StagingTables tables = scratch.staging();

        touched.add(tables.snapshot(run));
        step(() -> scratch.snapshot(run));
        RecordShape shape = shapeOf(tables.snapshot(run), run, config.keyColumns());
        boolean precisionChanged = committed != null && contract.precisionChangedFrom(committed.contract());
        RunFailure temporalKey = RunChecks.temporalKeyChanged(sync, run, plan, precisionChanged, shape);
        if (temporalKey != null) {
            throw temporalKey;
        }
        List<KeyChange.Published> published = step(() -> KeyChange.publishedBefore(sync, plan, rowsHeld, syncSteps, stagedByRef));
        // Decided as if confirmed, to tell a held re-key from the other failures; unconfirmed, the task fails with decide's message.
        KeyChange.Rekey rekey = KeyChange.decide(sync, run, plan.base(), published, shape, run, config.columnStyle(), syncSteps.staging().prefix());
        if (rekey != null && config.massDeleteAllowRun() != run) {
            try {
                KeyChange.decide(sync, run, plan.base(), published, shape, config.massDeleteAllowRun(), config.columnStyle(),
                    syncSteps.staging().prefix());
            } catch (RunFailure held) {
                report.held(held.getMessage());
                return;
            }
        }
        SyncSql.OldSide oldSide;
        if (rekey != null) {
            // As the task's re-key run: an empty snapshot of the old key, so that the diff tombstones every key published under it.
            TableRef model = rekey.tables().stream().filter(t -> syncSteps.staging().snapshotRun(t.table()).isPresent()).findFirst()
                .orElse(rekey.tables().get(0));
            step(() -> {
                scratch.emptySnapshotLike(run, model, rekey.oldKeys());
                return null;
            });
            shape = shapeOf(tables.snapshot(run), run, rekey.oldKeys());
            oldSide = new SyncSql.OldSide(OptionalLong.empty(), rekey.tables());
            report.rekey("re-key from " + rekey.oldKey() + " to " + rekey.newKey() + " (confirmed by " + SyncConfig.MASS_DELETE_ALLOW_RUN
                + "=" + run + "): tombstones every key published under the old key; run " + (run + 1) + " republishes every row");
            report.rows(0);
        } else {
            RunSteps.KeyCheck check = step(() -> scratch.checkKeys(run));
            RunFailure bad = check.failure(sync, run, config.keyColumns());
            if (bad != null) {
                throw bad;
            }
            report.rows(check.rows());
            oldSide = plan.oldSide(syncSteps.staging());
        }
        RecordShape diffShape = shape;
        touched.add(tables.diff(run));
        step(() -> scratch.diff(run, oldSide, diffShape));
        DiffStats stats = step(() -> scratch.stats(run, diffShape));
        report.changes(stats.added(), stats.changed(), stats.removed());
        report.samples(step(() -> scratch.sampleKeys(run, samples)));
        if (rekey != null) {
            report.guard("not applied: a confirmed re-key run", false);
            return;
        }
        RunChecks.Guard guard = RunChecks.massDelete(sync, config, run, plan.mode(), stats.removed(), rowsHeld);
        report.guard(guard.why(), guard.held());
        if (guard.held()) {
            report.held(guard.failure().getMessage());
        }
    }

    private RecordShape shapeOf(TableRef table, long run, List<String> keys) {
        FieldList fields = step(() -> scratch.schema(table)).orElseThrow(() -> new IllegalStateException("table " + table + " vanished"));
        return RunChecks.shape(sync, run, fields, keys, config);
    }

    /** Drops every table the dry run may have created; each that existed is reported as created, and as dropped or left. */
    private void dropAll(List<TableRef> touched, DryRunReport.Builder report) {
        Map<String, String> outcome = new LinkedHashMap<>();
        for (TableRef t : touched) {
            try {
                if (step(() -> scratch.schema(t)).isEmpty()) {
                    continue;
                }
                outcome.put(t.toString(), null);
                step(() -> {
                    scratch.drop(t);
                    return null;
                });
                outcome.put(t.toString(), "dropped");
            } catch (RuntimeException e) {
                outcome.put(t.toString(), "left (it expires after " + SyncConfig.STAGING_EXPIRATION_HOURS + "=" + config.stagingExpirationHours()
                    + " h; drop it by hand): " + e.getMessage());
            }
        }
        outcome.forEach(report::table);
    }

    /**
     * A step taken to its end: one whose job still runs is called again (it follows the same job), a transient failure
     * is retried a few times after a pause.
     */
    private <T> T step(Supplier<T> step) {
        int transientFailures = 0;
        while (true) {
            try {
                return step.get();
            } catch (JobStillRunning e) {
                sleep(1000);
            } catch (Retrier.TransientException e) {
                if (++transientFailures > MAX_TRANSIENT_FAILURES) {
                    throw e;
                }
                sleep(1000L << Math.min(transientFailures, 4));
            }
        }
    }

    private void sleep(long ms) {
        try {
            pause.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Retrier.TransientException("interrupted", e);
        }
    }
}
