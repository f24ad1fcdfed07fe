package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.internals.PluginMetricsImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sync's metrics through Kafka's plugin metrics (KIP-877), next to the JMX MBean. */
class SyncMetricsTest {

    private Metrics metrics;
    private PluginMetricsImpl plugin;

    @BeforeEach
    void setUp() {
        metrics = new Metrics();
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("connector", "users-sync");
        tags.put("task", "0");
        plugin = new PluginMetricsImpl(metrics, tags);
    }

    @AfterEach
    void tearDown() throws Exception {
        plugin.close();
        metrics.close();
    }

    private Object value(String name) {
        KafkaMetric m = metric(name);
        assertTrue(m != null, "no metric " + name);
        return m.metricValue();
    }

    private KafkaMetric metric(String name) {
        return metrics.metrics().entrySet().stream().filter(e -> e.getKey().group().equals("plugins") && e.getKey().name().equals(name))
            .map(Map.Entry::getValue).findFirst().orElse(null);
    }

    private Set<MetricName> ours() {
        return metrics.metrics().keySet().stream().filter(m -> m.group().equals("plugins")).collect(Collectors.toSet());
    }

    @Test
    void everyMetricIsRegisteredWithItsNameDescriptionAndTags() {
        try (SyncMetrics m = new SyncMetrics("users", plugin)) {
            Set<MetricName> names = ours();
            assertEquals(SyncMetrics.METRICS.size(), names.size());
            Map<String, String> tags = Map.of("connector", "users-sync", "task", "0", "sync", "users");
            for (SyncMetrics.Metric def : SyncMetrics.METRICS) {
                MetricName n = names.stream().filter(x -> x.name().equals(def.name())).findFirst().orElseThrow(() -> new AssertionError(def.name()));
                assertEquals(tags, n.tags(), def.name());
                assertEquals(def.description(), n.description());
                assertFalse(def.description().isBlank(), def.name());
                assertTrue(def.name().matches("[a-z]+(-[a-z]+)*"), "kebab-case: " + def.name());
            }
            Set<String> expected = Set.of("phase", "runs-started-total", "runs-succeeded-total", "runs-failed-total", "runs-skipped-total",
                "current-run-id", "current-run-emitted", "current-run-total", "last-run-id", "last-run-rows", "last-run-added",
                "last-run-changed", "last-run-removed", "last-run-snapshot-ms", "last-run-check-ms", "last-run-diff-ms", "last-run-emit-ms",
                "last-run-bytes-processed", "bytes-processed-total", "last-success-time-ms", "seconds-since-last-success", "last-error",
                "retries-total", "last-retry-step", "last-retry-reason", "last-retry-time-ms");
            assertEquals(expected, SyncMetrics.METRICS.stream().map(SyncMetrics.Metric::name).collect(Collectors.toSet()));
        }
        assertEquals(Set.of(), ours(), "close removes every metric");
    }

    @Test
    void valuesFollowTheRuns() {
        try (SyncMetrics m = new SyncMetrics("users", plugin)) {
            assertEquals("starting", value("phase"));
            assertEquals(-1L, value("last-run-id"));
            assertEquals(-1L, value("last-success-time-ms"));
            assertEquals(-1.0, value("seconds-since-last-success"));
            assertEquals(0L, value("retries-total"));

            m.runStarted(7);
            m.phase("emit");
            m.runProgress(40, 100);
            m.bytesProcessed(1234);
            assertEquals("emit", value("phase"));
            assertEquals(1L, value("runs-started-total"));
            assertEquals(7L, value("current-run-id"));
            assertEquals(40L, value("current-run-emitted"));
            assertEquals(100L, value("current-run-total"));
            assertEquals(1234L, value("bytes-processed-total"));

            long finished = System.currentTimeMillis() - 5_000;
            m.runSucceeded(new RunSummary("users", 7, 6, "incremental", finished - 1000, finished, 500, 12, 30, 4, 1234,
                11, 12, 13, 14, Map.of()));
            m.phase("waiting");
            assertEquals(1L, value("runs-succeeded-total"));
            assertEquals(7L, value("last-run-id"));
            assertEquals(500L, value("last-run-rows"));
            assertEquals(12L, value("last-run-added"));
            assertEquals(30L, value("last-run-changed"));
            assertEquals(4L, value("last-run-removed"));
            assertEquals(11L, value("last-run-snapshot-ms"));
            assertEquals(12L, value("last-run-check-ms"));
            assertEquals(13L, value("last-run-diff-ms"));
            assertEquals(14L, value("last-run-emit-ms"));
            assertEquals(1234L, value("last-run-bytes-processed"));
            assertEquals(finished, value("last-success-time-ms"));
            double since = (Double) value("seconds-since-last-success");
            assertTrue(since >= 5.0 && since < 60, "seconds since the last success: " + since);

            long before = System.currentTimeMillis();
            m.retried("read changes", "UNAVAILABLE: io exception");
            m.retried("snapshot", "x".repeat(5000));
            assertEquals(2L, value("retries-total"));
            assertEquals("snapshot", value("last-retry-step"));
            assertEquals(SyncMetrics.MAX_REASON + 1, ((String) value("last-retry-reason")).length(), "a long reason is cut");
            assertTrue((Long) value("last-retry-time-ms") >= before);

            m.runSkipped();
            m.runFailed("duplicate keys");
            assertEquals(1L, value("runs-skipped-total"));
            assertEquals(1L, value("runs-failed-total"));
            assertEquals("failed", value("phase"));
            assertEquals("duplicate keys", value("last-error"));
        }
    }

    @Test
    void theMBeanKeepsItsAttributesAndGainsTheRetries() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("io.bq2k.connect:type=bigquery-source-sync,sync=" + ObjectName.quote("users"));
        try (SyncMetrics m = new SyncMetrics("users", plugin)) {
            m.runStarted(3);
            m.retried("diff", "rateLimitExceeded");
            // What OperatorsViewIT and the README read.
            for (String attribute : List.of("RunsStarted", "RunsSucceeded", "RunsFailed", "RunsSkipped", "Phase", "LastRunId", "LastRunRows",
                "LastRunAdded", "LastRunChanged", "LastRunRemoved", "LastRunSnapshotMs", "LastRunCheckMs", "LastRunDiffMs", "LastRunEmitMs",
                "LastRunBytesProcessed", "TotalBytesProcessed", "CurrentRunId", "CurrentRunEmitted", "CurrentRunTotal",
                "SecondsSinceLastSuccess", "LastError")) {
                server.getAttribute(name, attribute);
            }
            assertEquals(3L, server.getAttribute(name, "CurrentRunId"));
            assertEquals(1L, server.getAttribute(name, "RetriesTotal"));
            assertEquals("rateLimitExceeded", server.getAttribute(name, "LastRetryReason"));
            assertEquals("diff", server.getAttribute(name, "LastRetryStep"));
        }
        assertFalse(server.isRegistered(name));
    }

    @Test
    void closingAfterTheWorkerDroppedThePluginMetricsIsQuiet() throws Exception {
        SyncMetrics m = new SyncMetrics("users", plugin);
        plugin.close(); // what the worker does when the task stops
        assertEquals(Set.of(), ours());
        m.close();
        m.close();
    }

    @Test
    void aSecondInstanceOfTheSameTaskStillStarts() {
        // A restarted task whose predecessor has not released its metrics yet: the new one keeps what it could register.
        try (SyncMetrics first = new SyncMetrics("users", plugin); SyncMetrics second = new SyncMetrics("users", plugin)) {
            second.runStarted(1);
            assertEquals(SyncMetrics.METRICS.size(), ours().size());
        }
    }

    @Test
    void theReadmeTableListsEveryMetric() throws Exception {
        Path here = Path.of("").toAbsolutePath();
        Path readme = here.endsWith("bigquery-source-connector") ? here.resolveSibling("README.md") : here.resolve("README.md");
        String text = Files.readString(readme, StandardCharsets.UTF_8);
        Set<String> missing = new HashSet<>();
        for (SyncMetrics.Metric def : SyncMetrics.METRICS) {
            if (!text.contains("| `" + def.name() + "` |")) {
                missing.add(def.name());
            }
        }
        assertEquals(Set.of(), missing, "metrics missing from the README's table");
    }
}
