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
    double getSecondsSinceLastSuccess();
    String getLastError();
}
