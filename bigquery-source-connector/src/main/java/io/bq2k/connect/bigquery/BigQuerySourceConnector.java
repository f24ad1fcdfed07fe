package io.bq2k.connect.bigquery;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.ConnectorTransactionBoundaries;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * Keeps a compacted topic equal to the changelog of a BigQuery query result: one instance is
 * one sync, run by one task (runs of a sync are strictly sequential).
 */
public final class BigQuerySourceConnector extends SourceConnector {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BigQuerySourceConnector.class);

    private Map<String, String> props;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        this.props = withSyncName(props);
        new SyncConfig(this.props);
        UnknownKeys.warnings(props).forEach(w -> log.warn("Connector {}: {}", props.get("name"), w));
    }

    /**
     * The sync name defaults to the connector name made a valid identifier; when that changed the
     * name, a short hash of the name keeps it unique ({@code x-h5-1} and {@code x.h5.1} are two syncs).
     */
    static Map<String, String> withSyncName(Map<String, String> props) {
        Map<String, String> p = new HashMap<>(props);
        String sync = p.getOrDefault(SyncConfig.SYNC_NAME, "").trim();
        if (sync.isEmpty()) {
            String name = p.getOrDefault("name", "sync");
            sync = name.replaceAll("[^A-Za-z0-9_]", "_");
            if (sync.isEmpty() || (!Character.isLetter(sync.charAt(0)) && sync.charAt(0) != '_')) {
                sync = "_" + sync;
            }
            if (!sync.equals(name)) {
                sync = sync + "_" + RecordContract.shortHash("name:" + name).substring(0, 6);
            }
            p.put(SyncConfig.SYNC_NAME, sync);
        }
        return p;
    }

    @Override
    public Class<? extends Task> taskClass() {
        return BigQuerySourceTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        return List.of(props);
    }

    @Override
    public void stop() {
    }

    @Override
    public ConfigDef config() {
        return SyncConfig.CONFIG_DEF;
    }

    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config result = super.validate(connectorConfigs);
        Map<String, ConfigValue> values = new HashMap<>();
        result.configValues().forEach(v -> values.put(v.name(), v));
        if (result.configValues().stream().anyMatch(v -> !v.errorMessages().isEmpty())) {
            return result;
        }
        SyncConfig config = SyncConfig.unchecked(withSyncName(connectorConfigs));
        SyncConfig.checkCrossFieldRules(config).ifPresent(e -> values.get(e.field()).addErrorMessage(e.message()));
        if (result.configValues().stream().anyMatch(v -> !v.errorMessages().isEmpty())) {
            return result;
        }
        ConnectionCheck.run(config).ifPresent(e -> values.get(e.field()).addErrorMessage(e.message()));
        return result;
    }

    @Override
    public ExactlyOnceSupport exactlyOnceSupport(Map<String, String> connectorConfig) {
        // Offsets identify every change exactly and ride on the records, so Connect can commit them
        // in the same transaction.
        return ExactlyOnceSupport.SUPPORTED;
    }

    @Override
    public ConnectorTransactionBoundaries canDefineTransactionBoundaries(Map<String, String> connectorConfig) {
        // With transaction.boundary=connector a transaction is one chunk of changes, and the run summary its own.
        return ConnectorTransactionBoundaries.SUPPORTED;
    }

    @Override
    public boolean alterOffsets(Map<String, String> connectorConfig, Map<Map<String, ?>, Map<String, ?>> offsets) {
        String sync = withSyncName(connectorConfig).get(SyncConfig.SYNC_NAME);
        for (Map.Entry<Map<String, ?>, Map<String, ?>> e : offsets.entrySet()) {
            Map<String, ?> partition = e.getKey();
            if (partition == null || !sync.equals(partition.get(SyncOffset.SYNC)) || partition.size() != 1) {
                throw new ConnectException("This connector's only source partition is {\"" + SyncOffset.SYNC + "\": \"" + sync
                    + "\"}; got " + partition);
            }
            try {
                SyncOffset.fromMap(e.getValue());
            } catch (IllegalArgumentException ex) {
                throw new ConnectException("Invalid offset " + e.getValue() + ": " + ex.getMessage()
                    + ". Use {\"run\": n, \"done\": true} (run n complete) or {\"run\": n, \"bucket\": b, \"seq\": s}, or null to reset"
                    + " (the next run then republishes every row and tombstones keys gone since the retained snapshots).");
            }
        }
        return true;
    }
}
