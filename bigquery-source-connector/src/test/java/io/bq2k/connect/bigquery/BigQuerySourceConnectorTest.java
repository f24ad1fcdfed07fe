package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.ConnectorTransactionBoundaries;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.junit.jupiter.api.Test;

class BigQuerySourceConnectorTest {

    private final BigQuerySourceConnector connector = new BigQuerySourceConnector();

    static Map<String, String> valid() {
        Map<String, String> m = SyncConfigTest.valid();
        m.put("name", "users-connector");
        m.put("connector.class", BigQuerySourceConnector.class.getName());
        return m;
    }

    static Map<String, String> with(String... kv) {
        Map<String, String> m = valid();
        for (int i = 0; i < kv.length; i += 2) {
            if (kv[i + 1] == null) {
                m.remove(kv[i]);
            } else {
                m.put(kv[i], kv[i + 1]);
            }
        }
        return m;
    }

    static Map<String, ConfigValue> byName(Config config) {
        return config.configValues().stream().collect(Collectors.toMap(ConfigValue::name, v -> v));
    }

    static Map<String, List<String>> errors(Config config) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        config.configValues().stream().filter(v -> !v.errorMessages().isEmpty()).forEach(v -> m.put(v.name(), v.errorMessages()));
        return m;
    }

    /** Validates a config that must fail before any connection attempt, and returns the one field in error. */
    private String onlyErrorMessage(Map<String, String> props, String field) {
        Config result = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> connector.validate(props));
        Map<String, List<String>> errors = errors(result);
        assertEquals(List.of(field), List.copyOf(errors.keySet()), "errors: " + errors);
        assertEquals(1, errors.get(field).size(), "errors: " + errors);
        return errors.get(field).get(0);
    }

    // ---- validate(): single-field errors -------------------------------------------------------

    @Test
    void validateMissingProject() {
        Config result = connector.validate(with(SyncConfig.PROJECT, null));
        Map<String, List<String>> errors = errors(result);
        assertEquals(List.of(SyncConfig.PROJECT), List.copyOf(errors.keySet()), "errors: " + errors);
        // ConfigDef reports the missing value, then runs the validator on null as well.
        String msg = errors.get(SyncConfig.PROJECT).get(0);
        assertTrue(msg.contains("Missing required configuration \"bigquery.project\""), msg);
    }

    @Test
    void validateInvalidProject() {
        String msg = onlyErrorMessage(with(SyncConfig.PROJECT, "Bad_Project"), SyncConfig.PROJECT);
        assertTrue(msg.contains("Not a Google Cloud project id"), msg);
    }

    @Test
    void validateBadEnumAndRange() {
        assertTrue(onlyErrorMessage(with(SyncConfig.READ_API, "arrow"), SyncConfig.READ_API).contains("Must be one of"));
        assertTrue(onlyErrorMessage(with(SyncConfig.MASS_DELETE_MAX_RATIO, "1.5"), SyncConfig.MASS_DELETE_MAX_RATIO).contains("1.5"));
    }

    @Test
    void validateMalformedCron() {
        String msg = onlyErrorMessage(with(SyncConfig.SCHEDULE_CRON, "0 25 * * *"), SyncConfig.SCHEDULE_CRON);
        assertTrue(msg.contains("Cron hour field"), msg);
    }

    // ---- validate(): cross-field errors attached to the named field ----------------------------

    @Test
    void validateQueryAndTable() {
        String msg = onlyErrorMessage(with(SyncConfig.TABLE, "ds.t"), SyncConfig.QUERY);
        assertTrue(msg.contains("exactly one"), msg);
        msg = onlyErrorMessage(with(SyncConfig.QUERY, null), SyncConfig.QUERY);
        assertTrue(msg.contains("exactly one"), msg);
    }

    @Test
    void validateMalformedTable() {
        String msg = onlyErrorMessage(with(SyncConfig.QUERY, null, SyncConfig.TABLE, "only_one_part"), SyncConfig.TABLE);
        assertTrue(msg.contains("is not a table name"), msg);
    }

    @Test
    void validateKeyColumns() {
        assertTrue(onlyErrorMessage(with(SyncConfig.KEY_COLUMNS, ""), SyncConfig.KEY_COLUMNS).contains("at least one"));
        assertTrue(onlyErrorMessage(with(SyncConfig.KEY_COLUMNS, "a,a"), SyncConfig.KEY_COLUMNS).contains("twice"));
        assertTrue(onlyErrorMessage(with(SyncConfig.KEY_COLUMNS, "a`b"), SyncConfig.KEY_COLUMNS).contains("backtick"));
    }

    @Test
    void validateTopics() {
        assertTrue(onlyErrorMessage(with(SyncConfig.TOPIC, "bad topic!", SyncConfig.RUN_HISTORY_TOPIC, "h"), SyncConfig.TOPIC)
            .contains("Invalid topic name 'bad topic!'"));
        assertTrue(onlyErrorMessage(with(SyncConfig.RUN_HISTORY_TOPIC, "users"), SyncConfig.RUN_HISTORY_TOPIC)
            .contains("must differ from the data topic"));
    }

    @Test
    void validateStagingDataset() {
        assertTrue(onlyErrorMessage(with(SyncConfig.STAGING_DATASET, "no-dashes"), SyncConfig.STAGING_DATASET).contains("is not a dataset name"));
    }

    @Test
    void validateCredentials() {
        assertTrue(onlyErrorMessage(with(SyncConfig.CREDENTIALS_TYPE, "service_account_json"), SyncConfig.CREDENTIALS_JSON)
            .contains("needs the key JSON"));
        assertTrue(onlyErrorMessage(with(SyncConfig.CREDENTIALS_TYPE, "KEY_FILE"), SyncConfig.CREDENTIALS_FILE)
            .contains("needs the path"));
    }

    @Test
    void validateSyncName() {
        assertTrue(onlyErrorMessage(with(SyncConfig.SYNC_NAME, "bad name"), SyncConfig.SYNC_NAME).contains("not a valid sync name"));
    }

    @Test
    void validateDerivesSyncNameFromConnectorName() {
        // No sync.name, and a connector name with characters a sync name may not have: validation
        // must still pass the sync-name rule (the derived name is sanitized).
        String msg = onlyErrorMessage(with(SyncConfig.SYNC_NAME, null, "name", "9 users-sync!", SyncConfig.TOPIC, "bad topic!",
            SyncConfig.RUN_HISTORY_TOPIC, "h"), SyncConfig.TOPIC);
        assertTrue(msg.contains("Invalid topic name"), msg);
    }

    @Test
    void validateHidesThePassword() {
        Map<String, String> props = with(SyncConfig.CREDENTIALS_TYPE, "service_account_json",
            SyncConfig.CREDENTIALS_JSON, "{\"private_key\": \"TOP-SECRET-KEY\"}",
            SyncConfig.TOPIC, "bad topic!", SyncConfig.RUN_HISTORY_TOPIC, "h");
        Config result = connector.validate(props);
        ConfigValue json = byName(result).get(SyncConfig.CREDENTIALS_JSON);
        assertEquals("[hidden]", String.valueOf(json.value()));
        assertFalse(json.toString().contains("TOP-SECRET-KEY"), json.toString());
        for (ConfigValue v : result.configValues()) {
            assertFalse(String.valueOf(v.value()).contains("TOP-SECRET-KEY"), v.name());
            v.errorMessages().forEach(m -> assertFalse(m.contains("TOP-SECRET-KEY"), m));
        }
    }

    // ---- validate(): the connection check, against a closed port --------------------------------

    @Test
    void validateReportsUnreachableBigQueryOnStagingDataset() {
        Map<String, String> props = with(SyncConfig.ENDPOINT, "http://127.0.0.1:1", SyncConfig.RETRY_MAX_ATTEMPTS, "1",
            SyncConfig.RETRY_INITIAL_BACKOFF_MS, "1", SyncConfig.RETRY_MAX_BACKOFF_MS, "1");
        Config result = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> connector.validate(props));
        Map<String, List<String>> errors = errors(result);
        assertEquals(List.of(SyncConfig.STAGING_DATASET), List.copyOf(errors.keySet()), "errors: " + errors);
        String msg = errors.get(SyncConfig.STAGING_DATASET).get(0);
        assertTrue(msg.contains("BigQuery could not be reached"), msg);
        assertTrue(msg.contains("my-project.staging"), msg);
        assertTrue(msg.contains(SyncConfig.ENDPOINT), msg);
    }

    @Test
    void validateReportsUnparsableServiceAccountJsonWithoutTheSecret() {
        String secret = "-----BEGIN PRIVATE KEY-----MIIEvQ-very-secret";
        Map<String, String> props = with(SyncConfig.CREDENTIALS_TYPE, "service_account_json",
            SyncConfig.CREDENTIALS_JSON, "{\"type\": \"service_account\", \"private_key\": \"" + secret + "\", broken",
            SyncConfig.ENDPOINT, "http://127.0.0.1:1");
        Config result = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> connector.validate(props));
        Map<String, List<String>> errors = errors(result);
        assertEquals(List.of(SyncConfig.CREDENTIALS_JSON), List.copyOf(errors.keySet()), "errors: " + errors);
        String msg = errors.get(SyncConfig.CREDENTIALS_JSON).get(0);
        assertTrue(msg.contains("Credentials could not be loaded"), msg);
        assertFalse(msg.contains(secret), msg);
        assertFalse(msg.contains("MIIEvQ"), msg);
    }

    // ---- start / taskConfigs / misc -----------------------------------------------------------

    @Test
    void startRejectsInvalidConfigAndTaskConfigsCarrySyncName() {
        assertThrows(ConfigException.class, () -> connector.start(with(SyncConfig.TOPIC, "bad topic!")));
        connector.start(with(SyncConfig.SYNC_NAME, null));
        List<Map<String, String>> tasks = connector.taskConfigs(4);
        assertEquals(1, tasks.size());
        assertEquals("users_connector_6bdd13", tasks.get(0).get(SyncConfig.SYNC_NAME));
        assertEquals(BigQuerySourceTask.class, connector.taskClass());
        assertEquals(SyncConfig.CONFIG_DEF, connector.config());
        assertEquals(ExactlyOnceSupport.SUPPORTED, connector.exactlyOnceSupport(valid()));
        assertEquals(ConnectorTransactionBoundaries.SUPPORTED, connector.canDefineTransactionBoundaries(valid()));
    }

    @Test
    void withSyncNameSanitizesTheConnectorNameAndKeepsItUnique() {
        assertEquals("users", BigQuerySourceConnector.withSyncName(Map.of("name", "users")).get(SyncConfig.SYNC_NAME));
        assertEquals("users_connector_6bdd13", BigQuerySourceConnector.withSyncName(Map.of("name", "users-connector")).get(SyncConfig.SYNC_NAME));
        assertEquals("_9_a_b_3ee299", BigQuerySourceConnector.withSyncName(Map.of("name", "9 a.b")).get(SyncConfig.SYNC_NAME));
        assertEquals("_g__904eb2", BigQuerySourceConnector.withSyncName(Map.of("name", "-g-")).get(SyncConfig.SYNC_NAME));
        assertEquals("sync", BigQuerySourceConnector.withSyncName(Map.of()).get(SyncConfig.SYNC_NAME));
        assertEquals("mine", BigQuerySourceConnector.withSyncName(Map.of("name", "x", SyncConfig.SYNC_NAME, "mine")).get(SyncConfig.SYNC_NAME));
        // "größe" has letters outside [A-Za-z]: they become underscores.
        assertEquals("gr__e_c97def", BigQuerySourceConnector.withSyncName(Map.of("name", "größe")).get(SyncConfig.SYNC_NAME));
        // Failure 3 of issue 9: two connector names that sanitize alike are two syncs with their own staging tables.
        assertNotEquals(BigQuerySourceConnector.withSyncName(Map.of("name", "x-h5-1")).get(SyncConfig.SYNC_NAME),
            BigQuerySourceConnector.withSyncName(Map.of("name", "x.h5.1")).get(SyncConfig.SYNC_NAME));
    }

    @Test
    void withSyncNameSurvivesAnEmptyConnectorName() {
        assertDoesNotThrow(() -> BigQuerySourceConnector.withSyncName(Map.of("name", "")));
        assertDoesNotThrow(() -> connector.validate(with(SyncConfig.SYNC_NAME, null, "name", "", SyncConfig.TOPIC, "bad topic!")));
    }

    // ---- alterOffsets() ----------------------------------------------------------------------

    private static Map<Map<String, ?>, Map<String, ?>> offsets(Map<String, ?> partition, Map<String, ?> offset) {
        Map<Map<String, ?>, Map<String, ?>> m = new HashMap<>();
        m.put(partition, offset);
        return m;
    }

    @Test
    void alterOffsetsAcceptsValidOffsets() {
        Map<String, String> cfg = valid();
        Map<String, String> p = SyncOffset.partition("users_sync");
        assertTrue(connector.alterOffsets(cfg, offsets(p, Map.of("run", 3, "done", true))));
        assertTrue(connector.alterOffsets(cfg, offsets(p, Map.of("run", 3L, "bucket", 2, "seq", 17L))));
        assertTrue(connector.alterOffsets(cfg, offsets(p, Map.of("run", 3, "done", false, "bucket", 0, "seq", 0))));
        assertTrue(connector.alterOffsets(cfg, offsets(p, null)));
        assertTrue(connector.alterOffsets(cfg, new HashMap<>()));
    }

    @Test
    void alterOffsetsUsesTheDerivedSyncName() {
        Map<String, String> cfg = with(SyncConfig.SYNC_NAME, null, "name", "users-connector");
        assertTrue(connector.alterOffsets(cfg, offsets(SyncOffset.partition("users_connector_6bdd13"), Map.of("run", 1, "done", true))));
        assertThrows(ConnectException.class,
            () -> connector.alterOffsets(cfg, offsets(SyncOffset.partition("users-connector"), Map.of("run", 1, "done", true))));
    }

    @Test
    void alterOffsetsRejectsWrongPartitions() {
        Map<String, String> cfg = valid();
        for (Map<String, ?> partition : List.of(Map.of("sync", "other"), Map.of("sync", "users_sync", "extra", 1), Map.of("table", "users_sync"))) {
            ConnectException e = assertThrows(ConnectException.class,
                () -> connector.alterOffsets(cfg, offsets(partition, Map.of("run", 1, "done", true))));
            assertTrue(e.getMessage().contains("only source partition is {\"sync\": \"users_sync\"}"), e.getMessage());
            assertTrue(e.getMessage().contains("got " + partition), e.getMessage());
        }
        ConnectException e = assertThrows(ConnectException.class,
            () -> connector.alterOffsets(cfg, offsets(null, Map.of("run", 1, "done", true))));
        assertTrue(e.getMessage().contains("got null"), e.getMessage());
    }

    @Test
    void alterOffsetsRejectsBadOffsetsExplainingTheValidShapes() {
        Map<String, String> cfg = valid();
        Map<String, String> p = SyncOffset.partition("users_sync");
        Map<String, Map<String, ?>> bad = new LinkedHashMap<>();
        bad.put("\"run\"", Map.of("done", true));
        bad.put("\"seq\"", Map.of("run", 1, "bucket", 0, "seq", -1));
        bad.put("\"done\"", Map.of("run", 1, "done", "yes"));
        bad.put("has no \"bucket\"", Map.of("run", 1, "done", true, "bucket", 0));
        bad.put("\"bucket\"", Map.of("run", 1, "seq", 4));
        for (Map.Entry<String, Map<String, ?>> b : bad.entrySet()) {
            ConnectException e = assertThrows(ConnectException.class, () -> connector.alterOffsets(cfg, offsets(p, b.getValue())));
            String msg = e.getMessage();
            assertTrue(msg.startsWith("Invalid offset "), msg);
            assertTrue(msg.contains(b.getKey()), msg);
            assertTrue(msg.contains("{\"run\": n, \"done\": true}"), msg);
            assertTrue(msg.contains("{\"run\": n, \"bucket\": b, \"seq\": s}"), msg);
            assertTrue(msg.contains("or null to reset"), msg);
        }
    }
}
