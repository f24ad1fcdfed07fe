package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Every source config shipped under {@code config/} passes the connector's offline validation (the
 * {@code ConfigDef}, the cross-field rules and the unknown-key check; not the BigQuery dry run), and the
 * production configs ({@code config/production/}) carry no plain-text secret, no emulator endpoint, and the
 * topic and worker settings the README asks for. Files only: no network, no worker.
 */
class ShippedConfigsTest {

    /** A deploy-time placeholder of bin/deploy: {@code ${NAME}} or {@code ${NAME:-default}}. */
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");
    /** A Connect config provider reference: {@code ${provider:path:key}} or {@code ${provider:key}}. */
    private static final Pattern PROVIDER_REFERENCE = Pattern.compile("\\$\\{[A-Za-z0-9_.-]+:[^}]+}");

    private static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(dir.resolve("config").resolve("production"))) {
            dir = dir.getParent();
            assertTrue(dir != null, "no config/production above the working directory");
        }
        return dir;
    }

    private static Path production() {
        return root().resolve("config").resolve("production");
    }

    private static List<Path> sourceConfigs() throws IOException {
        try (Stream<Path> files = Files.walk(root().resolve("config"))) {
            return files.filter(p -> p.getFileName().toString().matches("source-.*\\.json")).sorted().toList();
        }
    }

    /** The connector config of a file, deploy-time placeholders replaced by their defaults (as bin/deploy would without overrides). */
    private static Map<String, String> config(Path file) throws IOException {
        JsonNode json = new ObjectMapper().readTree(Files.readString(file));
        Map<String, String> config = new LinkedHashMap<>();
        json.path("config").fields().forEachRemaining(e -> config.put(e.getKey(), defaults(file, e.getValue().asText())));
        config.put("name", json.path("name").asText());
        return config;
    }

    private static String defaults(Path file, String value) {
        Matcher m = PLACEHOLDER.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            assertTrue(m.group(2) != null, () -> file + ": placeholder " + m.group() + " has no default");
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(3)));
        }
        return m.appendTail(out).toString();
    }

    @Test
    void everyShippedSourceConfigPassesTheConnectorsOfflineValidation() throws IOException {
        List<Path> files = sourceConfigs();
        assertTrue(files.size() >= 2, "the demo and the production source configs: " + files);
        for (Path file : files) {
            Map<String, String> config = config(file);
            assertEquals(BigQuerySourceConnector.class.getName(), config.get("connector.class"), file.toString());
            List<String> errors = new ArrayList<>();
            for (ConfigValue v : SyncConfig.CONFIG_DEF.validate(config)) {
                v.errorMessages().forEach(e -> errors.add(v.name() + ": " + e));
            }
            assertEquals(List.of(), errors, file + ": ConfigDef errors");
            Map<String, String> props = BigQuerySourceConnector.withSyncName(config);
            assertEquals(java.util.Optional.empty(), SyncConfig.checkCrossFieldRules(SyncConfig.unchecked(props)), file + ": cross-field rules");
            new SyncConfig(props); // what the task's start() parses
            assertEquals(List.of(), UnknownKeys.warnings(config), file + ": unknown (misspelled) keys");
            assertEquals("compact", config.get("topic.creation.default.cleanup.policy"), file + ": the data topic is compacted");
        }
    }

    @Test
    void productionConfigsHoldNoPlainTextSecret() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(production())) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertTrue(files.size() >= 2, "a source and a sink: " + files);
        for (Path file : files) {
            Map<String, String> config = config(file);
            assertFalse(PLACEHOLDER.matcher(Files.readString(file)).find(), file + ": no deploy-time placeholders in a production config");
            for (Map.Entry<String, String> e : config.entrySet()) {
                boolean secret = e.getKey().contains("password") || e.getKey().contains("secret")
                    || SyncConfig.CONFIG_DEF.configKeys().containsKey(e.getKey())
                        && SyncConfig.CONFIG_DEF.configKeys().get(e.getKey()).type == ConfigDef.Type.PASSWORD;
                if (secret) {
                    assertTrue(PROVIDER_REFERENCE.matcher(e.getValue()).matches(),
                        file + ": " + e.getKey() + " must be a config provider reference (${file:...}), not the secret itself");
                }
            }
        }
    }

    @Test
    void productionSourceTalksToGoogleAndCreatesADurableCompactedTopic() throws IOException {
        Map<String, String> c = config(production().resolve("source-bigquery.json"));
        assertFalse(c.containsKey(SyncConfig.ENDPOINT), "no emulator REST endpoint");
        assertFalse(c.containsKey(SyncConfig.STORAGE_ENDPOINT), "no emulator Storage Read endpoint");
        assertNotEquals("none", c.get(SyncConfig.CREDENTIALS_TYPE), "real credentials");
        assertEquals("service_account_json", c.get(SyncConfig.CREDENTIALS_TYPE));
        assertTrue(PROVIDER_REFERENCE.matcher(c.get(SyncConfig.CREDENTIALS_JSON)).matches());
        assertEquals("3", c.get("topic.creation.default.replication.factor"));
        assertEquals("2", c.get("topic.creation.default.min.insync.replicas"));
        assertEquals("compact", c.get("topic.creation.default.cleanup.policy"));
        assertTrue(Long.parseLong(c.get("topic.creation.default.delete.retention.ms")) >= 7 * 86_400_000L,
            "tombstones outlive a sink stopped for a week");
        assertTrue(c.containsKey("topic.creation.default.min.compaction.lag.ms"));
        long recordMax = Long.parseLong(c.get(SyncConfig.RECORD_MAX_BYTES));
        long requestMax = Long.parseLong(c.get("producer.override.max.request.size"));
        long messageMax = Long.parseLong(c.get("topic.creation.default.max.message.bytes"));
        assertTrue(requestMax > recordMax, "the producer takes a row of record.max.bytes plus its key and schema envelope");
        assertTrue(messageMax >= requestMax, "the topic takes what the producer sends");
        assertEquals("required", c.get("exactly.once.support"));
        assertEquals("connector", c.get("transaction.boundary"));
    }

    @Test
    void productionSinkAppliesTheSourcesTopicReadCommitted() throws IOException {
        Map<String, String> src = config(production().resolve("source-bigquery.json"));
        Map<String, String> sink = config(production().resolve("sink-debezium-mysql.json"));
        assertEquals(src.get(SyncConfig.TOPIC), sink.get("topics"));
        assertEquals("upsert", sink.get("insert.mode"));
        assertEquals("true", sink.get("delete.enabled"));
        assertEquals("record_key", sink.get("primary.key.mode"));
        assertEquals("read_committed", sink.get("consumer.override.isolation.level"));
        assertFalse(sink.containsKey("errors.tolerance"), "the sink must not skip records (errors.tolerance=none, the default)");
        assertFalse(sink.get("connection.url").contains("127.0.0.1"), "a real database host");
        for (String k : List.of("key.converter", "value.converter", "key.converter.schemas.enable", "value.converter.schemas.enable")) {
            assertEquals(src.get(k), sink.get(k), k);
        }
    }

    @Test
    void productionWorkerIsReplicatedExactlyOnceAndResolvesFileSecrets() throws IOException {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(production().resolve("connect-distributed.properties"))) {
            p.load(in);
        }
        assertEquals("enabled", p.getProperty("exactly.once.source.support"));
        for (String topic : List.of("config", "offset", "status")) {
            assertEquals("3", p.getProperty(topic + ".storage.replication.factor"), topic);
        }
        assertTrue(List.of(p.getProperty("config.providers").split("\\s*,\\s*")).contains("file"));
        assertEquals("org.apache.kafka.common.config.provider.FileConfigProvider", p.getProperty("config.providers.file.class"));
        assertEquals("true", p.getProperty("topic.creation.enable"));
    }
}
