package io.bq2k.connect.bigquery;

import org.apache.kafka.connect.errors.ConnectException;

/**
 * A run that must not proceed: bad data, a broken query, a held mass delete. It fails the task
 * (the message shows in the task's status trace) before anything of the run is emitted; the
 * topic keeps the last good state and the next run after the fix starts from the same baseline.
 */
public final class RunFailure extends ConnectException {
    public RunFailure(String sync, String message) {
        super("Sync '" + sync + "': " + message);
    }

    public RunFailure(String sync, String message, Throwable cause) {
        super("Sync '" + sync + "': " + message, cause);
    }
}
