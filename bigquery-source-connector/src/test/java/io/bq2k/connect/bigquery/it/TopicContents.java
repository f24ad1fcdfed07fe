package io.bq2k.connect.bigquery.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads a topic of JSON-with-schema records from the beginning to its current end, the way any
 * other consumer of the changelog would: the latest value per key, and every record in order.
 */
public final class TopicContents {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One record: key payload, value payload (null for a tombstone), partition and offset. */
    public record Entry(JsonNode key, JsonNode value, int partition, long offset) { }

    public final List<Entry> records;

    private TopicContents(List<Entry> records) {
        this.records = records;
    }

    public static TopicContents read(String bootstrap, String topic, boolean readCommitted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000);
        List<Entry> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            long deadline = System.currentTimeMillis() + 120_000;
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("timed out reading " + topic);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    out.add(new Entry(payload(r.key()), payload(r.value()), r.partition(), r.offset()));
                }
            }
        }
        return new TopicContents(out);
    }

    private static JsonNode payload(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            return n.has("payload") ? (n.get("payload").isNull() ? null : n.get("payload")) : n;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Latest value per key (key as its JSON text); tombstoned keys are absent. */
    public Map<String, JsonNode> latest() {
        Map<String, JsonNode> m = new LinkedHashMap<>();
        for (Entry e : records) {
            if (e.value == null) {
                m.remove(e.key.toString());
            } else {
                m.put(e.key.toString(), e.value);
            }
        }
        return m;
    }

    /** Keys whose latest record is a tombstone. */
    public List<String> tombstonedKeys() {
        Map<String, Boolean> last = new HashMap<>();
        records.forEach(e -> last.put(e.key.toString(), e.value == null));
        return last.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).collect(Collectors.toList());
    }
}
