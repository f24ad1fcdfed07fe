package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.bq2k.stack.BigQueryRest;

/**
 * Every type of the mapping, with a row of NULLs, through the emulator and Kafka: both read
 * paths (Storage Read API and REST) must give the documented Connect values, identical to each other.
 */
@Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
class TypeMappingIT {

    static BigQueryRest bq;
    static EmbeddedConnectCluster connect;
    static EmbeddedSync sync;

    static final String TABLE = "CREATE OR REPLACE TABLE src.types AS\n"
        + "SELECT 1 AS id, 'Zoë 東京 🚀' AS s, 42 AS i, -1.5 AS f, TRUE AS b, NUMERIC '-12345.678901234' AS n,\n"
        + "  DATE '1969-07-20' AS d, TIME '23:59:59.123456' AS t, TIMESTAMP '2024-02-29 12:34:56.789012 UTC' AS ts,\n"
        + "  DATETIME '2024-02-29 12:34:56.789012' AS dt, FROM_BASE64('AP9hYg==') AS by, [1, 2, 3] AS arr,\n"
        + "  STRUCT(1 AS x, 'y' AS y) AS st, 7 AS `select`, 'ä' AS `größe`\n"
        + "UNION ALL\n"
        + "SELECT 2, CAST(NULL AS STRING), CAST(NULL AS INT64), CAST(NULL AS FLOAT64), CAST(NULL AS BOOL), CAST(NULL AS NUMERIC),\n"
        + "  CAST(NULL AS DATE), CAST(NULL AS TIME), CAST(NULL AS TIMESTAMP), CAST(NULL AS DATETIME), CAST(NULL AS BYTES),\n"
        + "  CAST([] AS ARRAY<INT64>), CAST(NULL AS STRUCT<x INT64, y STRING>), CAST(NULL AS INT64), CAST(NULL AS STRING)";

    @BeforeAll
    static void start() throws Exception {
        sync = EmbeddedSync.start("types-it", Map.of(), new java.util.Properties());
        bq = sync.bq;
        connect = sync.connect;
        bq.query(TABLE);
    }

    @AfterAll
    static void stop() {
        if (sync != null) {
            sync.close();
        }
    }

    Map<Long, JsonNode> rowsVia(String readApi) throws Exception {
        String name = "types_" + readApi;
        Map<String, String> config = sync.connectorConfig(name, "types");
        config.put("read.api", readApi);
        connect.configureConnector(name, config);
        sync.awaitRun(name, 1);
        Map<Long, JsonNode> rows = new HashMap<>();
        TopicContents.read(sync.ops, name).latest().forEach((k, v) -> rows.put(v.get("id").asLong(), v));
        return rows;
    }

    @Test
    void everyTypeArrivesAsDocumentedOnBothReadPaths() throws Exception {
        Map<Long, JsonNode> storage = rowsVia("storage");
        Map<Long, JsonNode> rest = rowsVia("rest");
        assertEquals(storage, rest, "the Storage Read API and REST paths give identical records");

        JsonNode r = storage.get(1L);
        assertEquals("Zoë 東京 🚀", r.get("s").asText());
        assertEquals(42, r.get("i").asLong());
        assertEquals(-1.5, r.get("f").asDouble());
        assertTrue(r.get("b").asBoolean());
        // Connect Decimal in JSON: base64 of the unscaled two's-complement bytes, scale 9.
        BigDecimal n = new BigDecimal(new java.math.BigInteger(Base64.getDecoder().decode(r.get("n").asText())), 9);
        assertEquals(new BigDecimal("-12345.678901234"), n);
        assertEquals(-165, r.get("d").asInt(), "DATE: days since epoch");
        assertEquals(86_399_123_456L, r.get("t").asLong(), "TIME: microseconds of the day");
        assertEquals(1_709_210_096_789_012L, r.get("ts").asLong(), "TIMESTAMP: epoch microseconds");
        assertEquals(1_709_210_096_789_012L, r.get("dt").asLong(), "DATETIME: microseconds, wall clock as UTC");
        assertEquals("AP9hYg==", r.get("by").asText(), "BYTES");
        assertEquals(new ObjectMapper().readTree("[1,2,3]"), new ObjectMapper().readTree(r.get("arr").asText()), "ARRAY as JSON text");
        assertEquals(new ObjectMapper().readTree("{\"x\":1,\"y\":\"y\"}"), new ObjectMapper().readTree(r.get("st").asText()), "STRUCT as JSON text");
        assertEquals(7, r.get("select").asInt(), "reserved word as column name");
        assertEquals("ä", r.get("größe").asText(), "non-ASCII column name");

        JsonNode nulls = storage.get(2L);
        for (String col : new String[] {"s", "i", "f", "b", "n", "d", "t", "ts", "dt", "by", "st", "select", "größe"}) {
            assertTrue(nulls.get(col).isNull(), col + " NULL stays NULL: " + nulls);
        }
        assertEquals("[]", nulls.get("arr").asText(), "an empty ARRAY (BigQuery has no NULL arrays)");
    }
}
