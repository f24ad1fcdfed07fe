package io.bq2k.connect.bigquery;

/** Per-sync metrics over JMX: {@code io.bq2k.connect:type=bigquery-source-sync,sync=<sync>}. */
public interface SyncMetricsMBean {
    String getPhase();
    long getRunsStarted();
    long getRunsSucceeded();
    long getRunsFailed();
    long getRunsSkipped();
    long getLastRunId();
    long getLastRunRows();
    long getLastRunAdded();
    long getLastRunChanged();
    long getLastRunRemoved();
    long getLastRunSnapshotMs();
    long getLastRunCheckMs();
    long getLastRunDiffMs();
    long getLastRunEmitMs();
    long getLastRunBytesProcessed();
    long getTotalBytesProcessed();
    long getCurrentRunId();
    long getCurrentRunEmitted();
    long getCurrentRunTotal();
    /** Epoch milliseconds; -1 before the first success. */
    long getLastSuccessTimeMs();
    double getSecondsSinceLastSuccess();
    String getLastError();
    long getRetriesTotal();
    String getLastRetryStep();
    String getLastRetryReason();
    /** Epoch milliseconds; -1 before the first retry. */
    long getLastRetryTimeMs();
}
