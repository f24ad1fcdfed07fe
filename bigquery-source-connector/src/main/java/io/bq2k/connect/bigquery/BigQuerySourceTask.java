package io.bq2k.connect.bigquery;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

/** Wires config, BigQuery access, the change reader and the run state machine of one sync. */
public final class BigQuerySourceTask extends SourceTask {

    private volatile boolean stopping;
    private BigQueryGateway gateway;
    private SyncRunner runner;
    private SyncMetrics metrics;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        SyncConfig config = new SyncConfig(props);
        gateway = new BigQueryGateway(config, () -> stopping);
        ChangeReader reader = config.readApi() == SyncConfig.ReadApi.STORAGE
            ? new StorageChangeReader(gateway, config.project()) : new RestChangeReader(gateway);
        metrics = new SyncMetrics(config.syncName());
        runner = new SyncRunner(config, new BigQueryRunSteps(config, gateway, reader), context.offsetStorageReader(),
            context.transactionContext(), Clock.systemUTC(), metrics);
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

    @Override
    public void stop() {
        stopping = true;
        if (runner != null) {
            runner.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (metrics != null) {
            metrics.close();
        }
    }
}
