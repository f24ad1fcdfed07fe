package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.Component;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.LogFiles;
import io.bq2k.stack.MirrorCheck;
import io.bq2k.stack.PipelineOps;

/**
 * A task at scale, on the real stack (one stack for the class, the worker's JMX read over RMI):
 * <ol>
 *   <li>a task deleted while BigQuery hangs (a proxy holding every request) stops within the worker's
 *       graceful timeout, and nothing of it reaches BigQuery afterwards, even once the held requests are
 *       answered while the re-created connector's new task runs;</li>
 *   <li>a run of 300 rows of ~900 KB each, on default settings, completes within the worker's heap,
 *       chunked by {@code read.chunk.bytes};</li>
 *   <li>N syncs ({@code -Dscale.syncs}, 10 by default, {@code bin/scale} runs 50) on one worker each
 *       complete run 1, then their next run comes from the 1-minute schedule after upstream inserts,
 *       updates and deletes, and every topic's latest value per key equals the query result; the
 *       worker's threads and heap per sync are measured.</li>
 * </ol>
 * Figures are printed with the prefix {@code [scale]}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TaskAtScaleIT {

    static final Duration RUN_TIMEOUT = Duration.ofMinutes(6);
    /** Connect's task.shutdown.graceful.timeout.ms (its default: neither the stack nor config/ sets it). */
    static final long GRACEFUL_STOP_MS = 5000;
    static final int SYNCS = Integer.getInteger("scale.syncs", 10);
    /** The worker's heap: small enough that a run holding all 300 wide rows at once (270 MB of text) would not fit. */
    static final String WORKER_HEAP = System.getProperty("scale.heap", "-Xmx512m");
    static final ObjectMapper JSON = new ObjectMapper();

    LocalStack stack;
    BigQueryRest bq;
    PipelineOps ops;
    JMXConnector jmxConnector;
    MBeanServerConnection jmx;
    final List<FaultyBigQueryProxy> proxies = new ArrayList<>();

    @BeforeAll
    void up() throws Exception {
        Path tmp = Files.createTempDirectory("bq2k-scale-");
        stack = LocalStack.builder().randomPorts(true).stackDir(tmp.resolve("stack"))
                .connectHeap(WORKER_HEAP).bqLogLevel("warning").stopOnJvmExit(true).build();
        stack.up();
        bq = new BigQueryRest(stack.bqRestUrl(), "demo");
        ops = PipelineOps.of(stack);
        bq.query("CREATE SCHEMA IF NOT EXISTS scale");
        jmxConnector = JMXConnectorFactory.connect(new JMXServiceURL(
                "service:jmx:rmi:///jndi/rmi://127.0.0.1:" + stack.connectJmxPort() + "/jmxrmi"));
        jmx = jmxConnector.getMBeanServerConnection();
        String workerProps = Files.readString(stack.dataDir(Component.CONNECT).resolve("worker.properties"));
        assertFalse(workerProps.contains("task.shutdown.graceful.timeout.ms"), "the worker keeps Connect's default graceful timeout");
        log("worker heap %s (JMX max %d MB), %d syncs for the scale test", WORKER_HEAP, heap().getMax() >> 20, SYNCS);
    }

    @AfterAll
    void down() {
        proxies.forEach(FaultyBigQueryProxy::close);
        if (jmxConnector != null) {
            try {
                jmxConnector.close();
            } catch (IOException ignored) {
                // the worker is going down anyway
            }
        }
        if (stack != null) {
            stack.down(Boolean.getBoolean("e2e.keepData"));
        }
    }

    static void log(String fmt, Object... args) {
        System.out.printf("[scale] " + fmt + "%n", args);
        System.out.flush();
    }

    // ------------------------------------------------------------------ 1. a task stopped while BigQuery hangs

    /**
     * The task's snapshot job is held by a frozen proxy (BigQuery hangs: no answer). While it hangs, the
     * connector is deleted: the worker must get the task back within its graceful timeout (no "Graceful
     * stop of task … failed"). The connector is re-created under the same name (same owner, a new task
     * instance) with its REST endpoint on a second proxy: Connect validates a config on PUT with a dry run
     * through the endpoint, so the new config cannot go through the frozen one, and a second port tells
     * the old task's requests from the new task's beyond doubt. Once the new task has sent its first job,
     * the old proxy thaws: every held request is answered 503 without reaching the emulator. The old
     * task must send nothing after the delete, no job of its instance may reach the emulator, and the new
     * task completes a run.
     */
    @Test
    @Order(1)
    void aTaskStoppedWhileBigQueryHangsStopsInTimeAndSendsNothingMore() throws Exception {
        String name = "source-hang";
        String topic = "scale.hang";
        VersionedTable table = new VersionedTable("scale.hang_src", 50_000, 0, 2);
        bq.query(table.createSql(1));
        FaultyBigQueryProxy oldProxy = proxy();
        FaultyBigQueryProxy newProxy = proxy();
        Map<String, String> config = ConnectorConfigs.source(stack, topic, table.query(), "bq2k_staging_hang");
        config.put("bigquery.endpoint", oldProxy.url());
        oldProxy.freezeOnJob("_snapshot_");
        stack.deployer().deploy(name, config);
        stack.deployer().awaitRunning(name, Duration.ofMinutes(2));
        try {
            await(() -> oldProxy.holding() >= 1, Duration.ofMinutes(2), "the task's snapshot job reaches the frozen proxy");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; forwarded: " + oldProxy.forwardedLog() + "; status: " + stack.deployer().status(name), e);
        }
        String heldJob = oldProxy.frozeAtJob();
        ObjectName mbean = await(() -> syncMBean("source_hang_"), Duration.ofSeconds(30), "the sync's MBean");
        String sync = ObjectName.unquote(mbean.getKeyProperty("sync"));
        JobName old = JobName.parse(heldJob, sync);
        assertNotNull(old, "job id " + heldJob + " has the form bq2k_<sync>_<run>_<step>_<instance>_<attempt> of sync " + sync);
        Thread.sleep(3000); // BigQuery hangs for a while: the task keeps polling
        assertEquals("RUNNING", stack.deployer().status(name).path("tasks").path(0).path("state").asText());
        String taskThread = "task-thread-" + name + "-0";
        assertTrue(threadNames().contains(taskThread), "the task's thread " + taskThread + " runs: " + threadNames());
        log("hang: task %s RUNNING, its snapshot job %s held by the frozen proxy (phase: %s)", name, heldJob,
                jmx.getAttribute(mbean, "Phase"));

        Path workerLog = stack.logFile(Component.CONNECT);
        long logMark = Files.size(workerLog);
        long deletedAt = System.currentTimeMillis();
        assertTrue(stack.deployer().delete(name));
        long deleteAnswered = System.currentTimeMillis();
        long threadGoneAt = -1;
        long mbeanGoneAt = -1;
        long deadline = System.currentTimeMillis() + 60_000;
        while ((threadGoneAt < 0 || mbeanGoneAt < 0) && System.currentTimeMillis() < deadline) {
            long now = System.currentTimeMillis();
            if (threadGoneAt < 0 && !threadNames().contains(taskThread)) {
                threadGoneAt = now;
            }
            if (mbeanGoneAt < 0 && !jmx.isRegistered(mbean)) {
                mbeanGoneAt = now;
            }
            Thread.sleep(20);
        }
        String logSinceDelete = readFrom(workerLog, logMark);
        long stopRequestedAt = logTime(logSinceDelete, "Stopping task " + name + "-0");
        log("hang: DELETE answered in %d ms; the worker began stopping the task %s ms after the DELETE; its stop() was done "
                + "(MBean unregistered) after %d ms and its thread was gone after %d ms (graceful timeout %d ms)",
                deleteAnswered - deletedAt, stopRequestedAt < 0 ? "?" : Long.toString(stopRequestedAt - deletedAt),
                mbeanGoneAt - deletedAt, threadGoneAt - deletedAt, GRACEFUL_STOP_MS);
        assertTrue(threadGoneAt > 0, "the task's thread is still running 60 s after the DELETE");
        assertFalse(logSinceDelete.contains("Graceful stop of task " + name + "-0 failed"),
                "the worker gave up waiting for the task:\n" + grep(logSinceDelete, "Graceful stop"));
        assertFalse(logSinceDelete.contains("Connector '" + name + "' failed to properly shut down"), grep(logSinceDelete, name));
        long stopTook = threadGoneAt - (stopRequestedAt > 0 ? stopRequestedAt : deleteAnswered);
        assertTrue(stopTook < GRACEFUL_STOP_MS, "the task took " + stopTook + " ms to stop, more than the graceful timeout");
        assertTrue(oldProxy.frozen() && oldProxy.holding() >= 1, "BigQuery still hangs for the stopped task");

        // Same name (same owner, same offsets), a new task instance, on the second proxy.
        config.put("bigquery.endpoint", newProxy.url());
        long recreatedAt = System.currentTimeMillis();
        stack.deployer().deploy(name, config);
        JobName firstNew = await(() -> newProxy.forwardedLog().stream().map(f -> JobName.parse(f.jobId(), sync))
                .filter(j -> j != null).findFirst().orElse(null), Duration.ofMinutes(2), "the new task's first job");
        long firstNewAt = newProxy.forwardedLog().stream().filter(f -> JobName.parse(f.jobId(), sync) != null)
                .mapToLong(FaultyBigQueryProxy.Forwarded::atMs).min().orElseThrow();
        int heldBeforeThaw = oldProxy.holding();
        oldProxy.thaw();
        long thawedAt = System.currentTimeMillis();
        PipelineOps.RunSummary run = ops.awaitRunStartedSince(topic + ".runs", 1, Instant.ofEpochMilli(recreatedAt), RUN_TIMEOUT);
        long settle = 5000 - (System.currentTimeMillis() - thawedAt);
        if (settle > 0) {
            Thread.sleep(settle); // whatever the old task would still send has had time to arrive
        }
        assertEquals(table.rows(1).size(), run.rows(), "the new task's " + run);
        assertNotEquals(old.instance(), firstNew.instance(), "a new task instance");

        // The old task after the DELETE: every request it made was held and lost, and it made none afterwards.
        List<FaultyBigQueryProxy.Forwarded> oldAfterDelete = oldProxy.forwardedLog().stream().filter(f -> f.atMs() >= deletedAt).toList();
        List<FaultyBigQueryProxy.Held> held = oldProxy.heldLog();
        log("hang: %d request(s) of the old task held while BigQuery hung, answered 503 at the thaw (%d ms after the new task's "
                + "first job) without reaching the emulator: %s", held.size(), thawedAt - firstNewAt,
                held.stream().map(h -> h.method() + " " + h.path() + (h.jobId() == null ? "" : " [" + h.jobId() + "]")
                        + (h.delivered() ? "" : " (client gone)")).toList());
        assertTrue(held.size() >= heldBeforeThaw && held.stream().anyMatch(h -> heldJob.equals(h.jobId())), "held: " + held);
        assertTrue(oldAfterDelete.isEmpty(), "the stopped task sent requests after the DELETE: " + oldAfterDelete);

        // No job of the old instance reached the emulator, through any proxy, at any time.
        List<String> oldJobsForwarded = new ArrayList<>();
        List<String> newJobsForwarded = new ArrayList<>();
        for (FaultyBigQueryProxy p : List.of(oldProxy, newProxy)) {
            for (FaultyBigQueryProxy.Forwarded f : p.forwardedLog()) {
                if (f.jobId() == null || !f.jobId().startsWith("bq2k_")) {
                    continue;
                }
                JobName j = JobName.parse(f.jobId(), sync);
                assertNotNull(j, "job id " + f.jobId() + " has the form bq2k_<sync>_<run>_<step>_<instance>_<attempt>");
                if (j.instance().equals(old.instance())) {
                    oldJobsForwarded.add(f.method() + " " + f.path() + " at +" + (f.atMs() - firstNewAt) + " ms");
                } else if (f.atMs() >= recreatedAt) {
                    newJobsForwarded.add(j.step());
                }
            }
        }
        assertTrue(oldJobsForwarded.isEmpty(), "requests with the old instance's job ids reached the emulator: " + oldJobsForwarded);
        List<String> emulatorJobs = emulatorJobIds();
        List<String> oldInEmulator = emulatorJobs.stream().filter(id -> old.instance().equals(instanceOf(id, sync))).toList();
        long newInEmulator = emulatorJobs.stream().filter(id -> firstNew.instance().equals(instanceOf(id, sync))).count();
        assertTrue(oldInEmulator.isEmpty(), "the emulator ran jobs of the stopped task instance: " + oldInEmulator);
        assertTrue(newInEmulator > 0, "the emulator lists the new task's jobs");
        log("hang: old instance %s: 0 requests after the DELETE, 0 of its jobs forwarded, 0 in the emulator's job list; new instance %s: "
                + "%d job requests (%s), %d jobs in the emulator; its run completed: %s", old.instance(), firstNew.instance(),
                newJobsForwarded.size(), newJobsForwarded.stream().distinct().collect(Collectors.joining(",")), newInEmulator, run);
        stack.deployer().delete(name);
    }

    // ------------------------------------------------------------------ 2. rows of 900 KB within the worker's heap

    /**
     * 300 rows of 900,000 characters each (270 MB of text) on the connector's default settings: chunks are
     * bounded by {@code read.chunk.bytes} (8 MiB: ~9 rows each), so the worker holds about two chunks,
     * whatever the rows' width. The worker's heap is sampled every 200 ms over JMX. Default
     * {@code read.chunk.bytes} is what is tested; {@code -Dscale.wide.readChunkBytes=1073741824} puts every
     * row in one chunk (what the connector did before the byte bound) to see this test fail.
     */
    @Test
    @Order(2)
    void aDiffOfRowsOf900KbStaysWithinTheWorkersHeap() throws Exception {
        String name = "source-wide";
        String topic = "scale.wide";
        int rows = 300;
        int width = 900_000;
        bq.query("CREATE OR REPLACE TABLE scale.wide AS SELECT id, REPEAT(CAST(MOD(id, 10) AS STRING), " + width + ") AS payload"
                + " FROM UNNEST(GENERATE_ARRAY(1, " + rows + ")) AS id");
        Map<String, String> config = ConnectorConfigs.source(stack, topic, "SELECT id, payload FROM scale.wide", "bq2k_staging_wide");
        // Kafka's producer defaults (max.request.size 1 MiB, no compression) instead of the shipped tuning:
        // each record must fit on its own.
        config.keySet().removeIf(k -> k.startsWith("producer.override."));
        String chunkBytes = System.getProperty("scale.wide.readChunkBytes");
        if (chunkBytes != null) {
            config.put("read.chunk.bytes", chunkBytes);
            log("wide: read.chunk.bytes=%s (set by -Dscale.wide.readChunkBytes)", chunkBytes);
        }
        assertFalse(config.containsKey("record.max.bytes") || config.containsKey("read.chunk.rows")
                || config.containsKey("read.chunk.bytes") && chunkBytes == null, "default chunk and record limits: " + config);

        gc();
        HeapSampler sampler = new HeapSampler("source_wide_");
        sampler.start();
        PipelineOps.RunSummary run;
        String state;
        try {
            stack.deployer().deploy(name, config);
            run = awaitRunWatchingTheWorker(name, topic + ".runs", 1);
            state = stack.deployer().status(name).path("tasks").path(0).path("state").asText();
        } finally {
            sampler.stop();
        }
        log("wide: %s; worker heap: peak used %d MB of max %d MB (%d samples, every 200 ms); chunk sizes seen (changes handed "
                + "to Connect between samples): %s", run, sampler.peakUsed >> 20, sampler.max >> 20, sampler.samples, sampler.steps);
        assertEquals("RUNNING", state, "the task after the run");
        assertEquals(rows, run.added());
        assertTrue(sampler.samples > 10 && sampler.peakUsed > 0, "heap sampled");
        assertTrue(sampler.peakUsed < sampler.max, "peak heap " + sampler.peakUsed + " >= max " + sampler.max);

        // Every record on the topic: the latest value per key is each row, byte for byte.
        Map<Long, Integer> latest = new TreeMap<>();
        int maxValueBytes = 0;
        List<String> wrong = new ArrayList<>();
        for (PipelineOps.TopicRecord r : ops.readAll(topic)) {
            long id = PipelineOps.payload(r.key()).get("id").asLong();
            if (r.value() == null) {
                latest.remove(id);
                continue;
            }
            maxValueBytes = Math.max(maxValueBytes, r.value().getBytes(StandardCharsets.UTF_8).length);
            String payload = PipelineOps.payload(r.value()).get("payload").asText();
            char digit = (char) ('0' + id % 10);
            if (payload.length() != width || payload.chars().anyMatch(c -> c != digit)) {
                wrong.add("id " + id + ": " + payload.length() + " chars");
            }
            latest.put(id, payload.length());
        }
        assertTrue(wrong.isEmpty(), "rows differ: " + wrong);
        assertEquals(rows, latest.size(), "keys on the topic");
        log("wide: %d keys on %s, each %d characters as in BigQuery; largest record value %d bytes with the JsonConverter "
                + "envelope (producer max.request.size 1048576, record.max.bytes 1000000 as JSON of the row)", latest.size(), topic,
                width, maxValueBytes);
        stack.deployer().delete(name);
    }

    /**
     * Waits for run {@code n}'s summary; fails at once when the worker process is gone (it exits on an
     * OutOfMemoryError) or the task FAILED, instead of waiting for the timeout.
     */
    PipelineOps.RunSummary awaitRunWatchingTheWorker(String name, String runsTopic, long n) throws Exception {
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!stack.isRunning(Component.CONNECT)) {
                throw new AssertionError("the worker died during the run; the end of its log:\n"
                        + LogFiles.tail(stack.logFile(Component.CONNECT), 15));
            }
            JsonNode status = stack.deployer().status(name); // null for a moment after the PUT
            JsonNode task = status == null ? JSON.createObjectNode() : status.path("tasks").path(0);
            assertNotEquals("FAILED", task.path("state").asText(), () -> "the task failed: " + task.path("trace").asText());
            try {
                PipelineOps.RunSummary latest = ops.latestRun(runsTopic);
                if (latest != null && latest.run() >= n) {
                    return latest;
                }
            } catch (RuntimeException e) {
                // the run-history topic does not exist yet
            }
            Thread.sleep(1000);
        }
        ObjectName sync = syncMBean(name.replace('-', '_') + "_");
        String metrics = sync == null ? "no MBean" : "phase " + jmx.getAttribute(sync, "Phase") + ", emitted "
                + jmx.getAttribute(sync, "CurrentRunEmitted") + " of " + jmx.getAttribute(sync, "CurrentRunTotal") + ", retries "
                + jmx.getAttribute(sync, "RetriesTotal") + " (last: " + jmx.getAttribute(sync, "LastRetryReason") + ")";
        throw new AssertionError("no summary of run " + n + " on " + runsTopic + " within " + RUN_TIMEOUT.toSeconds() + " s; " + metrics
                + "; heap used " + (heap().getUsed() >> 20) + " MB; the worker's warnings:\n"
                + grep(Files.readString(stack.logFile(Component.CONNECT)), "WARN").lines()
                        .reduce((a, b) -> a.length() > 20_000 ? a : a + "\n" + b).orElse(""));
    }

    /** Samples the worker's heap every 200 ms, and the sync's emitted count every 50 ms (its steps are the chunks handed over). */
    final class HeapSampler implements Runnable {
        final String syncPrefix;
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread = new Thread(this, "heap-sampler");
        volatile long peakUsed;
        volatile long max;
        volatile int samples;
        final List<Long> steps = new ArrayList<>();
        volatile Throwable failure;

        HeapSampler(String syncPrefix) {
            this.syncPrefix = syncPrefix;
        }

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
            if (failure != null) {
                throw new AssertionError("heap sampling failed", failure);
            }
        }

        @Override
        public void run() {
            try {
                ObjectName sync = null;
                long lastEmitted = 0;
                long lastRun = -1;
                long nextHeap = 0;
                while (running.get()) {
                    long now = System.nanoTime();
                    if (now >= nextHeap) {
                        MemoryUsage h = heap();
                        peakUsed = Math.max(peakUsed, h.getUsed());
                        max = h.getMax();
                        samples++;
                        nextHeap = now + 200_000_000L;
                    }
                    if (sync == null) {
                        sync = syncMBean(syncPrefix);
                    }
                    if (sync != null && jmx.isRegistered(sync)) {
                        long runId = (Long) jmx.getAttribute(sync, "CurrentRunId");
                        long emitted = (Long) jmx.getAttribute(sync, "CurrentRunEmitted");
                        if (runId != lastRun) {
                            lastRun = runId;
                            lastEmitted = 0;
                        }
                        if (emitted > lastEmitted) {
                            synchronized (steps) {
                                steps.add(emitted - lastEmitted);
                            }
                            lastEmitted = emitted;
                        }
                    }
                    Thread.sleep(50);
                }
            } catch (Throwable t) {
                failure = t;
            }
        }
    }

    // ------------------------------------------------------------------ 3. many syncs on one worker

    /**
     * {@link #SYNCS} syncs, each over its own table of ~200 rows, topic and schedule of one minute. The
     * worker's threads and heap (after a GC) are measured before deploying and once every sync completed
     * run 1. Then every table changes upstream (inserts, updates, deletes); without any trigger, each
     * sync's next run comes from its schedule (started a full interval after the previous run), and each
     * topic's latest value per key equals the query result read from the emulator (tombstones removing
     * the deleted rows).
     */
    @Test
    @Order(3)
    void manySyncsOnOneWorkerAllConverge() throws Exception {
        int n = SYNCS;
        long interval = 60_000;
        List<VersionedTable> tables = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            VersionedTable t = new VersionedTable("scale.s_" + i, 200, 10, 2);
            bq.query(t.createSql(1));
            tables.add(t);
        }
        await(() -> syncMBean("source_scale_") == null, Duration.ofSeconds(30), "no sync left from the tests before");
        Thread.sleep(2000);
        gc();
        int threadsBefore = threadCount();
        long heapBefore = heap().getUsed();
        Map<String, Integer> groupsBefore = threadGroups();

        long t0 = System.nanoTime();
        for (int i = 1; i <= n; i++) {
            Map<String, String> config = ConnectorConfigs.source(stack, "scale.s" + i, tables.get(i - 1).query(), "bq2k_staging_scale");
            config.put("schedule.interval.ms", Long.toString(interval));
            stack.deployer().deploy("source-scale-" + i, config);
        }
        double deploySeconds = (System.nanoTime() - t0) / 1e9;
        List<PipelineOps.RunSummary> first = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            first.add(ops.awaitRun("scale.s" + i + ".runs", 1, RUN_TIMEOUT));
        }
        double run1Seconds = (System.nanoTime() - t0) / 1e9;
        for (int i = 1; i <= n; i++) {
            assertEquals(tables.get(i - 1).rows(1).size(), first.get(i - 1).rows(), "sync " + i + " run 1");
        }
        Thread.sleep(2000);
        gc();
        int threadsAfter = threadCount();
        long heapAfter = heap().getUsed();
        Map<String, Integer> groupsAfter = threadGroups();
        Map<String, Integer> added = new TreeMap<>();
        groupsAfter.forEach((g, c) -> {
            int d = c - groupsBefore.getOrDefault(g, 0);
            if (d != 0) {
                added.put(g, d);
            }
        });
        groupsBefore.forEach((g, c) -> {
            if (!groupsAfter.containsKey(g)) {
                added.put(g, -c);
            }
        });
        log("%d syncs: deployed in %.1f s, every run 1 done %.1f s after the first deploy", n, deploySeconds, run1Seconds);
        log("%d syncs: threads before/after %d/%d, heap before/after %.1f/%.1f MB (used after a GC), per-sync cost %.2f threads, %.2f MB",
                n, threadsBefore, threadsAfter, heapBefore / 1048576.0, heapAfter / 1048576.0,
                (threadsAfter - threadsBefore) / (double) n, (heapAfter - heapBefore) / 1048576.0 / n);
        log("%d syncs: threads added by name (digits as N): %s", n, added);

        // One Debezium sink for every sync's topic (deployed after the measurement: it is not part of a sync's cost).
        Map<String, String> sink = ConnectorConfigs.sink(stack, "unused", "unused");
        sink.remove("topics");
        sink.put("topics.regex", "scale\\.s[0-9]+");
        sink.put("collection.name.format", "${topic}"); // scale.s7 -> table scale_s7
        stack.deployer().deploy("sink-scale", sink);

        // Upstream changes; each sync's next run must come from its schedule, no trigger.
        long[] changedAt = new long[n];
        for (int i = 0; i < n; i++) {
            bq.query(tables.get(i).createSql(2));
            changedAt[i] = System.currentTimeMillis();
        }
        List<String> lines = new ArrayList<>();
        Map<Integer, MirrorCheck.Rows> expectedRows = new HashMap<>();
        Map<Integer, MirrorCheck> checks = new HashMap<>();
        List<Long> late = new ArrayList<>();
        long lastRunEnd = 0;
        for (int i = 1; i <= n; i++) {
            String runs = "scale.s" + i + ".runs";
            PipelineOps.RunSummary next = ops.awaitRunStartedSince(runs, 2, Instant.ofEpochMilli(changedAt[i - 1]), RUN_TIMEOUT);
            Map<Long, Long> started = new HashMap<>();
            for (PipelineOps.TopicRecord r : ops.readAll(runs)) {
                if (r.value() != null) {
                    PipelineOps.RunSummary s = PipelineOps.parse(r.value());
                    started.put(s.run(), s.payload().path("started_at_ms").asLong());
                }
            }
            long gap = started.get(next.run()) - started.get(next.run() - 1);
            assertTrue(gap >= interval, "sync " + i + ": run " + next.run() + " started " + gap + " ms after run " + (next.run() - 1)
                    + ", before its schedule");
            long[] expected = tables.get(i - 1).changes(2);
            assertEquals(List.of(expected[0], expected[1], expected[2]), List.of(next.added(), next.changed(), next.removed()),
                    "sync " + i + ": " + next);
            String query = tables.get(i - 1).query();
            MirrorCheck check = MirrorCheck.forQuery(bq, query, "id");
            String topic = "scale.s" + i;
            MirrorCheck.Result r = check.compare(check.readBigQuery(bq, query), check.latestPerKey(ops.readAll(topic), 9));
            assertTrue(r.equal(), () -> "sync " + next.sync() + ": the latest value per key on " + topic
                    + " differs from the query result: " + r.summary());
            assertEquals("RUNNING", stack.deployer().status("source-scale-" + i).path("tasks").path(0).path("state").asText());
            expectedRows.put(i, check.readBigQuery(bq, query));
            checks.put(i, check);
            lines.add(String.format("s%d run %d +%d ~%d -%d (%.1f s after run %d)", i, next.run(), next.added(), next.changed(),
                    next.removed(), gap / 1000.0, next.run() - 1));
            late.add(gap - interval);
            lastRunEnd = Math.max(lastRunEnd, next.payload().path("finished_at_ms").asLong());
        }
        late.sort(null);
        log("%d syncs: every next run came from the 1-minute schedule and every topic equals its query result (%d rows each, "
                + "deletes as tombstones); last run ended %.1f s after the first change; start after the schedule's time: median %.1f s, "
                + "max %.1f s: %s", n, tables.get(0).rows(2).size(), (lastRunEnd - changedAt[0]) / 1000.0, late.get(late.size() / 2) / 1000.0,
                late.get(late.size() - 1) / 1000.0, lines.size() <= 12 ? lines : lines.subList(0, 12) + " …");

        long t1 = System.nanoTime();
        for (int i = 1; i <= n; i++) {
            String table = "scale_s" + i;
            MirrorCheck.Result r = checks.get(i).awaitMySqlEquals(stack::mysqlConnection, table, expectedRows.get(i), Duration.ofMinutes(3), null);
            assertTrue(r.equal(), () -> "MySQL " + table + " differs from the query result: " + r.summary());
        }
        log("%d syncs: one Debezium sink (topics.regex) applied every topic: all %d MySQL tables equal their query results %.1f s "
                + "after the last check of the topics", n, n, (System.nanoTime() - t1) / 1e9);
    }

    // ------------------------------------------------------------------ helpers

    FaultyBigQueryProxy proxy() throws IOException {
        FaultyBigQueryProxy p = new FaultyBigQueryProxy(stack.bqRestUrl());
        proxies.add(p);
        return p;
    }

    /** The parts of a job id {@code bq2k_<sync>_<run>_<step>_<instance>_<attempt>} (QueryJobs). */
    record JobName(long run, String step, String instance, long attempt) {
        private static final Pattern REST = Pattern.compile("(\\d+)_([a-z_]+)_([0-9a-z]+)_(\\d+)");

        /** Null when {@code id} is not a job id of {@code sync} of that form. */
        static JobName parse(String id, String sync) {
            String prefix = "bq2k_" + sync + "_";
            if (id == null || !id.startsWith(prefix)) {
                return null;
            }
            Matcher m = REST.matcher(id.substring(prefix.length()));
            return m.matches() ? new JobName(Long.parseLong(m.group(1)), m.group(2), m.group(3), Long.parseLong(m.group(4))) : null;
        }
    }

    static String instanceOf(String jobId, String sync) {
        JobName j = JobName.parse(jobId, sync);
        return j == null ? null : j.instance();
    }

    /** Every job id the emulator knows ({@code jobs.list}, straight to the emulator). */
    List<String> emulatorJobIds() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.bqRestUrl()
                + "/bigquery/v2/projects/demo/jobs?maxResults=1000000")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        List<String> ids = new ArrayList<>();
        for (JsonNode j : JSON.readTree(r.body()).path("jobs")) {
            ids.add(j.path("jobReference").path("jobId").asText());
        }
        return ids;
    }

    MemoryUsage heap() throws Exception {
        return MemoryUsage.from((CompositeData) jmx.getAttribute(new ObjectName("java.lang:type=Memory"), "HeapMemoryUsage"));
    }

    void gc() throws Exception {
        jmx.invoke(new ObjectName("java.lang:type=Memory"), "gc", null, null);
    }

    int threadCount() throws Exception {
        return (Integer) jmx.getAttribute(new ObjectName("java.lang:type=Threading"), "ThreadCount");
    }

    List<String> threadNames() throws Exception {
        ThreadMXBean t = ManagementFactory.newPlatformMXBeanProxy(jmx, ManagementFactory.THREAD_MXBEAN_NAME, ThreadMXBean.class);
        List<String> names = new ArrayList<>();
        for (ThreadInfo i : t.getThreadInfo(t.getAllThreadIds())) {
            if (i != null) {
                names.add(i.getThreadName());
            }
        }
        return names;
    }

    /** Live threads by name with numbers replaced by N (so "task-thread-source-scale-N-N", "bq2k-read-N"). */
    Map<String, Integer> threadGroups() throws Exception {
        Map<String, Integer> groups = new TreeMap<>();
        for (String name : threadNames()) {
            groups.merge(name.replaceAll("(?<![A-Za-z])\\d+", "N"), 1, Integer::sum);
        }
        return groups;
    }

    /** The MBean of the (first) sync whose name starts with {@code prefix}, or null. */
    ObjectName syncMBean(String prefix) throws Exception {
        Set<ObjectName> names = jmx.queryNames(new ObjectName("io.bq2k.connect:type=bigquery-source-sync,*"), null);
        for (ObjectName o : names) {
            if (ObjectName.unquote(o.getKeyProperty("sync")).startsWith(prefix)) {
                return o;
            }
        }
        return null;
    }

    static String readFrom(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.seek(offset);
            byte[] b = new byte[(int) (f.length() - offset)];
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    static String grep(String text, String needle) {
        return text.lines().filter(l -> l.contains(needle)).collect(Collectors.joining("\n"));
    }

    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss,SSS");

    /** Epoch ms of the first worker log line containing {@code needle} ({@code [ISO8601] …}), or -1. */
    static long logTime(String log, String needle) {
        for (String line : log.lines().toList()) {
            if (line.contains(needle) && line.startsWith("[") && line.indexOf(']') > 0) {
                try {
                    return LocalDateTime.parse(line.substring(1, line.indexOf(']')), LOG_TIME).atZone(ZoneId.systemDefault())
                            .toInstant().toEpochMilli();
                } catch (RuntimeException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    @FunctionalInterface
    interface Probe<T> {
        /** A value when the condition holds: non-null, and not {@code false}. */
        T get() throws Exception;
    }

    static <T> T await(Probe<T> probe, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T v = probe.get();
            if (v != null && !Boolean.FALSE.equals(v)) {
                return v;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }
}
