package io.bq2k.e2e;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

import io.bq2k.cli.ConnectRest;
import io.bq2k.connect.bigquery.BigQuerySourceConnector;
import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.Component;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.PipelineOps;

/**
 * The dev stack's BigQuery emulator (alone, on random ports) plus an embedded Connect cluster (one worker
 * and a broker inside the test JVM), for tests that need Connect's internals at hand (exactly-once
 * transactions, offsets API, task restarts). Runs are awaited and topics read with the stack's
 * {@link PipelineOps}, as in every other end-to-end test.
 */
final class EmbeddedSync implements AutoCloseable {

    final LocalStack emulator;
    final BigQueryRest bq;
    final EmbeddedConnectCluster connect;
    final PipelineOps ops;

    private EmbeddedSync(LocalStack emulator, EmbeddedConnectCluster connect) {
        this.emulator = emulator;
        this.bq = emulator.bigQuery();
        this.connect = connect;
        String base = URI.create(connect.endpointForResource("connectors")).resolve("/").toString();
        this.ops = new PipelineOps(connect.kafka().bootstrapServers(), new ConnectRest(base));
    }

    /** Starts the emulator (with a dataset {@code src}) and a one-worker cluster; worker and broker properties may be empty. */
    static EmbeddedSync start(String name, Map<String, String> workerProps, java.util.Properties brokerProps) throws Exception {
        Path dir = Files.createTempDirectory("bq2k-" + name);
        LocalStack emulator = LocalStack.builder().randomPorts(false).stackDir(dir.resolve("stack")).quiet(true).build();
        emulator.up(Component.EMULATOR);
        emulator.bigQuery().query("CREATE SCHEMA IF NOT EXISTS src");
        Map<String, String> worker = new HashMap<>(workerProps); // the cluster modifies it
        worker.putIfAbsent("offset.flush.interval.ms", "500");
        EmbeddedConnectCluster connect = new EmbeddedConnectCluster.Builder().name(name).numWorkers(1)
            .workerProps(worker).brokerProps(brokerProps).build();
        try {
            connect.start();
        } catch (RuntimeException e) {
            connect.stop();
            emulator.down(false);
            throw e;
        }
        return new EmbeddedSync(emulator, connect);
    }

    @Override
    public void close() {
        connect.stop();
        emulator.down(false);
    }

    Map<String, String> connectorConfig(String name, String table) {
        Map<String, String> c = new HashMap<>();
        c.put("connector.class", BigQuerySourceConnector.class.getName());
        c.put("tasks.max", "1");
        c.put("bigquery.project", emulator.bqProject());
        c.put("bigquery.endpoint", emulator.bqRestUrl());
        c.put("bigquery.storage.endpoint", emulator.bqGrpcEndpoint());
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

    /** Waits for the summary of {@code run} of the sync writing {@code topic} (fails once its task stays FAILED). */
    PipelineOps.RunSummary awaitRun(String topic, long run) throws InterruptedException {
        return ops.awaitRun(topic + ".runs", run, Duration.ofMinutes(3));
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
