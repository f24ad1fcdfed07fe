package io.bq2k.connect.bigquery;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The live state of a sync for operators, registered as an MBean while the task runs. */
public final class SyncMetrics implements SyncMetricsMBean, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SyncMetrics.class);

    private final ObjectName name;
    private volatile String phase = "starting";
    private final AtomicLong runsStarted = new AtomicLong();
    private final AtomicLong runsSucceeded = new AtomicLong();
    private final AtomicLong runsFailed = new AtomicLong();
    private final AtomicLong runsSkipped = new AtomicLong();
    private final AtomicLong totalBytes = new AtomicLong();
    private volatile RunSummary last;
    private volatile long currentRunId = -1;
    private volatile long currentRunEmitted;
    private volatile long currentRunTotal;
    private volatile long lastSuccessAtMs = -1;
    private volatile String lastError = "";

    public SyncMetrics(String sync) {
        ObjectName n = null;
        try {
            n = new ObjectName("io.bq2k.connect:type=bigquery-source-sync,sync=" + ObjectName.quote(sync));
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            if (server.isRegistered(n)) {
                server.unregisterMBean(n);
            }
            server.registerMBean(this, n);
        } catch (JMException e) {
            log.warn("Sync '{}': metrics not registered over JMX: {}", sync, e.toString());
        }
        this.name = n;
    }

    void phase(String p) { phase = p; }
    void runStarted(long run) { runsStarted.incrementAndGet(); currentRunId = run; currentRunEmitted = 0; currentRunTotal = 0; }
    void runProgress(long emitted, long total) { currentRunEmitted = emitted; currentRunTotal = total; }
    void runSkipped() { runsSkipped.incrementAndGet(); }
    void bytesProcessed(long bytes) { totalBytes.addAndGet(bytes); }
    void runFailed(String error) { runsFailed.incrementAndGet(); lastError = error; phase = "failed"; }

    void runSucceeded(RunSummary summary) {
        runsSucceeded.incrementAndGet();
        last = summary;
        lastSuccessAtMs = summary.finishedAtMs();
        lastError = "";
    }

    @Override public String getPhase() { return phase; }
    @Override public long getRunsStarted() { return runsStarted.get(); }
    @Override public long getRunsSucceeded() { return runsSucceeded.get(); }
    @Override public long getRunsFailed() { return runsFailed.get(); }
    @Override public long getRunsSkipped() { return runsSkipped.get(); }
    @Override public long getLastRunId() { return last == null ? -1 : last.run(); }
    @Override public long getLastRunRows() { return last == null ? 0 : last.rows(); }
    @Override public long getLastRunAdded() { return last == null ? 0 : last.added(); }
    @Override public long getLastRunChanged() { return last == null ? 0 : last.changed(); }
    @Override public long getLastRunRemoved() { return last == null ? 0 : last.removed(); }
    @Override public long getLastRunSnapshotMs() { return last == null ? 0 : last.snapshotMs(); }
    @Override public long getLastRunCheckMs() { return last == null ? 0 : last.checkMs(); }
    @Override public long getLastRunDiffMs() { return last == null ? 0 : last.diffMs(); }
    @Override public long getLastRunEmitMs() { return last == null ? 0 : last.emitMs(); }
    @Override public long getLastRunBytesProcessed() { return last == null ? 0 : last.bytesProcessed(); }
    @Override public long getTotalBytesProcessed() { return totalBytes.get(); }
    @Override public long getCurrentRunId() { return currentRunId; }
    @Override public long getCurrentRunEmitted() { return currentRunEmitted; }
    @Override public long getCurrentRunTotal() { return currentRunTotal; }
    @Override public double getSecondsSinceLastSuccess() {
        return lastSuccessAtMs < 0 ? -1 : (System.currentTimeMillis() - lastSuccessAtMs) / 1000.0;
    }
    @Override public String getLastError() { return lastError; }

    @Override
    public void close() {
        if (name != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
            } catch (JMException ignored) {
                // already gone
            }
        }
    }
}
