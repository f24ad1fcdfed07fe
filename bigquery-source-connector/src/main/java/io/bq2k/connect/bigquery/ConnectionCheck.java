package io.bq2k.connect.bigquery;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import io.bq2k.connect.bigquery.SyncConfig.FieldError;

/**
 * The checks of validate() that need BigQuery: credentials parse, the staging dataset exists (or the
 * connector may create it at its first run), no other connector owns this sync's staging tables, and
 * the query's dry run gives a result that can become records. No side effect; few quick attempts, so a
 * REST validate call answers promptly.
 */
final class ConnectionCheck {

    private ConnectionCheck() { }

    static Optional<FieldError> run(SyncConfig config) {
        try {
            BigQueryGateway.credentials(config);
        } catch (IllegalArgumentException e) {
            String field = switch (config.credentialsType()) {
                case SERVICE_ACCOUNT_JSON -> SyncConfig.CREDENTIALS_JSON;
                case KEY_FILE -> SyncConfig.CREDENTIALS_FILE;
                default -> SyncConfig.CREDENTIALS_TYPE;
            };
            return Optional.of(new FieldError(field, "Credentials could not be loaded: " + e.getMessage()));
        }
        Map<String, Object> quick = new HashMap<>(config.originals());
        quick.put(SyncConfig.RETRY_MAX_ATTEMPTS, 2);
        quick.put(SyncConfig.RETRY_INITIAL_BACKOFF_MS, 200L);
        SyncConfig quickConfig = SyncConfig.unchecked(quick);
        try (BigQueryGateway gateway = new BigQueryGateway(quickConfig, () -> false)) {
            // Validation has no side effect: a missing dataset is created by the first run when allowed.
            boolean exists = gateway.datasetExists(config.stagingDataset());
            if (!exists && !config.createStagingDataset()) {
                return Optional.of(new FieldError(SyncConfig.STAGING_DATASET, "Staging dataset " + config.stagingDataset()
                    + " does not exist and " + SyncConfig.STAGING_DATASET_CREATE + "=false: create it in the query's location, or allow the connector to."));
            }
            if (!exists) {
                return checkQuery(config, gateway);
            }
            Optional<FieldError> owner = checkOwner(config, gateway);
            return owner.isPresent() ? owner : checkQuery(config, gateway);
        } catch (Retrier.TransientException e) {
            return Optional.of(new FieldError(SyncConfig.STAGING_DATASET, "BigQuery could not be reached to check the staging dataset "
                + config.stagingDataset() + ": " + e.getMessage() + " Check " + SyncConfig.ENDPOINT + " and the network."));
        }
    }

    /** Staging tables of this sync's name that carry another connector's owner mark: the names collide. */
    private static Optional<FieldError> checkOwner(SyncConfig config, BigQueryGateway gateway) {
        StagingTables staging = new StagingTables(config.stagingDataset(), config.syncName());
        for (String name : gateway.tableNames(staging.dataset(), staging.prefix())) {
            if (staging.snapshotRun(name).isEmpty() && staging.diffRun(name).isEmpty()) {
                continue;
            }
            Map<String, String> labels = gateway.table(staging.dataset().table(name)).map(t -> t.getLabels()).orElse(null);
            String owner = labels == null ? null : labels.get(BigQueryRunSteps.OWNER_LABEL);
            if (owner != null && !owner.equals(config.ownerId())) {
                return Optional.of(new FieldError(SyncConfig.SYNC_NAME, "Staging table " + staging.dataset().table(name) + " of sync '"
                    + config.syncName() + "' is owned by another connector (owner mark " + owner + "): two connectors would share staging tables. "
                    + "Give this connector its own " + SyncConfig.SYNC_NAME + "."));
            }
        }
        return Optional.empty();
    }

    /**
     * Dry-runs the query (no cost) and checks that its result can become records: it parses, the key
     * columns are there with key types, every type has a mapping. The run repeats these checks, since
     * the data and the query's tables change after deployment.
     */
    private static Optional<FieldError> checkQuery(SyncConfig config, BigQueryGateway gateway) {
        String queryField = config.query().isEmpty() ? SyncConfig.TABLE : SyncConfig.QUERY;
        BigQueryGateway.DryRun dryRun;
        try {
            dryRun = gateway.dryRun(config.sourceQuery());
        } catch (Retrier.TransientException e) {
            return Optional.of(new FieldError(queryField, "BigQuery could not be reached to dry-run the query: " + e.getMessage()
                + " Check " + SyncConfig.ENDPOINT + " and the network."));
        } catch (Retrier.PermanentException e) {
            return Optional.of(new FieldError(queryField, "BigQuery rejects the query: " + e.getMessage()
                + ". Fix the " + (queryField.equals(SyncConfig.TABLE) ? "table name" : "query") + " (a dry run, at no cost, checks it)."));
        }
        if (dryRun.schema().isEmpty()) {
            return Optional.empty();
        }
        try {
            RecordShape.of(dryRun.schema().get().getFields(), config.keyColumns(), config.topic(), config.columnStyle());
            return Optional.empty();
        } catch (RecordShape.InvalidShape e) {
            String field = e.field().equals(SyncConfig.QUERY) ? queryField : e.field();
            return Optional.of(new FieldError(field, "Dry run of the query: " + e.getMessage() + "."));
        }
    }
}
