package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import io.bq2k.cli.ConnectorDeployer;

/**
 * The Avro configs in {@code config/avro/}: each is its JSON twin in {@code config/} with the converters swapped, and
 * nothing else changed — same topic, table, keys, query, sink settings. Apicurio's pair (both with
 * {@code CachingAvroConverter}, Apicurio's converter with its registry lookup cached) runs ({@code AvroPipelineIT});
 * the Confluent pair ({@code io.confluent.connect.avro.AvroConverter}, not reachable here) is checked only here.
 */
class AvroConfigsTest {

    /** Apicurio's converter with the registry lookup cached per schema (avro-converter/); reading is Apicurio's. */
    static final String CACHING = "io.bq2k.connect.avro.CachingAvroConverter";
    static final String CONFLUENT = "io.confluent.connect.avro.AvroConverter";

    static Map<String, String> config(String file) {
        return ConnectorConfigsTest.config(file);
    }

    static String name(String file) {
        ConnectorDeployer d = new ConnectorDeployer("http://127.0.0.1:1", ConnectorConfigsTest.PORTS, null);
        return d.read(ConnectorConfigsTest.CONFIG.resolve(file)).name();
    }

    /** The config without its converter keys. */
    static Map<String, String> withoutConverters(Map<String, String> c) {
        Map<String, String> m = new TreeMap<>(c);
        m.keySet().removeIf(k -> k.startsWith("key.converter") || k.startsWith("value.converter"));
        return m;
    }

    /** Only the JSON twin's converter keys differ; the connector name differs too (deploying both by accident would mix formats on one name). */
    static void assertTwin(String json, String avro) {
        assertEquals(withoutConverters(config(json)), withoutConverters(config(avro)), avro + " is " + json + " with other converters");
        assertNotEquals(name(json), name(avro), "a connector name of its own");
    }

    static void assertApicurio(Map<String, String> c, boolean source) {
        for (String side : new String[] {"key", "value"}) {
            String p = side + ".converter";
            assertEquals(CACHING, c.get(p), p);
            assertEquals("http://127.0.0.1:8081/apis/registry/v2", c.get(p + ".apicurio.registry.url"), p + ": the registry (REGISTRY_URL's default)");
            // Confluent's wire format (magic byte, 4-byte content id in the payload): what Confluent-compatible consumers read.
            assertEquals("true", c.get(p + ".apicurio.registry.as-confluent"), p);
            assertEquals("contentId", c.get(p + ".apicurio.registry.use-id"), p);
            assertEquals("false", c.get(p + ".apicurio.registry.headers.enabled"), p);
            if (source) {
                assertEquals("true", c.get(p + ".apicurio.registry.auto-register"), p + ": the source registers its schemas");
            }
            assertTrue(c.keySet().stream().noneMatch(k -> k.startsWith(p + ".schemas.enable")), p + ": no JsonConverter keys left");
        }
    }

    static void assertConfluent(Map<String, String> c) {
        for (String side : new String[] {"key", "value"}) {
            String p = side + ".converter";
            assertEquals(CONFLUENT, c.get(p), p);
            assertEquals("http://127.0.0.1:8081", c.get(p + ".schema.registry.url"), p + ": Confluent Schema Registry (SCHEMA_REGISTRY_URL's default)");
            assertTrue(c.keySet().stream().noneMatch(k -> k.startsWith(p + ".schemas.enable") || k.startsWith(p + ".apicurio.")), p);
        }
    }

    @Test
    void apicurioSourceAndSinkAreTheJsonOnesWithApicuriosConverter() {
        assertTwin("source-bigquery-demo.json", "avro/source-bigquery.json");
        assertTwin("sink-debezium-mysql.json", "avro/sink-debezium-mysql.json");
        assertApicurio(config("avro/source-bigquery.json"), true);
        assertApicurio(config("avro/sink-debezium-mysql.json"), false);
    }

    @Test
    void confluentSourceAndSinkAreTheJsonOnesWithConfluentsConverter() {
        assertTwin("source-bigquery-demo.json", "avro/source-bigquery-confluent.json");
        assertTwin("sink-confluent-mysql.json", "avro/sink-confluent-mysql.json");
        assertConfluent(config("avro/source-bigquery-confluent.json"));
        assertConfluent(config("avro/sink-confluent-mysql.json"));
    }

    @Test
    void eachAvroPairAgreesOnTopicTableAndRegistry() {
        Map<String, String> src = config("avro/source-bigquery.json");
        Map<String, String> sink = config("avro/sink-debezium-mysql.json");
        assertEquals(src.get("topic"), sink.get("topics"), "the sink reads the source's topic");
        for (String k : new String[] {"key.converter", "value.converter", "key.converter.apicurio.registry.url",
                "value.converter.apicurio.registry.url", "value.converter.apicurio.registry.as-confluent", "value.converter.apicurio.registry.use-id"}) {
            assertEquals(src.get(k), sink.get(k), k);
        }
        Map<String, String> csrc = config("avro/source-bigquery-confluent.json");
        Map<String, String> csink = config("avro/sink-confluent-mysql.json");
        assertEquals(csrc.get("topic"), csink.get("topics"), "the sink reads the source's topic");
        assertEquals(csrc.get("value.converter.schema.registry.url"), csink.get("value.converter.schema.registry.url"));
        assertEquals(config("sink-debezium-mysql.json").get("collection.name.format"), csink.get("table.name.format"), "same table");
    }

    @Test
    void theRegistryUrlIsAPlaceholderTheStackFillsIn() {
        ConnectorDeployer d = new ConnectorDeployer("http://127.0.0.1:1", Map.of("REGISTRY_URL", "http://127.0.0.1:18081/apis/registry/v2",
                "SCHEMA_REGISTRY_URL", "https://sr.example:8081", "MYSQL_PORT", "3306"), null);
        Map<String, String> c = d.read(ConnectorConfigsTest.CONFIG.resolve("avro/sink-debezium-mysql.json")).config();
        assertEquals("http://127.0.0.1:18081/apis/registry/v2", c.get("value.converter.apicurio.registry.url"));
        Map<String, String> cf = d.read(ConnectorConfigsTest.CONFIG.resolve("avro/source-bigquery-confluent.json")).config();
        assertEquals("https://sr.example:8081", cf.get("value.converter.schema.registry.url"));
    }
}
