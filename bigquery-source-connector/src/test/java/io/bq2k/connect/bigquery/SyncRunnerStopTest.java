package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.junit.jupiter.api.Test;

/**
 * A step that waits for BigQuery (a job that hangs, a frozen endpoint) neither blocks {@code poll()} nor
 * {@code stop()}, and a stopped runner sends no further statement. Real threads; the model of BigQuery
 * is the simulation's, with its snapshot step blocked until the test releases it.
 */
class SyncRunnerStopTest {

    /** Steps that write to BigQuery or run a job. */
    private static final Set<String> STATEMENTS = Set.of("snapshot", "emptySnapshotLike", "checkKeys", "diff", "stats", "makeDurable", "drop",
        "markAbandoned", "ensureStagingDataset");

    @Test
    void pollReturnsWhileAJobHangsAndStopCancelsItAndSendsNothingMore() throws Exception {
        SimBigQuery bq = new SimBigQuery(1);
        bq.source("src").insert(50, new Random(1));
        Map<String, String> props = new HashMap<>(Map.of("name", "users", SyncConfig.PROJECT, "sim", SyncConfig.QUERY, "SELECT * FROM sim.src",
            SyncConfig.KEY_COLUMNS, "id", SyncConfig.TOPIC, "t1", SyncConfig.STAGING_DATASET, "stage"));
        SyncConfig config = new SyncConfig(BigQuerySourceConnector.withSyncName(props));
        RunSteps model = bq.steps(config, "src");
        CountDownLatch hang = new CountDownLatch(1);
        CountDownLatch snapshotEntered = new CountDownLatch(1);
        AtomicBoolean stopped = new AtomicBoolean();
        AtomicBoolean cancelled = new AtomicBoolean();
        List<String> statementsAfterStop = new CopyOnWriteArrayList<>();
        RunSteps steps = (RunSteps) Proxy.newProxyInstance(RunSteps.class.getClassLoader(), new Class<?>[] {RunSteps.class}, (p, m, args) -> {
            if (stopped.get() && STATEMENTS.contains(m.getName())) {
                statementsAfterStop.add(m.getName());
            }
            if (m.getName().equals("cancelRunningJobs")) {
                cancelled.set(true);
                return null;
            }
            if (m.getName().equals("snapshot")) {
                snapshotEntered.countDown();
                hang.await(); // the job hangs
            }
            try {
                return m.invoke(model, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
        ExecutorService threads = Executors.newCachedThreadPool();
        SyncRunner runner = new SyncRunner(config, steps, new NoOffsets(), null, Clock.systemUTC(), Thread::sleep, threads, threads,
            new SyncMetrics("stop-test-" + System.nanoTime()), null);
        try {
            for (int poll = 0; poll < 3; poll++) {
                long start = System.nanoTime();
                assertNull(runner.poll());
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertTrue(ms < 2_000, "poll " + poll + " took " + ms + " ms");
            }
            assertTrue(snapshotEntered.await(5, TimeUnit.SECONDS), "the snapshot step started");
            long start = System.nanoTime();
            runner.close();
            stopped.set(true);
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < 2_000, "stop took " + ms + " ms");
            assertTrue(cancelled.get(), "the running job was cancelled");
        } finally {
            hang.countDown(); // the job ends after the stop
            threads.shutdown();
            assertTrue(threads.awaitTermination(10, TimeUnit.SECONDS));
        }
        assertEquals(List.of(), statementsAfterStop, "no statement after the stop");
    }

    private static final class NoOffsets implements OffsetStorageReader {
        @Override
        public <T> Map<String, Object> offset(Map<String, T> partition) {
            return null;
        }

        @Override
        public <T> Map<Map<String, T>, Map<String, Object>> offsets(Collection<Map<String, T>> partitions) {
            return Map.of();
        }
    }
}
