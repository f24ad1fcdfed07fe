package io.bq2k.connect.bigquery;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Gauge;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live state of a sync for operators, while the task runs: an MBean
 * ({@code io.bq2k.connect:type=bigquery-source-sync,sync=<sync>}) and, when the worker offers them (KIP-877,
 * Kafka 4.1+), the same values as the task's plugin metrics ({@link #METRICS}: group {@code plugins}, tags
 * {@code connector}, {@code task} and {@code sync}), which reach every metrics reporter of the worker.
 */
public final class SyncMetrics implements SyncMetricsMBean, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SyncMetrics.class);

    /** Longest reason kept for the last retry (an error message can be long). */
    static final int MAX_REASON = 1000;

    /** A metric registered with the task's plugin metrics. */
    record Metric(String name, String description) { }

    private record Registered(Metric metric, Supplier<Object> value) { }

    private final ObjectName name;
    private final PluginMetrics plugin;
    private final List<MetricName> registered = new ArrayList<>();
    private volatile String phase = "starting";
    private final AtomicLong runsStarted = new AtomicLong();
    private final AtomicLong runsSucceeded = new AtomicLong();
    private final AtomicLong runsFailed = new AtomicLong();
    private final AtomicLong runsSkipped = new AtomicLong();
    private final AtomicLong totalBytes = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private volatile RunSummary last;
    private volatile long currentRunId = -1;
    private volatile long currentRunEmitted;
    private volatile long currentRunTotal;
    private volatile long lastSuccessAtMs = -1;
    private volatile String lastError = "";
    private volatile String lastRetryStep = "";
    private volatile String lastRetryReason = "";
    private volatile long lastRetryAtMs = -1;

    /** Over JMX only. */
    public SyncMetrics(String sync) {
        this(sync, null);
    }

    /**
     * @param plugin the task's plugin metrics ({@code SourceTaskContext.pluginMetrics()}); null: JMX only
     */
    public SyncMetrics(String sync, PluginMetrics plugin) {
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
        this.plugin = plugin;
        if (plugin != null) {
            LinkedHashMap<String, String> tags = new LinkedHashMap<>();
            tags.put("sync", sync);
            List<String> missing = new ArrayList<>();
            RuntimeException first = null;
            for (Registered r : gauges()) {
                try {
                    MetricName m = plugin.metricName(r.metric().name(), r.metric().description(), tags);
                    Supplier<Object> value = r.value();
                    plugin.addMetric(m, (Gauge<Object>) (config, now) -> value.get());
                    registered.add(m);
                } catch (RuntimeException e) {
                    // E.g. the metrics of a task instance that has not stopped yet: the sync runs on, JMX has the values.
                    missing.add(r.metric().name());
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                log.warn("Sync '{}': {} of {} plugin metrics not registered ({}): {}", sync, missing.size(), METRICS.size(), missing,
                    first.getMessage());
            }
        }
    }

    /** Every plugin metric of a sync: its name and description (the README's table lists them). */
    static final List<Metric> METRICS = gaugesOf(null).stream().map(Registered::metric).toList();

    private List<Registered> gauges() {
        return gaugesOf(this);
    }

    /** Every plugin metric and where its value comes from ({@code m} null: the names and descriptions only). */
    private static List<Registered> gaugesOf(SyncMetrics m) {
        List<Registered> g = new ArrayList<>();
        class Add {
            void add(String name, String description, Supplier<Object> value) {
                g.add(new Registered(new Metric(name, description), m == null ? () -> null : value));
            }
        }
        Add a = new Add();
        a.add("phase", "What the sync is doing: starting, planning, waiting, snapshot, check, diff, emit, awaiting acknowledgements, "
            + "abandoning, failed, or retrying: <reason>", () -> m.getPhase());
        a.add("runs-started-total", "Runs started since the task started", () -> m.getRunsStarted());
        a.add("runs-succeeded-total", "Runs whose summary was handed to Connect since the task started", () -> m.getRunsSucceeded());
        a.add("runs-failed-total", "Runs that failed the task (bad data, a held run, a lost table) since the task started", () -> m.getRunsFailed());
        a.add("runs-skipped-total", "Runs skipped because no input table changed (schedule.skip.unchanged.inputs)", () -> m.getRunsSkipped());
        a.add("current-run-id", "Id of the run in progress, or of the last one started; -1 before the first", () -> m.getCurrentRunId());
        a.add("current-run-emitted", "Changes of the current run handed to Connect so far (those before a restart included)",
            () -> m.getCurrentRunEmitted());
        a.add("current-run-total", "Changes of the current run (its diff); 0 until the diff is computed", () -> m.getCurrentRunTotal());
        a.add("last-run-id", "Id of the last successful run; -1 before the first", () -> m.getLastRunId());
        a.add("last-run-rows", "Rows of the query result of the last successful run", () -> m.getLastRunRows());
        a.add("last-run-added", "Rows added by the last successful run", () -> m.getLastRunAdded());
        a.add("last-run-changed", "Rows changed by the last successful run", () -> m.getLastRunChanged());
        a.add("last-run-removed", "Rows removed (tombstoned) by the last successful run", () -> m.getLastRunRemoved());
        a.add("last-run-snapshot-ms", "Duration of the last successful run's snapshot step", () -> m.getLastRunSnapshotMs());
        a.add("last-run-check-ms", "Duration of the last successful run's key check", () -> m.getLastRunCheckMs());
        a.add("last-run-diff-ms", "Duration of the last successful run's diff step", () -> m.getLastRunDiffMs());
        a.add("last-run-emit-ms", "Duration of the last successful run's emission (reading its changes and handing them to Connect)",
            () -> m.getLastRunEmitMs());
        a.add("last-run-bytes-processed", "Bytes BigQuery processed for the last successful run", () -> m.getLastRunBytesProcessed());
        a.add("bytes-processed-total", "Bytes BigQuery processed for this sync's runs since the task started",
            () -> m.getTotalBytesProcessed());
        a.add("last-success-time-ms", "When the last successful run finished (epoch milliseconds); -1 before the first",
            () -> m.getLastSuccessTimeMs());
        a.add("seconds-since-last-success", "Seconds since the last successful run finished; -1 before the first",
            () -> m.getSecondsSinceLastSuccess());
        a.add("last-error", "Message of the last failed run; empty after a success", () -> m.getLastError());
        a.add("retries-total", "BigQuery calls retried after a transient error since the task started", () -> m.getRetriesTotal());
        a.add("last-retry-step", "The step of the last retry", () -> m.getLastRetryStep());
        a.add("last-retry-reason", "Why the last retry happened (the transient error)", () -> m.getLastRetryReason());
        a.add("last-retry-time-ms", "When the last retry happened (epoch milliseconds); -1 before the first", () -> m.getLastRetryTimeMs());
        return g;
    }

    void phase(String p) { phase = p; }
    void runStarted(long run) { runsStarted.incrementAndGet(); currentRunId = run; currentRunEmitted = 0; currentRunTotal = 0; }
    void runProgress(long emitted, long total) { currentRunEmitted = emitted; currentRunTotal = total; }
    void runSkipped() { runsSkipped.incrementAndGet(); }
    void bytesProcessed(long bytes) { totalBytes.addAndGet(bytes); }
    void runFailed(String error) { runsFailed.incrementAndGet(); lastError = error; phase = "failed"; }

    /** The end of the last completed run, as the run history says after a restart: freshness survives restarts. */
    void restoreLastSuccess(long endedAtMs) {
        if (lastSuccessAtMs < endedAtMs) {
            lastSuccessAtMs = endedAtMs;
        }
    }

        void runSucceeded(RunSummary summary) {
        runsSucceeded.incrementAndGet();
        last = summary;
        lastSuccessAtMs = summary.finishedAtMs();
        lastError = "";
    }

    /** A call of a step was retried after a transient error. Safe from any thread. */
    public void retried(String step, String reason) {
        String r = reason == null ? "" : reason;
        lastRetryStep = step == null ? "" : step;
        lastRetryReason = r.length() > MAX_REASON ? r.substring(0, MAX_REASON) + "…" : r;
        lastRetryAtMs = System.currentTimeMillis();
        retries.incrementAndGet();
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
    @Override public long getLastSuccessTimeMs() { return lastSuccessAtMs; }
    @Override public double getSecondsSinceLastSuccess() {
        return lastSuccessAtMs < 0 ? -1 : (System.currentTimeMillis() - lastSuccessAtMs) / 1000.0;
    }
    @Override public String getLastError() { return lastError; }
    @Override public long getRetriesTotal() { return retries.get(); }
    @Override public String getLastRetryStep() { return lastRetryStep; }
    @Override public String getLastRetryReason() { return lastRetryReason; }
    @Override public long getLastRetryTimeMs() { return lastRetryAtMs; }

    /** Unregisters the MBean and removes this sync's plugin metrics (the worker also drops them when the task stops). */
    @Override
    public void close() {
        if (name != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
            } catch (JMException ignored) {
                // already gone
            }
        }
        synchronized (registered) {
            for (MetricName m : registered) {
                try {
                    plugin.removeMetric(m);
                } catch (RuntimeException ignored) {
                    // the worker closed the task's plugin metrics first: they are gone with it
                }
            }
            registered.clear();
        }
    }
}
