package io.bq2k.stack;

import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import io.bq2k.cli.ConnectRest;

/**
 * Operator actions on a running pipeline, shared by the e2e tests and {@code bin/demo}: trigger a run
 * (restart the source task), wait for a run's summary on the run-history topic, read a topic from
 * the beginning, end offsets.
 */
public final class PipelineOps {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One run summary (the payload of a record on {@code <topic>.runs}). */
    public record RunSummary(String sync, long run, String mode, long rows, long added, long changed, long removed,
                             Map<Integer, Long> endOffsets, JsonNode payload) {
        /** The record of a run abandoned because a change was not written (the run is retaken). */
        public boolean abandoned() {
            return "abandoned".equals(mode);
        }

        public long emitted() {
            return added + changed + removed;
        }

        @Override
        public String toString() {
            return "run " + run + " (" + mode + "): " + rows + " rows, +" + added + " ~" + changed + " -" + removed
                    + ", end offsets " + endOffsets;
        }
    }

    /** One record of a topic: value null for a tombstone. */
    public record TopicRecord(int partition, long offset, String key, String value) {}

    private final String bootstrap;
    private final ConnectRest rest;

    public PipelineOps(String bootstrap, ConnectRest rest) {
        this.bootstrap = bootstrap;
        this.rest = rest;
    }

    public static PipelineOps of(LocalStack stack) {
        return new PipelineOps(stack.kafkaBootstrap(), stack.connectRest());
    }

    /**
     * Starts the source's next run now: {@code PUT /connectors/{name}/config} with a new {@code schedule.trigger}.
     * The task restarts with it (committing its offsets) and runs at once; a plain restart would wait for the schedule.
     */
    public void triggerRun(String connector) {
        putTrigger(connector);
    }

    /**
     * Starts the source's next run on data that {@code upstreamChange} makes, even when the connector's config no
     * longer validates with it (a broken query, say): the connector is paused, its config gets a new trigger (validated
     * on the data before the change), the change is made, and the connector resumed; its task then runs at once.
     */
    public void triggerRunAfter(String connector, Runnable upstreamChange) {
        pause(connector);
        try {
            putTrigger(connector);
            upstreamChange.run();
        } finally {
            resume(connector);
        }
    }

    private void putTrigger(String connector) {
        String path = "/connectors/" + URLEncoder.encode(connector, StandardCharsets.UTF_8) + "/config";
        HttpResponse<String> r = rest.send("GET", path, null);
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + rest.baseUrl() + path + " -> HTTP " + r.statusCode() + ": " + r.body());
        }
        try {
            Map<String, String> config = JSON.readValue(r.body(), new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() { });
            config.put("schedule.trigger", Instant.now() + "#" + TRIGGERS.incrementAndGet());
            HttpResponse<String> put = rest.send("PUT", path, JSON.writeValueAsString(config));
            if (put.statusCode() / 100 != 2) {
                throw new IllegalStateException("PUT " + rest.baseUrl() + path + " -> HTTP " + put.statusCode() + ": " + put.body());
            }
        } catch (IOException e) {
            throw new IllegalStateException("could not trigger a run of " + connector + ": " + e.getMessage(), e);
        }
    }

    private static final java.util.concurrent.atomic.AtomicLong TRIGGERS = new java.util.concurrent.atomic.AtomicLong();

    /** {@code POST /connectors/{name}/restart?includeTasks=true&onlyFailed=true}: restarts what failed, nothing else. */
    public void restartFailed(String connector) {
        connect("POST", "/connectors/" + URLEncoder.encode(connector, StandardCharsets.UTF_8) + "/restart?includeTasks=true&onlyFailed=true");
    }

    /** {@code PUT /connectors/{name}/pause}. */
    public void pause(String connector) {
        connect("PUT", "/connectors/" + URLEncoder.encode(connector, StandardCharsets.UTF_8) + "/pause");
    }

    /** {@code PUT /connectors/{name}/resume}. */
    public void resume(String connector) {
        connect("PUT", "/connectors/" + URLEncoder.encode(connector, StandardCharsets.UTF_8) + "/resume");
    }

    private void connect(String method, String path) {
        HttpResponse<String> r = rest.send(method, path, null);
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + rest.baseUrl() + path + " -> HTTP " + r.statusCode() + ": " + r.body());
        }
    }

    private KafkaConsumer<String, String> consumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(p);
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(10));
        if (infos == null || infos.isEmpty()) {
            return List.of();
        }
        return infos.stream().map(i -> new TopicPartition(topic, i.partition())).sorted((a, b) -> a.partition() - b.partition())
                .collect(Collectors.toList());
    }

    /** Partition -> end offset (log end), empty when the topic does not exist. */
    public Map<Integer, Long> endOffsets(String topic) {
        try (KafkaConsumer<String, String> c = consumer()) {
            List<TopicPartition> tps = partitions(c, topic);
            Map<Integer, Long> m = new TreeMap<>();
            c.endOffsets(tps, Duration.ofSeconds(10)).forEach((tp, o) -> m.put(tp.partition(), o));
            return m;
        }
    }

    /** Partition -> first offset still in the log (log start). */
    public Map<Integer, Long> beginningOffsets(String topic) {
        try (KafkaConsumer<String, String> c = consumer()) {
            List<TopicPartition> tps = partitions(c, topic);
            Map<Integer, Long> m = new TreeMap<>();
            c.beginningOffsets(tps, Duration.ofSeconds(10)).forEach((tp, o) -> m.put(tp.partition(), o));
            return m;
        }
    }

    /** Every record of the topic from the beginning up to the end offsets at call time, per partition in offset order. */
    public List<TopicRecord> readAll(String topic) {
        try (KafkaConsumer<String, String> c = consumer()) {
            List<TopicPartition> tps = partitions(c, topic);
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = new HashMap<>(c.endOffsets(tps, Duration.ofSeconds(10)));
            List<TopicRecord> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading " + topic + " did not reach the end offsets " + end);
                }
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        out.add(new TopicRecord(r.partition(), r.offset(), r.key(), r.value()));
                    }
                }
            }
            return out;
        }
    }

    /** The latest run summary on the run-history topic, or null. */
    public RunSummary latestRun(String runsTopic) {
        RunSummary latest = null;
        for (TopicRecord r : readAll(runsTopic)) {
            if (r.value() != null) {
                RunSummary s = parse(r.value());
                if (s.abandoned()) {
                    continue; // a run the connector gave up and will retake: not a finished run
                }
                if (latest == null || s.run() >= latest.run()) {
                    latest = s;
                }
            }
        }
        return latest;
    }

    /**
     * Waits until the run-history topic holds the summary of run {@code n}; a summary of a later run
     * without run n fails, as does the timeout.
     */
    public RunSummary awaitRun(String runsTopic, long n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        RunSummary latest = null;
        long failedSince = -1;
        while (System.nanoTime() < deadline) {
            latest = latestRunOrNull(runsTopic);
            if (latest != null && latest.run() == n) {
                return latest;
            }
            if (latest != null && latest.run() > n) {
                throw new IllegalStateException("waited for run " + n + " but the latest summary is " + latest);
            }
            String failure = failedSourceTask(runsTopic);
            failedSince = failure == null ? -1 : failedSince < 0 ? System.nanoTime() : failedSince;
            if (failure != null && System.nanoTime() - failedSince > FAILED_FOR.toNanos()) {
                throw new IllegalStateException("waited for run " + n + " on " + runsTopic + ", but the source task writing it has been FAILED for "
                        + FAILED_FOR.toSeconds() + " s: " + failure);
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("no summary of run " + n + " on " + runsTopic + " within " + timeout.toSeconds()
                + "s; latest: " + latest);
    }

    /** How long a source task must stay FAILED before a wait for its run gives up (a restarted task leaves FAILED in seconds). */
    private static final Duration FAILED_FOR = Duration.ofSeconds(30);

    /** The first lines of the trace of a FAILED task of the source connector writing {@code runsTopic}; null when none failed. */
    private String failedSourceTask(String runsTopic) {
        HttpResponse<String> r;
        try {
            r = rest.send("GET", "/connectors?expand=info&expand=status", null);
        } catch (RuntimeException e) {
            return null; // the worker is restarting: nothing to say yet
        }
        if (r.statusCode() != 200) {
            return null;
        }
        try {
            for (JsonNode c : JSON.readTree(r.body())) {
                JsonNode config = c.path("info").path("config");
                String runs = config.path("run.history.topic").asText("");
                if (!runsTopic.equals(runs.isBlank() ? config.path("topic").asText() + ".runs" : runs)) {
                    continue;
                }
                for (JsonNode t : c.path("status").path("tasks")) {
                    if ("FAILED".equals(t.path("state").asText())) {
                        String trace = t.path("trace").asText("");
                        return trace.lines().limit(3).reduce((a, b) -> a + " | " + b).orElse("");
                    }
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /**
     * Waits for the first summary of a run {@code >= minRun} that started at or after {@code since}:
     * the first run a task completed after being (re)started or reconfigured at {@code since}. A summary
     * written before a restart (possibly of the same run) does not count. The timeout fails.
     */
    public RunSummary awaitRunStartedSince(String runsTopic, long minRun, Instant since, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        RunSummary latest = null;
        while (System.nanoTime() < deadline) {
            List<TopicRecord> records;
            try {
                records = readAll(runsTopic);
            } catch (RuntimeException e) {
                records = List.of(); // topic not created yet
            }
            for (TopicRecord r : records) {
                if (r.value() != null && !parse(r.value()).abandoned()) {
                    RunSummary s = parse(r.value());
                    latest = s;
                    if (s.run() >= minRun && s.payload().path("started_at_ms").asLong() >= since.toEpochMilli()) {
                        return s;
                    }
                }
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("no summary of a run >= " + minRun + " started since " + since + " on " + runsTopic
                + " within " + timeout.toSeconds() + "s; latest: " + latest);
    }

    /**
     * The source offset last committed for {@code connector} (read from the worker's offsets topic, so it
     * works while the worker is down), or null when none is (or the last one is a tombstone).
     */
    public JsonNode committedSourceOffset(String offsetsTopic, String connector) {
        JsonNode latest = null;
        for (TopicRecord r : readAll(offsetsTopic)) {
            JsonNode key = payload(r.key());
            if (key != null && key.isArray() && connector.equals(key.path(0).asText())) {
                latest = r.value() == null ? null : payload(r.value());
            }
        }
        return latest;
    }

    private RunSummary latestRunOrNull(String runsTopic) {
        try {
            return latestRun(runsTopic);
        } catch (RuntimeException e) {
            return null; // topic not created yet
        }
    }

    public static RunSummary parse(String json) {
        try {
            JsonNode root = JSON.readTree(json);
            JsonNode p = root.has("payload") ? root.get("payload") : root;
            Map<Integer, Long> offsets = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = p.path("end_offsets").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                offsets.put(Integer.parseInt(e.getKey()), e.getValue().asLong());
            }
            return new RunSummary(p.path("sync").asText(), p.path("run").asLong(), p.path("mode").asText(),
                    p.path("rows").asLong(), p.path("added").asLong(), p.path("changed").asLong(), p.path("removed").asLong(),
                    offsets, p);
        } catch (IOException e) {
            throw new IllegalStateException("unreadable run summary: " + json, e);
        }
    }

    /** The {@code payload} of a JsonConverter (schemas.enable=true) message, or the message itself. */
    public static JsonNode payload(String json) {
        if (json == null) {
            return null;
        }
        try {
            JsonNode root = JSON.readTree(json);
            return root.has("payload") && root.has("schema") ? root.get("payload") : root;
        } catch (IOException e) {
            throw new IllegalStateException("unreadable JSON: " + json, e);
        }
    }
}
