package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.bq2k.cli.ConnectorDeployer;
import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.Component;
import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.PipelineOps;

/**
 * The bench's own local stack (random ports, a stack dir under /tmp, worker JMX on) with its
 * clients, and the syncs deployed on it: the connector configs derived from the shipped ones
 * ({@link ConnectorConfigs}) with the bench's tuning flags, a new name per sync.
 */
final class BenchStack {

    /** Indented, as the schemas have always been logged and given to the sink's schema.content. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    final BenchOptions opts;
    final LocalStack local;
    BigQueryRest bq;
    PipelineOps ops;
    ConnectorDeployer deployer;
    Baselines baselines;
    WorkerMemory memory;
    HostMetrics host;
    private int syncCounter;
    private String keySchema;
    private String valueSchema;

    /** Builds the stack (not started): the worker's heap flags, its JFR recording and GC log as the options ask. */
    BenchStack(BenchOptions opts) {
        this.opts = opts;
        String heap = opts.connectHeap;
        if (opts.jfr) {
            heap += " -XX:StartFlightRecording=filename=" + opts.stackDir.getParent().resolve("worker.jfr") + ",settings=profile,dumponexit=true";
        }
        if (opts.runs("memory")) {
            // One line per collection (before->after(heap size), pause), JVM uptime: the memory case's figures can be checked against it.
            heap += " -Xlog:gc:file=" + opts.stackDir.getParent().resolve("worker-gc.log") + ":uptime";
        }
        local = LocalStack.builder().randomPorts(true).stackDir(opts.stackDir).connectHeap(heap).bqLogLevel("warning")
                .stopOnJvmExit(!opts.keep).build();
    }

    /** Starts every component and connects the clients (emulator, Connect, MySQL for the baselines, the worker's JMX). */
    void up() throws Exception {
        long t0 = System.nanoTime();
        log("stack dir %s; starting the local stack (random ports, worker JMX on)", opts.stackDir);
        if (opts.runsAvro()) {
            local.up(Component.values()); // the defaults and the schema registry (Avro in the format comparison)
        } else {
            local.up();
        }
        log("stack up in %.1fs: rest %s, mysql %d, kafka %s, connect %s, jmx %d", (System.nanoTime() - t0) / 1e9,
                local.bqRestUrl(), local.mysqlPort(), local.kafkaBootstrap(), local.connectUrl(), local.connectJmxPort());
        bq = new BigQueryRest(local.bqRestUrl(), local.bqProject());
        ops = PipelineOps.of(local);
        deployer = local.deployer();
        String mysqlUrl = "jdbc:mysql://127.0.0.1:" + local.mysqlPort() + "/" + local.mysqlDatabase()
                + "?connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true" + (opts.jdbcExtra.isEmpty() ? "" : "&" + opts.jdbcExtra);
        baselines = new Baselines(local.bqRestUrl(), local.bqProject(), mysqlUrl, local.mysqlUser(), local.mysqlPassword(), opts.pageSize);
        memory = new WorkerMemory(local.connectJmxPort(), workerPid());
        host = new HostMetrics(local);
    }

    /** Closes the JMX connection; stops the stack and removes its directory unless --keep. */
    void down() {
        if (memory != null) {
            try { memory.close(); } catch (Exception ignored) { /* best effort */ }
        }
        if (opts.keep) {
            log("--keep: the stack stays up (stack dir %s)", opts.stackDir);
        } else {
            local.down(false);
            log("stack stopped and its directory removed");
        }
    }

    /** Drops a MySQL table of the stack's database if it exists. */
    void dropTable(String table) throws SQLException {
        try (Connection c = local.mysqlConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS `" + table + "`");
        }
    }

    long workerPid() {
        return local.pid(Component.CONNECT).orElseThrow();
    }

    /** A new sync name ({@code prefix-<n>}); {@link #staging()} is its staging dataset. */
    String nextSync(String prefix) {
        return prefix + "-" + (++syncCounter);
    }

    /** The staging dataset of the sync last named by {@link #nextSync}. */
    String staging() {
        return "bench_stg_" + syncCounter;
    }

    Map<String, String> sourceConfig(String topic, String query, String staging) {
        return sourceConfig(topic, query, staging, opts.compactJson);
    }

    private Map<String, String> sourceConfig(String topic, String query, String staging, boolean compactJson) {
        Map<String, String> c = tuneSource(ConnectorConfigs.source(local, topic, query, staging));
        if (compactJson) {
            c.put("key.converter.schemas.enable", "false");
            c.put("value.converter.schemas.enable", "false");
        }
        return c;
    }

    /**
     * The source of the format comparison ({@link FormatCase}): the shipped JSON config (schema in every record) or the
     * shipped Avro one (for {@link RecordFormat#AVRO_APICURIO} with Apicurio's converter in place of ours), with the same
     * tuning as every other sync of the bench; only the converters differ.
     */
    Map<String, String> sourceConfig(RecordFormat f, String topic, String query, String staging) {
        Map<String, String> c = f.avro() ? ConnectorConfigs.avroSource(local, topic, query, staging)
                : ConnectorConfigs.source(local, topic, query, staging);
        if (f == RecordFormat.AVRO_APICURIO) {
            c.put("key.converter", RecordFormat.APICURIO_CONVERTER);
            c.put("value.converter", RecordFormat.APICURIO_CONVERTER);
        }
        return tuneSource(c);
    }

    /** The sink of the format comparison: the shipped JSON or Avro sink config with the bench's tuning. */
    Map<String, String> sinkConfig(RecordFormat f, String topic, String table) {
        return tuneSink(f.avro() ? ConnectorConfigs.avroSink(local, topic, table) : ConnectorConfigs.sink(local, topic, table));
    }

    /** The bench's tuning of a source config (any converter). */
    private Map<String, String> tuneSource(Map<String, String> c) {
        c.put("mass.delete.max.ratio", "1.0");
        // Every run does the work (snapshot + diff) even when no input table changed: the no-change
        // figure then measures the full path, not the dry-run skip.
        c.put("schedule.skip.unchanged.inputs", "false");
        c.put("topic.creation.default.partitions", String.valueOf(opts.partitions));
        // Producer batching and compression (needs connector.client.config.override.policy=All on the worker).
        c.put("producer.override.linger.ms", opts.producerLinger);
        c.put("producer.override.batch.size", opts.producerBatch);
        c.put("producer.override.compression.type", opts.producerCompression);
        c.put("producer.override.buffer.memory", "67108864");
        if (opts.chunkRows != null) {
            c.put("read.chunk.rows", opts.chunkRows);
        }
        return c;
    }

    Map<String, String> sinkConfig(String topic, String table) {
        Map<String, String> c = tuneSink(ConnectorConfigs.sink(local, topic, table));
        if (opts.compactJson) {
            c.put("key.converter.schemas.enable", "true");
            c.put("key.converter.schema.content", keySchema);
            c.put("value.converter.schemas.enable", "true");
            c.put("value.converter.schema.content", valueSchema);
        }
        return c;
    }

    /** The bench's tuning of a sink config (any converter). */
    private Map<String, String> tuneSink(Map<String, String> c) {
        c.put("tasks.max", String.valueOf(opts.sinkTasks));
        if (!opts.jdbcExtra.isEmpty()) {
            c.put("connection.url", c.get("connection.url") + "&" + opts.jdbcExtra);
        }
        c.put("batch.size", String.valueOf(opts.sinkBatch));
        c.put("consumer.override.max.poll.records", String.valueOf(opts.sinkBatch));
        c.put("consumer.override.fetch.min.bytes", "1048576");
        c.put("consumer.override.fetch.max.wait.ms", "100");
        c.put("consumer.override.max.partition.fetch.bytes", "10485760");
        c.put("consumer.override.fetch.max.bytes", "52428800");
        return c;
    }

    /**
     * The record schemas the source produces for the query (for the sink's schema.content): from one
     * record of a one-row sync with schemas on. Adds them to {@code details} as "record_schemas".
     */
    void probeSchemas(Map<String, Object> details) throws Exception {
        String name = nextSync("bench-probe");
        String topic = "bench." + name;
        local.createCompactedTopic(topic, 1);
        deployer.deploy(name, sourceConfig(topic, BenchData.QUERY + " WHERE id = 1", "bench_stg_probe", false));
        ops.awaitRun(topic + ".runs", 1, Duration.ofMinutes(5));
        PipelineOps.TopicRecord r = ops.readAll(topic).get(0);
        keySchema = JSON.writeValueAsString(JSON.readTree(r.key()).get("schema"));
        valueSchema = JSON.writeValueAsString(JSON.readTree(r.value()).get("schema"));
        deployer.delete(name);
        log("record schemas (for the sink's schema.content): key %s; value %s", keySchema, valueSchema);
        details.put("record_schemas", Map.of("key", JSON.readTree(keySchema), "value", JSON.readTree(valueSchema)));
    }
}
