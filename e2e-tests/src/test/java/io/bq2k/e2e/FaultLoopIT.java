package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.Component;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck;
import io.bq2k.stack.PipelineOps;

/**
 * The randomized fault loop: for a bounded time, mutate the data at random (deletes, updates, inserts),
 * run, and inject a random fault at a random point of the run; after each round MySQL must equal the
 * query result read from the emulator (and the Java model must equal it too), and no key's version may
 * go backwards on the topic except where the data itself went back. Everything random comes from one
 * seed, printed first; {@code bin/fault-loop --seed S --minutes N} repeats or extends a loop. CI runs it
 * for {@code faultloop.minutes} (3 by default). Fault kinds come in seeded shuffled cycles, the first one
 * starting with the four that change the world around the connector, so a short loop tries those and
 * most others; {@code -Dfaultloop.faults=KILL_WORKER,DROP_STAGING_TABLE} restricts them.
 *
 * <p>Besides infrastructure faults, the loop changes what the connector cannot see coming: the data
 * while the worker is down (including reverts to the values before the round), staging tables dropped
 * (restored from a copy when the run fails with the documented lost-table message), a second sync whose
 * connector name sanitizes alike running at the same time, and the connector's config changed mid-run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultLoopIT {

    static final String TOPIC = "loop.rows";
    static final String RUNS_TOPIC = "loop.rows.runs";
    static final String SOURCE = "source-loop";
    static final String SINK = "sink-loop";
    static final String MYSQL_TABLE = "loop_rows";
    static final String STAGING = "bq2k_staging_loop";
    static final String BACKUP = "loop_backup";
    static final String QUERY = "SELECT " + VersionedTable.VALUES_SQL.replace("\n", " ") + " FROM loop.state";
    /** A second sync whose connector name sanitizes like {@link #SOURCE}, in the same staging dataset. */
    static final String COLLIDER = "source.loop";
    static final String COLLIDER_TOPIC = "loop.collide";
    static final String COLLIDER_QUERY = "SELECT id AS id, e AS e FROM loop.state WHERE MOD(id, 4) = 1";
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(6);

    static final long[] DELETE_MODULI = {5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41};
    static final Pattern STAGING_TABLE = Pattern.compile("([A-Za-z0-9_]+__(?:snap|diff)_\\d+)");

    enum Fault {
        NONE, KILL_WORKER, RESTART_BROKER, MYSQL_DOWN, FREEZE_BIGQUERY, BIGQUERY_ERRORS, PAUSE_SINK,
        /** The worker is killed mid-run and, while it is down, part of the data goes back to its state before the round. */
        UPSTREAM_CHANGE_WHILE_DOWN,
        /** The baseline snapshot before the run, or the run's own snapshot or diff during it, is dropped (a copy is kept). */
        DROP_STAGING_TABLE,
        /** The sync whose connector name sanitizes alike runs at the same time. */
        COLLIDING_SYNC,
        /** PUT …/config mid-run: diff.buckets/read.chunk.rows, json.columns, or the topic (with the sink following). */
        CONFIG_CHANGE
    }

    final long seed = Long.getLong("faultloop.seed", System.currentTimeMillis());
    final double minutes = Double.parseDouble(System.getProperty("faultloop.minutes", "3"));
    final List<Fault> faults = System.getProperty("faultloop.faults", "").isBlank() ? List.of(Fault.values())
            : Arrays.stream(System.getProperty("faultloop.faults").split(",")).map(String::trim).map(Fault::valueOf).toList();
    final Random random = new Random(seed);
    final MirrorCheck check = new MirrorCheck(VersionedTable.COLUMNS);
    /** The model: id -> epoch of every row the query returns. */
    final TreeMap<Long, Long> model = new TreeMap<>();
    /** Keys whose data went back to an older epoch (an upstream revert): their versions may go backwards on the topic. */
    final Set<Long> reverted = new HashSet<>();
    final Map<Fault, Integer> tried = new EnumMap<>(Fault.class);
    final List<Fault> cycle = new ArrayList<>();
    /** Dropped staging table -> its copy in {@link #BACKUP}, restored when a run reports it lost. */
    final Map<String, String> backups = new LinkedHashMap<>();
    /** Every data topic the sync published to (a topic switch adds one). */
    final Set<String> topics = new LinkedHashSet<>();
    long nextId = 1;
    long run;
    boolean sinkPaused;
    /** MySQL was last checked against a run's snapshot older than the query result: a clean round must follow. */
    boolean behindQuery;
    String topic = TOPIC;
    int topicSwitches;
    String sync;
    long colliderRun;
    String lastTrace;
    Map<String, String> sourceConfig;
    Map<String, String> sinkConfig;
    /** Set by {@link #inject}: what the round did, for the checks. */
    boolean upstreamChangedMidRun;
    boolean contractChanged;
    boolean droppedMidRun;

    LocalStack stack;
    BigQueryRest bq;
    PipelineOps ops;
    FaultyBigQueryProxy proxy;

    static void log(String fmt, Object... args) {
        System.out.printf("[fault-loop] " + fmt + "%n", args);
    }

    @BeforeAll
    void up() throws Exception {
        log("seed %d, %.1f minutes, faults %s (repeat with: bin/fault-loop --seed %d --minutes %s)", seed, minutes, faults, seed, minutes);
        Path tmp = Files.createTempDirectory("bq2k-loop-");
        log("stack dir %s", tmp);
        stack = LocalStack.builder().randomPorts(false).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx768m").bqLogLevel("warning").stopOnJvmExit(true).build();
        stack.up();
        bq = new BigQueryRest(stack.bqRestUrl(), "demo");
        ops = PipelineOps.of(stack);
        proxy = new FaultyBigQueryProxy(stack.bqRestUrl());
        bq.query("CREATE SCHEMA IF NOT EXISTS loop");
        bq.query("CREATE SCHEMA IF NOT EXISTS " + BACKUP);
        stack.createCompactedTopic(TOPIC, 2);
        stack.createCompactedTopic(COLLIDER_TOPIC, 1);
        topics.add(TOPIC);
        int initial = 5000 + random.nextInt(5000);
        bq.query("CREATE OR REPLACE TABLE loop.state AS SELECT id AS id, 0 AS e FROM UNNEST(GENERATE_ARRAY(1, " + initial + ")) AS id");
        for (long id = 1; id <= initial; id++) {
            model.put(id, 0L);
        }
        nextId = initial + 1;
        sinkConfig = ConnectorConfigs.sink(stack, TOPIC, MYSQL_TABLE);
        sinkConfig.put("batch.size", "1000");
        stack.deployer().deploy(SINK, sinkConfig);
        sourceConfig = ConnectorConfigs.source(stack, TOPIC, QUERY, STAGING);
        sourceConfig.put("bigquery.endpoint", proxy.url());
        sourceConfig.put("read.chunk.rows", "500");
        sourceConfig.put("schedule.skip.unchanged.inputs", "false");
        sourceConfig.put("bigquery.retry.max.attempts", "8");
        sourceConfig.put("bigquery.retry.max.backoff.ms", "4000");
        sourceConfig.put("run.history.topic", RUNS_TOPIC); // stays put when a config change switches the data topic
        Instant deployed = Instant.now();
        stack.deployer().deploy(SOURCE, sourceConfig);
        Map<String, String> collider = ConnectorConfigs.source(stack, COLLIDER_TOPIC, COLLIDER_QUERY, STAGING);
        collider.put("bigquery.endpoint", proxy.url());
        stack.deployer().deploy(COLLIDER, collider);
        run = 1;
        PipelineOps.RunSummary s = awaitSummary(Fault.NONE, deployed);
        sync = s.sync();
        checkRound(Fault.NONE, s);
        checkCollider(deployed);
    }

    @AfterAll
    void down() {
        if (proxy != null) {
            proxy.close();
        }
        if (stack != null) {
            stack.down(Boolean.getBoolean("e2e.keepData"));
        }
    }

    @Test
    void randomMutationsAndFaultsNeverLoseOrReorderAChange() throws Exception {
        long deadline = System.nanoTime() + (long) (minutes * 60e9);
        int rounds = 0;
        while (System.nanoTime() < deadline) {
            rounds++;
            Fault fault = nextFault();
            double at = random.nextDouble();
            TreeMap<Long, Long> before = new TreeMap<>(model);
            long changes = mutate();
            run++;
            log("round %d: run %d, %d change(s), fault %s at %.0f%% of emission", rounds, run, changes, fault, at * 100);
            Instant since = inject(fault, at, changes, before);
            checkRound(fault, awaitSummary(fault, since));
            if (fault == Fault.COLLIDING_SYNC) {
                checkCollider(since);
            }
            tried.merge(fault, 1, Integer::sum);
        }
        if (sinkPaused || behindQuery) {
            // A paused sink holds queued runs, and a run resumed across an upstream change mirrored its older
            // snapshot: one more run without a fault must bring MySQL to the query result.
            run++;
            Instant since = Instant.now();
            ops.triggerRun(SOURCE);
            checkRound(Fault.NONE, awaitSummary(Fault.NONE, since));
        }
        log("%d round(s) with seed %d, faults tried: %s; every round converged, no key went backwards", rounds, seed, tried);
    }

    /** The faults that change what the connector cannot see coming: a short loop (CI's 3 minutes) tries them first. */
    static final List<Fault> CONVERGENCE_FAULTS = List.of(Fault.UPSTREAM_CHANGE_WHILE_DOWN, Fault.DROP_STAGING_TABLE, Fault.COLLIDING_SYNC,
            Fault.CONFIG_CHANGE);
    boolean firstCycle = true;

    Fault nextFault() {
        if (cycle.isEmpty()) {
            List<Fault> first = new ArrayList<>(faults);
            List<Fault> rest = new ArrayList<>();
            if (firstCycle) {
                first.retainAll(CONVERGENCE_FAULTS);
                rest.addAll(faults);
                rest.removeAll(CONVERGENCE_FAULTS);
                Collections.shuffle(rest, random);
            }
            Collections.shuffle(first, random);
            cycle.addAll(first);
            cycle.addAll(rest);
            firstCycle = false;
        }
        return cycle.remove(0);
    }

    /** Random deletes, updates and inserts, applied to BigQuery and to the model alike. Returns the change count. */
    long mutate() {
        // Deletes: ids with (a id + b) mod m == 0, exactly 1/m of them since m is prime and does not divide a
        // (at most 20%: the mass-delete guard holds runs that remove more than half).
        long m = DELETE_MODULI[random.nextInt(DELETE_MODULI.length)];
        long a = 1 + random.nextInt(997);
        if (a % m == 0) {
            a++;
        }
        long b = random.nextInt(1000);
        long p = 2 + random.nextInt(20);           // updates: ids with (c id + d) mod p == 0 get the next epoch
        long c = 1 + random.nextInt(997);
        long d = random.nextInt(1000);
        long k = 1 + random.nextInt(800);          // inserts: k new ids
        bq.query("CREATE OR REPLACE TABLE loop.prev AS SELECT * FROM loop.state");
        bq.query("CREATE OR REPLACE TABLE loop.state AS"
                + " SELECT id AS id, IF(MOD(id * " + c + " + " + d + ", " + p + ") = 0, e + 1, e) AS e FROM loop.prev"
                + " WHERE MOD(id * " + a + " + " + b + ", " + m + ") != 0"
                + " UNION ALL SELECT id AS id, 0 AS e FROM UNNEST(GENERATE_ARRAY(" + nextId + ", " + (nextId + k - 1) + ")) AS id");
        long changes = k;
        for (Iterator<Map.Entry<Long, Long>> it = model.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Long> e = it.next();
            long id = e.getKey();
            if ((id * a + b) % m == 0) {
                it.remove();
                changes++;
            } else if ((id * c + d) % p == 0) {
                e.setValue(e.getValue() + 1);
                changes++;
            }
        }
        for (long id = nextId; id < nextId + k; id++) {
            model.put(id, 0L);
        }
        nextId += k;
        return changes;
    }

    /**
     * Puts the keys with {@code (a id + b) mod q == 0} back to their state before the round
     * ({@code loop.prev}, {@code before}): updates undone, deletes undone, inserts removed. Keys an
     * interrupted run had already published with the round's values now equal the baseline again.
     */
    void revert(TreeMap<Long, Long> before) {
        long q = List.of(2L, 3L, 5L).get(random.nextInt(3)); // prime, and a not a multiple: exactly 1/q of the keys
        long a = 1 + random.nextInt(997);
        if (a % q == 0) {
            a++;
        }
        long b = random.nextInt(1000);
        String pick = "MOD(id * " + a + " + " + b + ", " + q + ") = 0";
        bq.query("CREATE OR REPLACE TABLE loop.cur AS SELECT * FROM loop.state");
        bq.query("CREATE OR REPLACE TABLE loop.state AS SELECT id AS id, e AS e FROM loop.cur WHERE NOT (" + pick + ")"
                + " UNION ALL SELECT id AS id, e AS e FROM loop.prev WHERE " + pick);
        Set<Long> keys = new HashSet<>(model.keySet());
        keys.addAll(before.keySet());
        int n = 0;
        for (long id : keys) {
            if ((id * a + b) % q != 0) {
                continue;
            }
            Long now = model.get(id);
            Long then = before.get(id);
            if (then == null) {
                model.remove(id);
            } else {
                model.put(id, then);
            }
            if (now != null && then != null && then < now) {
                reverted.add(id);
            }
            if (!Objects.equals(now, then)) {
                n++;
            }
        }
        log("  while the worker is down: %d key(s) back to their state before the round (1/%d of the keys)", n, q);
    }

    long onTopic() {
        return ops.endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
    }

    /** Injects the fault; returns the instant after which the run that completes the round must have started. */
    Instant inject(Fault fault, double at, long changes, TreeMap<Long, Long> before) throws Exception {
        upstreamChangedMidRun = false;
        contractChanged = false;
        droppedMidRun = false;
        if (fault == Fault.PAUSE_SINK && !sinkPaused) {
            ops.pause(SINK);
            sinkPaused = true;
        }
        boolean dropBaseline = fault == Fault.DROP_STAGING_TABLE && random.nextInt(3) == 0;
        if (dropBaseline) {
            Instant since = dropBaselineThenRestore();
            if (since != null) {
                return since;
            }
        }
        long onTopicBefore = onTopic();
        Instant since = Instant.now();
        if (fault == Fault.BIGQUERY_ERRORS) {
            int errors = 2 + random.nextInt(5);
            ops.triggerRunAfter(SOURCE, () -> proxy.failNext(errors)); // after the config update's validation
        } else {
            ops.triggerRun(SOURCE);
        }
        if (fault == Fault.COLLIDING_SYNC) {
            ops.triggerRun(COLLIDER);
        }
        if (fault == Fault.FREEZE_BIGQUERY) {
            Thread.sleep((long) (at * 3000));
            long pid = stack.pid(Component.EMULATOR).orElseThrow();
            FaultsIT.signal("STOP", pid);
            try {
                Thread.sleep(5000 + random.nextInt(10_000));
            } finally {
                FaultsIT.signal("CONT", pid);
            }
            return since;
        }
        if (fault == Fault.NONE || fault == Fault.BIGQUERY_ERRORS || fault == Fault.PAUSE_SINK || fault == Fault.COLLIDING_SYNC) {
            return since;
        }
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        long nextStatus = 0;
        while (onTopic() - onTopicBefore < at * changes) {
            assertTrue(System.nanoTime() < deadline, "run " + run + " did not progress");
            if (System.nanoTime() > nextStatus) {
                // A table dropped in an earlier round fails this run before it emits: awaitSummary restores it.
                if ("FAILED".equals(stack.deployer().status(SOURCE).path("tasks").path(0).path("state").asText())) {
                    log("  the run failed before the fault point; %s not injected", fault);
                    return since;
                }
                nextStatus = System.nanoTime() + 500_000_000L;
            }
            Thread.sleep(5);
        }
        switch (fault) {
            case KILL_WORKER -> {
                stack.killWorker();
                since = Instant.now();
                stack.restartWorker();
            }
            case UPSTREAM_CHANGE_WHILE_DOWN -> {
                stack.killWorker();
                log("  killed the worker with %d of %d change(s) on the topic", onTopic() - onTopicBefore, changes);
                revert(before);
                upstreamChangedMidRun = true;
                since = Instant.now();
                stack.restartWorker();
            }
            case RESTART_BROKER -> {
                stack.stopKafka();
                Thread.sleep(1000 + random.nextInt(4000));
                stack.startKafka();
            }
            case MYSQL_DOWN -> {
                stack.stopMariaDb();
                Thread.sleep(3000 + random.nextInt(10_000));
                stack.startMariaDb();
            }
            case DROP_STAGING_TABLE -> dropCurrentRunTable();
            case CONFIG_CHANGE -> {
                since = Instant.now();
                reconfigure();
            }
            default -> throw new AssertionError(fault);
        }
        return since;
    }

    /** Copies {@code STAGING.table} to {@link #BACKUP} and drops it. */
    void backupAndDrop(String table) {
        bq.query("CREATE OR REPLACE TABLE `" + BACKUP + "." + table + "` AS SELECT * FROM `" + STAGING + "." + table + "`");
        bq.query("DROP TABLE `" + STAGING + "." + table + "`");
        backups.put(table, BACKUP + "." + table);
    }

    /** What time travel would do on BigQuery: the table again, from the copy taken before the drop. */
    void restore(String table) {
        String copy = backups.remove(table);
        assertNotNull(copy, "seed " + seed + ": the connector reports " + table + " lost, which the loop did not drop");
        bq.query("CREATE TABLE `" + STAGING + "." + table + "` AS SELECT * FROM `" + copy + "`");
        log("  restored %s.%s from %s", STAGING, table, copy);
    }

    /**
     * Drops the baseline's snapshot before the run is triggered: the run must fail before emitting, with
     * the documented message naming it; restored, the task restarts. Null when there is no baseline to drop.
     */
    Instant dropBaselineThenRestore() throws Exception {
        long base = run - 1;
        String table = sync + "__snap_" + base;
        if (!bq.tableExists(STAGING, table)) {
            log("  no baseline snapshot %s to drop (dropped earlier, not restored yet)", table);
            return null;
        }
        backupAndDrop(table);
        long onTopicBefore = onTopic();
        ops.triggerRun(SOURCE);
        String message = firstLine(stack.deployer().awaitTaskFailed(SOURCE, lastTrace, RUN_TIMEOUT));
        lastTrace = message;
        log("  baseline snapshot %s dropped: %s", table, message);
        for (String f : List.of("the snapshot of baseline run " + base, table, "is gone", "time travel", "Nothing was emitted")) {
            assertTrue(message.contains(f), "seed " + seed + ": expected '" + f + "' in: " + message);
        }
        assertEquals(onTopicBefore, onTopic(), "seed " + seed + ": the run failed on a lost baseline but emitted records");
        restore(table);
        Instant since = Instant.now();
        ops.restartFailed(SOURCE);
        return since;
    }

    /** Drops the running run's snapshot or diff (a copy is kept); the run or its successor must notice. */
    void dropCurrentRunTable() {
        long current = -1;
        for (String name : bq.tableNames(STAGING)) {
            if (name.startsWith(sync + "__diff_")) {
                current = Math.max(current, Long.parseLong(name.substring(name.lastIndexOf('_') + 1)));
            }
        }
        if (current < run) {
            log("  the run's diff table is not there (yet): nothing dropped");
            return;
        }
        String table = sync + (random.nextBoolean() ? "__snap_" : "__diff_") + current;
        backupAndDrop(table);
        droppedMidRun = true;
        log("  dropped %s.%s during the run", STAGING, table);
    }

    /** PUT …/config while the run emits: a setting outside the record contract, the value representation, or the topic. */
    void reconfigure() {
        switch (random.nextInt(3)) {
            case 0 -> {
                sourceConfig.put("diff.buckets", String.valueOf(List.of(4, 8, 16, 32).get(random.nextInt(4))));
                sourceConfig.put("read.chunk.rows", String.valueOf(List.of(300, 500, 1000).get(random.nextInt(3))));
                log("  PUT config: diff.buckets=%s read.chunk.rows=%s", sourceConfig.get("diff.buckets"), sourceConfig.get("read.chunk.rows"));
                stack.deployer().deploy(SOURCE, sourceConfig);
            }
            case 1 -> {
                sourceConfig.put("json.columns", "json".equals(sourceConfig.get("json.columns")) ? "text" : "json");
                log("  PUT config: json.columns=%s (a contract change: resync)", sourceConfig.get("json.columns"));
                contractChanged = true;
                stack.deployer().deploy(SOURCE, sourceConfig);
            }
            default -> {
                // A new topic (switching back to a used one is a documented limit); the sink follows at once,
                // having consumed every run before this one: what it leaves unread of the old topic is part
                // of this run, whose keys the resync re-examines.
                String next = TOPIC + ".t" + (++topicSwitches);
                stack.createCompactedTopic(next, 2);
                sourceConfig.put("topic", next);
                log("  PUT config: topic=%s (a contract change: resync), sink follows", next);
                contractChanged = true;
                stack.deployer().deploy(SOURCE, sourceConfig);
                sinkConfig.put("topics", next);
                stack.deployer().deploy(SINK, sinkConfig);
                topic = next;
                topics.add(next);
            }
        }
    }

    static String firstLine(String trace) {
        return trace.lines().findFirst().orElse("");
    }

    /**
     * Waits for the summary of a run {@code >= run} started after {@code since}. A task failure on the way
     * must be the documented lost-table failure for a table this loop dropped (restored, then the task
     * restarted), or, in a round that dropped a table mid-run, a failure naming that table.
     */
    PipelineOps.RunSummary awaitSummary(Fault fault, Instant since) throws Exception {
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        boolean restartedAfterReadFailure = false;
        while (true) {
            try {
                return ops.awaitRunStartedSince(RUNS_TOPIC, run, since, Duration.ofSeconds(3));
            } catch (IllegalStateException notYet) {
                assertTrue(System.nanoTime() < deadline, () -> "seed " + seed + ": " + notYet.getMessage());
            }
            JsonNode task = stack.deployer().status(SOURCE).path("tasks").path(0);
            if (!"FAILED".equals(task.path("state").asText())) {
                continue;
            }
            String message = firstLine(task.path("trace").asText());
            lastTrace = message;
            Matcher m = STAGING_TABLE.matcher(message);
            String table = m.find() ? m.group(1) : null;
            if (message.contains("is gone") && message.contains("time travel") && message.contains("Nothing was emitted") && table != null) {
                log("  run failed on a lost table: %s", message);
                restore(table);
            } else if (droppedMidRun && !restartedAfterReadFailure && table != null && backups.containsKey(table)) {
                // The run was reading the table when it went away; the operator restarts the task, which must
                // then either proceed or fail with the documented message.
                log("  run failed while its table was gone: %s", message);
                restartedAfterReadFailure = true;
            } else {
                fail("seed " + seed + ", run " + run + " (" + fault + "): the task failed: " + message);
            }
            since = Instant.now();
            ops.restartFailed(SOURCE);
        }
    }

    /** MySQL against the query result read from the emulator (or the run's snapshot, see below); the model against the query; topic order. */
    void checkRound(Fault fault, PipelineOps.RunSummary s) throws Exception {
        run = s.run();
        if (sinkPaused && fault != Fault.PAUSE_SINK) {
            ops.resume(SINK); // two runs' worth of changes were queued while it was paused
            sinkPaused = false;
        }
        if (contractChanged) {
            assertEquals("resync", s.mode(), "seed " + seed + ": a contract change republishes every row: " + s);
            assertEquals(s.rows(), s.added() + s.changed(), "seed " + seed + ": a resync republishes every row: " + s);
        }
        MirrorCheck.Rows query = check.readBigQuery(bq, QUERY);
        List<List<Object>> rows = new ArrayList<>(model.size());
        model.forEach((id, e) -> rows.add(VersionedTable.rowAt(id, e)));
        MirrorCheck.Result fixture = check.compare(check.rows(rows), query);
        assertTrue(fixture.equal(), () -> "seed " + seed + ": the model differs from the emulator's query result: " + fixture.summary());
        MirrorCheck.Rows expected = query;
        String against = "the query result";
        behindQuery = false;
        if ("resume".equals(s.mode())) {
            // A resumed run emits the rest of its own diff, taken when the run started: MySQL mirrors that run's
            // snapshot. It is older than the query result when the data changed while the worker was down, or
            // when a task restart of Connect's own (a rebalance after a broker restart) had started the run
            // before this round's changes; the next run must then catch up.
            String snapshot = STAGING + "." + s.sync() + "__snap_" + s.run();
            expected = check.readBigQuery(bq, "SELECT * FROM `" + snapshot + "`");
            behindQuery = !check.compare(query, expected).equal();
            against = "run " + s.run() + "'s snapshot " + snapshot + (behindQuery ? " (older than the query result)" : " (= the query result)");
        }
        String what = against;
        // The topic first: what the sink will end with, whether or not it has applied the run's last records yet.
        List<String> backwards = new ArrayList<>();
        for (String t : topics) {
            List<PipelineOps.TopicRecord> records = ops.readAll(t);
            VersionedTable.versionsGoingBackwards(records, reverted).forEach(b -> backwards.add(t + " " + b));
            if (t.equals(topic)) {
                MirrorCheck.Result latest = check.compare(expected, check.latestPerKey(records, 9));
                assertTrue(latest.equal(), () -> "seed " + seed + ", run " + run + " (" + fault + ", " + s.mode() + "): the latest value per key on "
                        + t + " differs from " + what + ": " + latest.summary());
            }
        }
        assertTrue(backwards.isEmpty(), () -> "seed " + seed + ": versions went backwards: " + backwards.subList(0, Math.min(5, backwards.size())));
        if (sinkPaused) {
            log("run %d done (%s); topic %s equals %s; the sink stays paused into the next round", run, s, topic, what);
            return;
        }
        MirrorCheck.Rows want = expected;
        MirrorCheck.Result r = null;
        for (int attempt = 0; attempt < 8 && (r == null || !r.equal()); attempt++) {
            // A sink that lost MySQL fails its task; restarting what failed is the operator's move (no-op otherwise).
            ops.restartFailed(SINK);
            r = check.awaitMySqlEquals(stack::mysqlConnection, MYSQL_TABLE, want, Duration.ofSeconds(30), null);
        }
        MirrorCheck.Result result = r;
        assertTrue(result.equal(), () -> "seed " + seed + ", run " + run + " (" + fault + ", " + s.mode() + "): MySQL differs from "
                + what + ": " + result.summary());
        log("run %d converged: %s; the topic and MySQL equal %s (%d rows), no key went backwards", run, s, against, result.expectedRows());
    }

    /**
     * The colliding sync: its own run completed, its topic's latest value per key equals its query result,
     * its sync name and staging tables are its own.
     */
    void checkCollider(Instant since) throws Exception {
        PipelineOps.RunSummary s = ops.awaitRunStartedSince(COLLIDER_TOPIC + ".runs", colliderRun + 1, since, RUN_TIMEOUT);
        if ("resume".equals(s.mode())) {
            // The restart interrupted a run a worker restart had started before this round's changes: one more.
            since = Instant.now();
            ops.triggerRun(COLLIDER);
            s = ops.awaitRunStartedSince(COLLIDER_TOPIC + ".runs", s.run() + 1, since, RUN_TIMEOUT);
        }
        colliderRun = s.run();
        String colliderSync = s.sync();
        assertTrue(colliderSync.startsWith("source_loop_") && sync.startsWith("source_loop_"), colliderSync + " / " + sync);
        assertNotEquals(sync, colliderSync, "seed " + seed + ": " + COLLIDER + " and " + SOURCE + " share a sync name");
        MirrorCheck c = MirrorCheck.forQuery(bq, COLLIDER_QUERY, "id");
        MirrorCheck.Result r = c.compare(c.readBigQuery(bq, COLLIDER_QUERY), c.latestPerKey(ops.readAll(COLLIDER_TOPIC), 9));
        long colliderRunNow = colliderRun;
        assertTrue(r.equal(), () -> "seed " + seed + ": " + COLLIDER + " run " + colliderRunNow + ": its topic differs from its query result: " + r.summary());
        // Owner marks: one per sync, and different (tables restored from a copy carry none).
        Map<String, Set<String>> owners = new TreeMap<>();
        for (String name : bq.tableNames(STAGING)) {
            String prefix = name.startsWith(sync + "__") ? sync : name.startsWith(colliderSync + "__") ? colliderSync : null;
            assertNotNull(prefix, "seed " + seed + ": staging table " + name + " belongs to neither sync");
            JsonNode t = bq.table(STAGING, name);
            String owner = t == null ? null : t.path("labels").path("bq2k_owner").asText(null);
            if (owner != null) {
                owners.computeIfAbsent(prefix, x -> new HashSet<>()).add(owner);
            }
        }
        assertTrue(owners.values().stream().allMatch(o -> o.size() == 1), "seed " + seed + ": owner marks " + owners);
        assertEquals(owners.size(), owners.values().stream().flatMap(Set::stream).distinct().count(), "seed " + seed + ": owner marks " + owners);
        log("%s run %d (sync %s) converged beside %s: its topic equals its query result (%d rows); owner marks %s",
                COLLIDER, colliderRun, colliderSync, sync, r.expectedRows(), owners);
    }
}
