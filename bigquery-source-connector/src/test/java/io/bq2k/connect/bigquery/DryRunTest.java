package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

/**
 * The dry run ("plan") against the simulation's in-memory BigQuery, after a real sync run: the counts and sample keys
 * of the run the task would make, the guard's verdict and failures in the task's own words, and no table left.
 */
class DryRunTest {

    /** A synced sync (run 1 complete, 100 rows), then upstream: ids 7, 17, 27 updated, 9 and 19 deleted, 101..104 inserted. */
    private static RunSimulationTest.Sim syncedThenChanged() {
        RunSimulationTest.Sim sim = RunSimulationTest.synced(11, 100);
        sim.upstream("demo-like changes", () -> {
            for (long id : new long[] {7, 17, 27}) {
                sim.source.put(id, sim.random, 1);
            }
            sim.source.rows.remove(9L);
            sim.source.rows.remove(19L);
            sim.source.insert(4, sim.random);
        });
        return sim;
    }

    private static SyncConfig config(RunSimulationTest.Sim sim) {
        return new SyncConfig(BigQuerySourceConnector.withSyncName(sim.connect.props));
    }

    private static DryRunReport dryRun(RunSimulationTest.Sim sim, Map<String, Object> offset) {
        SyncConfig config = config(sim);
        return new DryRun(config, sim.bq.steps(config, "users"), sim.bq.dryRunSteps(config, "users", DryRun.newMarker()), 2, ms -> { })
            .run(SyncOffset.fromMap(offset));
    }

    @Test
    void countsSampleKeysAndGuardOfTheNextRunAndNothingStays() {
        RunSimulationTest.Sim sim = syncedThenChanged();
        Set<String> before = new TreeSet<>(sim.bq.tables.keySet());

        DryRunReport report = dryRun(sim, sim.connect.committed());

        assertEquals("EMITS", report.outcome(), report.text());
        assertEquals(2, report.run());
        assertEquals("incremental", report.mode());
        assertEquals(102, report.rows());
        assertEquals(4, report.added());
        assertEquals(3, report.changed());
        assertEquals(2, report.removed());
        assertEquals(2, report.samples().get("add").size(), "at most the asked-for samples");
        assertTrue(Set.of("{\"id\":101}", "{\"id\":102}", "{\"id\":103}", "{\"id\":104}").containsAll(report.samples().get("add")), report.text());
        assertTrue(Set.of("{\"id\":7}", "{\"id\":17}", "{\"id\":27}").containsAll(report.samples().get("change")), report.text());
        assertEquals(Set.of("{\"id\":9}", "{\"id\":19}"), Set.copyOf(report.samples().get("remove")));
        assertFalse(report.held());
        assertTrue(report.guard().startsWith("passes: removes 2 of 100 rows (2.0%)"), report.guard());
        assertNull(report.failure());
        assertEquals(2, report.tables().size(), "a snapshot and a diff: " + report.tables());
        report.tables().forEach((t, what) -> {
            assertTrue(t.contains("__plan_"), t);
            assertEquals("dropped", what);
        });
        assertEquals(before, new TreeSet<>(sim.bq.tables.keySet()), "nothing of the dry run stays");

        // The task's next run is exactly the one planned.
        RunSimulationTest.runToCompletion(sim, 1);
        Struct summary = (Struct) sim.connect.summaries.get(sim.connect.summaries.size() - 1).value();
        assertEquals(2L, summary.getInt64("run"));
        assertEquals(List.of(4L, 3L, 2L), List.of(summary.getInt64("added"), summary.getInt64("changed"), summary.getInt64("removed")));
        RunSimulationTest.quiesceAndCheck(sim);
    }

    @Test
    void aHeldMassDeleteIsReportedWithTheTasksOwnMessage() {
        RunSimulationTest.Sim sim = RunSimulationTest.synced(12, 100);
        sim.upstream("most rows deleted", () -> {
            sim.source.rows.headMap(81L).clear();
            sim.source.version++;
        });
        DryRunReport report = dryRun(sim, sim.connect.committed());
        assertEquals("HELD", report.outcome(), report.text());
        assertEquals(80, report.removed());
        assertTrue(report.guard().startsWith("holds the run: removes 80 of 100 rows (80.0%)"), report.guard());
        assertTrue(report.nothingLeft());

        sim.connect.start();
        while (sim.connect.poll()) {
            sim.connect.send(Integer.MAX_VALUE);
        }
        assertEquals(sim.connect.failures.get(sim.connect.failures.size() - 1), report.failure(), "the same words as the task");
    }

    @Test
    void duplicateKeysFailTheDryRunAsTheTaskAndNothingStays() {
        RunSimulationTest.Sim sim = syncedThenChanged();
        sim.upstream("duplicate key", () -> sim.source.duplicateKey = true);
        Set<String> before = new TreeSet<>(sim.bq.tables.keySet());
        DryRunReport report = dryRun(sim, sim.connect.committed());
        assertEquals("FAILS", report.outcome(), report.text());
        assertEquals(-1, report.added(), "no diff after a failed key check");
        assertEquals(1, report.tables().size(), "the snapshot only: " + report.tables());
        assertEquals(before, new TreeSet<>(sim.bq.tables.keySet()));

        sim.connect.start();
        while (sim.connect.poll()) {
            sim.connect.send(Integer.MAX_VALUE);
        }
        assertEquals(sim.connect.failures.get(sim.connect.failures.size() - 1), report.failure());
    }

    @Test
    void withoutAnOffsetItPlansWhatTheTaskDoesAfterAReset() {
        RunSimulationTest.Sim sim = syncedThenChanged();
        DryRunReport report = dryRun(sim, null);
        assertEquals("resync", report.mode(), report.text());
        assertEquals(2, report.run());
        assertEquals(102, report.added() + report.changed(), "every current row again");
        assertEquals(2, report.removed(), "keys gone since the retained snapshot are tombstoned");
        assertTrue(report.nothingLeft());
    }

    @Test
    void theSyncsPlannerDoesNotSeeADryRunsTables() {
        RunSimulationTest.Sim sim = syncedThenChanged();
        SyncConfig config = config(sim);
        RunSteps syncSteps = sim.bq.steps(config, "users");
        RunSteps scratch = sim.bq.dryRunSteps(config, "users", "abc123");
        List<StagedTable> listed = syncSteps.stagedTables();
        scratch.snapshot(2);
        assertTrue(sim.bq.tables.containsKey("users__plan_abc123__snap_2"), sim.bq.tables.keySet().toString());
        assertEquals(listed, syncSteps.stagedTables(), "the sync lists only its own tables while a dry run's exist");
        assertTrue(scratch.staging().prefix().startsWith(syncSteps.staging().prefix()), "an operator sees whose they are");
    }
}
