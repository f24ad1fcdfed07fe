package io.bq2k.connect.bigquery;

import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.cloud.bigquery.FieldList;

/**
 * One run in progress, driven by its {@link SyncRunner}: preparation (the BigQuery steps, each idempotent, taken
 * as far as they go per call), then emission chunk by chunk, then the summary once every change was acknowledged.
 * It reads the runner's planning state (staging tables, rows consumers hold) and hands its outcome back through
 * {@link SyncRunner#runFinished}.
 */
final class ActiveRun {

    private static final Logger log = LoggerFactory.getLogger(ActiveRun.class);

    private final SyncRunner runner;
    private final SyncConfig config;
    private final String sync;
    private final RunSteps steps;
    private final SyncMetrics metrics;
    final Plan plan;
    final long run;
    final Instant startedAt;
    final Map<String, Long> inputs;
    final AtomicLong acked = new AtomicLong();
    String mode;
    /** The contract the run's records are published under (a re-key run keeps the old key). */
    RecordContract published;
    RecordShape shape;
    SyncSql.OldSide oldSide;
    boolean snapshotted;
    boolean checked;
    boolean diffed;
    boolean rekey;
    /** A re-key decided, its empty snapshot not made yet (its job may still run). */
    KeyChange.Rekey pendingRekey;
    long stepStartMs = -1;
    DiffStats stats;
    long rows;
    long bytes;
    long snapshotMs;
    long checkMs;
    long diffMs;
    long emitStartMs = -1;
    long emitMs;
    long emitted;
    long alreadyHandedOver;
    /** Version (creation time) of the diff table being emitted: part of every in-run offset. */
    long diffCreated;
    Iterator<Chunk> chunks;
    Chunk pending;
    CompletableFuture<List<RecordShape.Change>> pendingRead;
    volatile SourceRecord notWritten;
    boolean abandonSent;
    volatile boolean abandonAcked;

    ActiveRun(SyncRunner runner, Plan plan, Instant startedAt, Map<String, Long> inputs) {
        this.runner = runner;
        this.config = runner.config;
        this.sync = runner.sync;
        this.steps = runner.steps;
        this.metrics = runner.metrics;
        this.published = runner.contract;
        this.plan = plan;
        this.run = plan.run();
        this.mode = plan.mode();
        this.startedAt = startedAt;
        this.inputs = inputs;
        if (plan instanceof Plan.Resume) {
            snapshotted = checked = diffed = true;
            published = new RecordContract(config.topic(), plan.baseKeys(), config.temporalPrecision(), config.jsonColumns());
        }
    }

    /**
     * Connect acknowledged a record of this run. Null metadata: a change was not written (dropped by a
     * transformation, or skipped under {@code errors.tolerance=all}), so the run is abandoned.
     */
    void acknowledged(SourceRecord record, RecordMetadata metadata) {
        if (record.topic().equals(config.runHistoryTopic())) {
            if (Boolean.TRUE.equals(record.sourceOffset().get(SyncOffset.ABANDONED))) {
                abandonAcked = true;
            }
            return;
        }
        if (metadata != null) {
            acked.incrementAndGet();
            return;
        }
        if (notWritten == null) {
            notWritten = record;
            try {
                steps.markAbandoned(run); // before Connect can commit an offset past this record
            } catch (RuntimeException e) {
                log.error("Sync '{}': could not mark run {} as abandoned in BigQuery ({}); if the task stops before it fails, "
                    + "restart it with its offsets set to {{\"run\": {}, \"abandoned\": true, \"base\": {}}}", sync, run, e.getMessage(),
                    run, plan.base());
            }
        }
    }

    /** Ready to emit: every BigQuery step of the preparation is done. */
    boolean prepared() {
        return chunks != null;
    }

    void prepareOrDiscard() {
        try {
            prepare();
        } catch (RunFailure e) {
            discardFreshAttempt();
            throw e;
        }
    }

    /** Emission and completion, once prepared. */
    List<SourceRecord> step() throws InterruptedException {
        if (notWritten != null) {
            return abandon();
        }
        if (pending != null || chunks.hasNext()) {
            return emitChunk();
        }
        if (emitMs == 0 && emitStartMs >= 0) {
            emitMs = System.currentTimeMillis() - emitStartMs;
        }
        if (acked.get() < emitted) {
            metrics.phase("awaiting acknowledgements");
            runner.sleeper.sleep(20);
            return null;
        }
        return List.of(finish());
    }

    private void prepare() {
        ensureOpen();
        if (!snapshotted) {
            metrics.phase("snapshot");
            stepStarted();
            bytes += steps.snapshot(run);
            snapshotMs = stepMs();
            snapshotted = true;
        }
        if (shape == null && pendingRekey != null) {
            finishRekey();
        }
        if (shape == null) {
            // A resume keeps the key it started with. Its snapshot is the one its diff was taken from: a run is only
            // re-created under the same id when no committed position points into it.
            RecordShape current = shapeOf(steps.staging().snapshot(run), plan instanceof Plan.Resume ? plan.baseKeys() : config.keyColumns());
            RunFailure temporalKey = RunChecks.temporalKeyChanged(sync, run, plan, runner.precisionChanged, current);
            if (temporalKey != null) {
                throw temporalKey;
            }
            if (!(plan instanceof Plan.Resume)) {
                checkKeyUnchanged(current);
            }
            if (shape == null) {
                shape = current;
            }
        }
        ensureOpen();
        if (!checked) {
            metrics.phase("check");
            stepStarted();
            RunSteps.KeyCheck check = steps.checkKeys(run);
            RunFailure bad = check.failure(sync, run, config.keyColumns());
            if (bad != null) {
                throw bad;
            }
            rows = check.rows();
            checkMs = stepMs();
            checked = true;
        }
        ensureOpen();
        if (!diffed) {
            metrics.phase("diff");
            stepStarted();
            if (oldSide == null) {
                oldSide = plan.oldSide(steps.staging());
            }
            bytes += steps.diff(run, oldSide, shape);
            diffMs = stepMs();
            diffed = true;
        }
        if (stats == null) {
            stats = steps.stats(run, shape);
        }
        DiffStats s = stats;
        int bucket = 0;
        long seq = 0;
        diffCreated = steps.created(steps.staging().diff(run));
        if (plan instanceof Plan.Resume r) {
            bucket = r.bucket();
            seq = r.seq();
            rows = runner.snapshotRows(run);
        } else {
            if (!rekey) {
                guardMassDelete(s);
            }
            // From here on changes may be published: the tables a retake or resume needs must not expire.
            ensureOpen();
            steps.makeDurable(run);
        }
        metrics.bytesProcessed(bytes);
        alreadyHandedOver = s.handedOverAt(bucket, seq);
        chunks = s.chunksAfter(bucket, seq, config.readChunkRows());
        emitStartMs = System.currentTimeMillis();
        metrics.runProgress(alreadyHandedOver, s.total());
        log.info("Sync '{}': run {} ({}) has {} change(s): +{} ~{} -{}{}", sync, run, mode, s.total(), s.added(), s.changed(), s.removed(),
            alreadyHandedOver > 0 ? ", " + alreadyHandedOver + " already handed over before the restart" : "");
    }

    /** Marks the start of a step, unless it started at an earlier poll (its job still running then). */
    private void stepStarted() {
        if (stepStartMs < 0) {
            stepStartMs = System.currentTimeMillis();
        }
    }

    /** Duration of the step that just ended, across the polls it took. */
    private long stepMs() {
        long ms = System.currentTimeMillis() - stepStartMs;
        stepStartMs = -1;
        return ms;
    }

    /** A stopped task's thread must not send another statement: a new task instance may already run this run. */
    private void ensureOpen() {
        if (runner.closed) {
            throw new Retrier.TransientException("the task is stopping", null);
        }
    }

    /**
     * A run whose id was taken past every staging table (no offset, or a retake of a run the committed position
     * points into) failed before emitting: drop its tables, so that the next attempt gets the same id (a
     * confirmation names it) and nothing of it lingers.
     */
    private void discardFreshAttempt() {
        if (runner.stagedAtPlan.values().stream().noneMatch(t -> t.run() >= run)) {
            try {
                steps.drop(steps.staging().diff(run));
                steps.drop(steps.staging().snapshot(run));
            } catch (RuntimeException e) {
                log.warn("Sync '{}': could not drop the tables of held run {} (they expire): {}", sync, run, e.getMessage());
            }
        }
    }

    private RecordShape shapeOf(TableRef table, List<String> keys) {
        FieldList fields = steps.schema(table).orElseThrow(() -> new RunFailure(sync, "staging table " + table.quoted()
            + " vanished during run " + run + ". Nothing was emitted; restart the task."));
        return RunChecks.shape(sync, run, fields, keys, config);
    }

    /**
     * Keys published before (the base's, and those of earlier attempts' tables) must be the same columns of
     * the same types as this run's, or keys cannot be matched: then the run re-keys (after confirmation),
     * tombstoning every key published under the old key.
     */
    private void checkKeyUnchanged(RecordShape current) {
        List<KeyChange.Published> published = KeyChange.publishedBefore(sync, plan, runner.baseRows, steps, runner.stagedAtPlan);
        KeyChange.Rekey rekeyed = KeyChange.decide(sync, run, plan.base(), published, current, config.massDeleteAllowRun(),
            config.columnStyle(), steps.staging().prefix());
        if (rekeyed == null) {
            return;
        }
        log.warn("Sync '{}': run {} re-keys the sync (confirmed by {}={}): tombstones for every key published under {} (tables {}); "
            + "run {} publishes every row under {}", sync, run, SyncConfig.MASS_DELETE_ALLOW_RUN, run, rekeyed.oldKey(), rekeyed.tables(),
            run + 1, rekeyed.newKey());
        pendingRekey = rekeyed;
        finishRekey();
    }

    /** Replaces the run's snapshot by an empty one of the old key, so that the diff tombstones every old key. */
    private void finishRekey() {
        KeyChange.Rekey rekeyed = pendingRekey;
        // The old columns from a snapshot when there is one (a diff holds some as emitted).
        TableRef model = rekeyed.tables().stream().filter(t -> steps.staging().snapshotRun(t.table()).isPresent()).findFirst()
            .orElse(rekeyed.tables().get(0));
        RecordShape old;
        try {
            steps.emptySnapshotLike(run, model, rekeyed.oldKeys());
            old = shapeOf(steps.staging().snapshot(run), rekeyed.oldKeys());
        } catch (Retrier.TransientException e) {
            pendingRekey = null;
            snapshotted = false; // the snapshot may be replaced already: start over from a fresh one, and decide again
            throw e;
        }
        pendingRekey = null;
        rekey = true;
        mode = "rekey";
        this.published = new RecordContract(config.topic(), rekeyed.oldKeys(), config.temporalPrecision(), config.jsonColumns());
        oldSide = new SyncSql.OldSide(OptionalLong.empty(), rekeyed.tables());
        checked = true;
        rows = 0;
        shape = old;
    }

    private void guardMassDelete(DiffStats s) {
        RunChecks.Guard guard = RunChecks.massDelete(sync, config, run, mode, s.removed(), runner.baseRows);
        if (guard.held()) {
            throw guard.failure();
        }
    }

    private List<SourceRecord> emitChunk() throws InterruptedException {
        metrics.phase("emit");
        if (pending == null) {
            pending = chunks.next();
            pendingRead = read(pending);
        }
        List<RecordShape.Change> changes;
        try {
            changes = pendingRead.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Retrier.PermanentException && steps.schema(steps.staging().diff(run)).isEmpty()) {
                throw Planner.lost(sync, "the diff table " + steps.staging().diff(run).quoted() + " of run " + run
                    + " is gone while it was being emitted", "the rest of run " + run);
            }
            pendingRead = read(pending); // retried at the next poll, after Connect's own backoff
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
        if (changes.size() != pending.size()) {
            throw new IllegalStateException("read " + changes.size() + " changes for " + pending + " of run " + run
                + ", expected " + pending.size() + ": the diff table changed under the run");
        }
        Chunk chunk = pending;
        pending = chunks.hasNext() ? chunks.next() : null;
        pendingRead = pending == null ? null : read(pending);
        List<SourceRecord> records = shape.records(changes, runner.partition, config.topic(), run, chunk.bucket(), plan.base(), published,
            diffCreated);
        emitted += records.size();
        metrics.runProgress(alreadyHandedOver + emitted, stats.total());
        if (runner.transactions != null && !records.isEmpty()) {
            runner.transactions.commitTransaction(records.get(records.size() - 1));
        }
        return records;
    }

    private CompletableFuture<List<RecordShape.Change>> read(Chunk chunk) {
        RecordShape s = shape;
        return CompletableFuture.supplyAsync(() -> steps.read(run, chunk, s), runner.readExecutor);
    }

    /**
     * A change was not written: publish {run, abandoned} so that the next attempt retakes the run
     * (re-examining every key of this one), and fail once that offset is committed.
     */
    private List<SourceRecord> abandon() throws InterruptedException {
        String failure = "run " + run + ": the change of key " + notWritten.key() + " was acknowledged by Connect without being written "
            + "to topic '" + config.topic() + "' (a transformation dropped it, or errors.tolerance=all skipped a failed send). Every change "
            + "must reach the topic or MySQL misses it. Remove the filtering transformation (or the cause of the failed send; the worker "
            + "log has it) and restart the task: the run is retaken and re-examines every key it published.";
        if (!abandonSent) {
            abandonSent = true;
            if (pendingRead != null) {
                pendingRead.cancel(true);
            }
            metrics.phase("abandoning");
            log.error("Sync '{}': {}", sync, failure);
            RunSummary summary = new RunSummary(sync, run, plan.base(), "abandoned", startedAt.toEpochMilli(), runner.clock.millis(),
                rows, 0, 0, 0, bytes, snapshotMs, checkMs, diffMs, 0, Map.of());
            SourceRecord record = new SourceRecord(runner.partition, SyncOffset.abandoned(run, plan.base(), published).toMap(),
                config.runHistoryTopic(), null, RunSummary.KEY_SCHEMA, summary.key(), RunSummary.VALUE_SCHEMA, summary.value());
            if (runner.transactions != null) {
                runner.transactions.commitTransaction(record);
            }
            return List.of(record);
        }
        // Failing before {run, abandoned} is committed would let the restart resume past the lost change.
        SyncOffset committed = abandonAcked ? runner.committedOffset() : null;
        if (committed == null || committed.kind() != SyncOffset.Kind.ABANDONED || committed.run() != run) {
            runner.sleeper.sleep(200);
            return null;
        }
        throw new RunFailure(sync, failure);
    }

    private SourceRecord finish() {
        long now = runner.clock.millis();
        Map<String, Long> ends = new TreeMap<>();
        runner.endOffsets.forEach((p, o) -> ends.put(Integer.toString(p), o));
        RunSummary summary = new RunSummary(sync, run, plan.base(), mode, startedAt.toEpochMilli(), now, rows,
            stats.added(), stats.changed(), stats.removed(), bytes, snapshotMs, checkMs, diffMs, emitMs, ends);
        Map<String, Object> offset = SyncOffset.completed(run, published, diffCreated).toMap();
        new LastRun(startedAt.toEpochMilli(), now, LastRun.hash(config.sourceQuery()), config.scheduleTrigger(),
            LastRun.inputsHash(inputs)).writeTo(offset);
        SourceRecord record = new SourceRecord(runner.partition, offset, config.runHistoryTopic(), null,
            RunSummary.KEY_SCHEMA, summary.key(), RunSummary.VALUE_SCHEMA, summary.value());
        if (runner.transactions != null) {
            runner.transactions.commitTransaction(record);
        }
        log.info(summary.logLine());
        metrics.runSucceeded(summary);
        runner.runFinished(SyncOffset.completed(run, published, diffCreated), LastRun.inputsHash(inputs), startedAt);
        return record;
    }
}
