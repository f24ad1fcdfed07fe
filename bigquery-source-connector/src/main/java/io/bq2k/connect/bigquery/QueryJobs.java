package io.bq2k.connect.bigquery;

import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.cloud.bigquery.BigQueryError;
import com.google.cloud.bigquery.FieldValueList;

/**
 * Runs the query jobs of one task without ever waiting long for one. Each job gets a deterministic id
 * (sync, run, step, task instance, attempt) and is followed across calls: a call submits the job (or
 * checks the one it submitted before), waits a moment, and throws {@link JobStillRunning} when it is
 * not done, so that the task's poll returns; the step is called again later and picks the job up by
 * its id. A job that outlives {@code bigquery.job.timeout.ms} is cancelled; a stopping task cancels
 * what still runs ({@link #cancelRunning}).
 *
 * <p>A {@link #scope step} may run several jobs in a row: while it is being retried because one is
 * still running, the outcomes of the jobs it already finished are kept, so none runs twice.
 */
final class QueryJobs {

    private static final Logger log = LoggerFactory.getLogger(QueryJobs.class);

    /** BigQuery's job API, as far as a run needs it. {@link BigQueryGateway} implements it; tests fake it. */
    interface JobService {
        /** Submits a query job under the given id; a duplicate id answers the existing job's state. */
        JobState insert(String jobId, String sql, Map<String, String> labels, long timeoutMs);

        /** The job's state, or null when BigQuery does not know the id. */
        JobState get(String jobId);

        void cancel(String jobId);

        /** Every row of a done query job's result. */
        List<FieldValueList> rows(String jobId);
    }

    /** What a job's status says: done or not, its error, the bytes it billed. */
    record JobState(boolean done, BigQueryError error, long bytesProcessed) { }

    /** A finished job: its rows (when asked for) and what BigQuery billed. */
    record Outcome(List<FieldValueList> rows, long bytesProcessed) { }

    /** How a step waits a moment for its job; real sleeps in a task, simulated time in tests. */
    interface Pause {
        void pause(long ms) throws InterruptedException;
    }

    private final JobService service;
    private final Retrier retrier;
    private final String idPrefix;
    private final String instance;
    private final Clock clock;
    private final Pause pause;
    private final long timeoutMs;
    private final long waitMs;
    private long attempts;
    /** Bytes processed by every job that finished well. */
    private final java.util.concurrent.atomic.AtomicLong bytesProcessed = new java.util.concurrent.atomic.AtomicLong();
    /** Step (e.g. "snapshot of run 5") → the id of its job, while it runs. */
    private final Map<String, Running> running = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    /** Outcomes of jobs finished inside the current scope. */
    private final Map<String, Outcome> finished = new HashMap<>();
    private int scopeDepth;
    /** Set by {@link #cancelRunning}: a stopped task submits nothing and finishes no step. */
    private volatile boolean stopped;

    private record Running(String jobId, long submittedAt) { }

    /**
     * @param sync    the sync name (part of every job id)
     * @param waitMs  how long one call waits for its job before throwing {@link JobStillRunning}
     */
    QueryJobs(JobService service, Retrier retrier, String sync, Clock clock, Pause pause, long timeoutMs, long waitMs) {
        this.service = service;
        this.retrier = retrier;
        String s = sync.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        this.idPrefix = "bq2k_" + (s.length() > 200 ? s.substring(0, 200) : s);
        this.instance = Long.toString(clock.millis(), 36);
        this.clock = clock;
        this.pause = pause;
        this.timeoutMs = timeoutMs;
        this.waitMs = waitMs;
    }

    /** This task instance's part of every job id: tells its jobs from an earlier instance's. */
    String instance() {
        return instance;
    }

    /**
     * Runs one query job to its end, across calls.
     *
     * @param what  the step, as the log and errors name it ("diff of run 7"); one job per step at a time
     * @param step  a short step name for the job id and labels ("diff")
     * @throws JobStillRunning           the job is not done yet: call again later
     * @throws Retrier.TransientException the job failed transiently (the next call submits a new attempt)
     * @throws Retrier.PermanentException the job failed, or ran longer than the timeout and was cancelled
     */
    Outcome run(String what, String step, long run, String sql, Map<String, String> labels, boolean withRows) {
        ensureNotStopped();
        Outcome done = finished.get(what);
        if (done != null) {
            return done;
        }
        Running job = running.get(what);
        JobState state;
        if (job == null) {
            job = new Running(idPrefix + "_" + run + "_" + step + "_" + instance + "_" + (++attempts), clock.millis());
            String id = job.jobId();
            state = retrier.call(what, () -> service.insert(id, sql, labels, timeoutMs));
            running.put(what, job);
            if (stopped) { // stopped while submitting: the cancel may have missed it
                cancel(id);
                throw new Retrier.TransientException("the task is stopping", null);
            }
        } else {
            String id = job.jobId();
            state = retrier.call("check job of " + what, () -> service.get(id));
            if (state == null) {
                running.remove(what); // lost (never created): the next call submits it again
                throw new Retrier.TransientException(what + ": BigQuery does not know job " + id + "; it is submitted again", null);
            }
        }
        long waited = 0;
        while (!state.done() && waited < waitMs) {
            try {
                pause.pause(Math.min(100, waitMs - waited));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            waited += Math.min(100, waitMs - waited);
            String id = job.jobId();
            JobState now = retrier.call("check job of " + what, () -> service.get(id));
            state = now == null ? state : now;
        }
        if (!state.done()) {
            long age = clock.millis() - job.submittedAt();
            if (age > timeoutMs) {
                running.remove(what);
                cancel(job.jobId());
                throw new Retrier.PermanentException(what + ": job " + job.jobId() + " ran longer than " + SyncConfig.JOB_TIMEOUT_MS + "="
                    + timeoutMs + " ms and was cancelled. Make the query cheaper, or raise " + SyncConfig.JOB_TIMEOUT_MS, null);
            }
            throw new JobStillRunning(what, job.jobId(), age);
        }
        running.remove(what);
        ensureNotStopped();
        if (state.error() != null) {
            throw Retrier.classified(what, new Retrier.BigQueryJobFailure(state.error()));
        }
        String id = job.jobId();
        Outcome outcome = new Outcome(withRows ? retrier.call("results of " + what, () -> service.rows(id)) : List.of(), state.bytesProcessed());
        bytesProcessed.addAndGet(state.bytesProcessed());
        if (scopeDepth > 0) {
            finished.put(what, outcome);
        }
        return outcome;
    }

    /**
     * Runs a step made of several jobs. While a job of it is still running, the outcomes of the jobs it
     * finished are kept for the step's next call; once it ends (returns or fails), they are forgotten.
     */
    <T> T scope(Supplier<T> step) {
        scopeDepth++;
        boolean stillRunning = false;
        try {
            return step.get();
        } catch (JobStillRunning e) {
            stillRunning = true;
            throw e;
        } finally {
            if (--scopeDepth == 0 && !stillRunning) {
                finished.clear();
            }
        }
    }

    /** The bytes processed by every job that finished well, as BigQuery's job statistics report them. */
    long bytesProcessed() {
        return bytesProcessed.get();
    }

    /** Ids of the jobs submitted and not yet seen done. */
    List<String> runningJobIds() {
        synchronized (running) {
            return running.values().stream().map(Running::jobId).toList();
        }
    }

    /** Cancels every job still running (one attempt each): a stopped task leaves none behind. */
    void cancelRunning() {
        stopped = true;
        for (String jobId : runningJobIds()) {
            cancel(jobId);
        }
    }

    private void ensureNotStopped() {
        if (stopped) {
            throw new Retrier.TransientException("the task is stopping", null);
        }
    }

    private void cancel(String jobId) {
        try {
            service.cancel(jobId);
            log.info("Cancelled BigQuery job {}", jobId);
        } catch (RuntimeException e) {
            log.warn("Could not cancel BigQuery job {} ({}); the next task instance cancels it before it plans", jobId, e.getMessage());
        }
    }
}
