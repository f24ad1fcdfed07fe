package io.bq2k.connect.bigquery;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.TransactionContext;
import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.cloud.bigquery.Table;
import com.google.cloud.bigquery.TableId;

/**
 * The run state machine of one sync, driven by the task's poll loop:
 * <pre>
 *   PLAN (read offsets, find baseline) → WAIT (schedule) → PREPARE (snapshot, check, diff, stats, guard)
 *     → EMIT (chunk by chunk) → ACK (all changes acknowledged) → SUMMARY (run-history record) → WAIT …
 * </pre>
 * A transient BigQuery error leaves the state as it is, so the next poll retries the same step.
 * A {@link RunFailure} fails the task before anything of the run is emitted.
 */
public final class SyncRunner implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SyncRunner.class);

    private final SyncConfig config;
    private final String sync;
    private final RunSteps steps;
    private final BigQueryGateway gateway;
    private final ChangeReader reader;
    private final OffsetStorageReader offsets;
    private final TransactionContext transactions;
    private final Clock clock;
    private final SyncMetrics metrics;
    private final CronSchedule cron;
    private final Map<String, String> partition;
    private final ExecutorService prefetcher;
    private final Map<Integer, Long> endOffsets = new ConcurrentHashMap<>();

    private boolean planned;
    private long nextRun;
    private OptionalLong baseline = OptionalLong.empty();
    /** Snapshots whose keys a resync must tombstone when gone; null when the next run is incremental. */
    private List<Long> resyncFrom;
    private SyncOffset resumeAt;
    private Instant nextRunAt;
    private Map<String, Long> lastInputs;
    /** Read by commitRecord on the producer thread. */
    private volatile ActiveRun active;

    public SyncRunner(SyncConfig config, String sync, BigQueryGateway gateway, ChangeReader reader, OffsetStorageReader offsets,
                      TransactionContext transactions, Clock clock, SyncMetrics metrics) {
        this.config = config;
        this.sync = sync;
        this.gateway = gateway;
        this.steps = new RunSteps(config, sync, gateway);
        this.reader = reader;
        this.offsets = offsets;
        this.transactions = transactions;
        this.clock = clock;
        this.metrics = metrics;
        this.cron = config.scheduleCron().isEmpty() ? null : CronSchedule.parse(config.scheduleCron());
        this.partition = SyncOffset.partition(sync);
        this.prefetcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "bq2k-" + sync + "-reader");
            t.setDaemon(true);
            return t;
        });
        this.nextRunAt = clock.instant();
    }

    /** One step of the state machine; records to hand to Connect, or null. */
    public List<SourceRecord> poll() throws InterruptedException {
        if (!planned) {
            plan();
        }
        if (active == null) {
            Instant now = clock.instant();
            if (now.isBefore(nextRunAt)) {
                metrics.phase("waiting");
                Thread.sleep(Math.min(1000, Math.max(1, nextRunAt.toEpochMilli() - now.toEpochMilli())));
                return null;
            }
            active = startRun(now);
            if (active == null) {
                return null;
            }
        }
        try {
            return active.step();
        } catch (RunFailure e) {
            metrics.runFailed(e.getMessage());
            throw e;
        }
    }

    /** Reads the committed offset and decides what the next run is. */
    private void plan() {
        metrics.phase("planning");
        steps.ensureStagingDataset();
        SyncOffset offset;
        try {
            offset = SyncOffset.fromMap(offsets.offset(partition));
        } catch (IllegalArgumentException e) {
            throw new RunFailure(sync, "the stored source offset is not valid (" + e.getMessage()
                + "); reset it with DELETE /connectors/<name>/offsets or alter it with PATCH /connectors/<name>/offsets");
        }
        if (offset == null) {
            resyncFrom = steps.retainedSnapshots();
            nextRun = steps.highestStagedRun() + 1;
            log.info("Sync '{}': no committed offset; run {} publishes every row{}", sync, nextRun,
                resyncFrom.isEmpty() ? "" : " and tombstones keys gone since the retained snapshot(s) " + resyncFrom);
        } else if (offset.done()) {
            nextRun = offset.run() + 1;
            if (steps.snapshotExists(offset.run())) {
                baseline = OptionalLong.of(offset.run());
            } else {
                resyncFrom = steps.retainedSnapshots();
                nextRun = Math.max(nextRun, steps.highestStagedRun() + 1);
                log.warn("Sync '{}': the snapshot of baseline run {} is gone from {} (expired?); run {} resyncs every row. "
                    + "Raise {} to resume incrementally after long outages.", sync, offset.run(), steps.staging().dataset(), nextRun,
                    SyncConfig.STAGING_EXPIRATION_HOURS);
            }
        } else if (steps.diffExists(offset.run()) && steps.snapshotExists(offset.run())) {
            nextRun = offset.run();
            resumeAt = offset;
            baseline = offset.run() > 1 && steps.snapshotExists(offset.run() - 1) ? OptionalLong.of(offset.run() - 1) : OptionalLong.empty();
            log.info("Sync '{}': resuming run {} after bucket {} seq {}", sync, offset.run(), offset.bucket(), offset.seq());
        } else {
            resyncFrom = steps.retainedSnapshots();
            nextRun = Math.max(offset.run() + 1, steps.highestStagedRun() + 1);
            log.warn("Sync '{}': run {} was interrupted but its staging tables are gone (expired?); run {} resyncs every row "
                + "and tombstones keys of the retained snapshots {}", sync, offset.run(), nextRun, resyncFrom);
        }
        planned = true;
    }

    private ActiveRun startRun(Instant now) {
        long run = nextRun;
        String mode = resumeAt != null ? "resume" : resyncFrom == null ? "incremental" : resyncFrom.isEmpty() ? "initial" : "resync";
        Map<String, Long> inputs = null;
        if (resumeAt == null && config.skipUnchangedInputs()) {
            inputs = inputsLastModified();
            if (mode.equals("incremental") && inputs != null && inputs.equals(lastInputs)) {
                log.info("Sync '{}': run {} skipped, no input table changed since the last run ({})", sync, run, inputs.keySet());
                metrics.runSkipped();
                scheduleNext(now);
                return null;
            }
        }
        metrics.runStarted(run);
        if (baseline.isPresent() && resumeAt == null) {
            try {
                int dropped = steps.dropBefore(baseline.getAsLong());
                if (dropped > 0) {
                    log.debug("Sync '{}': dropped {} staging table(s) before run {}", sync, dropped, baseline.getAsLong());
                }
            } catch (RuntimeException e) {
                log.warn("Sync '{}': could not drop old staging tables (they expire anyway): {}", sync, e.getMessage());
            }
        }
        return new ActiveRun(run, mode, now, inputs);
    }

    /** Last-modified time of every table the query reads, or null when BigQuery does not list them. */
    private Map<String, Long> inputsLastModified() {
        try {
            List<TableId> refs = gateway.dryRun(config.sourceQuery()).referencedTables();
            if (refs.isEmpty()) {
                return null;
            }
            Map<String, Long> inputs = new TreeMap<>();
            for (TableId id : refs) {
                Table t = gateway.table(id).orElse(null);
                if (t == null || t.getLastModifiedTime() == null) {
                    return null;
                }
                inputs.put(id.getProject() + "." + id.getDataset() + "." + id.getTable(), t.getLastModifiedTime());
            }
            return inputs;
        } catch (Retrier.PermanentException e) {
            return null; // the snapshot step reports a broken query with the full message
        }
    }

    private void scheduleNext(Instant runStart) {
        Instant byConfig = cron != null ? cron.next(runStart) : runStart.plusMillis(config.scheduleIntervalMs());
        Instant now = clock.instant();
        nextRunAt = byConfig.isBefore(now) ? now : byConfig;
    }

    /** Connect acknowledged a record (written to Kafka, or committed in a transaction). */
    public void acknowledged(SourceRecord record, RecordMetadata metadata) {
        if (metadata == null || !record.topic().equals(config.topic())) {
            return;
        }
        endOffsets.merge(metadata.partition(), metadata.offset() + 1, Math::max);
        ActiveRun run = active;
        Object r = record.sourceOffset().get(SyncOffset.RUN);
        if (run != null && r instanceof Long && (Long) r == run.run) {
            run.acked.incrementAndGet();
        }
    }

    @Override
    public void close() {
        prefetcher.shutdownNow();
    }

    /** One run in progress: preparation progress, then emission position. */
    private final class ActiveRun {
        final long run;
        final String mode;
        final Instant startedAt;
        final Map<String, Long> inputs;
        final AtomicLong acked = new AtomicLong();
        RecordShape shape;
        boolean snapshotted;
        boolean checked;
        boolean diffed;
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
        Iterator<Chunk> chunks;
        Chunk pending;
        Future<List<RecordShape.Change>> pendingRead;

        ActiveRun(long run, String mode, Instant startedAt, Map<String, Long> inputs) {
            this.run = run;
            this.mode = mode;
            this.startedAt = startedAt;
            this.inputs = inputs;
            if (resumeAt != null) {
                snapshotted = checked = diffed = true;
            }
        }

        List<SourceRecord> step() throws InterruptedException {
            if (stats == null) {
                prepare();
            }
            if (pending != null || chunks.hasNext()) {
                return emitChunk();
            }
            if (emitMs == 0 && emitStartMs >= 0) {
                emitMs = System.currentTimeMillis() - emitStartMs;
            }
            if (acked.get() < emitted) {
                metrics.phase("awaiting acknowledgements");
                Thread.sleep(20);
                return null;
            }
            return List.of(finish());
        }

        private void prepare() {
            if (!snapshotted) {
                metrics.phase("snapshot");
                long t = System.currentTimeMillis();
                bytes += steps.snapshot(run);
                snapshotMs = System.currentTimeMillis() - t;
                snapshotted = true;
            }
            if (shape == null) {
                shape = steps.shape(run, baseline);
            }
            if (!checked) {
                metrics.phase("check");
                long t = System.currentTimeMillis();
                rows = steps.checkKeys(run);
                checkMs = System.currentTimeMillis() - t;
                checked = true;
            }
            if (!diffed) {
                metrics.phase("diff");
                long t = System.currentTimeMillis();
                SyncSql.OldSide old = resyncFrom == null ? new SyncSql.OldSide.Baseline(baseline.getAsLong())
                    : new SyncSql.OldSide.Resync(run, resyncFrom);
                bytes += steps.diff(run, old, shape);
                diffMs = System.currentTimeMillis() - t;
                diffed = true;
            }
            DiffStats s = steps.stats(run, shape);
            if (resumeAt == null) {
                guardMassDelete(s);
            } else {
                rows = steps.snapshotRows(run);
            }
            metrics.bytesProcessed(bytes);
            int bucket = resumeAt == null ? 0 : resumeAt.bucket();
            long seq = resumeAt == null ? 0 : resumeAt.seq();
            alreadyHandedOver = s.handedOverAt(bucket, seq);
            chunks = s.chunksAfter(bucket, seq, config.readChunkRows());
            stats = s;
            emitStartMs = System.currentTimeMillis();
            metrics.runProgress(alreadyHandedOver, s.total());
            log.info("Sync '{}': run {} ({}) has {} change(s): +{} ~{} -{}{}", sync, run, mode, s.total(), s.added(), s.changed(), s.removed(),
                alreadyHandedOver > 0 ? ", " + alreadyHandedOver + " already handed over before the restart" : "");
        }

        private void guardMassDelete(DiffStats s) {
            double ratio = config.massDeleteMaxRatio();
            if (ratio >= 1.0 || s.removed() == 0) {
                return;
            }
            long baseRows = resyncFrom == null ? steps.snapshotRows(baseline.getAsLong())
                : resyncFrom.stream().mapToLong(steps::snapshotRows).max().orElse(0);
            if (baseRows > 0 && s.removed() > ratio * baseRows && config.massDeleteAllowRun() != run) {
                throw new RunFailure(sync, String.format(java.util.Locale.ROOT,
                    "run %d is held by the mass-delete guard: it would remove %d of %d rows (%.1f%%), more than %s=%s. Nothing was emitted. "
                        + "An empty or truncated result after an upstream failure looks exactly like this: check the query's inputs. "
                        + "If the removal is intended, set %s=%d (confirms this run only) or raise %s, then restart the connector.",
                    run, s.removed(), baseRows, 100.0 * s.removed() / baseRows, SyncConfig.MASS_DELETE_MAX_RATIO, ratio,
                    SyncConfig.MASS_DELETE_ALLOW_RUN, run, SyncConfig.MASS_DELETE_MAX_RATIO));
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
            List<SourceRecord> records = new ArrayList<>(changes.size());
            for (RecordShape.Change c : changes) {
                records.add(new SourceRecord(partition, SyncOffset.inRun(run, chunk.bucket(), c.seq()).toMap(), config.topic(), null,
                    shape.keySchema(), c.key(), c.value() == null ? null : shape.valueSchema(), c.value()));
            }
            emitted += records.size();
            metrics.runProgress(alreadyHandedOver + emitted, stats.total());
            if (transactions != null && !records.isEmpty()) {
                transactions.commitTransaction(records.get(records.size() - 1));
            }
            return records;
        }

        private Future<List<RecordShape.Change>> read(Chunk chunk) {
            return prefetcher.submit(() -> reader.read(steps.staging().diff(run), chunk, shape));
        }

        private SourceRecord finish() {
            long now = clock.millis();
            Map<String, Long> ends = new TreeMap<>();
            endOffsets.forEach((p, o) -> ends.put(Integer.toString(p), o));
            long b = baseline.isPresent() ? baseline.getAsLong() : 0;
            RunSummary summary = new RunSummary(sync, run, b, mode, startedAt.toEpochMilli(), now, rows,
                stats.added(), stats.changed(), stats.removed(), bytes, snapshotMs, checkMs, diffMs, emitMs, ends);
            SourceRecord record = new SourceRecord(partition, SyncOffset.completed(run).toMap(), config.runHistoryTopic(), null,
                RunSummary.KEY_SCHEMA, summary.key(), RunSummary.VALUE_SCHEMA, summary.value());
            if (transactions != null) {
                transactions.commitTransaction(record);
            }
            log.info(summary.logLine());
            metrics.runSucceeded(summary);
            baseline = OptionalLong.of(run);
            resyncFrom = null;
            resumeAt = null;
            lastInputs = inputs;
            nextRun = run + 1;
            active = null;
            scheduleNext(startedAt);
            return record;
        }
    }
}
