package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.google.cloud.bigquery.BigQueryError;
import com.google.cloud.bigquery.FieldValueList;

/** {@link QueryJobs} against a fake job service and a fake clock: nothing sleeps. */
class QueryJobsTest {

    /** Jobs that finish after a given number of status checks, with an optional error. */
    static final class FakeJobs implements QueryJobs.JobService {
        final Map<String, int[]> checksLeft = new HashMap<>();
        final Map<String, BigQueryError> errors = new HashMap<>();
        final List<String> inserted = new ArrayList<>();
        final List<String> cancelled = new ArrayList<>();
        final List<String> sql = new ArrayList<>();
        int checksPerJob;
        BigQueryError nextError;

        @Override
        public QueryJobs.JobState insert(String jobId, String statement, Map<String, String> labels, long timeoutMs) {
            if (checksLeft.containsKey(jobId)) {
                return get(jobId); // a duplicate id: the job submitted before
            }
            inserted.add(jobId);
            sql.add(statement);
            checksLeft.put(jobId, new int[] {checksPerJob});
            if (nextError != null) {
                errors.put(jobId, nextError);
                nextError = null;
            }
            return state(jobId);
        }

        @Override
        public QueryJobs.JobState get(String jobId) {
            int[] left = checksLeft.get(jobId);
            if (left == null) {
                return null;
            }
            left[0]--;
            return state(jobId);
        }

        private QueryJobs.JobState state(String jobId) {
            boolean done = checksLeft.get(jobId)[0] <= 0;
            return new QueryJobs.JobState(done, done ? errors.get(jobId) : null, done ? 42 : 0);
        }

        @Override
        public void cancel(String jobId) {
            cancelled.add(jobId);
        }

        @Override
        public List<FieldValueList> rows(String jobId) {
            return List.of();
        }
    }

    static final class FakeClock extends Clock {
        long millis = 1_700_000_000_000L;

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }

        @Override
        public long millis() {
            return millis;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    final FakeJobs service = new FakeJobs();
    final FakeClock clock = new FakeClock();
    final QueryJobs jobs = new QueryJobs(service, new Retrier(3, 1, 2, () -> false), "Users-Sync", clock, ms -> clock.millis += ms,
        60_000, 500);

    @Test
    void aJobIsFollowedAcrossCallsUnderOneDeterministicId() {
        service.checksPerJob = 20; // done at the 20th status check: 5 checks per call (500 ms wait, 100 ms apart)
        List<String> running = new ArrayList<>();
        QueryJobs.Outcome outcome = null;
        for (int call = 0; call < 10 && outcome == null; call++) {
            try {
                outcome = jobs.run("snapshot of run 7", "snapshot", 7, "CREATE OR REPLACE TABLE x AS SELECT 1", Map.of(), false);
            } catch (JobStillRunning e) {
                running.add(e.jobId());
            }
        }
        assertEquals(1, service.inserted.size(), "submitted once, then followed");
        String id = service.inserted.get(0);
        assertEquals("bq2k_users_sync_7_snapshot_" + jobs.instance() + "_1", id);
        assertTrue(running.stream().allMatch(id::equals), running::toString);
        assertEquals(3, running.size());
        assertEquals(42, outcome.bytesProcessed());
        assertTrue(jobs.runningJobIds().isEmpty());
    }

    @Test
    void aJobThatFailedTransientlyIsSubmittedAgainAsTheNextAttempt() {
        service.nextError = new BigQueryError("backendError", "", "try again");
        Retrier.TransientException e = assertThrows(Retrier.TransientException.class,
            () -> jobs.run("diff of run 3", "diff", 3, "CREATE …", Map.of(), false));
        assertTrue(e.getMessage().contains("diff of run 3 failed with a transient error: try again"), e.getMessage());
        jobs.run("diff of run 3", "diff", 3, "CREATE …", Map.of(), false);
        assertEquals(List.of("bq2k_users_sync_3_diff_" + jobs.instance() + "_1", "bq2k_users_sync_3_diff_" + jobs.instance() + "_2"),
            service.inserted);
    }

    @Test
    void quotaAndPermanentJobErrorsAreClassified() {
        service.nextError = new BigQueryError("quotaExceeded", "", "Quota exceeded: too many bytes scanned");
        Retrier.TransientException quota = assertThrows(Retrier.TransientException.class,
            () -> jobs.run("snapshot of run 1", "snapshot", 1, "q", Map.of(), false));
        assertTrue(quota.quota());
        service.nextError = new BigQueryError("invalidQuery", "", "Unrecognized name: idd");
        Retrier.PermanentException bad = assertThrows(Retrier.PermanentException.class,
            () -> jobs.run("snapshot of run 1", "snapshot", 1, "q", Map.of(), false));
        assertTrue(bad.getMessage().contains("Unrecognized name: idd"), bad.getMessage());
    }

    @Test
    void aJobRunningLongerThanTheTimeoutIsCancelledAndFailsTheStep() {
        service.checksPerJob = Integer.MAX_VALUE;
        assertThrows(JobStillRunning.class, () -> jobs.run("key check of run 2", "check", 2, "q", Map.of(), true));
        clock.millis += 61_000;
        Retrier.PermanentException e = assertThrows(Retrier.PermanentException.class,
            () -> jobs.run("key check of run 2", "check", 2, "q", Map.of(), true));
        assertTrue(e.getMessage().contains("ran longer than bigquery.job.timeout.ms=60000 ms and was cancelled"), e.getMessage());
        assertEquals(service.inserted, service.cancelled);
    }

    @Test
    void aStepOfSeveralJobsRunsNoneTwiceWhileOneIsStillRunning() {
        List<String> steps = new ArrayList<>();
        Runnable step = () -> jobs.scope(() -> {
            jobs.run("make the snapshot of run 5 durable", "durable_snapshot", 5, "ALTER 1", Map.of(), false);
            steps.add("first done");
            if (service.inserted.size() == 1) {
                service.checksPerJob = 8; // the second job outlasts one call
            }
            jobs.run("make the diff of run 5 durable", "durable_diff", 5, "ALTER 2", Map.of(), false);
            return null;
        });
        assertThrows(JobStillRunning.class, step::run);
        step.run();
        assertEquals(List.of("ALTER 1", "ALTER 2"), service.sql, "each statement submitted once");
        // Once the step ended, its next call runs its jobs again (a new step, e.g. a retake).
        service.checksPerJob = 0;
        step.run();
        assertEquals(4, service.sql.size());
    }

    @Test
    void stoppingCancelsWhatStillRuns() {
        service.checksPerJob = Integer.MAX_VALUE;
        assertThrows(JobStillRunning.class, () -> jobs.run("snapshot of run 9", "snapshot", 9, "q", Map.of(), false));
        jobs.cancelRunning();
        assertEquals(service.inserted, service.cancelled);
        Retrier.TransientException e = assertThrows(Retrier.TransientException.class,
            () -> jobs.run("snapshot of run 9", "snapshot", 9, "q", Map.of(), false));
        assertEquals("the task is stopping", e.getMessage());
        assertEquals(1, service.inserted.size(), "a stopped task submits nothing");
    }

    @Test
    void aJobBigQueryDoesNotKnowIsSubmittedAgain() {
        service.checksPerJob = Integer.MAX_VALUE;
        assertThrows(JobStillRunning.class, () -> jobs.run("snapshot of run 9", "snapshot", 9, "q", Map.of(), false));
        service.checksLeft.clear();
        assertThrows(Retrier.TransientException.class, () -> jobs.run("snapshot of run 9", "snapshot", 9, "q", Map.of(), false));
        service.checksPerJob = 0;
        jobs.run("snapshot of run 9", "snapshot", 9, "q", Map.of(), false);
        assertEquals(2, service.inserted.size());
    }
}
