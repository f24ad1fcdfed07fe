package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.StandardSQLTypeName;

import io.bq2k.connect.bigquery.SyncConfig.TemporalPrecision;
import io.bq2k.connect.bigquery.SyncSql.OldSide;

class SyncSqlTest {

    private static final StagingTables STAGING = new StagingTables(new DatasetRef("proj-1", "stage"), "users");
    private static final String OPTIONS = "OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 24 HOUR))";

    private static SyncSql sql(String... keys) {
        return new SyncSql(STAGING, List.of(keys), 24);
    }

    private static ColumnMapping col(String name, StandardSQLTypeName type, boolean key) {
        return ColumnMapping.of(Field.newBuilder(name, type).build(), key, new ColumnMapping.Style(TemporalPrecision.MICROS, SyncConfig.JsonColumns.TEXT));
    }

    private static ColumnMapping repeated(String name, StandardSQLTypeName type) {
        return ColumnMapping.of(Field.newBuilder(name, type).setMode(Field.Mode.REPEATED).build(), false, new ColumnMapping.Style(TemporalPrecision.MICROS, SyncConfig.JsonColumns.TEXT));
    }

    // ---- snapshot ------------------------------------------------------------------------------

    @Test
    void snapshotEmbedsTheQueryAsSubquery() {
        String expected = "CREATE OR REPLACE TABLE `proj-1.stage.users__snap_7`\n"
            + OPTIONS + "\n"
            + "AS SELECT _bq2k_row.*, MD5(TO_JSON_STRING(_bq2k_row)) AS _bq2k_fp\n"
            + "FROM (\n"
            + "SELECT id, name FROM src.users\n"
            + ") AS _bq2k_row";
        assertEquals(expected, sql("id").snapshot(7, "SELECT id, name FROM src.users"));
    }

    @Test
    void snapshotStripsTrailingSemicolonsAndWhitespace() {
        String plain = sql("id").snapshot(7, "SELECT 1 AS id");
        assertEquals(plain, sql("id").snapshot(7, "  SELECT 1 AS id;"));
        assertEquals(plain, sql("id").snapshot(7, "SELECT 1 AS id ;; ;\n\t"));
        assertEquals(plain, sql("id").snapshot(7, "\nSELECT 1 AS id\n;\n"));
        assertFalse(plain.contains(";"));
    }

    @Test
    void stripTrailingSemicolonsKeepsInnerOnes() {
        assertEquals("SELECT ';' AS x", SyncSql.stripTrailingSemicolons("SELECT ';' AS x;"));
        assertEquals("SELECT 1", SyncSql.stripTrailingSemicolons("SELECT 1"));
        assertEquals("", SyncSql.stripTrailingSemicolons(" ; ; "));
    }

    @Test
    void snapshotEndsLineCommentsBeforeClosingParenthesis() {
        String s = sql("id").snapshot(1, "SELECT 1 AS id -- trailing comment");
        assertTrue(s.contains("SELECT 1 AS id -- trailing comment\n) AS _bq2k_row"), s);
    }

    @Test
    void expirationHoursComeFromTheConstructor() {
        assertTrue(new SyncSql(STAGING, List.of("id"), 168).snapshot(1, "SELECT 1").contains("INTERVAL 168 HOUR"));
    }

    // ---- key check ----------------------------------------------------------------------------

    @Test
    void keyCheckSingleKey() {
        String expected = "SELECT\n"
            + "  SUM(_bq2k_n) AS row_count,\n"
            + "  COUNTIF(_bq2k_null) AS null_keys,\n"
            + "  COUNTIF(NOT _bq2k_null AND _bq2k_n > 1) AS duplicate_keys,\n"
            + "  MIN(IF(_bq2k_null, _bq2k_key, NULL)) AS null_example,\n"
            + "  MIN(IF(NOT _bq2k_null AND _bq2k_n > 1, _bq2k_key, NULL)) AS duplicate_example\n"
            + "FROM (\n"
            + "  SELECT TO_JSON_STRING(STRUCT(`id` AS `id`)) AS _bq2k_key, COUNT(*) AS _bq2k_n, LOGICAL_OR(`id` IS NULL) AS _bq2k_null\n"
            + "  FROM `proj-1.stage.users__snap_7`\n"
            + "  GROUP BY 1\n"
            + ")";
        assertEquals(expected, sql("id").keyCheck(7));
    }

    @Test
    void keyCheckCompositeKeyWithNamesThatNeedQuoting() {
        String s = sql("select", "größe").keyCheck(3);
        assertTrue(s.contains("TO_JSON_STRING(STRUCT(`select` AS `select`, `größe` AS `größe`)) AS _bq2k_key"), s);
        assertTrue(s.contains("LOGICAL_OR(`select` IS NULL OR `größe` IS NULL) AS _bq2k_null"), s);
        assertTrue(s.contains("FROM `proj-1.stage.users__snap_3`"), s);
    }

    // ---- diff ---------------------------------------------------------------------------------

    private static final List<ColumnMapping> COLUMNS = List.of(
        col("id", StandardSQLTypeName.INT64, true),
        col("name", StandardSQLTypeName.STRING, false),
        col("payload", StandardSQLTypeName.JSON, false));

    private static final String DIFF_HEAD = "CREATE OR REPLACE TABLE `proj-1.stage.users__diff_7`\n"
        + "CLUSTER BY _bq2k_bucket, _bq2k_seq\n"
        + OPTIONS + "\n"
        + "AS SELECT _bq2k_change._bq2k_bucket, _bq2k_change._bq2k_seq, _bq2k_change._bq2k_op,\n"
        + "  IF(n._bq2k_fp IS NULL, 0, BYTE_LENGTH(TO_JSON_STRING(n))) AS _bq2k_bytes,\n"
        + "  _bq2k_change.`id` AS `id`,\n"
        + "  n.`name` AS `name`,\n"
        + "  IF(n.`payload` IS NULL, NULL, TO_JSON_STRING(n.`payload`)) AS `payload`\n"
        + "FROM (\n"
        + "  SELECT _bq2k_bucket, ROW_NUMBER() OVER (PARTITION BY _bq2k_bucket ORDER BY _bq2k_op, `id`) AS _bq2k_seq, _bq2k_op, `id`\n"
        + "  FROM (\n"
        + "    SELECT\n"
        + "      MOD(CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(TO_JSON_STRING(STRUCT(COALESCE(n.`id`, o.`id`) AS `id`)))), 1, 7)) AS INT64), 16) AS _bq2k_bucket,\n"
        + "      CASE WHEN n._bq2k_fp IS NULL THEN 'D' WHEN o._bq2k_present IS NULL THEN 'C' ELSE 'U' END AS _bq2k_op,\n"
        + "      COALESCE(n.`id`, o.`id`) AS `id`\n"
        + "    FROM `proj-1.stage.users__snap_7` AS n\n"
        + "    FULL OUTER JOIN (\n";
    private static final String DIFF_TAIL = "\n    ) AS o\n"
        + "    ON n.`id` = o.`id`\n"
        + "    WHERE o._bq2k_present IS NULL OR n._bq2k_fp IS NULL OR o._bq2k_fp IS NULL OR n._bq2k_fp != o._bq2k_fp\n"
        + "  )\n"
        + ") AS _bq2k_change\n"
        + "LEFT JOIN `proj-1.stage.users__snap_7` AS n\n"
        + "ON n.`id` = _bq2k_change.`id`";

    @Test
    void diffAgainstBaseline() {
        String expected = DIFF_HEAD
            + "    SELECT `id`, _bq2k_fp AS _bq2k_fp, TRUE AS _bq2k_present FROM `proj-1.stage.users__snap_6`"
            + DIFF_TAIL;
        assertEquals(expected, sql("id").diff(7, OldSide.incremental(6), COLUMNS, 16));
    }

    @Test
    void diffResyncWithoutRetainedSnapshotsHasAnEmptyOldSide() {
        String expected = DIFF_HEAD
            + "    SELECT `id`, CAST(NULL AS BYTES) AS _bq2k_fp, TRUE AS _bq2k_present FROM `proj-1.stage.users__snap_7` WHERE FALSE"
            + DIFF_TAIL;
        assertEquals(expected, sql("id").diff(7, new OldSide(OptionalLong.empty(), List.of()), COLUMNS, 16));
    }

    @Test
    void diffReexaminingEarlierTablesForcesTheirKeysAndIsDurable() {
        String expected = DIFF_HEAD.replace(OPTIONS + "\n", "")
            + "    SELECT `id`, IF(LOGICAL_OR(_bq2k_reexamine), NULL, MAX(_bq2k_fp)) AS _bq2k_fp, TRUE AS _bq2k_present FROM (\n"
            + "    SELECT `id`, _bq2k_fp, FALSE AS _bq2k_reexamine FROM `proj-1.stage.users__snap_6`\n"
            + "    UNION ALL\n"
            + "    SELECT `id`, CAST(NULL AS BYTES) AS _bq2k_fp, TRUE AS _bq2k_reexamine FROM `proj-1.stage.users__diff_7`\n"
            + "    )\n"
            + "    GROUP BY `id`"
            + DIFF_TAIL;
        assertEquals(expected, sql("id").diff(7, new OldSide(OptionalLong.of(6), List.of(STAGING.diff(7))), COLUMNS, 16));
    }

    @Test
    void aDryRunsDiffWritesItsOwnTablesComparesWithTheSyncsAndIsNeverDurable() {
        StagingTables scratch = STAGING.dryRun("abc123");
        SyncSql dry = SyncSql.dryRun(scratch, STAGING, List.of("id"), 24);
        String incremental = dry.diff(7, OldSide.incremental(6), COLUMNS, 16);
        assertEquals(sql("id").diff(7, OldSide.incremental(6), COLUMNS, 16)
            .replace("`proj-1.stage.users__snap_7`", "`proj-1.stage.users__plan_abc123__snap_7`")
            .replace("`proj-1.stage.users__diff_7`", "`proj-1.stage.users__plan_abc123__diff_7`"), incremental);
        assertTrue(incremental.contains("FROM `proj-1.stage.users__snap_6`"), "the sync's baseline: " + incremental);
        String retake = dry.diff(7, new OldSide(OptionalLong.of(6), List.of(STAGING.diff(7))), COLUMNS, 16);
        assertTrue(retake.startsWith("CREATE OR REPLACE TABLE `proj-1.stage.users__plan_abc123__diff_7`\nCLUSTER BY _bq2k_bucket, _bq2k_seq\n"
            + OPTIONS + "\n"), "keeps the safety-net expiration: " + retake);
        assertTrue(retake.contains("FROM `proj-1.stage.users__snap_6`\n    UNION ALL\n    SELECT `id`, CAST(NULL AS BYTES) AS _bq2k_fp, "
            + "TRUE AS _bq2k_reexamine FROM `proj-1.stage.users__diff_7`"), "re-examines the sync's tables: " + retake);
        assertEquals(sql("id").snapshot(7, "SELECT 1 AS id").replace("users__snap_7", "users__plan_abc123__snap_7"), dry.snapshot(7, "SELECT 1 AS id"));
        assertEquals(sql("id").keyCheck(7).replace("users__snap_7", "users__plan_abc123__snap_7"), dry.keyCheck(7));
        assertEquals(sql("id").emptySnapshotLike(7, STAGING.diff(6)).replace("users__snap_7", "users__plan_abc123__snap_7"),
            dry.emptySnapshotLike(7, STAGING.diff(6)));
    }

    @Test
    void sampleKeysAreTheFirstChangesOfEachOperation() {
        assertEquals("SELECT _bq2k_op AS op, key FROM (\n"
            + "  SELECT _bq2k_op, TO_JSON_STRING(STRUCT(`a` AS `a`, `b` AS `b`)) AS key,\n"
            + "    ROW_NUMBER() OVER (PARTITION BY _bq2k_op ORDER BY _bq2k_bucket, _bq2k_seq) AS _bq2k_n\n"
            + "  FROM `proj-1.stage.users__diff_7`\n"
            + ")\n"
            + "WHERE _bq2k_n <= 5\n"
            + "ORDER BY op, _bq2k_n", sql("a", "b").sampleKeys(7, 5));
    }

    @Test
    void diffResyncWithoutBaselineReexaminesEveryListedTable() {
        String s = sql("id").diff(7, new OldSide(OptionalLong.empty(), List.of(STAGING.snapshot(5), STAGING.diff(6))), COLUMNS, 16);
        assertTrue(s.contains("    SELECT `id`, CAST(NULL AS BYTES) AS _bq2k_fp, TRUE AS _bq2k_reexamine FROM `proj-1.stage.users__snap_5`\n"
            + "    UNION ALL\n"
            + "    SELECT `id`, CAST(NULL AS BYTES) AS _bq2k_fp, TRUE AS _bq2k_reexamine FROM `proj-1.stage.users__diff_6`\n"), s);
        assertFalse(s.contains("FALSE AS _bq2k_reexamine"), s);
    }

    @Test
    void reexaminedDiffsGiveBigNumericKeysBackTheirType() {
        List<ColumnMapping> cols = List.of(col("amount", StandardSQLTypeName.BIGNUMERIC, true), col("name", StandardSQLTypeName.STRING, false));
        String s = sql("amount").diff(7, new OldSide(OptionalLong.of(6), List.of(STAGING.diff(7))), cols, 16);
        assertTrue(s.contains("SELECT CAST(`amount` AS BIGNUMERIC) AS `amount`, CAST(NULL AS BYTES) AS _bq2k_fp, TRUE AS _bq2k_reexamine FROM `proj-1.stage.users__diff_7`"), s);
        assertTrue(s.contains("SELECT `amount`, _bq2k_fp, FALSE AS _bq2k_reexamine FROM `proj-1.stage.users__snap_6`"), s);
    }

    @Test
    void aReKeyDiffJoinsOnTheOldKey() {
        String s = sql("id", "grp").forKeys(List.of("id")).diff(7, new OldSide(OptionalLong.empty(), List.of(STAGING.snapshot(6))), COLUMNS, 16);
        assertTrue(s.contains("ON n.`id` = o.`id`\n"), s);
        assertFalse(s.contains("grp"), s);
    }

    @Test
    void makeDurableRemovesTheExpiration() {
        assertEquals("ALTER TABLE `proj-1.stage.users__diff_7` SET OPTIONS (expiration_timestamp = NULL)", SyncSql.makeDurable(STAGING.diff(7)));
    }

    @Test
    void emptySnapshotKeepsTheOldColumns() {
        assertEquals("CREATE OR REPLACE TABLE `proj-1.stage.users__snap_8`\n" + OPTIONS + "\nAS SELECT * FROM `proj-1.stage.users__snap_7` WHERE FALSE",
            sql("id").emptySnapshotLike(8, STAGING.snapshot(7)));
        assertTrue(sql("id").emptySnapshotLike(8, STAGING.diff(7)).contains("SELECT * EXCEPT (_bq2k_bucket, _bq2k_seq, _bq2k_op, _bq2k_bytes), CAST(NULL AS BYTES) AS _bq2k_fp FROM `proj-1.stage.users__diff_7` WHERE FALSE"));
    }

    @Test
    void diffOldSideReadsOnlyKeyAndFingerprint() {
        String s = sql("id").diff(7, OldSide.incremental(6), COLUMNS, 16);
        String oldSide = s.substring(s.indexOf("FULL OUTER JOIN"), s.indexOf(") AS o"));
        assertFalse(oldSide.contains("name"), oldSide);
        assertFalse(oldSide.contains("payload"), oldSide);
        assertFalse(oldSide.contains("*"), oldSide);
    }

    @Test
    void diffCompositeKeysAndQuoting() {
        List<ColumnMapping> cols = List.of(
            col("select", StandardSQLTypeName.STRING, true),
            col("größe", StandardSQLTypeName.INT64, true),
            col("from", StandardSQLTypeName.FLOAT64, false),
            repeated("tags", StandardSQLTypeName.STRING),
            col("geo", StandardSQLTypeName.GEOGRAPHY, false),
            col("amount", StandardSQLTypeName.BIGNUMERIC, false));
        String s = sql("select", "größe").diff(9, OldSide.incremental(8), cols, 4);
        assertTrue(s.contains("ORDER BY _bq2k_op, `select`, `größe`) AS _bq2k_seq"), s);
        assertTrue(s.contains("STRUCT(COALESCE(n.`select`, o.`select`) AS `select`, COALESCE(n.`größe`, o.`größe`) AS `größe`)"), s);
        assertTrue(s.contains(", 1, 7)) AS INT64), 4) AS _bq2k_bucket"), s);
        assertTrue(s.contains("      COALESCE(n.`select`, o.`select`) AS `select`,\n      COALESCE(n.`größe`, o.`größe`) AS `größe`\n"), s);
        assertTrue(s.contains("\n  _bq2k_change.`select` AS `select`,\n  _bq2k_change.`größe` AS `größe`,\n"), s);
        assertTrue(s.contains("\n  n.`from` AS `from`,\n"), s);
        assertTrue(s.contains("\n  IF(n.`tags` IS NULL, NULL, TO_JSON_STRING(n.`tags`)) AS `tags`,\n"), s);
        assertTrue(s.contains("\n  IF(n.`geo` IS NULL, NULL, ST_ASTEXT(n.`geo`)) AS `geo`,\n"), s);
        assertTrue(s.contains("\n  CAST(n.`amount` AS STRING) AS `amount`\nFROM (\n"), s);
        assertTrue(s.contains("\n    ON n.`select` = o.`select` AND n.`größe` = o.`größe`\n"), s);
        assertTrue(s.contains("\nON n.`select` = _bq2k_change.`select` AND n.`größe` = _bq2k_change.`größe`"), s);
        assertTrue(s.contains("SELECT `select`, `größe`, _bq2k_fp AS _bq2k_fp, TRUE AS _bq2k_present FROM `proj-1.stage.users__snap_8`"), s);
        assertTrue(s.contains("CREATE OR REPLACE TABLE `proj-1.stage.users__diff_9`"), s);
        assertTrue(s.contains("FROM `proj-1.stage.users__snap_9` AS n"), s);
    }

    @Test
    void diffResyncCompositeKeys() {
        List<ColumnMapping> cols = List.of(col("a", StandardSQLTypeName.STRING, true), col("b", StandardSQLTypeName.DATE, true));
        String s = sql("a", "b").diff(4, new OldSide(OptionalLong.empty(), List.of(STAGING.snapshot(2), STAGING.snapshot(3))), cols, 1);
        assertTrue(s.contains("SELECT `a`, `b`, CAST(NULL AS BYTES) AS _bq2k_fp, TRUE AS _bq2k_reexamine FROM `proj-1.stage.users__snap_2`\n"
            + "    UNION ALL\n"
            + "    SELECT `a`, `b`, CAST(NULL AS BYTES) AS _bq2k_fp, TRUE AS _bq2k_reexamine FROM `proj-1.stage.users__snap_3`\n"
            + "    )\n    GROUP BY `a`, `b`"), s);
        assertTrue(s.contains("ON n.`a` = o.`a` AND n.`b` = o.`b`"), s);
    }

    @Test
    void diffEmitsKeyColumnsThroughTheirMapping() {
        ColumnMapping amount = col("amount", StandardSQLTypeName.BIGNUMERIC, true);
        String s = sql("amount").diff(2, OldSide.incremental(1), List.of(amount), 16);
        assertTrue(s.contains(amount.emitExpression("_bq2k_change.`amount`") + " AS `amount`"), s);
        assertTrue(s.contains("      COALESCE(n.`amount`, o.`amount`) AS `amount`\n"), s);
    }

    /**
     * Issue item 5: ROW_NUMBER() runs over the narrow projection (bucket, op, key columns) of the changes, and
     * the wide columns come from joining the numbered keys back to the snapshot.
     */
    @Test
    void diffNumbersTheNarrowProjectionAndJoinsTheWideRowsBack() {
        List<ColumnMapping> cols = List.of(col("a", StandardSQLTypeName.STRING, true), col("b", StandardSQLTypeName.INT64, true),
            col("wide", StandardSQLTypeName.STRING, false), col("blob", StandardSQLTypeName.BYTES, false));
        String s = sql("a", "b").diff(5, OldSide.incremental(4), cols, 8);
        String numbered = s.substring(s.indexOf("FROM (\n") + "FROM (\n".length(), s.indexOf(") AS _bq2k_change"));
        assertTrue(numbered.startsWith("  SELECT _bq2k_bucket, ROW_NUMBER() OVER (PARTITION BY _bq2k_bucket ORDER BY _bq2k_op, `a`, `b`) AS _bq2k_seq, "
            + "_bq2k_op, `a`, `b`\n  FROM (\n"), numbered);
        // the numbering and the change detection never name a non-key column (nor select *)
        assertFalse(numbered.contains("wide"), numbered);
        assertFalse(numbered.contains("blob"), numbered);
        assertFalse(numbered.contains("*"), numbered);
        assertFalse(numbered.contains("_bq2k_bytes"), numbered);
        assertEquals(1, numbered.split("ROW_NUMBER", -1).length - 1, numbered);
        // the wide columns are read only from the snapshot joined back on the whole key
        String outer = s.substring(0, s.indexOf("FROM (\n")) + s.substring(s.indexOf(") AS _bq2k_change"));
        assertTrue(outer.contains("\n  n.`wide` AS `wide`,\n"), outer);
        assertTrue(outer.endsWith(") AS _bq2k_change\nLEFT JOIN `proj-1.stage.users__snap_5` AS n\n"
            + "ON n.`a` = _bq2k_change.`a` AND n.`b` = _bq2k_change.`b`"), outer);
        assertFalse(outer.contains("ROW_NUMBER"), outer);
        // the diff table keeps its columns: bucket, seq, op, row bytes, then the snapshot's columns in order
        assertTrue(s.contains("AS SELECT _bq2k_change._bq2k_bucket, _bq2k_change._bq2k_seq, _bq2k_change._bq2k_op,\n"
            + "  IF(n._bq2k_fp IS NULL, 0, BYTE_LENGTH(TO_JSON_STRING(n))) AS _bq2k_bytes,\n"
            + "  _bq2k_change.`a` AS `a`,\n  _bq2k_change.`b` AS `b`,\n  n.`wide` AS `wide`,\n"), s);
    }

    @Test
    void bucketsComeFromAnUpperBoundOfTheChanges() {
        assertEquals(2_000_000L, SyncSql.CHANGES_PER_BUCKET);
        assertEquals(1, SyncSql.bucketsFor(0, 4096));
        assertEquals(1, SyncSql.bucketsFor(-5, 4096));
        assertEquals(1, SyncSql.bucketsFor(1, 4096));
        assertEquals(1, SyncSql.bucketsFor(2_000_000, 4096));
        assertEquals(2, SyncSql.bucketsFor(2_000_001, 4096));
        assertEquals(100, SyncSql.bucketsFor(200_000_000, 4096)); // 100M-row snapshot against a 100M-row baseline
        assertEquals(4096, SyncSql.bucketsFor(Long.MAX_VALUE, 4096));
        assertEquals(16, SyncSql.bucketsFor(200_000_000, 16), "diff.buckets caps the count");
        assertEquals(1, SyncSql.bucketsFor(200_000_000, 1));
        assertEquals(1, SyncSql.bucketsFor(200_000_000, 0));
        assertEquals(3, SyncSql.bucketsFor(101, 50, 4096));
        assertEquals(2, SyncSql.bucketsFor(100, 50, 4096));
        // a bucket never has more than CHANGES_PER_BUCKET changes unless the cap binds
        for (long n : new long[] {1, 1_999_999, 2_000_000, 2_000_001, 7_777_777, 8_192_000_000L}) {
            int b = SyncSql.bucketsFor(n, SyncSql.MAX_BUCKETS);
            assertTrue((n + b - 1) / b <= SyncSql.CHANGES_PER_BUCKET, n + " in " + b);
            assertTrue(b == 1 || n > SyncSql.CHANGES_PER_BUCKET * (b - 1), n + ": no more buckets than needed (" + b + ")");
        }
    }

    @Test
    void oldSideTablesAreTheBaselineThenTheReexaminedOnes() {
        assertEquals(List.of(STAGING.snapshot(6)), OldSide.incremental(6).tables(STAGING));
        assertEquals(List.of(STAGING.snapshot(6), STAGING.diff(7), STAGING.snapshot(5)),
            new OldSide(OptionalLong.of(6), List.of(STAGING.diff(7), STAGING.snapshot(5))).tables(STAGING));
        assertEquals(List.of(STAGING.diff(7)), new OldSide(OptionalLong.empty(), List.of(STAGING.diff(7))).tables(STAGING));
        assertEquals(List.of(), new OldSide(OptionalLong.empty(), List.of()).tables(STAGING));
    }

    // ---- stats and chunks ---------------------------------------------------------------------

    @Test
    void diffStats() {
        String expected = "SELECT bucket, part, MAX(_bq2k_seq) AS last_seq, COUNT(*) AS changes,\n"
            + "  COUNTIF(_bq2k_op = 'C') AS added,\n"
            + "  COUNTIF(_bq2k_op = 'U') AS changed,\n"
            + "  COUNTIF(_bq2k_op = 'D') AS removed,\n"
            + "  COUNTIF(_bq2k_bytes > 1000000) AS oversize\n"
            + "FROM (\n"
            + "  SELECT _bq2k_bucket AS bucket, _bq2k_seq, _bq2k_op, _bq2k_bytes,\n"
            + "    CAST(FLOOR((SUM(_bq2k_bytes) OVER (PARTITION BY _bq2k_bucket ORDER BY _bq2k_seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
            + " - _bq2k_bytes) / 8388608) AS INT64) AS part\n"
            + "  FROM `proj-1.stage.users__diff_7`\n"
            + ")\n"
            + "GROUP BY bucket, part ORDER BY bucket, part";
        assertEquals(expected, sql("id").diffStats(7, 1_000_000, 8L << 20));
    }

    @Test
    void diffStatsReadsOnlyTheFourLeadingColumns() {
        String s = sql("id").diffStats(7, 1000, 1 << 20);
        assertFalse(s.replace("COUNT(*)", "").contains("*"), s);
        assertFalse(s.replace("`proj-1.stage.users__diff_7`", "").contains("`"), s); // no column of the query
        assertTrue(s.contains("/ 1048576) AS INT64) AS part"), s);
        assertTrue(s.contains("COUNTIF(_bq2k_bytes > 1000) AS oversize"), s);
    }

    @Test
    void largestChangeMeasuresEachColumn() {
        String expected = "SELECT TO_JSON_STRING(STRUCT(`id` AS `id`)) AS key, _bq2k_bytes AS row_bytes,\n"
            + "  IFNULL(BYTE_LENGTH(TO_JSON_STRING(`id`)), 0) AS c0,\n"
            + "  IFNULL(BYTE_LENGTH(TO_JSON_STRING(`name`)), 0) AS c1,\n"
            + "  IFNULL(BYTE_LENGTH(TO_JSON_STRING(`payload`)), 0) AS c2\n"
            + "FROM `proj-1.stage.users__diff_4`\n"
            + "ORDER BY _bq2k_bytes DESC\n"
            + "LIMIT 1";
        assertEquals(expected, sql("id").largestChange(4, COLUMNS));
    }

    @Test
    void chunkRestrictionAndQuery() {
        Chunk chunk = new Chunk(3, 1, 500);
        assertEquals(500, chunk.size());
        assertEquals("_bq2k_bucket = 3 AND _bq2k_seq BETWEEN 1 AND 500", SyncSql.chunkRestriction(chunk));
        assertEquals("SELECT * FROM `proj-1.stage.users__diff_7`\n"
                + "WHERE _bq2k_bucket = 3 AND _bq2k_seq BETWEEN 1 AND 500\n"
                + "ORDER BY _bq2k_seq",
            SyncSql.chunkQuery(STAGING.diff(7), chunk));
    }

    @Test
    void quote() {
        assertEquals("`select`", SyncSql.quote("select"));
        assertEquals("`größe`", SyncSql.quote("größe"));
        assertEquals("`with space`", SyncSql.quote("with space"));
    }

    // ---- idempotence --------------------------------------------------------------------------

    @Test
    void sameInputsGiveIdenticalSql() {
        for (int i = 0; i < 3; i++) {
            SyncSql a = sql("id");
            SyncSql b = sql("id");
            assertEquals(a.snapshot(7, "SELECT 1 AS id"), b.snapshot(7, "SELECT 1 AS id"));
            assertEquals(a.keyCheck(7), b.keyCheck(7));
            assertEquals(a.diff(7, OldSide.incremental(6), COLUMNS, 16), b.diff(7, OldSide.incremental(6), COLUMNS, 16));
            assertEquals(a.diff(7, new OldSide(OptionalLong.empty(), List.of(STAGING.diff(3))), COLUMNS, 16), a.diff(7, new OldSide(OptionalLong.empty(), List.of(STAGING.diff(3))), COLUMNS, 16));
            assertEquals(a.diffStats(7, 1000, 1 << 20), b.diffStats(7, 1000, 1 << 20));
        }
        assertNotEquals(sql("id").snapshot(7, "SELECT 1"), sql("id").snapshot(8, "SELECT 1"));
        assertNotEquals(sql("id").diff(7, OldSide.incremental(6), COLUMNS, 16), sql("id").diff(7, OldSide.incremental(5), COLUMNS, 16));
    }
}
