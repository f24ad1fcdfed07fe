package io.bq2k.connect.bigquery.it;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

import com.fasterxml.jackson.databind.JsonNode;

import io.bq2k.connect.bigquery.BigQuerySourceConnector;

/** An emulator plus an embedded Connect cluster, and the moves a test makes with a sync on them. */
final class SyncHarness implements AutoCloseable {

    final BqEmulator bq;
    final EmbeddedConnectCluster connect;

    private SyncHarness(BqEmulator bq, EmbeddedConnectCluster connect) {
        this.bq = bq;
        this.connect = connect;
    }

    /** Starts the emulator (with a dataset {@code src}) and a one-worker cluster; worker and broker properties may be empty. */
    static SyncHarness start(String name, Map<String, String> workerProps, java.util.Properties brokerProps) throws Exception {
        BqEmulator bq = BqEmulator.start();
        bq.sql("CREATE SCHEMA IF NOT EXISTS src");
        Map<String, String> worker = new HashMap<>(workerProps); // the cluster modifies it
        worker.putIfAbsent("offset.flush.interval.ms", "500");
        EmbeddedConnectCluster connect = new EmbeddedConnectCluster.Builder().name(name).numWorkers(1)
            .workerProps(worker).brokerProps(brokerProps).build();
        try {
            connect.start();
        } catch (RuntimeException e) {
            connect.stop();
            bq.close();
            throw e;
        }
        return new SyncHarness(bq, connect);
    }

    @Override
    public void close() {
        connect.stop();
        bq.close();
    }

    Map<String, String> connectorConfig(String name, String table) {
        Map<String, String> c = new HashMap<>();
        c.put("connector.class", BigQuerySourceConnector.class.getName());
        c.put("tasks.max", "1");
        c.put("bigquery.project", BqEmulator.PROJECT);
        c.put("bigquery.endpoint", bq.restEndpoint());
        c.put("bigquery.storage.endpoint", bq.grpcEndpoint());
        c.put("bigquery.credentials.type", "none");
        c.put("bigquery.retry.max.attempts", "3");
        c.put("query", "SELECT * FROM src." + table);
        c.put("key.columns", "id");
        c.put("topic", name);
        c.put("staging.dataset", "bq2k_staging");
        c.put("schedule.interval.ms", "3600000");
        c.put("read.chunk.rows", "500");
        c.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
        c.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        c.put("topic.creation.default.replication.factor", "1");
        c.put("topic.creation.default.partitions", "3");
        c.put("topic.creation.default.cleanup.policy", "compact");
        return c;
    }

    /** Waits for the run-history record of {@code run} and returns its value. */
    JsonNode awaitRun(String topic, long run) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 180_000;
        while (System.currentTimeMillis() < deadline) {
            ConnectorStateInfo.TaskState task = task(topic);
            if (task != null && "FAILED".equals(task.state())) {
                throw new AssertionError("task failed waiting for run " + run + ": " + task.trace());
            }
            if (topicExists(topic + ".runs")) {
                for (TopicContents.Entry e : TopicContents.read(connect.kafka().bootstrapServers(), topic + ".runs", false).records) {
                    if (e.value() != null && e.value().get("run").asLong() == run) {
                        return e.value();
                    }
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError("run " + run + " of " + topic + " did not finish in time");
    }

    String awaitFailure(String connector) throws InterruptedException {
        return awaitFailure(connector, null);
    }

    /** Waits for the task to fail with a trace other than {@code previous} (a restarted task first shows its old failure). */
    String awaitFailure(String connector, String previous) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 180_000;
        while (System.currentTimeMillis() < deadline) {
            ConnectorStateInfo.TaskState task = task(connector);
            if (task != null && "FAILED".equals(task.state()) && !task.trace().equals(previous)) {
                return task.trace();
            }
            Thread.sleep(300);
        }
        throw new AssertionError(connector + " did not fail");
    }

    /** The task's status, or null while Connect has none yet. */
    ConnectorStateInfo.TaskState task(String connector) {
        try {
            List<ConnectorStateInfo.TaskState> tasks = connect.connectorStatus(connector).tasks();
            return tasks.isEmpty() ? null : tasks.get(0);
        } catch (RuntimeException notYet) {
            return null;
        }
    }

    boolean topicExists(String topic) {
        try (var admin = connect.kafka().createAdminClient()) {
            return admin.listTopics().names().get().contains(topic);
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * Starts the next run now: the connector's config with a new {@code schedule.trigger} (a plain restart waits
     * for the schedule of the last run), and waits until a failed task was restarted by it.
     */
    void triggerRun(String connector) throws InterruptedException {
        ConnectorStateInfo.TaskState before = task(connector);
        Map<String, String> config = new java.util.HashMap<>(connect.connectorInfo(connector).config());
        config.put("schedule.trigger", java.time.Instant.now() + "#" + TRIGGERS.incrementAndGet());
        connect.configureConnector(connector, config);
        awaitRestartOfFailed(connector, before);
    }

    /** Restarts a failed task (the run that failed is still due: it starts at once) and waits until it took effect. */
    void restartFailedTask(String connector) throws InterruptedException {
        ConnectorStateInfo.TaskState before = task(connector);
        connect.restartTask(connector, 0);
        awaitRestartOfFailed(connector, before);
    }

    private void awaitRestartOfFailed(String connector, ConnectorStateInfo.TaskState before) throws InterruptedException {
        if (before == null || !"FAILED".equals(before.state())) {
            return;
        }
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            ConnectorStateInfo.TaskState now = task(connector);
            if (now != null && (!"FAILED".equals(now.state()) || !now.trace().equals(before.trace()))) {
                return;
            }
            Thread.sleep(100);
        }
    }

    private static final java.util.concurrent.atomic.AtomicLong TRIGGERS = new java.util.concurrent.atomic.AtomicLong();
}
