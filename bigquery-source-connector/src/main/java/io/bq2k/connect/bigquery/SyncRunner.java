package io.bq2k.connect.bigquery;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.TransactionContext;
import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run state machine of one sync, driven by the task's poll loop:
 * <pre>
 *   PLAN ({@link Planner}: committed offset + staging tables) → WAIT (schedule) → PREPARE (snapshot,
 *     check, re-key?, diff, stats, guard, make durable) → EMIT (chunk by chunk) → ACK (every change
 *     acknowledged) → SUMMARY (run-history record carrying {run, done}) → WAIT …
 * </pre>
 * Planning and preparation talk to BigQuery; they run on a control thread, and a poll waits at most
 * {@link #CONTROL_WAIT_MS} for them, so that the task stays responsive (a worker calls {@code stop()}
 * only once {@code poll()} has returned). A step whose BigQuery job is still running is called again
 * at a later poll and follows the same job ({@link QueryJobs}). A transient error leaves the state
 * as it is: the same step is retried after a backoff ({@link Backoff}), with polls returning
 * meanwhile. A {@link RunFailure} fails the task before anything of the run is emitted. A change Connect did
 * not write (acknowledged without metadata) abandons the run: a record carrying
 * {@code {run, abandoned}} makes the next attempt retake it, and the task fails naming the key.
 */
public final class SyncRunner implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SyncRunner.class);

    final SyncConfig config;
    final String sync;
    final RunSteps steps;
    private final OffsetStorageReader offsets;
    final TransactionContext transactions;
    final Clock clock;
    final SyncMetrics metrics;
    private final CronSchedule cron;
    final Map<String, String> partition;
    final RecordContract contract;
    private final Planner planner;
    final Sleeper sleeper;
    /** Runs chunk reads ahead of emission: the worker's read pool ({@link WorkerThreads}), owned by the task. */
    final Executor readExecutor;
    final Map<Integer, Long> endOffsets = new ConcurrentHashMap<>();
    /** Runs planning and preparation, the steps that wait for BigQuery. */
    private final Executor controlExecutor;
    private final Backoff backoff;
    /** Planning or preparation in flight on the control executor. */
    private CompletableFuture<Void> control;
    /** A failed or still-running step is not tried again before this time. */
    private Instant retryAt;

    private Plan plan;
    /** Jobs an earlier task instance left running were cancelled and are done (checked once per task). */
    private boolean orphansSettled;
    /** The committed contract differs from the configured one in the temporal precision. */
    boolean precisionChanged;
    /** Set by {@link #close()}: a stopped task submits no further statement. */
    volatile boolean closed;
    /** The offset of the last summary this runner emitted: ahead of the committed offset until Connect flushes it. */
    private SyncOffset handedOver;
    /** Rows of the snapshot of the plan's base (or, for an initial plan, of the largest re-examined snapshot). */
    long baseRows;
    /** The staging tables as listed when planning: rows of snapshots, key columns of every table. */
    final Map<TableRef, StagedTable> stagedAtPlan = new HashMap<>();
    /** Null until the schedule was recovered from the committed offset (at the first poll). */
    private Instant nextRunAt;
    /** Hash of the inputs' last-modified times at the last completed run ("": unknown). */
    private String lastInputs = "";
    /** Why skipping is not safe, as last logged (once per reason). */
    private String lastNotSafe;
    /** Read by commitRecord on the producer thread. */
    private volatile ActiveRun active;

    /** How the runner waits (for the schedule, for acknowledgements): real sleeps in a task, simulated time in tests. */
    public interface Sleeper {
        void sleep(long ms) throws InterruptedException;
    }

    /** The longest one poll waits for planning or preparation before it returns (the work goes on meanwhile). */
    static final long CONTROL_WAIT_MS = 1000;
    /** How soon a step whose job is still running looks at it again. */
    private static final long JOB_CHECK_INTERVAL_MS = 1000;

    /**
     * @param reads    runs chunk reads ahead of emission (the task's lease on the worker's read pool)
     * @param controls runs planning and preparation (the task's lease on the worker's control pool)
     */
    public SyncRunner(SyncConfig config, RunSteps steps, OffsetStorageReader offsets, TransactionContext transactions,
                      Clock clock, SyncMetrics metrics, Executor reads, Executor controls) {
        this(config, steps, offsets, transactions, clock, Thread::sleep, reads, controls, metrics, null);
    }

    /**
     * @param readExecutor    runs chunk reads ahead of emission; not shut down by this runner
     * @param controlExecutor runs planning and preparation; not shut down by this runner
     * @param planner         null: the standard {@link Planner}
     */
    SyncRunner(SyncConfig config, RunSteps steps, OffsetStorageReader offsets, TransactionContext transactions, Clock clock,
               Sleeper sleeper, Executor readExecutor, Executor controlExecutor, SyncMetrics metrics, Planner planner) {
        this.config = config;
        this.sync = config.syncName();
        this.steps = steps;
        this.offsets = offsets;
        this.transactions = transactions;
        this.clock = clock;
        this.metrics = metrics;
        this.cron = config.scheduleCron().isEmpty() ? null : CronSchedule.parse(config.scheduleCron());
        this.partition = SyncOffset.partition(sync);
        this.contract = RecordContract.of(config);
        this.planner = planner != null ? planner : new Planner(sync, steps.staging(), config.ownerId(), contract, !config.mayDropRecords());
        this.sleeper = sleeper;
        this.readExecutor = java.util.Objects.requireNonNull(readExecutor, "readExecutor");
        this.controlExecutor = java.util.Objects.requireNonNull(controlExecutor, "controlExecutor");
        this.backoff = Backoff.of(config);
    }

    /** One step of the state machine; records to hand to Connect, or null. */
    public List<SourceRecord> poll() throws InterruptedException {
        try {
            if (control != null && !controlDone()) {
                return null;
            }
            ActiveRun run = active;
            if (nextRunAt == null) {
                nextRunAt = recoverSchedule();
            }
            if (run == null || !run.prepared()) {
                Instant now = clock.instant();
                Instant wakeAt = retryAt != null && retryAt.isAfter(now) ? retryAt : run == null && now.isBefore(nextRunAt) ? nextRunAt : null;
                if (wakeAt != null) {
                    if (run == null && retryAt == null) {
                        metrics.phase("waiting");
                    }
                    sleeper.sleep(Math.min(1000, Math.max(1, wakeAt.toEpochMilli() - now.toEpochMilli())));
                    return null;
                }
                retryAt = null;
                control = runControl(this::planAndPrepare);
                if (!controlDone()) {
                    return null;
                }
                run = active;
                if (run == null || !run.prepared()) {
                    return null;
                }
            }
            List<SourceRecord> records = run.step();
            backoff.succeeded();
            return records;
        } catch (Retrier.TransientException e) {
            retryLater(e);
            return null;
        } catch (RunFailure e) {
            metrics.runFailed(e.getMessage());
            throw e;
        }
    }

    private CompletableFuture<Void> runControl(Runnable work) {
        try {
            return CompletableFuture.runAsync(work, controlExecutor);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            throw new Retrier.TransientException("the task is stopping", e);
        }
    }

    /** Starts the run when none is active, then takes its preparation as far as it goes. Runs on the control executor. */
    private void planAndPrepare() {
        if (closed) {
            throw new Retrier.TransientException("the task is stopping", null);
        }
        if (active == null) {
            ActiveRun started = startRun(clock.instant());
            if (started == null) {
                return;
            }
            active = started;
        }
        active.prepareOrDiscard();
    }

    /**
     * Waits a moment for the control work in flight. True when it finished well; false while it goes on,
     * or when it stopped at a step to retry later. A run failure is thrown.
     */
    private boolean controlDone() throws InterruptedException {
        try {
            control.get(CONTROL_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
            control = null;
            backoff.succeeded();
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            control = null;
            Throwable cause = e.getCause();
            if (cause instanceof JobStillRunning running) {
                metrics.phase(running.getMessage());
                retryAt = clock.instant().plusMillis(JOB_CHECK_INTERVAL_MS);
                return false;
            }
            if (cause instanceof Retrier.TransientException t) {
                retryLater(t);
                return false;
            }
            throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
        }
    }

    /** A step failed transiently: it is retried after the backoff; polls return meanwhile. */
    private void retryLater(Retrier.TransientException e) {
        if (closed) {
            return;
        }
        long delay = backoff.failed(e.quota());
        retryAt = clock.instant().plusMillis(delay);
        log.warn("Sync '{}': {} Retry {} in {} ms{}.", sync, e.getMessage(), backoff.failures(), delay,
            e.quota() ? " (quota backoff, " + SyncConfig.RETRY_QUOTA_INITIAL_BACKOFF_MS + ")" : "");
        metrics.phase("retrying in " + delay / 1000 + " s: " + e.getMessage());
        metrics.retried(e.quota() ? "quota" : "step", e.getMessage());
    }

    SyncOffset committedOffset() {
        try {
            return SyncOffset.fromMap(offsets.offset(partition));
        } catch (IllegalArgumentException e) {
            throw new RunFailure(sync, "the stored source offset is not valid (" + e.getMessage()
                + "); reset it with DELETE /connectors/<name>/offsets or alter it with PATCH /connectors/<name>/offsets");
        }
    }

    /** Reads the committed offset and the staging tables and decides the next run. */
    private Plan planFromCommittedState() {
        metrics.phase("planning");
        steps.ensureStagingDataset();
        if (!orphansSettled) {
            steps.settleOrphanJobs();
            orphansSettled = true;
        }
        SyncOffset committed = committedOffset();
        if (handedOver != null && (committed == null || committed.run() < handedOver.run()
            || (committed.run() == handedOver.run() && !committed.done()))) {
            committed = handedOver; // the summary is handed over; its offset may not be flushed yet
        }
        precisionChanged = committed != null && contract.precisionChangedFrom(committed.contract());
        List<StagedTable> staged = steps.stagedTables();
        Plan p = planner.plan(committed, staged);
        stagedAtPlan.clear();
        staged.forEach(t -> stagedAtPlan.put(t.ref(), t));
        baseRows = Planner.rowsConsumersHold(p, staged);
        if (p instanceof Plan.Resync || (p instanceof Plan.Initial && committed != null)) {
            log.warn("Sync '{}': run {} ({}): {}", sync, p.run(), p.mode(), p.why());
        } else {
            log.info("Sync '{}': run {} ({}): {}", sync, p.run(), p.mode(), p.why());
        }
        return p;
    }

    long snapshotRows(long run) {
        StagedTable t = stagedAtPlan.get(steps.staging().snapshot(run));
        return t == null ? 0 : t.rows();
    }

    private ActiveRun startRun(Instant now) {
        if (plan == null) {
            plan = planFromCommittedState();
        }
        Map<String, Long> inputs = null;
        if (plan instanceof Plan.Incremental && config.skipUnchangedInputs()) {
            UnchangedInputs check = steps.inputs();
            inputs = check.lastModified();
            if (check.notSafeBecause() != null && !check.notSafeBecause().equals(lastNotSafe)) {
                log.info("Sync '{}': runs are not skipped when the inputs look unchanged ({} is on): {}", sync, SyncConfig.SKIP_UNCHANGED,
                    check.notSafeBecause());
            }
            lastNotSafe = check.notSafeBecause();
            if (inputs != null && LastRun.inputsHash(inputs).equals(lastInputs)) {
                log.info("Sync '{}': run {} skipped, no input table changed since the last run ({})", sync, plan.run(), inputs.keySet());
                metrics.runSkipped();
                scheduleNext(now);
                return null;
            }
        }
        RunFailure heldAfterRekey = RunChecks.heldAfterRekey(sync, plan, config, contract);
        if (heldAfterRekey != null) {
            throw heldAfterRekey;
        }
        metrics.runStarted(plan.run());
        dropObsoleteTables();
        return new ActiveRun(this, plan, now, inputs);
    }

    /**
     * Drops tables of runs before the committed base: no plan can need them. Reads the committed
     * offset again, since a finished run's summary may not be committed yet (then nothing is dropped).
     */
    private void dropObsoleteTables() {
        try {
            SyncOffset committed = committedOffset();
            long keepFrom = committed == null ? 0 : committed.done() ? committed.run() : Math.max(committed.base(), 0);
            if (keepFrom == 0) {
                return;
            }
            for (StagedTable t : steps.stagedTables()) {
                if (t.run() < keepFrom) {
                    steps.drop(t.ref());
                }
            }
        } catch (RuntimeException e) {
            log.warn("Sync '{}': could not drop staging tables of runs before the committed base (they are dropped at the next run): {}",
                sync, e.getMessage());
        }
    }

    /**
     * When the first run of this task starts. A task restarted (deploy, rebalance, config edit, restart) waits for
     * the schedule of the last completed run, read from its {@code done} offset, instead of running a full-price
     * query at once; it runs at once when no run completed yet, the last one is unfinished (a resume or retake),
     * the query, the record contract or {@code schedule.trigger} changed since, or a held later run is confirmed.
     */
    private Instant recoverSchedule() {
        Instant now = clock.instant();
        Map<String, Object> stored = offsets.offset(partition);
        LastRun last = LastRun.of(stored);
        if (last == null) {
            return now;
        }
        metrics.restoreLastSuccess(last.endedMs());
        SyncOffset committed = committedOffset();
        String changed = !last.query().equals(LastRun.hash(config.sourceQuery())) ? "the query changed"
            : !last.trigger().equals(config.scheduleTrigger()) ? SyncConfig.SCHEDULE_TRIGGER + " changed"
            : committed.contract() != null && !committed.contract().equals(contract.fingerprint()) ? "the record contract changed"
            : committed.keys() != null && !committed.keys().equals(contract.keys()) ? "the key columns changed"
            : config.massDeleteAllowRun() > committed.run() ? SyncConfig.MASS_DELETE_ALLOW_RUN + " confirms a run after it" : null;
        if (changed != null) {
            log.info("Sync '{}': the next run starts now: {} since run {}", sync, changed, committed.run());
            return now;
        }
        lastInputs = last.inputs();
        Instant started = Instant.ofEpochMilli(last.startedMs());
        Instant next = cron != null ? cron.next(started) : started.plusMillis(config.scheduleIntervalMs());
        if (next.isAfter(now)) {
            log.info("Sync '{}': run {} completed at {}; the next run starts at {} (by the schedule; set {} to a new value to run now)",
                sync, committed.run(), Instant.ofEpochMilli(last.endedMs()), next, SyncConfig.SCHEDULE_TRIGGER);
            return next;
        }
        return now;
    }

    private void scheduleNext(Instant runStart) {
        Instant byConfig = cron != null ? cron.next(runStart) : runStart.plusMillis(config.scheduleIntervalMs());
        Instant now = clock.instant();
        nextRunAt = byConfig.isBefore(now) ? now : byConfig;
    }

    /**
     * Connect acknowledged a record (written to Kafka, or committed in a transaction). Null
     * metadata means it was not written: dropped by a transformation or skipped under
     * {@code errors.tolerance=all}.
     */
    public void acknowledged(SourceRecord record, RecordMetadata metadata) {
        ActiveRun run = active;
        Object r = record.sourceOffset().get(SyncOffset.RUN);
        boolean ofActiveRun = run != null && r instanceof Long && (Long) r == run.run;
        if (!record.topic().equals(config.runHistoryTopic()) && !record.topic().equals(config.topic())) {
            return;
        }
        if (metadata != null && record.topic().equals(config.topic())) {
            endOffsets.merge(metadata.partition(), metadata.offset() + 1, Math::max);
        }
        if (ofActiveRun) {
            run.acknowledged(record, metadata);
        }
    }

    /**
     * Stops the runner: no further statement is sent, and the jobs still running are cancelled. Waits
     * for the cancellation at most a second (BigQuery may not answer): an unfinished cancel is redone by
     * the next task instance, which cancels and awaits every job of this connector before it plans.
     */
    @Override
    public void close() {
        closed = true;
        Thread cancel = new Thread(() -> {
            try {
                steps.cancelRunningJobs();
            } catch (RuntimeException e) {
                log.warn("Sync '{}': could not cancel the running BigQuery jobs ({}); the next task instance cancels them", sync, e.getMessage());
            }
        }, "bq2k-" + sync + "-cancel");
        cancel.setDaemon(true);
        cancel.start();
        try {
            cancel.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The active run completed: the next run is planned from its summary's offset (and any later attempts' tables). */
    void runFinished(SyncOffset summaryOffset, String inputsHash, Instant runStartedAt) {
        handedOver = summaryOffset;
        plan = null;
        lastInputs = inputsHash;
        active = null;
        scheduleNext(runStartedAt);
    }
}
