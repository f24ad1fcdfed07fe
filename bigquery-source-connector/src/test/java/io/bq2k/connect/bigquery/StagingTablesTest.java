package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

class StagingTablesTest {

    private static final DatasetRef DS = new DatasetRef("proj-1", "stage");

    @Test
    void tableNames() {
        StagingTables t = new StagingTables(DS, "users");
        assertEquals(new TableRef("proj-1", "stage", "users__snap_3"), t.snapshot(3));
        assertEquals(new TableRef("proj-1", "stage", "users__diff_3"), t.diff(3));
        assertEquals("`proj-1.stage.users__snap_3`", t.snapshot(3).quoted());
        assertEquals("users__", t.prefix());
    }

    @Test
    void runParsing() {
        StagingTables t = new StagingTables(DS, "users");
        assertEquals(OptionalLong.of(12), t.snapshotRun("users__snap_12"));
        assertEquals(OptionalLong.of(12), t.diffRun("users__diff_12"));
        assertEquals(OptionalLong.of(999_999_999_999_999_999L), t.snapshotRun("users__snap_999999999999999999"));
        assertEquals(OptionalLong.empty(), t.snapshotRun("users__diff_12"));
        assertEquals(OptionalLong.empty(), t.diffRun("users__snap_12"));
        assertEquals(OptionalLong.empty(), t.snapshotRun("users__snap_"));
        assertEquals(OptionalLong.empty(), t.snapshotRun("users__snap_1x"));
        assertEquals(OptionalLong.empty(), t.snapshotRun("users__snap_-1"));
        assertEquals(OptionalLong.empty(), t.snapshotRun("users__snap_1234567890123456789"));
        assertEquals(OptionalLong.empty(), t.snapshotRun("Users__snap_1"));
        assertEquals(OptionalLong.empty(), t.snapshotRun("x_users__snap_1"));
    }

    @Test
    void aDryRunsTablesAreNotTheSyncs() {
        StagingTables sync = new StagingTables(DS, "users");
        StagingTables dry = sync.dryRun("k3x9a0b2");
        assertEquals(new TableRef("proj-1", "stage", "users__plan_k3x9a0b2__snap_3"), dry.snapshot(3));
        assertEquals(new TableRef("proj-1", "stage", "users__plan_k3x9a0b2__diff_3"), dry.diff(3));
        org.junit.jupiter.api.Assertions.assertTrue(dry.snapshot(3).table().startsWith(sync.prefix()), "listed under the sync's prefix");
        assertEquals(OptionalLong.empty(), sync.snapshotRun(dry.snapshot(3).table()), "but never one of its snapshots");
        assertEquals(OptionalLong.empty(), sync.diffRun(dry.diff(3).table()), "nor of its diffs");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> sync.dryRun("a_1"));
    }

    @Test
    void otherSyncsWithACommonPrefixDoNotMatch() {
        StagingTables a = new StagingTables(DS, "a");
        assertEquals(OptionalLong.empty(), a.snapshotRun("a_b__snap_1"));
        assertEquals(OptionalLong.empty(), a.diffRun("a_b__diff_1"));
        // sync "a_" has tables "a___snap_1", which start with "a__", the prefix of sync "a"
        assertEquals(OptionalLong.empty(), a.snapshotRun("a___snap_1"));
        // sync "a__snap" has tables "a__snap__snap_1"
        assertEquals(OptionalLong.empty(), a.snapshotRun("a__snap__snap_1"));
        assertEquals(OptionalLong.empty(), a.snapshotRun("a__snap_1__snap_2"));
        StagingTables ab = new StagingTables(DS, "a_b");
        assertEquals(OptionalLong.of(1), ab.snapshotRun("a_b__snap_1"));
        assertEquals(OptionalLong.empty(), ab.snapshotRun("a__snap_1"));
        StagingTables u = new StagingTables(DS, "_");
        assertEquals(OptionalLong.of(4), u.snapshotRun("___snap_4"));
        assertEquals(OptionalLong.empty(), u.snapshotRun("a___snap_4"));
    }

    // ---- DatasetRef / TableRef ---------------------------------------------------------------

    @Test
    void datasetRefParsing() {
        assertEquals(new DatasetRef("def-proj", "ds_1"), DatasetRef.parse("ds_1", "def-proj"));
        assertEquals(new DatasetRef("other-proj", "ds_1"), DatasetRef.parse(" other-proj.ds_1 ", "def-proj"));
        assertNull(DatasetRef.parse(null, "def-proj"));
        assertNull(DatasetRef.parse("ds", null));
        assertNull(DatasetRef.parse("a.b.c", "def-proj"));
        assertNull(DatasetRef.parse("ds-1", "def-proj"));
        assertNull(DatasetRef.parse("", "def-proj"));
        assertNull(DatasetRef.parse("Bad_Proj.ds", "def-proj"));
        assertNull(DatasetRef.parse("ds`x", "def-proj"));
        assertEquals("`p-1.ds`", new DatasetRef("p-1", "ds").quoted());
        assertEquals("p-1.ds", new DatasetRef("p-1", "ds").toString());
        assertEquals(new TableRef("p-1", "ds", "t"), new DatasetRef("p-1", "ds").table("t"));
    }

    @Test
    void tableRefParsing() {
        assertEquals(new TableRef("def-proj", "ds", "t"), TableRef.parse("ds.t", "def-proj"));
        assertEquals(new TableRef("p-2", "ds", "t"), TableRef.parse("p-2.ds.t", "def-proj"));
        assertEquals(new TableRef("p-2", "ds", "t"), TableRef.parse("`p-2.ds.t`", "def-proj"));
        assertEquals(new TableRef("p-2", "ds", "t"), TableRef.parse("`p-2`.`ds`.`t`", "def-proj"));
        assertEquals(new TableRef("def-proj", "ds", "größe table-1"), TableRef.parse("ds.größe table-1", "def-proj"));
        assertNull(TableRef.parse(null, "def-proj"));
        assertNull(TableRef.parse("t", "def-proj"));
        assertNull(TableRef.parse("a.b.c.d", "def-proj"));
        assertNull(TableRef.parse("ds.", "def-proj"));
        assertNull(TableRef.parse("ds.t;DROP", "def-proj"));
        assertNull(TableRef.parse("ds.t*", "def-proj"));
        assertEquals("`p-2.ds.t`", new TableRef("p-2", "ds", "t").quoted());
        assertEquals("p-2.ds.t", new TableRef("p-2", "ds", "t").toString());
    }

    @Test
    void domainScopedProjects() {
        assertEquals(new DatasetRef("example.com:my-proj", "ds"), DatasetRef.parse("example.com:my-proj.ds", "def-proj"));
        assertEquals(new TableRef("example.com:my-proj", "ds", "t"), TableRef.parse("example.com:my-proj.ds.t", "def-proj"));
    }

    @Test
    void domainScopedDefaultProjectWorks() {
        assertEquals(new DatasetRef("example.com:my-proj", "ds"), DatasetRef.parse("ds", "example.com:my-proj"));
        assertEquals(new TableRef("example.com:my-proj", "ds", "t"), TableRef.parse("ds.t", "example.com:my-proj"));
    }
}
