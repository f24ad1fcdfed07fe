package io.bq2k.connect.bigquery;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.google.cloud.bigquery.FieldList;

/**
 * The warehouse side of a run: the BigQuery steps (snapshot, check, diff, stats, read) and the
 * housekeeping of the sync's staging tables. {@link BigQueryRunSteps} runs them in BigQuery with
 * the SQL of {@link SyncSql}; the simulation test has an in-memory model with the same semantics.
 * Every write creates or replaces a table named by (sync, run): retrying a step gives the same table.
 * A step whose BigQuery job is still running throws {@link JobStillRunning}: calling it again later
 * follows the same job.
 */
public interface RunSteps {

    StagingTables staging();

    void ensureStagingDataset();

    /**
     * Cancels, and waits for, every BigQuery job of this connector still running: a task that crashed or was
     * stopped mid-statement leaves its job running, and it must not replace a table after a new plan was made.
     */
    void settleOrphanJobs();

    /** Cancels the jobs this task instance still runs (a stopping task); one attempt each, no waiting. */
    default void cancelRunningJobs() {
    }

    /** Every table of this sync's prefix, with owner mark, key columns and (snapshots) row count. */
    List<StagedTable> stagedTables();

    /** Step 1: materialize the query result with row fingerprints (safety-net expiration). Returns bytes processed. */
    long snapshot(long run);

    /** The snapshot of a re-key run: no rows, the query columns of a snapshot or diff table of the old key. */
    void emptySnapshotLike(long run, TableRef from, List<String> keys);

    /** Columns of a staging table, empty when the table is gone. */
    Optional<FieldList> schema(TableRef table);

    /** Step 2: NULL and duplicate keys of a snapshot. */
    KeyCheck checkKeys(long run);

    /** Step 3: materialize the changes. Returns bytes processed. */
    long diff(long run, SyncSql.OldSide oldSide, RecordShape shape);

    /** Step 3b: changes per bucket and operation; fails the run when a change is too large for a record. */
    DiffStats stats(long run, RecordShape shape);

    /** Removes the safety-net expiration of a run's snapshot and diff: called before its first change is emitted. */
    void makeDurable(long run);

    void drop(TableRef table);

    /** Creation time of a table (ms), which identifies this version of it. */
    long created(TableRef table);

    /**
     * Marks run {@code run}'s diff as abandoned: a change of it was not written to Kafka, and Connect may
     * commit offsets past it. Called synchronously from the acknowledgement, before Connect can commit.
     */
    void markAbandoned(long run);

    /** Step 4: one chunk of the diff, in seq order. */
    List<RecordShape.Change> read(long run, Chunk chunk, RecordShape shape);

    /** Last-modified time of every table the query reads, when that tells whether its result changed. */
    UnchangedInputs inputs();

    /** Up to {@code perOperation} changes of each operation of run {@code run}'s diff, the first in emission order (a dry run's report). */
    List<SampleKey> sampleKeys(long run, int perOperation);

    /** Bytes processed by every BigQuery job these steps ran to completion (job statistics). */
    long bytesProcessed();

    /** A change of a diff: its operation ({@link SyncSql#OP_ADDED}, {@link SyncSql#OP_CHANGED}, {@link SyncSql#OP_REMOVED}) and key as JSON. */
    record SampleKey(String op, String key) { }

    /** What the key check found. */
    record KeyCheck(long rows, long nullKeys, long duplicateKeys, String nullExample, String duplicateExample) {

        /** The run's failure, or null when every key is present and unique. */
        public RunFailure failure(String sync, long run, List<String> keyColumns) {
            String keys = String.join(", ", keyColumns);
            if (nullKeys > 0) {
                return new RunFailure(sync, "run " + run + ": " + nullKeys + " row(s) have a NULL in key column(s) " + keys + ", e.g. key "
                    + nullExample + ". Nothing was emitted. Filter or fill NULL keys in the query (e.g. WHERE "
                    + keyColumns.get(0) + " IS NOT NULL); the next run starts from the same baseline.");
            }
            if (duplicateKeys > 0) {
                return new RunFailure(sync, "run " + run + ": " + duplicateKeys + " key(s) of " + keys + " occur more than once, e.g. key "
                    + duplicateExample + ". Nothing was emitted. Make the key unique in the query (GROUP BY the key, or add columns to "
                    + SyncConfig.KEY_COLUMNS + "); the next run starts from the same baseline.");
            }
            return null;
        }
    }
}
