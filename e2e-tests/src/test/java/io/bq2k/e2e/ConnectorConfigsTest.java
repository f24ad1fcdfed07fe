package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.bq2k.stack.StackSettings;
import io.bq2k.cli.ConnectorDeployer;

/**
 * The connector config files in config/: both sinks (Debezium's, which runs here, and Confluent's,
 * which cannot: it is not on Maven Central) must say the same thing — same topic, same table,
 * upsert + delete + key from the record key — and the source must match them.
 */
class ConnectorConfigsTest {

    static final Path CONFIG = StackSettings.detectProjectRoot().resolve("config");
    static final Map<String, String> PORTS = Map.of("MYSQL_PORT", "3306", "BQ_REST_PORT", "9050", "BQ_GRPC_PORT", "9060",
            "MYSQL_USER", "sync", "MYSQL_PASSWORD", "sync");

    static Map<String, String> config(String file) {
        ConnectorDeployer d = new ConnectorDeployer("http://127.0.0.1:1", PORTS, null);
        return d.read(CONFIG.resolve(file)).config();
    }

    @Test
    void debeziumSinkHasTheRequiredSettings() {
        Map<String, String> c = config("sink-debezium-mysql.json");
        assertEquals("io.debezium.connector.jdbc.JdbcSinkConnector", c.get("connector.class"));
        assertEquals("demo.user_features", c.get("topics"));
        assertEquals("user_features", c.get("collection.name.format"));
        assertEquals("upsert", c.get("insert.mode"));
        assertEquals("true", c.get("delete.enabled"));
        assertEquals("record_key", c.get("primary.key.mode"));
        assertEquals("basic", c.get("schema.evolution"));
        assertEquals("org.hibernate.dialect.MySQLDialect", c.get("hibernate.dialect"));
        assertEquals("sync", c.get("connection.username"));
        assertEquals("${env:MYSQL_PASSWORD}", c.get("connection.password"), "a worker config provider reference, never the secret");
        assertTrue(c.get("connection.url").startsWith("jdbc:mysql://127.0.0.1:3306/demo?"), c.get("connection.url"));
        assertTrue(c.get("connection.url").contains("rewriteBatchedStatements=true"));
        assertEquals(c.get("batch.size"), c.get("consumer.override.max.poll.records"));
        assertEquals("1", c.get("tasks.max"));
        assertJsonWithSchemas(c);
    }

    @Test
    void confluentSinkHasTheRequiredSettings() {
        Map<String, String> c = config("sink-confluent-mysql.json");
        assertEquals("io.confluent.connect.jdbc.JdbcSinkConnector", c.get("connector.class"));
        assertEquals("upsert", c.get("insert.mode"));
        assertEquals("true", c.get("delete.enabled"));
        assertEquals("record_key", c.get("pk.mode"));
        assertEquals("true", c.get("auto.create"));
        assertEquals("true", c.get("auto.evolve"));
        assertEquals("UTC", c.get("db.timezone"));
        assertEquals("sync", c.get("connection.user"));
        assertEquals("${env:MYSQL_PASSWORD}", c.get("connection.password"), "a worker config provider reference, never the secret");
        assertEquals(c.get("batch.size"), c.get("consumer.override.max.poll.records"));
        assertJsonWithSchemas(c);
    }

    @Test
    void bothSinksAndTheSourceAgree() {
        Map<String, String> dbz = config("sink-debezium-mysql.json");
        Map<String, String> cfl = config("sink-confluent-mysql.json");
        Map<String, String> src = config("source-bigquery-demo.json");
        assertEquals(dbz.get("topics"), cfl.get("topics"), "same topic");
        assertEquals(dbz.get("topics"), src.get("topic"), "the sinks read the source's topic");
        assertEquals(dbz.get("collection.name.format"), cfl.get("table.name.format"), "same table");
        assertEquals(dbz.get("connection.url"), cfl.get("connection.url"), "same database");
        assertEquals(dbz.get("batch.size"), cfl.get("batch.size"));
        for (String k : new String[] {"key.converter", "value.converter", "key.converter.schemas.enable", "value.converter.schemas.enable"}) {
            assertEquals(src.get(k), dbz.get(k), k);
            assertEquals(src.get(k), cfl.get(k), k);
        }
    }

    @Test
    void sourceHasTheKeysOfTheConnectorsConfigDef() {
        Map<String, String> c = config("source-bigquery-demo.json");
        assertEquals("io.bq2k.connect.bigquery.BigQuerySourceConnector", c.get("connector.class"));
        assertEquals("demo", c.get("bigquery.project"));
        assertEquals("http://127.0.0.1:9050", c.get("bigquery.endpoint"));
        assertEquals("127.0.0.1:9060", c.get("bigquery.storage.endpoint"));
        assertEquals("none", c.get("bigquery.credentials.type"));
        assertEquals("user_id", c.get("key.columns"));
        assertEquals("bq2k_staging", c.get("staging.dataset"));
        assertEquals("3600000", c.get("schedule.interval.ms"));
        assertFalse(c.get("query").isBlank());
        assertEquals("compact", c.get("topic.creation.default.cleanup.policy"));
        assertEquals("1", c.get("topic.creation.default.replication.factor"));
        assertEquals("1", c.get("topic.creation.default.partitions"));
    }

    @Test
    void placeholdersAreSubstitutedOrReported() {
        assertEquals("a 1 b x", ConnectorDeployer.substitute("a ${P} b ${Q:-x}", Map.of("P", "1")));
        ConnectorDeployer.DeployException e = assertThrows(ConnectorDeployer.DeployException.class,
                () -> ConnectorDeployer.substitute("${NOPE}", Map.of()));
        assertTrue(e.getMessage().contains("NOPE"));
    }

    @Test
    void workerPropertiesSetTheDocumentedEssentials() throws Exception {
        java.util.Properties p = new java.util.Properties();
        try (var in = Files.newBufferedReader(CONFIG.resolve("connect-distributed.properties"))) {
            p.load(in);
        }
        assertEquals("service_load", p.getProperty("plugin.discovery"));
        assertEquals("1", p.getProperty("config.storage.replication.factor"));
        assertEquals("1", p.getProperty("offset.storage.replication.factor"));
        assertEquals("1", p.getProperty("status.storage.replication.factor"));
        assertEquals("true", p.getProperty("value.converter.schemas.enable"));
        assertTrue(Integer.parseInt(p.getProperty("offset.flush.interval.ms")) <= 5000);
    }

    private static void assertJsonWithSchemas(Map<String, String> c) {
        assertEquals("org.apache.kafka.connect.json.JsonConverter", c.get("key.converter"));
        assertEquals("org.apache.kafka.connect.json.JsonConverter", c.get("value.converter"));
        assertEquals("true", c.get("key.converter.schemas.enable"));
        assertEquals("true", c.get("value.converter.schemas.enable"));
    }
}
