package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.bq2k.cli.ConnectorDeployer;
import io.bq2k.cli.SyncStatus;
import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.Component;
import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck;
import io.bq2k.stack.PipelineOps;

/**
 * Avro as a record format, end to end on the real stack with its schema registry (Apicurio Registry): the shipped
 * {@code config/avro/} source and Debezium sink (our {@code CachingAvroConverter}: Apicurio's {@code AvroConverter} with
 * its registry lookup cached, in the plugin directory of Apicurio's converter on the worker) carry five runs of inserts, updates and deletes over every compared type (INT64 key, STRING with
 * non-ASCII text, NUMERIC, TIMESTAMP in microseconds, DATE, FLOAT64, BOOL, NULLs) into MariaDB, and after each run
 * MySQL equals the query result. Then "the other consumer": a plain {@link KafkaConsumer} with Apicurio's
 * {@link AvroKafkaDeserializer} reads the topic from the beginning, keeps the latest value per key (a tombstone
 * deletes) and rebuilds the same table, after a restart of the registry (its schemas persist). It also prints the serialized bytes per record, Avro against the JSON source
 * (JsonConverter with schemas) on the same rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AvroPipelineIT {

    static final Duration RUN_TIMEOUT = Duration.ofMinutes(4);
    static final Duration CONVERGE_TIMEOUT = Duration.ofMinutes(3);
    static final String TOPIC = "avro.mirror";
    static final String TABLE = "avro_mirror";
    static final String SOURCE = "source-avro-mirror";
    static final String SINK = "sink-avro-mirror";
    static final int RUNS = 5;
    static final String APICURIO_CONVERTER = "io.apicurio.registry.utils.converter.AvroConverter";
    static final String CACHING_CONVERTER = "io.bq2k.connect.avro.CachingAvroConverter";

    LocalStack stack;
    Path tmp;
    BigQueryRest bq;
    PipelineOps ops;
    final MirrorCheck check = new MirrorCheck(VersionedTable.COLUMNS);
    final VersionedTable table = new VersionedTable("avro.mirror_src", 300, 30, 3);

    @BeforeAll
    void up() throws Exception {
        tmp = Files.createTempDirectory("bq2k-avro-");
        stack = LocalStack.builder().randomPorts(false).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx1g").bqLogLevel("warning").stopOnJvmExit(true).build();
        long t0 = System.nanoTime();
        stack.up(Component.values()); // the defaults and the registry
        log("stack up in %.1fs: %s", (System.nanoTime() - t0) / 1e9, stack.lastStartDurations());
        log("registry %s: ready in %.1fs, RSS %d MB after start", stack.registryUrl(),
                stack.lastStartDurations().get(Component.REGISTRY).toMillis() / 1000.0, rssMb(Component.REGISTRY));
        bq = new BigQueryRest(stack.bqRestUrl(), "demo");
        ops = PipelineOps.of(stack);
        bq.query("CREATE SCHEMA IF NOT EXISTS avro");
    }

    @AfterAll
    void down() throws java.io.IOException {
        boolean keep = Boolean.getBoolean("e2e.keepData");
        if (stack != null) {
            stack.down(keep);
        }
        if (!keep && tmp != null) {
            Files.deleteIfExists(tmp); // empty once the stack dir is wiped
        }
    }

    static void log(String fmt, Object... args) {
        System.out.printf("[avro] " + fmt + "%n", args);
    }

    long rssMb(Component c) {
        long pid = stack.pid(c).orElseThrow();
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (java.io.IOException e) {
            return -1;
        }
        return -1;
    }

    /** The deserializer settings matching the shipped converters' (Confluent wire format, content ids, no headers). */
    Map<String, Object> serdeConfig() {
        Map<String, Object> m = new HashMap<>();
        m.put("apicurio.registry.url", stack.registryUrl());
        m.put("apicurio.registry.as-confluent", "true");
        m.put("apicurio.registry.use-id", "contentId");
        m.put("apicurio.registry.headers.enabled", "false");
        return m;
    }

    /** One record of a topic as bytes, with the registry's view of it (null for a tombstone). */
    record AvroRecord(int partition, long offset, byte[] keyBytes, byte[] valueBytes, GenericRecord key, GenericRecord value) {}

    /**
     * Every record of the topic from the beginning up to the end offsets at call time: a plain consumer reading bytes
     * (to measure them) and Apicurio's deserializers turning them into Avro records through the registry.
     */
    List<AvroRecord> readAll(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<AvroRecord> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             AvroKafkaDeserializer<GenericRecord> keys = new AvroKafkaDeserializer<>();
             AvroKafkaDeserializer<GenericRecord> values = new AvroKafkaDeserializer<>()) {
            keys.configure(serdeConfig(), true);
            values.configure(serdeConfig(), false);
            List<TopicPartition> tps = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).collect(Collectors.toList());
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps, Duration.ofSeconds(10));
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                assertTrue(System.nanoTime() < deadline, "reading " + topic + " did not reach the end offsets " + end);
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        out.add(new AvroRecord(r.partition(), r.offset(), r.key(), r.value(),
                                keys.deserialize(topic, r.headers(), r.key()), values.deserialize(topic, r.headers(), r.value())));
                    }
                }
            }
        }
        return out;
    }

    /** The run summary of run {@code n} on the run-history topic, Avro like the data (the source's converters write both). */
    PipelineOps.RunSummary awaitRun(String runsTopic, long n) throws InterruptedException {
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        PipelineOps.RunSummary latest = null;
        while (System.nanoTime() < deadline) {
            if (ops.endOffsets(runsTopic).values().stream().mapToLong(Long::longValue).sum() > 0) {
                for (AvroRecord r : readAll(runsTopic)) {
                    if (r.value() != null) {
                        // GenericRecord#toString is JSON (the map end_offsets with string keys): the summary's own shape.
                        PipelineOps.RunSummary s = PipelineOps.parse(r.value().toString());
                        if (!s.abandoned() && (latest == null || s.run() >= latest.run())) {
                            latest = s;
                        }
                    }
                }
            }
            if (latest != null && latest.run() == n) {
                return latest;
            }
            assertTrue(latest == null || latest.run() < n, "waited for run " + n + " but the latest summary is " + latest);
            Thread.sleep(500);
        }
        throw new AssertionError("no summary of run " + n + " on " + runsTopic + " within " + RUN_TIMEOUT.toSeconds() + "s; latest: " + latest);
    }

    /** The latest value per key of the topic's records, a tombstone removing the key: what a consumer of the topic holds. */
    MirrorCheck.Rows latestPerKey(List<AvroRecord> records) {
        Map<Object, List<Object>> latest = new HashMap<>();
        for (AvroRecord r : records) {
            Object id = r.key().get("id");
            if (r.value() == null) {
                latest.remove(id);
            } else {
                latest.put(id, check.fromAvro(r.value()::get, 9));
            }
        }
        return new MirrorCheck.Rows(latest);
    }

    void assertFixture(int v) {
        MirrorCheck.Result r = check.compare(check.rows(table.rows(v)), check.readBigQuery(bq, table.query()));
        assertTrue(r.equal(), () -> "fixture: the emulator's version " + v + " differs from the Java formula: " + r.summary());
    }

    @Test
    void fiveRunsThroughAvroIntoMySqlAndAPlainAvroConsumerRebuildsTheTable() throws Exception {
        // The converter is a plugin of its own on the worker (service manifest from dev-stack), without Kafka's jars.
        Path pluginDir = stack.projectRoot().resolve("dev-stack/target/plugins/apicurio-converter");
        try (Stream<Path> jars = Files.list(pluginDir)) {
            List<String> names = jars.map(j -> j.getFileName().toString()).sorted().collect(Collectors.toList());
            assertTrue(names.stream().noneMatch(n -> n.startsWith("connect-json") || n.startsWith("connect-api") || n.startsWith("kafka-clients")),
                    "Kafka's own jars must stay out of the converter's plugin directory: " + names);
        }
        String plugins = stack.connectRest().send("GET", "/connector-plugins?connectorsOnly=false", null).body();
        assertTrue(plugins.contains(APICURIO_CONVERTER), "the worker lists Apicurio's converter: " + plugins);
        assertTrue(plugins.contains(CACHING_CONVERTER), "the worker lists our caching subclass of it: " + plugins);

        Map<String, String> source = ConnectorConfigs.avroSource(stack, TOPIC, table.query(), "bq2k_staging_avro");
        Map<String, String> sink = ConnectorConfigs.avroSink(stack, TOPIC, TABLE);
        for (Map<String, String> c : List.of(source, sink)) {
            assertEquals(CACHING_CONVERTER, c.get("key.converter"));
            assertEquals(CACHING_CONVERTER, c.get("value.converter"));
            assertEquals(stack.registryUrl(), c.get("value.converter.apicurio.registry.url"), "the stack's registry, from ${REGISTRY_URL}");
        }
        source.put("topic.creation.default.partitions", "2");
        assertTrue(stack.createTopic(TOPIC, 2, Map.of("cleanup.policy", "compact")));

        bq.query(table.createSql(1));
        assertFixture(1);
        ConnectorDeployer d = stack.deployer();
        d.deploy(SINK, sink);
        d.awaitRunning(SINK, Duration.ofSeconds(90));
        d.deploy(SOURCE, source);
        d.awaitRunning(SOURCE, Duration.ofSeconds(90));

        for (int v = 1; v <= RUNS; v++) {
            long t0 = System.nanoTime();
            if (v > 1) {
                bq.query(table.createSql(v));
                assertFixture(v);
                ops.triggerRun(SOURCE);
            }
            PipelineOps.RunSummary s = awaitRun(TOPIC + ".runs", v);
            long[] c = table.changes(v);
            assertTrue(v == 1 || (c[0] > 0 && c[1] > 0 && c[2] > 0), "each version inserts, updates and deletes");
            assertArrayEquals(c, new long[] {s.added(), s.changed(), s.removed()},
                    "run " + v + " summary (added, changed, removed) vs the Java diff of versions " + (v - 1) + " and " + v);
            MirrorCheck.Rows expected = check.readBigQuery(bq, table.query());
            MirrorCheck.Result r = check.awaitMySqlEquals(stack::mysqlConnection, TABLE, expected, CONVERGE_TIMEOUT, null);
            assertTrue(r.equal(), () -> "I1 through Avro: MySQL " + TABLE + " after run " + s.run() + ": " + r.summary());
            log("run %d: %s; MySQL equals the query result (%d rows) %.1fs after the change", v, s, r.expectedRows(),
                    (System.nanoTime() - t0) / 1e9);
        }

        // The operator's view reads the Avro run summaries through the registry the source's converter names.
        com.fasterxml.jackson.databind.JsonNode status = new SyncStatus(stack.connectUrl(), stack.kafkaBootstrap()).collect();
        com.fasterxml.jackson.databind.JsonNode ours = null;
        for (com.fasterxml.jackson.databind.JsonNode sync : status.path("syncs")) {
            if (SOURCE.equals(sync.path("connector").asText())) {
                ours = sync;
            }
        }
        assertTrue(ours != null, "bq2k status lists the Avro sync: " + status);
        assertEquals(RUNS, ours.path("last_run").path("run").asLong(), "bq2k status shows the last Avro run summary: " + ours);
        log("bq2k status of the Avro sync: last run %s, freshness %s", ours.path("last_run").path("run"),
                ours.path("sinks").path(0).path("freshness").asText());

        // The sink created the columns from the Avro schemas: the semantic types survived the registry round trip.
        log("MySQL column types: %s", VersionedTable.assertSinkColumnTypes(stack, TABLE));

        // The registry keeps its schemas in its data dir: after a restart, the ids in the records still resolve.
        long r0 = System.nanoTime();
        stack.stopRegistry();
        stack.startRegistry();
        log("registry restarted in %.1fs (ready in %.1fs)", (System.nanoTime() - r0) / 1e9,
                stack.lastStartDurations().get(Component.REGISTRY).toMillis() / 1000.0);

        // The other consumer: a plain KafkaConsumer and Apicurio's deserializer, no Connect, rebuild the table.
        MirrorCheck.Rows expected = check.readBigQuery(bq, table.query());
        List<AvroRecord> all = readAll(TOPIC);
        long tombstones = all.stream().filter(r -> r.value() == null).count();
        MirrorCheck.Result rebuilt = check.compare(expected, latestPerKey(all));
        assertTrue(rebuilt.equal(), () -> "a plain Avro consumer's latest-per-key vs the query result: " + rebuilt.summary());
        assertTrue(tombstones > 0, "the topic carries deletes as tombstones");
        log("plain consumer: %d records (%d tombstones) rebuild the query result (%d rows)", all.size(), tombstones, expected.size());

        // Confluent's wire format (magic byte 0, 4-byte id), and the schemas registered under <topic>-key / <topic>-value.
        AvroRecord first = all.stream().filter(r -> r.value() != null).findFirst().orElseThrow();
        assertEquals(0, first.valueBytes()[0], "Confluent wire format: magic byte 0");
        assertEquals(0, first.keyBytes()[0], "Confluent wire format: magic byte 0");
        HttpClient http = HttpClient.newHttpClient();
        for (String artifact : List.of(TOPIC + "-key", TOPIC + "-value")) {
            HttpResponse<String> meta = http.send(HttpRequest.newBuilder(URI.create(stack.registryUrl()
                    + "/groups/default/artifacts/" + artifact + "/meta")).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, meta.statusCode(), artifact + ": " + meta.body());
            assertTrue(meta.body().contains("\"type\":\"AVRO\""), meta.body());
        }
        // The 4-byte id after the magic byte resolves through the registry's Confluent-compatible API, where Confluent's
        // deserializer would look it up.
        int valueId = java.nio.ByteBuffer.wrap(first.valueBytes(), 1, 4).getInt();
        HttpResponse<String> ccompat = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.registryPort()
                + "/apis/ccompat/v7/schemas/ids/" + valueId)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ccompat.statusCode(), ccompat.body());
        assertTrue(ccompat.body().contains("amount") && ccompat.body().contains("io.debezium.time.MicroTimestamp"), ccompat.body());
        log("value schema id %d resolves at /apis/ccompat/v7/schemas/ids/%d", valueId, valueId);

        // Bytes per record, Avro against JSON: the demo's JSON source (JsonConverter with schemas) on the same query, one
        // initial run onto a topic of its own, against the Avro record that holds each of the same rows now.
        String jsonTopic = TOPIC + ".json";
        d.deploy("source-json-mirror", ConnectorConfigs.source(stack, jsonTopic, table.query(), "bq2k_staging_json"));
        d.awaitRunning("source-json-mirror", Duration.ofSeconds(90));
        PipelineOps.RunSummary js = ops.awaitRun(jsonTopic + ".runs", 1, RUN_TIMEOUT);
        List<PipelineOps.TopicRecord> json = ops.readAll(jsonTopic);
        assertEquals(expected.size(), json.size(), "the JSON run: one record per row (" + js + ")");
        Map<Object, AvroRecord> current = new HashMap<>();
        for (AvroRecord r : all) {
            current.put(r.key().get("id"), r);
        }
        current.values().removeIf(r -> r.value() == null);
        assertEquals(expected.size(), current.size());
        double avroValue = current.values().stream().mapToInt(r -> r.valueBytes().length).average().orElseThrow();
        double avroKey = current.values().stream().mapToInt(r -> r.keyBytes().length).average().orElseThrow();
        double jsonValue = json.stream().mapToInt(r -> r.value().getBytes(StandardCharsets.UTF_8).length).average().orElseThrow();
        double jsonKey = json.stream().mapToInt(r -> r.key().getBytes(StandardCharsets.UTF_8).length).average().orElseThrow();
        log("bytes per record, the same %d rows (8 columns), serialized, before the producer's compression: Avro value %.1f + key %.1f;"
                + " JsonConverter with schemas value %.1f + key %.1f (value %.1fx larger)", expected.size(), avroValue, avroKey,
                jsonValue, jsonKey, jsonValue / avroValue);
        assertTrue(avroValue < jsonValue, "Avro carries the schema in the registry, not in every record");
        log("registry RSS %d MB after the runs", rssMb(Component.REGISTRY));
    }
}
