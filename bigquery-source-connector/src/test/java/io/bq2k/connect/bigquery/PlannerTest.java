package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The plan table of docs/design.md, row by row: situation → plan. */
class PlannerTest {

    static final StagingTables STAGING = new StagingTables(new DatasetRef("p", "stage"), "s");
    static final RecordContract CONTRACT = new RecordContract("t", List.of("id"), SyncConfig.TemporalPrecision.MICROS, SyncConfig.JsonColumns.TEXT);
    static final Planner PLANNER = new Planner("s", STAGING, "me", CONTRACT, true);

    /** Tables in creation order: "snap:3", "diff:3", "diff:4!" (abandoned), "snap:2@other" (another owner), "snap:5=0" (no rows). */
    static List<StagedTable> tables(String... specs) {
        List<StagedTable> out = new ArrayList<>();
        long created = 100;
        for (String spec : specs) {
            String owner = spec.contains("@") ? spec.substring(spec.indexOf('@') + 1) : "me";
            String s = spec.contains("@") ? spec.substring(0, spec.indexOf('@')) : spec;
            boolean abandoned = s.endsWith("!");
            s = s.replace("!", "");
            long rows = s.contains("=") ? Long.parseLong(s.substring(s.indexOf('=') + 1)) : 10;
            s = s.contains("=") ? s.substring(0, s.indexOf('=')) : s;
            long run = Long.parseLong(s.substring(s.indexOf(':') + 1));
            boolean snap = s.startsWith("snap");
            out.add(new StagedTable(snap ? STAGING.snapshot(run) : STAGING.diff(run), snap ? StagedTable.Kind.SNAPSHOT : StagedTable.Kind.DIFF,
                run, owner, snap ? rows : 0, List.of("id"), null, abandoned, created++));
        }
        return out;
    }

    static SyncOffset done(long run) {
        return SyncOffset.completed(run, CONTRACT, -1);
    }

    @Test
    void nothingCommittedNothingStagedIsAnInitialRunOne() {
        Plan p = PLANNER.plan(null, List.of());
        assertEquals(new Plan.Initial(1, List.of(), List.of("id")), p);
        assertEquals("initial", p.mode());
    }

    @Test
    void offsetsResetReexaminesEveryStagedTableUnderANewRunId() {
        Plan p = PLANNER.plan(null, tables("snap:3", "diff:3", "snap:4", "diff:4"));
        assertEquals(new Plan.Initial(5, List.of(STAGING.snapshot(3), STAGING.diff(3), STAGING.snapshot(4), STAGING.diff(4)), List.of("id")), p);
        assertEquals("resync", p.mode());
    }

    @Test
    void doneWithNoLaterAttemptIsIncremental() {
        assertEquals(new Plan.Incremental(4, 3, List.of("id")), PLANNER.plan(done(3), tables("snap:2", "diff:3", "snap:3")));
    }

    @Test
    void doneWithALaterAttemptsDiffIsARetakeReexaminingIt() {
        Plan p = PLANNER.plan(done(3), tables("diff:3", "snap:3", "snap:4", "diff:4"));
        assertEquals(new Plan.Retake(4, 3, List.of(STAGING.diff(4)), List.of("id")), p);
    }

    @Test
    void diffsOlderThanTheBasesOwnDiffWereSettledByTheBase() {
        // diff:5 existed before run 3's diff was created (an offset rewind): run 3 re-examined it already.
        Plan p = PLANNER.plan(done(3), tables("diff:5", "snap:3", "diff:3", "diff:4"));
        assertEquals(new Plan.Retake(4, 3, List.of(STAGING.diff(4)), List.of("id")), p);
    }

    @Test
    void anEmptyBaseHasNoFingerprintsToCompare() {
        assertEquals(new Plan.Initial(4, List.of(), List.of("id")), PLANNER.plan(done(3), tables("diff:3", "snap:3=0")));
    }

    @Test
    void theRunAfterAReKeyWaitsForTheSink() {
        SyncOffset rekeyed = SyncOffset.completed(3, new RecordContract("t", List.of("old_id"), SyncConfig.TemporalPrecision.MICROS,
            SyncConfig.JsonColumns.TEXT), -1);
        assertEquals(new Plan.Initial(4, List.of(), List.of("id"), 3), PLANNER.plan(rekeyed, tables("diff:3", "snap:3=0")));
    }

    @Test
    void aChangedContractResyncsReexaminingTheBase() {
        SyncOffset other = SyncOffset.completed(3, new RecordContract("old-topic", List.of("id"), SyncConfig.TemporalPrecision.MICROS,
            SyncConfig.JsonColumns.TEXT), -1);
        Plan p = PLANNER.plan(other, tables("diff:3", "snap:3"));
        assertInstanceOf(Plan.Resync.class, p);
        assertEquals(List.of(STAGING.snapshot(3)), ((Plan.Resync) p).reexamine());
        assertEquals(4, p.run());
    }

    @Test
    void aLostBaselineFailsNamingTheTable() {
        RunFailure f = assertThrows(RunFailure.class, () -> PLANNER.plan(done(3), tables("diff:3", "snap:2")));
        assertTrue(f.getMessage().contains("the snapshot of baseline run 3 (`p.stage.s__snap_3`) is gone"), f.getMessage());
        assertTrue(f.getMessage().contains("time travel") && f.getMessage().contains("re-seed"), f.getMessage());
    }

    @Test
    void inRunWithItsTablesResumes() {
        List<StagedTable> staged = tables("snap:3", "diff:3", "snap:4", "diff:4");
        SyncOffset at = SyncOffset.inRun(4, 2, 17, 3, CONTRACT, staged.get(3).created());
        assertEquals(new Plan.Resume(4, 3, 2, 17, List.of("id")), PLANNER.plan(at, staged));
    }

    @Test
    void inRunIsRetakenNotResumedWhenATransformationMayDropRecords() {
        List<StagedTable> staged = tables("snap:3", "diff:3", "snap:4", "diff:4");
        SyncOffset at = SyncOffset.inRun(4, 2, 17, 3, CONTRACT, staged.get(3).created());
        assertEquals(new Plan.Retake(5, 3, List.of(STAGING.diff(4)), List.of("id")),
            new Planner("s", STAGING, "me", CONTRACT, false).plan(at, staged));
    }

    @Test
    void theBaseDiffVersionInTheSummaryDecidesWhatIsSettled() {
        // diff:4 was created before the base's diff (an offset rewind), but diff:3 was restored since (a new creation time):
        // the summary's recorded version of diff 3 says diff 4 is newer, so it is re-examined.
        List<StagedTable> staged = tables("snap:3", "diff:4", "diff:3");
        assertEquals(new Plan.Retake(4, 3, List.of(STAGING.diff(4)), List.of("id")),
            PLANNER.plan(SyncOffset.completed(3, CONTRACT, 50), staged));
    }

    @Test
    void inRunWhoseDiffWasRecreatedIsRetakenUnderANewId() {
        List<StagedTable> staged = tables("snap:3", "diff:3", "snap:4", "diff:4");
        SyncOffset at = SyncOffset.inRun(4, 2, 17, 3, CONTRACT, 1);
        assertEquals(new Plan.Retake(5, 3, List.of(STAGING.diff(4)), List.of("id")), PLANNER.plan(at, staged));
    }

    @Test
    void inRunWhoseDiffIsMarkedAbandonedIsRetakenUnderANewId() {
        List<StagedTable> staged = tables("snap:3", "diff:3", "snap:4", "diff:4!");
        SyncOffset at = SyncOffset.inRun(4, 2, 17, 3, CONTRACT, staged.get(3).created());
        assertEquals(new Plan.Retake(5, 3, List.of(STAGING.diff(4)), List.of("id")), PLANNER.plan(at, staged));
    }

    @Test
    void inRunWithoutItsDiffFails() {
        RunFailure f = assertThrows(RunFailure.class, () -> PLANNER.plan(SyncOffset.inRun(4, 0, 3, 3, CONTRACT, 7), tables("snap:3", "snap:4")));
        assertTrue(f.getMessage().contains("run 4 was being emitted") && f.getMessage().contains("`p.stage.s__diff_4` is gone"), f.getMessage());
    }

    @Test
    void abandonedRetakesUnderTheSameId() {
        Plan p = PLANNER.plan(SyncOffset.abandoned(4, 3, CONTRACT), tables("snap:3", "diff:3", "snap:4", "diff:4"));
        assertEquals(new Plan.Retake(4, 3, List.of(STAGING.diff(4)), List.of("id")), p);
        assertThrows(RunFailure.class, () -> PLANNER.plan(SyncOffset.abandoned(4, 3, CONTRACT), tables("snap:3", "snap:4")));
    }

    @Test
    void tablesOwnedByAnotherConnectorAreRefused() {
        RunFailure f = assertThrows(RunFailure.class, () -> PLANNER.plan(null, tables("snap:1@someone")));
        assertTrue(f.getMessage().contains("is owned by another connector") && f.getMessage().contains("sync.name"), f.getMessage());
    }
}
