package io.bq2k.connect.bigquery;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

/** Wires config, BigQuery access, the change reader and the run state machine of one sync. */
public final class BigQuerySourceTask extends SourceTask {

    private volatile boolean stopping;
    /** This task's reference to the worker's threads: its chunk reads run on the shared read pool. */
    private WorkerThreads.Lease threads;
    private BigQueryGateway gateway;
    private SyncRunner runner;
    private SyncMetrics metrics;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        threads = WorkerThreads.SHARED.acquire();
        try {
            SyncConfig config = new SyncConfig(props);
            gateway = new BigQueryGateway(config, () -> stopping);
            ChangeReader reader = config.readApi() == SyncConfig.ReadApi.STORAGE
                ? new StorageChangeReader(gateway, config.project()) : new RestChangeReader(gateway);
            metrics = new SyncMetrics(config.syncName(), pluginMetrics());
            gateway.retrier().onRetry(metrics::retried);
            runner = new SyncRunner(config, new BigQueryRunSteps(config, gateway, reader), context.offsetStorageReader(),
                context.transactionContext(), Clock.systemUTC(), metrics, threads.reads(), threads.controls());
        } catch (RuntimeException | Error e) {
            stop(); // Connect does not stop a task whose start failed: release what it took
            throw e;
        }
    }

    /** The task's plugin metrics (KIP-877); null on a worker older than Kafka 4.1, or a context without them. */
    private PluginMetrics pluginMetrics() {
        try {
            return context.pluginMetrics();
        } catch (LinkageError | UnsupportedOperationException e) {
            return null;
        }
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        if (stopping) {
            return null;
        }
        // Returns within about a second: BigQuery work goes on in the background, transient errors are retried later.
        return runner.poll();
    }

    @Override
    public void commitRecord(SourceRecord record, RecordMetadata metadata) {
        runner.acknowledged(record, metadata);
    }

    /** For tests: the task's lease on the worker's threads, and its gateway (null before start). */
    WorkerThreads.Lease threads() {
        return threads;
    }

    BigQueryGateway gateway() {
        return gateway;
    }

    @Override
    public void stop() {
        stopping = true;
        if (runner != null) {
            runner.close();
        }
        if (threads != null) {
            threads.close(); // interrupts this task's running read; the pool ends with the worker's last task
        }
        if (gateway != null) {
            gateway.close(); // the shared client closes with its last user
        }
        if (metrics != null) {
            metrics.close();
        }
    }
}
