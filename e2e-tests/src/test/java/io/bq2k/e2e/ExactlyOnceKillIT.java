package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck;
import io.bq2k.stack.PipelineOps;
import io.bq2k.cli.ConnectorDeployer;

/**
 * Exactly once across a crash, on the real stack: a Connect worker with {@code exactly.once.source.support=enabled}
 * is SIGKILLed in the middle of a run of ~60,000 changes (the source has {@code exactly.once.support=required} and
 * {@code transaction.boundary=connector}), then started again. A {@code read_committed} consumer of the topic must
 * see, per run, exactly one record per changed key, and nothing else: the set of keys of each run equals the keys whose
 * row differs between the query results of consecutive runs (read from the emulator), each record is the new row or a
 * tombstone for a removed key. MySQL (Debezium's sink, {@code read_committed}) equals the query result read from the
 * emulator. The same count over a {@code read_uncommitted} read is logged: it sees the records of the transaction the
 * kill aborted, i.e. the per-(key, run) check does fail on duplicates.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExactlyOnceKillIT {

    static final Duration RUN_TIMEOUT = Duration.ofMinutes(6);
    static final String TOPIC = "eos.big";
    static final String SOURCE = "source-eos-big";
    static final String SINK = "sink-eos-big";
    static final String TABLE = "eos_big";

    LocalStack stack;
    BigQueryRest bq;
    PipelineOps ops;
    final MirrorCheck check = new MirrorCheck(VersionedTable.COLUMNS);
    // period 1: every row changes each version; with the mod-11 holes moving, run 2 also inserts and deletes
    final VersionedTable big = new VersionedTable("eos.big_src", 60_000, 100, 1);

    @BeforeAll
    void up() throws Exception {
        Path tmp = Files.createTempDirectory("bq2k-eos-");
        stack = LocalStack.builder().randomPorts(false).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx1g").bqLogLevel("warning").stopOnJvmExit(true)
                .workerProperty("exactly.once.source.support", "enabled").build();
        long t0 = System.nanoTime();
        stack.up();
        log("stack up in %.1fs (exactly.once.source.support=enabled)", (System.nanoTime() - t0) / 1e9);
        bq = new BigQueryRest(stack.bqRestUrl(), "demo");
        ops = PipelineOps.of(stack);
        bq.query("CREATE SCHEMA IF NOT EXISTS eos");
    }

    @AfterAll
    void down() {
        if (stack != null) {
            stack.down(false);
        }
    }

    static void log(String fmt, Object... args) {
        System.out.printf("[eos] " + fmt + "%n", args);
    }

    /** Every record of the topic up to its end offsets, read with the given isolation level. */
    List<PipelineOps.TopicRecord> read(String topic, String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).collect(Collectors.toList());
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps, Duration.ofSeconds(10)); // LSO for read_committed
            List<PipelineOps.TopicRecord> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                assertTrue(System.nanoTime() < deadline, "reading " + topic + " did not reach " + end);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        out.add(new PipelineOps.TopicRecord(r.partition(), r.offset(), r.key(), r.value()));
                    }
                }
            }
            return out;
        }
    }

    /** The run-1 end offset per partition, from run 1's summary (a record at or past it belongs to run 2). */
    static int runOf(PipelineOps.TopicRecord r, Map<Integer, Long> endOfRun1) {
        return r.offset() < endOfRun1.getOrDefault(r.partition(), 0L) ? 1 : 2;
    }

    /**
     * What each run must have put on the topic: key -> the new row, or null (a tombstone) for a key
     * removed, for every key whose row differs between {@code before} and {@code after}.
     */
    static Map<Object, List<Object>> changes(MirrorCheck.Rows before, MirrorCheck.Rows after) {
        Map<Object, List<Object>> out = new HashMap<>();
        after.asMap().forEach((k, row) -> {
            if (!row.equals(before.asMap().get(k))) {
                out.put(k, row);
            }
        });
        before.asMap().keySet().forEach(k -> {
            if (!after.asMap().containsKey(k)) {
                out.put(k, null);
            }
        });
        return out;
    }

    /**
     * The exactly-once check: per run, records counted per key; every count must be 1, the run's key set must equal
     * the expected changed keys, and every record must be the expected row (or a tombstone). Returns the problems
     * (empty: exactly once), each kind counted, with up to 5 examples.
     */
    List<String> exactlyOncePerKeyPerRun(List<PipelineOps.TopicRecord> records, Map<Integer, Long> endOfRun1,
                                         Map<Integer, Map<Object, List<Object>>> expected) {
        Map<Integer, Map<Object, Integer>> counts = new TreeMap<>();
        Map<Integer, Map<Object, Boolean>> wrong = new TreeMap<>();
        for (PipelineOps.TopicRecord r : records) {
            int run = runOf(r, endOfRun1);
            Object key = PipelineOps.payload(r.key()).get("id").asLong();
            counts.computeIfAbsent(run, x -> new HashMap<>()).merge(key, 1, Integer::sum);
            List<Object> want = expected.getOrDefault(run, Map.of()).get(key);
            List<Object> got = r.value() == null ? null : check.fromConnectJson(PipelineOps.payload(r.value()), 9);
            if (!Objects.equals(want, got)) {
                wrong.computeIfAbsent(run, x -> new HashMap<>()).put(key, true);
            }
        }
        List<String> problems = new ArrayList<>();
        for (int run : expected.keySet()) {
            Map<Object, Integer> c = counts.getOrDefault(run, Map.of());
            List<String> twice = c.entrySet().stream().filter(e -> e.getValue() > 1).map(e -> "id=" + e.getKey() + " x" + e.getValue())
                    .collect(Collectors.toList());
            Set<Object> missing = new HashSet<>(expected.get(run).keySet());
            missing.removeAll(c.keySet());
            Set<Object> extra = new HashSet<>(c.keySet());
            extra.removeAll(expected.get(run).keySet());
            Set<Object> bad = wrong.getOrDefault(run, Map.of()).keySet();
            if (!twice.isEmpty()) {
                problems.add("run " + run + ": " + twice.size() + " key(s) more than once, e.g. " + twice.subList(0, Math.min(5, twice.size())));
            }
            if (!missing.isEmpty()) {
                problems.add("run " + run + ": " + missing.size() + " changed key(s) without a record, e.g. "
                        + missing.stream().limit(5).collect(Collectors.toList()));
            }
            if (!extra.isEmpty()) {
                problems.add("run " + run + ": " + extra.size() + " key(s) with a record but no change, e.g. "
                        + extra.stream().limit(5).collect(Collectors.toList()));
            }
            if (!bad.isEmpty()) {
                problems.add("run " + run + ": " + bad.size() + " key(s) with a record other than the new row / tombstone, e.g. "
                        + bad.stream().limit(5).collect(Collectors.toList()));
            }
        }
        counts.keySet().stream().filter(run -> !expected.containsKey(run))
                .forEach(run -> problems.add("records of an unexpected run " + run));
        return problems;
    }

    KafkaConsumer<byte[], byte[]> probe(String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        return new KafkaConsumer<>(p);
    }

    static long sum(Map<TopicPartition, Long> offsets) {
        return offsets.values().stream().mapToLong(Long::longValue).sum();
    }

    long endSum(String topic) {
        return ops.endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
    }

    @Test
    void workerSigkilledMidRunOnAnExactlyOnceWorkerEveryChangeOncePerKeyPerRun() throws Exception {
        long t0 = System.nanoTime();
        stack.createCompactedTopic(TOPIC, 3);
        bq.query(big.createSql(1));
        MirrorCheck.Rows result1 = check.readBigQuery(bq, big.query());
        ConnectorDeployer d = stack.deployer();
        d.deploy(SINK, ConnectorConfigs.sink(stack, TOPIC, TABLE)); // consumer.override.isolation.level=read_committed
        d.awaitRunning(SINK, Duration.ofSeconds(90));
        Map<String, String> source = ConnectorConfigs.source(stack, TOPIC, big.query(), "bq2k_staging_eos");
        source.put("read.chunk.rows", "2000");
        source.put("exactly.once.support", "required");
        source.put("transaction.boundary", "connector");
        d.deploy(SOURCE, source);
        d.awaitRunning(SOURCE, Duration.ofSeconds(90));
        PipelineOps.RunSummary s1 = ops.awaitRun(TOPIC + ".runs", 1, RUN_TIMEOUT);
        log("run 1: %s (%.1fs)", s1, (System.nanoTime() - t0) / 1e9);
        assertEquals(result1.size(), s1.added(), "run 1 inserts every row of the query result");

        // Run 2: every key changes (updates, inserts, deletes).
        bq.query(big.createSql(2));
        MirrorCheck.Rows result2 = check.readBigQuery(bq, big.query());
        Map<Object, List<Object>> changes2 = changes(result1, result2);
        long deletes = changes2.values().stream().filter(Objects::isNull).count();
        long inserts = changes2.keySet().stream().filter(k -> !result1.asMap().containsKey(k)).count();
        log("run 2 changes %d keys (+%d ~%d -%d) of the query result read from the emulator", changes2.size(), inserts,
                changes2.size() - inserts - deletes, deletes);
        assertTrue(changes2.size() >= 50_000 && deletes > 0 && inserts > 0, "run 2: " + changes2.size() + " changes");

        long endAfterRun1 = endSum(TOPIC);
        ops.triggerRun(SOURCE);
        long t1 = System.nanoTime();
        // The kill lands once 30% of run 2 is on the topic, while a transaction holds records (the log end is past
        // the last stable offset), so that the kill aborts written records; past 70% it lands whatever.
        try (KafkaConsumer<byte[], byte[]> lso = probe("read_committed"); KafkaConsumer<byte[], byte[]> hw = probe("read_uncommitted")) {
            List<TopicPartition> tps = lso.partitionsFor(TOPIC, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(TOPIC, i.partition())).collect(Collectors.toList());
            while (true) {
                assertTrue(System.nanoTime() - t1 < RUN_TIMEOUT.toNanos(), "run 2 did not progress");
                long logEnd = sum(hw.endOffsets(tps)); // first: a last stable offset below it, read after, means an open transaction
                long stable = sum(lso.endOffsets(tps));
                double done = (stable - endAfterRun1) / (double) changes2.size();
                if ((done >= 0.3 && logEnd > stable) || done >= 0.7) {
                    break;
                }
                Thread.sleep(2);
            }
        }
        stack.killWorker();
        double killedAfter = (System.nanoTime() - t1) / 1e9;
        // Phase evidence, read while the worker is down: committed records of run 2 so far, and those written
        // by the aborted (never committed) transaction.
        Map<Integer, Long> end1 = s1.endOffsets();
        long committedAtKill = read(TOPIC, "read_committed").stream().filter(r -> runOf(r, end1) == 2).count();
        long writtenAtKill = read(TOPIC, "read_uncommitted").stream().filter(r -> runOf(r, end1) == 2).count();
        log("SIGKILLed the exactly-once worker %.1fs into run 2: %d of its %d changes committed on the topic, %d written "
                + "(%d in the open transaction)", killedAfter, committedAtKill, changes2.size(), writtenAtKill, writtenAtKill - committedAtKill);
        assertTrue(committedAtKill > 0 && committedAtKill < changes2.size(),
                "the kill must land in the middle of run 2: " + committedAtKill + " of " + changes2.size() + " committed");
        assertEquals(1, ops.latestRun(TOPIC + ".runs").run(), "run 2's summary must not be written before the kill");

        stack.restartWorker();
        PipelineOps.RunSummary s2 = ops.awaitRun(TOPIC + ".runs", 2, RUN_TIMEOUT);
        log("run 2 after the restart: %s (%.1fs after the trigger)", s2, (System.nanoTime() - t1) / 1e9);

        // MySQL equals the query result read from the emulator.
        MirrorCheck.Result mysql = check.awaitMySqlEquals(stack::mysqlConnection, TABLE, check.readBigQuery(bq, big.query()),
                Duration.ofMinutes(4), null);
        assertTrue(mysql.equal(), () -> "MySQL vs the query result: " + mysql.summary());

        // Exactly once per key per run, for a read_committed consumer.
        Map<Integer, Map<Object, List<Object>>> expected = new TreeMap<>();
        expected.put(1, changes(new MirrorCheck.Rows(Map.of()), result1));
        expected.put(2, changes2);
        List<PipelineOps.TopicRecord> committed = read(TOPIC, "read_committed");
        List<String> problems = exactlyOncePerKeyPerRun(committed, end1, expected);
        assertTrue(problems.isEmpty(), () -> "read_committed: " + problems);
        assertEquals(result1.size() + changes2.size(), committed.size(), "records for a read_committed consumer");
        // The check itself fails on one duplicate and on one lost change (run 2's first record sent twice, or dropped).
        PipelineOps.TopicRecord firstOfRun2 = committed.stream().filter(r -> runOf(r, end1) == 2).findFirst().orElseThrow();
        List<PipelineOps.TopicRecord> duplicated = new ArrayList<>(committed);
        duplicated.add(firstOfRun2);
        List<String> dup = exactlyOncePerKeyPerRun(duplicated, end1, expected);
        List<PipelineOps.TopicRecord> dropped = new ArrayList<>(committed);
        dropped.remove(firstOfRun2);
        List<String> lost = exactlyOncePerKeyPerRun(dropped, end1, expected);
        assertTrue(dup.size() == 1 && dup.get(0).contains("more than once"), "the check on a duplicate: " + dup);
        assertTrue(lost.size() == 1 && lost.get(0).contains("without a record"), "the check on a lost change: " + lost);
        log("the check fails on a duplicate (%s) and on a lost change (%s)", dup.get(0), lost.get(0));
        log("read_committed: %d records = %d (run 1) + %d (run 2), each changed key exactly once per run with its new row or a tombstone",
                committed.size(), result1.size(), changes2.size());

        // The same check over read_uncommitted sees what the kill aborted: the check fails on such duplicates.
        List<PipelineOps.TopicRecord> uncommitted = read(TOPIC, "read_uncommitted");
        List<String> aborted = exactlyOncePerKeyPerRun(uncommitted, end1, expected);
        log("the same check over read_uncommitted (%d records, %d more): %s", uncommitted.size(), uncommitted.size() - committed.size(),
                aborted.isEmpty() ? "passes (the kill aborted no written record)" : "FAILS: " + aborted);
        log("total %.1fs", (System.nanoTime() - t0) / 1e9);
    }
}
