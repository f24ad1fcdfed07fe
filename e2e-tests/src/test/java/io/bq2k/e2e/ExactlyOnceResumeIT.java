package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.bq2k.stack.BigQueryRest;

/**
 * Resume in the middle of a large run on a worker with exactly-once source support (KIP-618):
 * the task is stopped while a run of 60,000 changes is half emitted and restarted; the run
 * completes with every change, keys never go back in run order, and a read_committed consumer
 * sees each change exactly once.
 */
@Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
class ExactlyOnceResumeIT {

    static final int ROWS = 60_000;
    static BigQueryRest bq;
    static EmbeddedConnectCluster connect;
    static EmbeddedSync sync;

    @BeforeAll
    static void start() throws Exception {
        sync = EmbeddedSync.start("eos-it", Map.of("exactly.once.source.support", "enabled"), transactionLogOnOneBroker());
        bq = sync.bq;
        connect = sync.connect;
    }

    @AfterAll
    static void stop() {
        if (sync != null) {
            sync.close();
        }
    }

    static Properties transactionLogOnOneBroker() {
        Properties broker = new Properties();
        broker.put("transaction.state.log.replication.factor", "1");
        broker.put("transaction.state.log.min.isr", "1");
        return broker;
    }

    static String table(int version) {
        return "CREATE OR REPLACE TABLE src.big AS SELECT id, " + version + " AS version, CONCAT('row ', CAST(id AS STRING)) AS label\n"
            + "FROM UNNEST(GENERATE_ARRAY(1, " + ROWS + ")) AS id";
    }

    static long committedRecords(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, connect.kafka().bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            return c.endOffsets(parts).values().stream().mapToLong(Long::longValue).sum();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Stops the task once the topic holds between a sixth and half of the run's records, then restarts it. */
    static void interruptMidRun(String topic, long before) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 300_000;
        while (committedRecords(topic) - before < ROWS / 6) {
            assertTrue(System.currentTimeMillis() < deadline, "run did not progress");
            Thread.sleep(50);
        }
        long seen = committedRecords(topic) - before;
        assertTrue(seen < ROWS, "the run finished before it could be interrupted (" + seen + " records)");
        connect.restartTask(topic, 0);
    }

    @Test
    void aRunInterruptedMidwayCompletesWithEveryChangeOnceAndInOrder() throws Exception {
        String name = "big";
        Map<String, String> config = sync.connectorConfig(name, "big");
        config.put("read.chunk.rows", "2000");
        config.put("exactly.once.support", "required");
        config.put("transaction.boundary", "connector");

        bq.query(table(1));
        connect.configureConnector(name, config);
        interruptMidRun(name, 0);
        sync.awaitRun(name, 1);

        bq.query(table(2));
        long afterRun1 = committedRecords(name);
        sync.triggerRun(name);
        interruptMidRun(name, afterRun1);
        sync.awaitRun(name, 2);

        TopicContents committed = TopicContents.read(sync.ops, name);
        // Per key: how many records of each version (index 1 and 2), and the last version seen (index 0).
        Map<String, int[]> versionsPerKey = new HashMap<>();
        for (TopicContents.Entry e : committed.records) {
            int[] seen = versionsPerKey.computeIfAbsent(e.key().toString(), k -> new int[3]);
            int v = e.value().get("version").asInt();
            assertTrue(v == 1 || v == 2, "key " + e.key() + ": version " + v);
            assertTrue(v >= seen[0], "key " + e.key() + " went back from version " + seen[0] + " to " + v);
            seen[v]++;
            seen[0] = v;
        }
        assertEquals(ROWS, versionsPerKey.size(), "every key present");
        versionsPerKey.forEach((k, seen) -> {
            assertEquals(1, seen[1], "key " + k + ": version 1 exactly once for a read_committed consumer");
            assertEquals(1, seen[2], "key " + k + ": version 2 exactly once for a read_committed consumer");
        });
        long version2 = committed.records.stream().filter(e -> e.value().get("version").asInt() == 2).count();
        assertEquals(ROWS, version2, "version 2 of every key exactly once for a read_committed consumer");
    }
}
