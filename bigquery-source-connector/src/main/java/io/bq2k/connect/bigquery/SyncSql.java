package io.bq2k.connect.bigquery;

import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Every SQL statement a run sends to BigQuery, in one readable place. Each write is
 * {@code CREATE OR REPLACE TABLE} of a table named by (sync, run), so any step can be retried
 * and gives the same table. Only validated identifiers are spliced in; the configured query is
 * the one user text that is embedded, as a subquery.
 */
public final class SyncSql {

    /** Internal columns; a result column with this prefix is rejected. */
    public static final String PREFIX = "_bq2k_";
    public static final String FINGERPRINT = PREFIX + "fp";
    /** Size of a change's snapshot row as JSON text (0 for a removal), for the record-size check. */
    private static final String ROW_BYTES = PREFIX + "bytes";
    public static final String BUCKET = PREFIX + "bucket";
    public static final String SEQ = PREFIX + "seq";
    public static final String OP = PREFIX + "op";
    private static final String PRESENT = PREFIX + "present";
    private static final String REEXAMINE = PREFIX + "reexamine";
    /** Alias of the numbered changes in the diff statement (no result column can have the prefix). */
    private static final String CHANGE = PREFIX + "change";

    public static final String OP_ADDED = "C";
    public static final String OP_CHANGED = "U";
    public static final String OP_REMOVED = "D";

    /** Names of the tables a run writes (its snapshot and diff). */
    private final StagingTables staging;
    /**
     * Names of the sync's own tables, which the old side of a diff reads (the baseline by its run). The same as
     * {@link #staging} for a run of the sync; a dry run writes tables of its own and reads the sync's ({@link #dryRun}).
     */
    private final StagingTables sync;
    private final List<String> keys;
    private final int expirationHours;

    public SyncSql(StagingTables staging, List<String> keyColumns, int expirationHours) {
        this(staging, staging, keyColumns, expirationHours);
    }

    private SyncSql(StagingTables staging, StagingTables sync, List<String> keyColumns, int expirationHours) {
        this.staging = staging;
        this.sync = sync;
        this.keys = keyColumns;
        this.expirationHours = expirationHours;
    }

    /**
     * The statements of a dry run ({@link DryRun}): they write the tables {@code scratch} names and compare with the
     * sync's tables ({@code sync}: the baseline, the re-examined tables); every table they create keeps the safety-net
     * expiration, so a dry run that could not drop its tables leaves nothing for long.
     */
    public static SyncSql dryRun(StagingTables scratch, StagingTables sync, List<String> keyColumns, int expirationHours) {
        return new SyncSql(scratch, sync, keyColumns, expirationHours);
    }

    /** Whether the tables written are not the sync's own (a dry run's). */
    private boolean dryRun() {
        return !staging.equals(sync);
    }

    /** The same statements for another set of key columns (a re-key run joins on the old key). */
    public SyncSql forKeys(List<String> keyColumns) {
        return keyColumns.equals(keys) ? this : new SyncSql(staging, sync, keyColumns, expirationHours);
    }

    /** Backtick-quotes a column name (names with backticks are rejected by the config). */
    public static String quote(String column) {
        return "`" + column + "`";
    }

    /**
     * The safety-net expiration every staging table is created with: a run's tables become durable
     * ({@link #makeDurable}) before its first change is emitted, so only tables nothing was published
     * from (a held or abandoned attempt) can expire.
     */
    private String options() {
        return "OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL " + expirationHours + " HOUR))";
    }

    /** Removes the expiration: a table a resume or a later run may need must never expire under it. */
    public static String makeDurable(TableRef table) {
        return "ALTER TABLE " + table.quoted() + " SET OPTIONS (expiration_timestamp = NULL)";
    }

    /** The snapshot of a re-key run: empty, with the columns (and so the old key) of a snapshot or diff table. */
    public String emptySnapshotLike(long run, TableRef from) {
        boolean diff = sync.diffRun(from.table()).isPresent();
        return "CREATE OR REPLACE TABLE " + staging.snapshot(run).quoted() + "\n"
            + options() + "\n"
            + "AS SELECT *" + (diff ? " EXCEPT (" + BUCKET + ", " + SEQ + ", " + OP + ", " + ROW_BYTES + "), CAST(NULL AS BYTES) AS " + FINGERPRINT : "")
            + " FROM " + from.quoted() + " WHERE FALSE";
    }

    /**
     * Step 1: the query result with a fingerprint of each whole row. MD5 rather than
     * FARM_FINGERPRINT: 128 bits make a missed change from a collision negligible, and it is
     * equally cheap in BigQuery (and 50 times faster in the emulator the tests use).
     */
    public String snapshot(long run, String query) {
        return "CREATE OR REPLACE TABLE " + staging.snapshot(run).quoted() + "\n"
            + options() + "\n"
            + "AS SELECT " + PREFIX + "row.*, MD5(TO_JSON_STRING(" + PREFIX + "row)) AS " + FINGERPRINT + "\n"
            + "FROM (\n" + stripTrailingSemicolons(query) + "\n) AS " + PREFIX + "row";
    }

    /** Step 2: NULL and duplicate keys, with one example of each (the smallest, so it is stable). */
    public String keyCheck(long run) {
        String anyNull = keys.stream().map(k -> quote(k) + " IS NULL").collect(Collectors.joining(" OR "));
        return "SELECT\n"
            + "  SUM(" + PREFIX + "n) AS row_count,\n"
            + "  COUNTIF(" + PREFIX + "null) AS null_keys,\n"
            + "  COUNTIF(NOT " + PREFIX + "null AND " + PREFIX + "n > 1) AS duplicate_keys,\n"
            + "  MIN(IF(" + PREFIX + "null, " + PREFIX + "key, NULL)) AS null_example,\n"
            + "  MIN(IF(NOT " + PREFIX + "null AND " + PREFIX + "n > 1, " + PREFIX + "key, NULL)) AS duplicate_example\n"
            + "FROM (\n"
            + "  SELECT " + keyJson() + " AS " + PREFIX + "key, COUNT(*) AS " + PREFIX + "n, LOGICAL_OR(" + anyNull + ") AS " + PREFIX + "null\n"
            + "  FROM " + staging.snapshot(run).quoted() + "\n"
            + "  GROUP BY 1\n"
            + ")";
    }

    /** The largest change of a diff: its key as JSON, its size and each column's ({@code c0, c1, ...} in order). */
    public String largestChange(long run, List<ColumnMapping> columns) {
        StringBuilder perColumn = new StringBuilder();
        for (int i = 0; i < columns.size(); i++) {
            perColumn.append(",\n  IFNULL(BYTE_LENGTH(TO_JSON_STRING(").append(quote(columns.get(i).name())).append(")), 0) AS c").append(i);
        }
        return "SELECT " + keyJson() + " AS key, " + ROW_BYTES + " AS row_bytes" + perColumn + "\n"
            + "FROM " + staging.diff(run).quoted() + "\n"
            + "ORDER BY " + ROW_BYTES + " DESC\n"
            + "LIMIT 1";
    }

    /**
     * Up to {@code perOperation} changes of each operation of a diff, the first in emission order (bucket, seq): the
     * operation and the key as JSON (as emitted: the diff holds key columns in their record form). For a dry run's report.
     */
    public String sampleKeys(long run, int perOperation) {
        return "SELECT " + OP + " AS op, key FROM (\n"
            + "  SELECT " + OP + ", " + keyJson() + " AS key,\n"
            + "    ROW_NUMBER() OVER (PARTITION BY " + OP + " ORDER BY " + BUCKET + ", " + SEQ + ") AS " + PREFIX + "n\n"
            + "  FROM " + staging.diff(run).quoted() + "\n"
            + ")\n"
            + "WHERE " + PREFIX + "n <= " + perOperation + "\n"
            + "ORDER BY op, " + PREFIX + "n";
    }

    private String keyJson() {
        return "TO_JSON_STRING(STRUCT(" + keys.stream().map(k -> quote(k) + " AS " + quote(k)).collect(Collectors.joining(", ")) + "))";
    }

    /**
     * Changes a diff puts in one bucket at most, by design: the bucket count is taken from an upper bound of
     * the changes ({@link #bucketsFor}). ROW_NUMBER() numbers each bucket on one BigQuery worker, over the
     * narrow projection (bucket, operation, key columns): 2 million such rows are a sort of some 100 MB for
     * typical keys (about 1 GB for keys of 500 bytes), far below where a single-worker sort runs out of
     * resources, while a small diff over a large table still gets few buckets (each bucket with changes
     * costs at least one chunk read).
     */
    public static final long CHANGES_PER_BUCKET = 2_000_000L;
    /** The largest bucket count (and the bound of {@code diff.buckets}): 4096 buckets of 2 million are 8 billion changes. */
    public static final int MAX_BUCKETS = 4096;

    /** The bucket count of a diff of at most {@code maxChanges} changes: one per {@link #CHANGES_PER_BUCKET}, at least 1, at most {@code maxBuckets}. */
    public static int bucketsFor(long maxChanges, int maxBuckets) {
        return bucketsFor(maxChanges, CHANGES_PER_BUCKET, maxBuckets);
    }

    /** {@link #bucketsFor(long, int)} with another bucket size (the simulation's tables are tiny). */
    static int bucketsFor(long maxChanges, long changesPerBucket, int maxBuckets) {
        long buckets = Math.max(0, maxChanges) / changesPerBucket + (Math.max(0, maxChanges) % changesPerBucket == 0 ? 0 : 1);
        return (int) Math.max(1, Math.min(Math.max(1, maxBuckets), buckets));
    }

    /**
     * Step 3: the changes of run {@code run} against {@code oldSide}, numbered so that a
     * position (bucket, seq) identifies a change deterministically: bucket by a hash of the key
     * (28 bits of its MD5), then row number inside the bucket ordered by operation and key.
     *
     * The changes are found and numbered on their narrow projection (bucket, operation, key columns: the
     * snapshot's key and fingerprint columns, the old side's keys), so a bucket's sort never carries wide
     * rows; the numbered keys are then joined back to the snapshot for the rows' columns (a removal has no
     * snapshot row: its other columns are NULL).
     *
     * A diff that re-examines keys of earlier tables is created durable: it then records what an
     * earlier attempt may have published, and a later retake needs it.
     *
     * @param columns the snapshot's columns in order (without the fingerprint)
     * @param buckets the bucket count, from {@link #bucketsFor}
     */
    public String diff(long run, OldSide oldSide, List<ColumnMapping> columns, int buckets) {
        String keyList = keys.stream().map(SyncSql::quote).collect(Collectors.joining(", "));
        String keyStruct = keys.stream().map(k -> "COALESCE(n." + quote(k) + ", o." + quote(k) + ") AS " + quote(k))
            .collect(Collectors.joining(", "));
        String changedKeys = keys.stream().map(k -> "COALESCE(n." + quote(k) + ", o." + quote(k) + ") AS " + quote(k))
            .collect(Collectors.joining(",\n      "));
        String projection = columns.stream()
            .map(c -> c.emitExpression((keys.contains(c.name()) ? CHANGE + "." : "n.") + quote(c.name())) + " AS " + quote(c.name()))
            .collect(Collectors.joining(",\n  "));
        String join = keys.stream().map(k -> "n." + quote(k) + " = o." + quote(k)).collect(Collectors.joining(" AND "));
        String joinBack = keys.stream().map(k -> "n." + quote(k) + " = " + CHANGE + "." + quote(k)).collect(Collectors.joining(" AND "));
        // Inside a bucket, changes of one operation are consecutive: a sink flushes its batch whenever the
        // statement kind switches (upsert, delete), so interleaved deletes would cut batches to a few rows.
        // Each key changes once per run, so this order costs nothing in per-key order.
        String order = OP + ", " + keyList;
        return "CREATE OR REPLACE TABLE " + staging.diff(run).quoted() + "\n"
            + "CLUSTER BY " + BUCKET + ", " + SEQ + "\n"
            + (oldSide.reexamine().isEmpty() || dryRun() ? options() + "\n" : "")
            + "AS SELECT " + CHANGE + "." + BUCKET + ", " + CHANGE + "." + SEQ + ", " + CHANGE + "." + OP + ",\n"
            + "  IF(n." + FINGERPRINT + " IS NULL, 0, BYTE_LENGTH(TO_JSON_STRING(n))) AS " + ROW_BYTES + ",\n"
            + "  " + projection + "\n"
            + "FROM (\n"
            + "  SELECT " + BUCKET + ", ROW_NUMBER() OVER (PARTITION BY " + BUCKET + " ORDER BY " + order + ") AS " + SEQ + ", " + OP + ", " + keyList + "\n"
            + "  FROM (\n"
            + "    SELECT\n"
            + "      MOD(CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(TO_JSON_STRING(STRUCT(" + keyStruct + ")))), 1, 7)) AS INT64), " + buckets + ") AS " + BUCKET + ",\n"
            + "      CASE WHEN n." + FINGERPRINT + " IS NULL THEN '" + OP_REMOVED + "' WHEN o." + PRESENT + " IS NULL THEN '" + OP_ADDED
            + "' ELSE '" + OP_CHANGED + "' END AS " + OP + ",\n"
            + "      " + changedKeys + "\n"
            + "    FROM " + staging.snapshot(run).quoted() + " AS n\n"
            + "    FULL OUTER JOIN (\n" + oldSide.sql(this, run, columns) + "\n    ) AS o\n"
            + "    ON " + join + "\n"
            + "    WHERE o." + PRESENT + " IS NULL OR n." + FINGERPRINT + " IS NULL OR o." + FINGERPRINT + " IS NULL OR n." + FINGERPRINT + " != o." + FINGERPRINT + "\n"
            + "  )\n"
            + ") AS " + CHANGE + "\n"
            + "LEFT JOIN " + staging.snapshot(run).quoted() + " AS n\n"
            + "ON " + joinBack;
    }

    /**
     * Step 3b: per bucket and byte part, the last seq, the change count per operation, and the changes larger
     * than {@code maxRowBytes} (reads four small columns). A bucket's byte parts cut its changes in seq order so
     * that each part holds at most {@code chunkBytes} of rows (as JSON) plus one row: the rows whose bytes before
     * them in the bucket fall in [k, k + 1) times {@code chunkBytes} form part k. Chunks never cross a part
     * ({@link DiffStats#chunksAfter}), which bounds a chunk's bytes whatever the spread of row sizes: a single
     * wide row shortens only the part it is in, where a bound by the bucket's largest row would shorten them all.
     * The running sum is a window over each bucket's narrow rows, like the numbering of {@link #diff}; the result
     * has a row per part (about the diff's JSON size / {@code chunkBytes}, plus one per bucket).
     */
    public String diffStats(long run, int maxRowBytes, long chunkBytes) {
        return "SELECT bucket, part, MAX(" + SEQ + ") AS last_seq, COUNT(*) AS changes,\n"
            + "  COUNTIF(" + OP + " = '" + OP_ADDED + "') AS added,\n"
            + "  COUNTIF(" + OP + " = '" + OP_CHANGED + "') AS changed,\n"
            + "  COUNTIF(" + OP + " = '" + OP_REMOVED + "') AS removed,\n"
            + "  COUNTIF(" + ROW_BYTES + " > " + maxRowBytes + ") AS oversize\n"
            + "FROM (\n"
            + "  SELECT " + BUCKET + " AS bucket, " + SEQ + ", " + OP + ", " + ROW_BYTES + ",\n"
            + "    CAST(FLOOR((SUM(" + ROW_BYTES + ") OVER (PARTITION BY " + BUCKET + " ORDER BY " + SEQ
            + " ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - " + ROW_BYTES + ") / " + chunkBytes + ") AS INT64) AS part\n"
            + "  FROM " + staging.diff(run).quoted() + "\n"
            + ")\n"
            + "GROUP BY bucket, part ORDER BY bucket, part";
    }

    /** Row restriction selecting one chunk of the diff (Storage Read API syntax, also valid SQL). */
    public static String chunkRestriction(Chunk chunk) {
        return BUCKET + " = " + chunk.bucket() + " AND " + SEQ + " BETWEEN " + chunk.firstSeq() + " AND " + chunk.lastSeq();
    }

    /** One chunk in seq order, for the REST read path. */
    public static String chunkQuery(TableRef diffTable, Chunk chunk) {
        return "SELECT * FROM " + diffTable.quoted() + "\nWHERE " + chunkRestriction(chunk) + "\nORDER BY " + SEQ;
    }

    private String keyColumnsOf(TableRef table, String fingerprint) {
        return "    SELECT " + keys.stream().map(SyncSql::quote).collect(Collectors.joining(", "))
            + ", " + fingerprint + " AS " + FINGERPRINT + ", TRUE AS " + PRESENT + " FROM " + table.quoted();
    }

    static String stripTrailingSemicolons(String query) {
        String q = query.strip();
        while (q.endsWith(";")) {
            q = q.substring(0, q.length() - 1).strip();
        }
        return q;
    }

    /**
     * What a snapshot is compared with. Only key (and fingerprint) columns are read from it.
     *
     * @param baseline  the snapshot whose fingerprints decide "changed" (empty: none; every key is new)
     * @param reexamine tables (snapshots or diffs) whose keys get a change whatever their fingerprint:
     *                  an upsert of the current row, or a tombstone when the key is gone. These are the
     *                  keys an earlier attempt or run may have published (I8).
     */
    public record OldSide(OptionalLong baseline, List<TableRef> reexamine) {

        public static OldSide incremental(long baseline) {
            return new OldSide(OptionalLong.of(baseline), List.of());
        }

        /** The tables it reads: the baseline snapshot, then the re-examined tables. Their rows bound the removals. */
        public List<TableRef> tables(StagingTables staging) {
            List<TableRef> tables = new java.util.ArrayList<>();
            baseline.ifPresent(b -> tables.add(staging.snapshot(b)));
            tables.addAll(reexamine);
            return tables;
        }

        String sql(SyncSql sql, long run, List<ColumnMapping> columns) {
            String keyList = sql.keys.stream().map(SyncSql::quote).collect(Collectors.joining(", "));
            // A diff holds its key columns as emitted (a BIGNUMERIC key as text): read them back in the snapshot's type.
            String diffKeyList = sql.keys.stream().map(k -> columns.stream().filter(c -> c.name().equals(k)).findFirst()
                .map(c -> c.keyFromEmitted(quote(k)) + (c.keyFromEmitted(quote(k)).equals(quote(k)) ? "" : " AS " + quote(k))).orElse(quote(k)))
                .collect(Collectors.joining(", "));
            if (reexamine.isEmpty()) {
                return baseline.isPresent() ? sql.keyColumnsOf(sql.sync.snapshot(baseline.getAsLong()), FINGERPRINT)
                    : sql.keyColumnsOf(sql.staging.snapshot(run), "CAST(NULL AS BYTES)") + " WHERE FALSE";
            }
            StringBuilder union = new StringBuilder();
            if (baseline.isPresent()) {
                union.append("    SELECT ").append(keyList).append(", ").append(FINGERPRINT).append(", FALSE AS ").append(REEXAMINE)
                    .append(" FROM ").append(sql.sync.snapshot(baseline.getAsLong()).quoted());
            }
            for (TableRef t : reexamine) {
                if (union.length() > 0) {
                    union.append("\n    UNION ALL\n");
                }
                union.append("    SELECT ").append(sql.sync.diffRun(t.table()).isPresent() ? diffKeyList : keyList)
                    .append(", CAST(NULL AS BYTES) AS ").append(FINGERPRINT).append(", TRUE AS ").append(REEXAMINE).append(" FROM ").append(t.quoted());
            }
            return "    SELECT " + keyList + ", IF(LOGICAL_OR(" + REEXAMINE + "), NULL, MAX(" + FINGERPRINT + ")) AS " + FINGERPRINT
                + ", TRUE AS " + PRESENT + " FROM (\n" + union + "\n    )\n    GROUP BY " + keyList;
        }
    }
}
