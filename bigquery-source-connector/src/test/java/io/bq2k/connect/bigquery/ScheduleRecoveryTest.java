package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

/**
 * A task that starts again (restart, rebalance, config edit) waits for the schedule of the last completed run,
 * read from the run history's offset, and its freshness metrics survive the restart; it runs at once when
 * the last run is unfinished, or the query, the record contract or schedule.trigger changed. Simulated time.
 */
class ScheduleRecoveryTest {

    private static final long HOUR = 3_600_000L;

    /** A sync with a one-hour interval whose run 1 completed and was committed; the task is stopped. */
    private static RunSimulationTest.Sim synced() {
        RunSimulationTest.Sim sim = new RunSimulationTest.Sim(21, "users", SimConnect.newOffsetStore(), null, false);
        sim.connect.props.put(SyncConfig.SCHEDULE_INTERVAL_MS, Long.toString(HOUR));
        sim.source.insert(50, sim.random);
        RunSimulationTest.runToCompletion(sim, 1);
        sim.connect.stop();
        return sim;
    }

    /** Polls for the given simulated time (each poll sleeps at most a second while waiting); returns the runs started. */
    private static int runsStartedWithin(RunSimulationTest.Sim sim, long ms) {
        sim.connect.start();
        long until = sim.bq.clock.millis + ms;
        long started = sim.connect.metrics.getRunsStarted();
        while (sim.bq.clock.millis < until) {
            assertTrue(sim.connect.poll(), () -> "failed: " + sim.connect.failures);
            sim.connect.send(Integer.MAX_VALUE);
            sim.connect.ack(Integer.MAX_VALUE);
        }
        return (int) (sim.connect.metrics.getRunsStarted() - started);
    }

    @Test
    void aRestartedTaskWaitsForTheScheduleOfTheLastRunAndKeepsItsFreshness() {
        RunSimulationTest.Sim sim = synced();
        long ended = ((Struct) sim.connect.summaries.get(0).value()).getInt64("finished_at_ms");
        sim.bq.clock.millis += 10 * 60_000L; // ten minutes later the worker restarts
        assertEquals(0, runsStartedWithin(sim, 60_000), "no run one minute after the restart");
        assertEquals(ended, sim.connect.metrics.getLastSuccessTimeMs(), "the last success survives the restart");
        assertTrue(sim.connect.metrics.getSecondsSinceLastSuccess() >= 0);
        assertEquals(1, runsStartedWithin(sim, HOUR), "run 2 starts an hour after run 1 started");
    }

    @Test
    void aChangedQueryOrTriggerRunsAtOnceAnUnrelatedEditDoesNot() {
        RunSimulationTest.Sim sim = synced();
        sim.config(SyncConfig.READ_CHUNK_ROWS, "120");
        assertEquals(0, runsStartedWithin(sim, 60_000), "an unrelated edit waits for the schedule");
        sim.connect.stop();
        sim.config(SyncConfig.SCHEDULE_TRIGGER, "2026-11-29T21:00");
        assertEquals(1, runsStartedWithin(sim, 5_000), "a new trigger runs at once");
        sim.connect.stop();
        sim.config(SyncConfig.QUERY, "SELECT * FROM sim.src WHERE TRUE");
        assertEquals(1, runsStartedWithin(sim, 5_000), "a changed query runs at once");
    }

    @Test
    void anUnfinishedRunResumesAtOnce() {
        RunSimulationTest.Sim sim = synced();
        sim.mutate();
        sim.config(SyncConfig.SCHEDULE_TRIGGER, "now");
        sim.connect.start();
        RunSimulationTest.emitWithoutCommit(sim, 1);
        sim.connect.ack(Integer.MAX_VALUE);
        sim.connect.commitOffsets(); // an in-run offset of run 2
        sim.connect.crash();
        assertEquals(1, runsStartedWithin(sim, 5_000), "the interrupted run goes on at once");
    }

    @Test
    void aRunThatFailedStaysDueAfterTheRestart() {
        RunSimulationTest.Sim sim = synced();
        sim.bq.clock.millis += 2 * HOUR; // run 2 is due
        sim.source.duplicateKey = true;
        sim.connect.start();
        for (int i = 0; i < 50 && sim.connect.failures.isEmpty(); i++) {
            sim.connect.poll();
        }
        assertTrue(sim.connect.failures.get(0).contains("occur more than once"), sim.connect.failures::toString);
        sim.source.duplicateKey = false; // the query is fixed upstream; the operator restarts the failed task
        assertEquals(1, runsStartedWithin(sim, 5_000), "the due run starts at once");
    }

    @Test
    void aConfirmedHeldRunStartsAtOnce() {
        RunSimulationTest.Sim sim = synced();
        sim.config(SyncConfig.MASS_DELETE_ALLOW_RUN, "2"); // confirms run 2, after the last completed run 1
        assertEquals(1, runsStartedWithin(sim, 5_000), "the confirmed run starts at once");
    }
}
