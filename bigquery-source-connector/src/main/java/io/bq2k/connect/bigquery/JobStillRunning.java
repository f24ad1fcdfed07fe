package io.bq2k.connect.bigquery;

/**
 * Not an error: a step's BigQuery job has not finished yet. The step is called again at a later
 * poll and follows the same job (by its id) instead of submitting a new one.
 */
public final class JobStillRunning extends RuntimeException {

    private final String jobId;

    public JobStillRunning(String what, String jobId, long runningForMs) {
        super(what + ": job " + jobId + " running for " + runningForMs / 1000 + " s", null, false, false);
        this.jobId = jobId;
    }

    public String jobId() {
        return jobId;
    }
}
