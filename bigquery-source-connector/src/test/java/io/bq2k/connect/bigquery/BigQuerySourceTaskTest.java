package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import javax.management.ObjectName;

import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.internals.PluginMetricsImpl;
import org.apache.kafka.connect.source.SourceTaskContext;
import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.junit.jupiter.api.Test;

import com.google.cloud.bigquery.storage.v1.BigQueryReadClient;

/** A task's start/stop cycle with the worker-wide pieces: the shared read client and threads, and the plugin metrics. */
class BigQuerySourceTaskTest {

    /** A task context as a Kafka 4.3 worker gives it: plugin metrics tagged with the connector and the task. */
    private static SourceTaskContext context(Metrics metrics, String connector, Map<String, String> props) {
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("connector", connector);
        tags.put("task", "0");
        PluginMetricsImpl plugin = new PluginMetricsImpl(metrics, tags);
        return new SourceTaskContext() {
            @Override public Map<String, String> configs() { return props; }
            @Override public OffsetStorageReader offsetStorageReader() { return null; }
            @Override public PluginMetrics pluginMetrics() { return plugin; }
        };
    }

    private static Map<String, String> props(String sync) {
        return SyncConfigTest.with(SyncConfig.SYNC_NAME, sync, SyncConfig.ENDPOINT, "http://127.0.0.1:1",
            SyncConfig.STORAGE_ENDPOINT, "127.0.0.1:1", SyncConfig.RETRY_MAX_ATTEMPTS, "1");
    }

    private static BigQuerySourceTask started(Metrics metrics, String sync) {
        BigQuerySourceTask task = new BigQuerySourceTask();
        task.initialize(context(metrics, "connector-" + sync, props(sync)));
        task.start(props(sync));
        return task;
    }

    private static Set<Thread> bq2kThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("bq2k-")).collect(Collectors.toSet());
    }

    private static Set<MetricName> pluginMetrics(Metrics metrics, String connector) {
        return metrics.metrics().keySet().stream()
            .filter(m -> m.group().equals("plugins") && connector.equals(m.tags().get("connector"))).collect(Collectors.toSet());
    }

    @Test
    void twoTasksShareTheReadClientAndThreadsAndLeaveNothingBehind() throws Exception {
        assertEquals(0, WorkerThreads.SHARED.users(), "a test before this one left a lease open");
        try (Metrics metrics = new Metrics()) {
            BigQuerySourceTask one = started(metrics, "sync_one");
            BigQuerySourceTask two = started(metrics, "sync_two");
            assertEquals(2, WorkerThreads.SHARED.users());

            BigQueryReadClient client = one.gateway().readClient();
            assertSame(client, two.gateway().readClient(), "one Storage Read client for both syncs");
            assertEquals(1, SharedReadClients.SHARED.clients());
            assertEquals(3, WorkerThreads.SHARED.users(), "two tasks, and the client for its gRPC scheduler");
            Set<Thread> used = new HashSet<>();
            used.add(CompletableFuture.supplyAsync(Thread::currentThread, one.threads().reads()).get(10, TimeUnit.SECONDS));
            used.add(CompletableFuture.supplyAsync(Thread::currentThread, two.threads().reads()).get(10, TimeUnit.SECONDS));
            assertTrue(used.stream().allMatch(t -> t.getName().startsWith("bq2k-read-")), used.toString());

            Set<MetricName> ofOne = pluginMetrics(metrics, "connector-sync_one");
            assertEquals(SyncMetrics.METRICS.size(), ofOne.size(), ofOne.toString());
            assertTrue(ofOne.stream().allMatch(m -> m.tags().equals(Map.of("connector", "connector-sync_one", "task", "0", "sync", "sync_one"))));
            ObjectName mbean = new ObjectName("io.bq2k.connect:type=bigquery-source-sync,sync=" + ObjectName.quote("sync_one"));
            assertTrue(ManagementFactory.getPlatformMBeanServer().isRegistered(mbean));

            one.stop();
            assertFalse(client.isShutdown(), "the other task still uses the client");
            assertEquals(2, WorkerThreads.SHARED.users());
            assertEquals(Set.of(), pluginMetrics(metrics, "connector-sync_one"), "the stopped task's metrics are removed");
            assertFalse(ManagementFactory.getPlatformMBeanServer().isRegistered(mbean));
            assertEquals(SyncMetrics.METRICS.size(), pluginMetrics(metrics, "connector-sync_two").size());

            two.stop();
            two.stop(); // Connect may stop a cancelled task from another thread too: harmless
            assertTrue(client.isShutdown(), "closed with its last user");
            assertEquals(0, SharedReadClients.SHARED.clients());
            assertEquals(0, WorkerThreads.SHARED.users());
            assertEquals(Set.of(), pluginMetrics(metrics, "connector-sync_two"));
            assertTrue(client.awaitTermination(10, TimeUnit.SECONDS));
            WorkerThreadsTest.awaitEnded(bq2kThreads());
            assertEquals(Set.of(), bq2kThreads());
        }
    }

    @Test
    void aTaskWhoseStartFailsReleasesWhatItTook() {
        BigQuerySourceTask task = new BigQuerySourceTask();
        Map<String, String> bad = SyncConfigTest.with(SyncConfig.SYNC_NAME, "sync_bad", SyncConfig.KEY_COLUMNS, null);
        try (Metrics metrics = new Metrics()) {
            task.initialize(context(metrics, "bad", bad));
            assertThrows(ConfigException.class, () -> task.start(bad));
        }
        assertEquals(0, WorkerThreads.SHARED.users());
    }

    @Test
    void withoutPluginMetricsTheTaskRunsOnJmxAlone() throws Exception {
        BigQuerySourceTask task = new BigQuerySourceTask();
        task.initialize(new SourceTaskContext() {
            @Override public Map<String, String> configs() { return props("sync_jmx"); }
            @Override public OffsetStorageReader offsetStorageReader() { return null; }
            @Override public PluginMetrics pluginMetrics() { throw new UnsupportedOperationException("older worker"); }
        });
        task.start(props("sync_jmx"));
        ObjectName mbean = new ObjectName("io.bq2k.connect:type=bigquery-source-sync,sync=" + ObjectName.quote("sync_jmx"));
        assertEquals("starting", ManagementFactory.getPlatformMBeanServer().getAttribute(mbean, "Phase"));
        task.stop();
        assertFalse(ManagementFactory.getPlatformMBeanServer().isRegistered(mbean));
    }
}
