package io.bq2k.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The operators' one screen per sync: connector and task state (Connect REST API), the last
 * run's summary (run-history topic), each sink's lag per partition (Kafka's committed offsets
 * of the sink's consumer group) and freshness: whether MySQL already holds the latest run.
 * Everything comes from Connect and Kafka themselves; nothing is kept on the side.
 */
public final class SyncStatus {

    public static final String SOURCE_CLASS = "io.bq2k.connect.bigquery.BigQuerySourceConnector";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String connectUrl;
    private final String bootstrap;
    private final ConnectRest rest;
    private final Properties kafka;

    /** Connect or Kafka could not be reached: the message says which and what to check. */
    public static final class Unreachable extends RuntimeException {
        Unreachable(String message) {
            super(message);
        }
    }

    public SyncStatus(String connectUrl, String bootstrap) {
        this(new ClientOptions(connectUrl, bootstrap, null, null, null));
    }

    /** Reaches Connect and Kafka as {@code options} say (TLS, SASL, REST auth). */
    public SyncStatus(ClientOptions options) {
        this.connectUrl = options.connectUrl();
        this.bootstrap = options.bootstrap();
        this.rest = options.connectRest();
        this.kafka = options.kafkaProperties();
    }

    /** The status of every sync, as JSON (what --json prints). */
    public ObjectNode collect() {
        JsonNode connectors = get("/connectors?expand=status&expand=info");
        ObjectNode out = JSON.createObjectNode();
        out.put("connect", connectUrl).put("kafka", bootstrap).put("at", Instant.now().toString());
        ArrayNode syncs = out.putArray("syncs");
        try (Admin admin = admin()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = connectors.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> c = it.next();
                JsonNode config = c.getValue().path("info").path("config");
                if (SOURCE_CLASS.equals(config.path("connector.class").asText())) {
                    syncs.add(sync(c.getKey(), c.getValue(), connectors, admin));
                }
            }
        }
        return out;
    }

    private ObjectNode sync(String name, JsonNode connector, JsonNode all, Admin admin) {
        JsonNode config = connector.path("info").path("config");
        String topic = config.path("topic").asText();
        String history = config.path("run.history.topic").asText("");
        history = history.isBlank() ? topic + ".runs" : history;
        ObjectNode s = JSON.createObjectNode();
        s.put("connector", name).put("topic", topic).put("run_history_topic", history);
        s.set("state", state(connector.path("status")));
        JsonNode last = lastRun(history, name, config);
        s.set("last_run", last);
        Map<TopicPartition, Long> logEnd = endOffsets(admin, topic);
        ArrayNode sinks = s.putArray("sinks");
        for (Iterator<Map.Entry<String, JsonNode>> it = all.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> c = it.next();
            JsonNode cfg = c.getValue().path("info").path("config");
            if ("sink".equals(c.getValue().path("info").path("type").asText()) && consumes(cfg, topic)) {
                sinks.add(sink(c.getKey(), c.getValue(), cfg, admin, logEnd, last));
            }
        }
        return s;
    }

    private static boolean consumes(JsonNode cfg, String topic) {
        for (String t : cfg.path("topics").asText("").split(",")) {
            if (t.trim().equals(topic)) {
                return true;
            }
        }
        String regex = cfg.path("topics.regex").asText("");
        return !regex.isEmpty() && topic.matches(regex);
    }

    private ObjectNode sink(String name, JsonNode connector, JsonNode cfg, Admin admin, Map<TopicPartition, Long> logEnd, JsonNode last) {
        String group = cfg.path("consumer.override.group.id").asText("");
        group = group.isBlank() ? "connect-" + name : group;
        Map<TopicPartition, Long> committed = committed(admin, group);
        ObjectNode s = JSON.createObjectNode();
        s.put("connector", name).put("group", group);
        s.set("state", state(connector.path("status")));
        ArrayNode parts = s.putArray("partitions");
        long totalLag = 0;
        for (Map.Entry<TopicPartition, Long> e : logEnd.entrySet()) {
            long c = committed.getOrDefault(e.getKey(), 0L);
            long lag = Math.max(0, e.getValue() - c);
            totalLag += lag;
            parts.addObject().put("partition", e.getKey().partition()).put("log_end", e.getValue()).put("committed", c).put("lag", lag);
        }
        s.put("lag", totalLag);
        s.put("freshness", freshness(last, logEnd, committed));
        return s;
    }

    /** Whether the sink has consumed past the last run's end offsets, in words. */
    static String freshness(JsonNode last, Map<TopicPartition, Long> logEnd, Map<TopicPartition, Long> committed) {
        if (last == null || last.isNull()) {
            long emitted = logEnd.values().stream().mapToLong(Long::longValue).sum();
            long applied = logEnd.keySet().stream().mapToLong(tp -> Math.min(committed.getOrDefault(tp, 0L), logEnd.get(tp))).sum();
            return "run 1 in progress: " + applied + " of " + emitted + " changes emitted so far applied";
        }
        long run = last.path("run").asLong();
        long total = last.path("added").asLong() + last.path("changed").asLong() + last.path("removed").asLong();
        Map<Integer, Long> ends = new HashMap<>();
        last.path("end_offsets").fields().forEachRemaining(e -> ends.put(Integer.parseInt(e.getKey()), e.getValue().asLong()));
        long pending = 0;
        long next = 0;
        long nextApplied = 0;
        for (Map.Entry<TopicPartition, Long> e : logEnd.entrySet()) {
            long c = committed.getOrDefault(e.getKey(), 0L);
            // A partition without records of this task lifetime's runs counts as ending where the log ends.
            long end = ends.getOrDefault(e.getKey().partition(), e.getValue());
            pending += Math.max(0, end - c);
            next += Math.max(0, e.getValue() - end);
            nextApplied += Math.max(0, Math.min(c, e.getValue()) - end);
        }
        if (pending > 0) {
            return "run " + run + " in progress: " + Math.max(0, total - pending) + " of " + total + " changes applied";
        }
        String done = "MySQL holds run " + run + " completely";
        return next == 0 ? done : done + "; run " + (run + 1) + " in progress: " + nextApplied + " of " + next + " changes emitted so far applied";
    }

    private static ObjectNode state(JsonNode status) {
        ObjectNode s = JSON.createObjectNode();
        s.put("connector", status.path("connector").path("state").asText("UNKNOWN"));
        ArrayNode tasks = s.putArray("tasks");
        for (JsonNode t : status.path("tasks")) {
            ObjectNode task = tasks.addObject().put("id", t.path("id").asInt()).put("state", t.path("state").asText());
            String trace = t.path("trace").asText("");
            if (!trace.isEmpty()) {
                task.put("error", trace.lines().findFirst().orElse(""));
            }
        }
        return s;
    }

    /** The latest summary of this sync on the run-history topic, or null. */
    private JsonNode lastRun(String historyTopic, String connector, JsonNode config) {
        Properties p = consumerProps();
        JsonNode last = null;
        RunHistoryValues values = new RunHistoryValues(config);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            consumer.partitionsFor(historyTopic, Duration.ofSeconds(10)).forEach(i -> parts.add(new TopicPartition(historyTopic, i.partition())));
            if (parts.isEmpty()) {
                return null;
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            long deadline = System.currentTimeMillis() + 30_000;
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                    if (r.value() == null) {
                        continue;
                    }
                    JsonNode v = values.read(r.value());
                    if (v != null && !"abandoned".equals(v.path("mode").asText()) && (last == null || v.path("run").asLong() >= last.path("run").asLong())
                        && (config.path("sync.name").asText("").isEmpty() || config.path("sync.name").asText().equals(v.path("sync").asText()))) {
                        last = v;
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            return null;
        }
        return last;
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic) {
        try {
            var desc = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
            Map<TopicPartition, OffsetSpec> req = new HashMap<>();
            desc.partitions().forEach(p -> req.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            Map<TopicPartition, Long> out = new java.util.TreeMap<>(java.util.Comparator.comparingInt(TopicPartition::partition));
            admin.listOffsets(req).all().get(10, TimeUnit.SECONDS).forEach((tp, info) -> out.put(tp, info.offset()));
            return out;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
                return Map.of();
            }
            throw new Unreachable("Kafka did not describe topic " + topic + ": " + e.getCause());
        } catch (Exception e) {
            throw new Unreachable("Kafka is unreachable: " + e);
        }
    }

    private static Map<TopicPartition, Long> committed(Admin admin, String group) {
        try {
            Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Map<TopicPartition, Long> out = new HashMap<>();
            m.forEach((tp, om) -> {
                if (om != null) {
                    out.put(tp, om.offset());
                }
            });
            return out;
        } catch (Exception e) {
            throw new Unreachable("Kafka did not return the offsets of consumer group " + group + ": " + e);
        }
    }

    private Admin admin() {
        Properties p = new Properties();
        p.putAll(kafka);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
        Admin admin = Admin.create(p);
        try {
            admin.describeCluster().clusterId().get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            admin.close(Duration.ZERO);
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new Unreachable("Kafka at " + bootstrap + " is unreachable (" + cause.getClass().getSimpleName()
                + (cause.getMessage() == null ? "" : ": " + cause.getMessage())
                + "). Is the broker up, and do --bootstrap and --command-config (security.protocol, trust store) match its listener?");
        }
        return admin;
    }

    private Properties consumerProps() {
        Properties p = new Properties();
        p.putAll(kafka);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return p;
    }

    private JsonNode get(String path) {
        HttpResponse<String> r;
        try {
            r = rest.send("GET", path, null);
        } catch (UncheckedIOException e) {
            throw new Unreachable("The Connect REST API at " + connectUrl + " is unreachable (" + e.getCause().getClass().getSimpleName()
                + "). Is the worker up? Try: bin/stack status; or pass --connect http://host:port.");
        }
        if (r.statusCode() != 200) {
            throw new Unreachable("Connect at " + connectUrl + " answered HTTP " + r.statusCode() + " for " + path + ": " + r.body()
                + (r.statusCode() == 401 || r.statusCode() == 403 ? " (REST authentication: --rest-user and --rest-password-file)" : ""));
        }
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new Unreachable("Connect at " + connectUrl + " answered unreadable JSON for " + path);
        }
    }

    /** The human screen. */
    public static void print(JsonNode status, PrintStream out) {
        out.printf("Connect %s, Kafka %s, at %s%n", status.path("connect").asText(), status.path("kafka").asText(), status.path("at").asText());
        if (status.path("syncs").isEmpty()) {
            out.println("No BigQuery source connector is deployed.");
        }
        for (JsonNode s : status.path("syncs")) {
            out.printf("%nSync %s -> topic %s%n", s.path("connector").asText(), s.path("topic").asText());
            out.printf("  source: connector %s, tasks %s%n", s.path("state").path("connector").asText(), tasks(s.path("state")));
            JsonNode r = s.path("last_run");
            if (r.isMissingNode() || r.isNull()) {
                out.println("  last run: none finished yet");
            } else {
                out.printf("  last run: %d (%s) finished %s: %d rows, +%d ~%d -%d, snapshot %.1fs diff %.1fs emit %.1fs%n",
                    r.path("run").asLong(), r.path("mode").asText(), Instant.ofEpochMilli(r.path("finished_at_ms").asLong()),
                    r.path("rows").asLong(), r.path("added").asLong(), r.path("changed").asLong(), r.path("removed").asLong(),
                    r.path("snapshot_ms").asLong() / 1000.0, r.path("diff_ms").asLong() / 1000.0, r.path("emit_ms").asLong() / 1000.0);
            }
            for (JsonNode k : s.path("sinks")) {
                out.printf("  sink %s (group %s): connector %s, tasks %s, lag %d%n", k.path("connector").asText(), k.path("group").asText(),
                    k.path("state").path("connector").asText(), tasks(k.path("state")), k.path("lag").asLong());
                for (JsonNode p : k.path("partitions")) {
                    out.printf("    partition %d: log end %d, committed %d, lag %d%n", p.path("partition").asInt(), p.path("log_end").asLong(),
                        p.path("committed").asLong(), p.path("lag").asLong());
                }
                out.printf("  freshness: %s%n", k.path("freshness").asText());
            }
            if (s.path("sinks").isEmpty()) {
                out.println("  no sink connector consumes this topic");
            }
        }
    }

    private static String tasks(JsonNode state) {
        List<String> t = new ArrayList<>();
        state.path("tasks").forEach(x -> t.add(x.path("id").asInt() + ":" + x.path("state").asText()
            + (x.has("error") ? " (" + x.path("error").asText() + ")" : "")));
        return t.isEmpty() ? "none" : String.join(", ", t);
    }
}
