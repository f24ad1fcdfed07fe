package io.bq2k.e2e;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;

import io.bq2k.stack.PipelineOps;

/**
 * A topic of JSON-with-schema records as any other consumer of the changelog sees it (read with
 * {@link PipelineOps#readAll}, {@code read_committed}): every record's key and value payloads in order, and
 * the latest value per key.
 */
final class TopicContents {

    /** One record: key payload, value payload (null for a tombstone), partition and offset. */
    record Entry(JsonNode key, JsonNode value, int partition, long offset) { }

    final List<Entry> records;

    private TopicContents(List<Entry> records) {
        this.records = records;
    }

    static TopicContents read(PipelineOps ops, String topic) {
        return new TopicContents(ops.readAll(topic).stream()
            .map(r -> new Entry(PipelineOps.payload(r.key()), r.value() == null ? null : PipelineOps.payload(r.value()), r.partition(), r.offset()))
            .collect(Collectors.toList()));
    }

    /** Latest value per key (key as its JSON text); tombstoned keys are absent. */
    Map<String, JsonNode> latest() {
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
    List<String> tombstonedKeys() {
        Map<String, Boolean> last = new HashMap<>();
        records.forEach(e -> last.put(e.key.toString(), e.value == null));
        return last.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).collect(Collectors.toList());
    }
}
