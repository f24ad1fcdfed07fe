package io.bq2k.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.PipelineOps;

/**
 * A topic as bytes: its records read with a plain consumer and {@link ByteArrayDeserializer} (key and value as
 * serialized by the source's converter, before the producer's compression) and its partitions' size in the
 * broker's log dir (compressed batches, as stored); and the Avro run summaries of a run-history topic (the
 * source's converter writes both), read through the stack's registry.
 */
final class TopicBytes {

    /** Records (tombstones included), summed key and value bytes, and the partitions' size on the broker. */
    record Size(long records, long tombstones, long keyBytes, long valueBytes, long brokerBytes) {
        double keyPerRecord() {
            return records == 0 ? Double.NaN : (double) keyBytes / records;
        }

        double valuePerRecord() {
            return records - tombstones == 0 ? Double.NaN : (double) valueBytes / (records - tombstones);
        }

        double brokerPerRecord() {
            return records == 0 ? Double.NaN : (double) brokerBytes / records;
        }
    }

    private TopicBytes() {
    }

    /** The records of {@code topic} up to its end offsets now, and its size in the broker's log dir. */
    static Size measure(LocalStack stack, String topic) throws Exception {
        long[] n = new long[4];
        read(stack, topic, r -> {
            n[0]++;
            n[2] += r.key() == null ? 0 : r.key().length;
            if (r.value() == null) {
                n[1]++;
            } else {
                n[3] += r.value().length;
            }
        });
        long broker = 0;
        try (Admin admin = stack.admin()) {
            List<Integer> brokers = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).stream().map(Node::id).toList();
            for (Map<String, LogDirDescription> dirs : admin.describeLogDirs(brokers).allDescriptions().get(30, TimeUnit.SECONDS).values()) {
                for (LogDirDescription d : dirs.values()) {
                    for (Map.Entry<TopicPartition, ReplicaInfo> e : d.replicaInfos().entrySet()) {
                        if (e.getKey().topic().equals(topic)) {
                            broker += e.getValue().size();
                        }
                    }
                }
            }
        }
        return new Size(n[0], n[1], n[2], n[3], broker);
    }

    /** Waits for the summary of run {@code n} on an Avro run-history topic (Apicurio's deserializer, the stack's registry). */
    static PipelineOps.RunSummary awaitAvroRun(LocalStack stack, String runsTopic, long n, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        PipelineOps.RunSummary latest = null;
        Map<String, Object> serde = new HashMap<>();
        serde.put("apicurio.registry.url", stack.registryUrl());
        serde.put("apicurio.registry.as-confluent", "true");
        serde.put("apicurio.registry.use-id", "contentId");
        serde.put("apicurio.registry.headers.enabled", "false");
        try (AvroKafkaDeserializer<GenericRecord> values = new AvroKafkaDeserializer<>()) {
            values.configure(serde, false);
            while (System.nanoTime() < deadline) {
                List<PipelineOps.RunSummary> found = new ArrayList<>();
                try {
                    read(stack, runsTopic, r -> {
                        if (r.value() != null) {
                            // GenericRecord#toString is JSON: the summary's own shape (the map end_offsets with string keys).
                            found.add(PipelineOps.parse(values.deserialize(runsTopic, r.headers(), r.value()).toString()));
                        }
                    });
                } catch (RuntimeException e) {
                    // the topic may not exist yet
                }
                for (PipelineOps.RunSummary s : found) {
                    if (!s.abandoned() && (latest == null || s.run() >= latest.run())) {
                        latest = s;
                    }
                }
                if (latest != null && latest.run() == n) {
                    return latest;
                }
                if (latest != null && latest.run() > n) {
                    throw new IllegalStateException("waited for run " + n + " but the latest summary is " + latest);
                }
                Thread.sleep(500);
            }
        }
        throw new IllegalStateException("no summary of run " + n + " on " + runsTopic + " within " + timeout.toSeconds() + "s; latest: " + latest);
    }

    /** Every record of the topic from the beginning up to the end offsets at call time (read_committed), as bytes. */
    private static void read(LocalStack stack, String topic, java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> each) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps, Duration.ofSeconds(10));
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading " + topic + " did not reach the end offsets " + end);
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        each.accept(r);
                    }
                }
            }
        }
    }
}
