package io.bq2k.connect.bigquery;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.OffsetStorageReader;

/**
 * A model of one Connect source task's world for the simulation test: the real {@link SyncRunner}
 * polled by a worker whose producer writes records to topics (in order) and acknowledges them later,
 * whose offset commits happen at random moments (only the longest acknowledged prefix of what was
 * polled, like Connect), whose process can crash (a random prefix of buffered records still reaches
 * Kafka, unacknowledged), and a sink that applies the topic to a "MySQL" table: latest value per key,
 * tombstone = delete. Offsets are kept by connector name, like Connect.
 */
final class SimConnect {

    /** A row as MySQL holds it: column -> value and the Connect schema name it travelled under. */
    record Cell(Object value, String schemaName) { }

    final SimBigQuery bq;
    final Random random;
    final String connector;
    final String sourceName;
    final Map<String, String> props = new LinkedHashMap<>();
    final Map<String, List<SourceRecord>> topics = new HashMap<>();
    final Map<String, Map<String, Object>> committedOffsets;
    /** The planner the runner uses; a test may substitute the pre-fix behaviour to show the oracle catches it. */
    java.util.function.Function<SyncConfig, Planner> plannerFactory = c -> null;
    /** Share of data records a transformation drops (acknowledged with null metadata). */
    double dropRate;
    /** Records of the run-history topic, as acknowledged. */
    final List<SourceRecord> summaries = new ArrayList<>();
    /** Every task failure's message, in order. */
    final List<String> failures = new ArrayList<>();
    Consumer<String> log = m -> { };

    SyncRunner runner;
    SyncConfig config;
    SyncMetrics metrics;
    private final ArrayDeque<SourceRecord> producerBuffer = new ArrayDeque<>();
    private final ArrayDeque<Object[]> pendingAcks = new ArrayDeque<>();
    private final ArrayDeque<boolean[]> submitted = new ArrayDeque<>();
    private final ArrayDeque<SourceRecord> submittedRecords = new ArrayDeque<>();

    // The sink
    final Map<List<Object>, Map<String, Cell>> mysql = new HashMap<>();
    String sinkTopic;
    /** The sink's consumer-group position per topic. */
    final Map<String, Integer> sinkPositions = new HashMap<>();

    SimConnect(SimBigQuery bq, Random random, String connector, String sourceName, Map<String, Map<String, Object>> offsetStore) {
        this.bq = bq;
        this.random = random;
        this.connector = connector;
        this.sourceName = sourceName;
        this.committedOffsets = offsetStore;
        props.put("name", connector);
        props.put(SyncConfig.PROJECT, "sim");
        props.put(SyncConfig.QUERY, "SELECT * FROM sim.src");
        props.put(SyncConfig.KEY_COLUMNS, "id");
        props.put(SyncConfig.TOPIC, "t1");
        props.put(SyncConfig.STAGING_DATASET, "stage");
        props.put(SyncConfig.SCHEDULE_INTERVAL_MS, "1000");
        props.put(SyncConfig.SKIP_UNCHANGED, "false");
        props.put(SyncConfig.READ_CHUNK_ROWS, "100");
        props.put(SyncConfig.DIFF_BUCKETS, "3");
        props.put(SyncConfig.MASS_DELETE_MAX_RATIO, "0.5");
    }

    static Map<String, Map<String, Object>> newOffsetStore() {
        return new HashMap<>();
    }

    boolean running() {
        return runner != null;
    }

    Map<String, Object> committed() {
        return committedOffsets.get(connector);
    }

    void start() {
        config = new SyncConfig(BigQuerySourceConnector.withSyncName(props));
        log.accept("task starts; committed offset " + committed() + "; staging " + bq.tables.keySet());
        if (sinkTopic != null && !sinkTopic.equals(config.topic())) {
            // The documented switch: the sink drains the old topic (lag 0), then the operator points it at the new one.
            sinkCatchUp();
        }
        sinkTopic = config.topic();
        metrics = new SyncMetrics(config.syncName() + "@" + System.identityHashCode(this));
        OffsetStorageReader reader = new OffsetStorageReader() {
            @Override
            @SuppressWarnings("unchecked")
            public <T> Map<String, Object> offset(Map<String, T> partition) {
                Map<String, Object> o = committed();
                return o == null ? null : new HashMap<>(o);
            }

            @Override
            public <T> Map<Map<String, T>, Map<String, Object>> offsets(Collection<Map<String, T>> partitions) {
                Map<Map<String, T>, Map<String, Object>> m = new HashMap<>();
                partitions.forEach(p -> m.put(p, offset(p)));
                return m;
            }
        };
        runner = new SyncRunner(config, bq.steps(config, sourceName), reader, null, bq.clock, ms -> bq.clock.millis += ms,
            Runnable::run, Runnable::run, metrics, plannerFactory.apply(config));
    }

    /** One poll of the task. Returns false when the task failed. */
    boolean poll() {
        try {
            List<SourceRecord> records = runner.poll();
            if (records != null) {
                for (SourceRecord r : records) {
                    producerBuffer.add(r);
                    submitted.add(new boolean[1]);
                    submittedRecords.add(r);
                }
            }
            return true;
        } catch (Retrier.TransientException e) {
            return true; // Connect retries the poll (RetriableException)
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        } catch (RuntimeException e) {
            taskFailed(e);
            return false;
        }
    }

    /** The producer writes up to n buffered records, in order. */
    void send(int n) {
        for (int i = 0; i < n && !producerBuffer.isEmpty(); i++) {
            SourceRecord r = producerBuffer.poll();
            boolean dropped = r.topic().equals(config.topic()) && dropRate > 0 && random.nextDouble() < dropRate;
            RecordMetadata meta = dropped ? null : write(r);
            pendingAcks.add(new Object[] {r, meta});
        }
    }

    private RecordMetadata write(SourceRecord r) {
        List<SourceRecord> log = topics.computeIfAbsent(r.topic(), t -> new ArrayList<>());
        log.add(r);
        return new RecordMetadata(new TopicPartition(r.topic(), 0), log.size() - 1, 0, 0L, 0, 0);
    }

    /** Up to n acknowledgements reach the task (commitRecord), in order. */
    void ack(int n) {
        for (int i = 0; i < n && !pendingAcks.isEmpty(); i++) {
            Object[] a = pendingAcks.poll();
            SourceRecord r = (SourceRecord) a[0];
            runner.acknowledged(r, (RecordMetadata) a[1]);
            if (r.topic().equals(config.runHistoryTopic())) {
                summaries.add(r);
                Struct v = (Struct) r.value();
                log.accept("run " + v.getInt64("run") + " " + v.getString("mode") + " (base " + v.get("baseline") + ") acknowledged: +"
                    + v.getInt64("added") + " ~" + v.getInt64("changed") + " -" + v.getInt64("removed") + ", offset " + r.sourceOffset());
            }
            // Mark the oldest unacknowledged submitted record with this identity.
            var it = submittedRecords.iterator();
            var flags = submitted.iterator();
            while (it.hasNext()) {
                SourceRecord s = it.next();
                boolean[] f = flags.next();
                if (s == r) {
                    f[0] = true;
                    break;
                }
            }
        }
    }

    /** An offset flush: the offset of the last record of the acknowledged prefix becomes the committed one. */
    void commitOffsets() {
        Map<String, Object> last = null;
        while (!submitted.isEmpty() && submitted.peek()[0]) {
            submitted.poll();
            last = submittedRecords.poll().sourceOffset().entrySet().stream()
                .collect(HashMap::new, (m, e) -> m.put(e.getKey(), e.getValue()), HashMap::putAll);
        }
        if (last != null) {
            committedOffsets.put(connector, last);
        }
    }

    /** The worker process dies: a random prefix of the producer's buffer still reaches Kafka, nothing more is acknowledged. */
    void crash() {
        int sent = producerBuffer.isEmpty() ? 0 : random.nextInt(producerBuffer.size() + 1);
        for (int i = 0; i < sent; i++) {
            SourceRecord r = producerBuffer.poll();
            if (!(r.topic().equals(config.topic()) && dropRate > 0 && random.nextDouble() < dropRate)) {
                write(r);
            }
        }
        shutdown();
    }

    /** A graceful stop (config update, rebalance): buffered records are sent and acknowledged, offsets committed. */
    void stop() {
        send(Integer.MAX_VALUE);
        ack(Integer.MAX_VALUE);
        commitOffsets();
        shutdown();
    }

    private void taskFailed(RuntimeException e) {
        failures.add(e.getMessage() == null ? e.toString() : e.getMessage());
        if (!(e instanceof RunFailure)) {
            java.io.StringWriter w = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(w));
            log.accept(w.toString().lines().limit(12).reduce((a, b) -> a + "\n" + b).orElse(""));
        }
        log.accept("task failed: " + failures.get(failures.size() - 1));
        // Connect stops a failed task: whether the last acknowledged offsets get flushed depends on timing.
        if (random.nextBoolean()) {
            send(random.nextInt(producerBuffer.size() + 1));
            ack(Integer.MAX_VALUE);
            commitOffsets();
        }
        shutdown();
    }

    private void shutdown() {
        producerBuffer.clear();
        pendingAcks.clear();
        submitted.clear();
        submittedRecords.clear();
        if (runner != null) {
            runner.close();
            metrics.close();
        }
        runner = null;
    }

    boolean idle() {
        return producerBuffer.isEmpty() && pendingAcks.isEmpty() && submitted.isEmpty();
    }

    /** The sink applies what is on its topic. */
    void sinkCatchUp() {
        List<SourceRecord> log = topics.getOrDefault(sinkTopic, List.of());
        for (int p = sinkPositions.getOrDefault(sinkTopic, 0); p < log.size(); p++) {
            sinkPositions.put(sinkTopic, p + 1);
            SourceRecord r = log.get(p);
            List<Object> key = keyOf((Struct) r.key());
            if (r.value() == null) {
                mysql.remove(key);
            } else {
                mysql.put(key, row((Struct) r.value()));
            }
        }
    }

    /** The topic's latest value per key (what compaction keeps), tombstones removed. */
    Map<List<Object>, Map<String, Cell>> compacted(String topic) {
        Map<List<Object>, Map<String, Cell>> m = new HashMap<>();
        for (SourceRecord r : topics.getOrDefault(topic, List.of())) {
            if (r.value() == null) {
                m.remove(keyOf((Struct) r.key()));
            } else {
                m.put(keyOf((Struct) r.key()), row((Struct) r.value()));
            }
        }
        return m;
    }

    static List<Object> keyOf(Struct key) {
        List<Object> k = new ArrayList<>();
        for (Field f : key.schema().fields()) {
            k.add(f.name() + "=" + key.get(f) + ":" + f.schema().type());
        }
        return k;
    }

    static Map<String, Cell> row(Struct value) {
        Map<String, Cell> m = new LinkedHashMap<>();
        for (Field f : value.schema().fields()) {
            m.put(f.name(), new Cell(value.get(f), f.schema().name()));
        }
        return m;
    }
}
