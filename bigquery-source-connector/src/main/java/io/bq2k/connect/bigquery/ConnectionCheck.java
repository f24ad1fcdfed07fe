package io.bq2k.connect.bigquery;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import io.bq2k.connect.bigquery.SyncConfig.FieldError;

/**
 * The checks of validate() that need BigQuery: credentials parse, and the staging dataset exists
 * or can be created. One quick attempt each, so a REST validate call answers promptly.
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
            gateway.ensureDataset(config.stagingDataset(), config.createStagingDataset());
            return Optional.empty();
        } catch (Retrier.PermanentException e) {
            return Optional.of(new FieldError(SyncConfig.STAGING_DATASET, "Staging dataset " + config.stagingDataset()
                + " does not exist and could not be created: " + e.getMessage()
                + ". Create it in the query's location, or grant bigquery.datasets.create."));
        } catch (Retrier.TransientException e) {
            return Optional.of(new FieldError(SyncConfig.STAGING_DATASET, "BigQuery could not be reached to check the staging dataset "
                + config.stagingDataset() + ": " + e.getMessage() + " Check " + SyncConfig.ENDPOINT + " and the network."));
        }
    }
}
