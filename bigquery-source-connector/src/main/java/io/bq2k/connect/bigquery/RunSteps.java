package io.bq2k.connect.bigquery;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldList;
import com.google.cloud.bigquery.FieldValueList;
import com.google.cloud.bigquery.Schema;
import com.google.cloud.bigquery.StandardTableDefinition;
import com.google.cloud.bigquery.Table;

/**
 * The BigQuery steps of a run — snapshot, check, diff, stats — and the housekeeping of staging
 * tables. Each step is idempotent (a table named by sync and run, created or replaced), so a
 * step that failed transiently is simply run again.
 */
public final class RunSteps {

    private final SyncConfig config;
    private final String sync;
    private final BigQueryGateway gateway;
    private final StagingTables staging;
    private final SyncSql sql;

    /** A run whose diff table is ready to be read from the start or from a resume position. */
    public record PreparedRun(long run, RecordShape shape, DiffStats stats, long snapshotRows, long bytesProcessed) { }

    public RunSteps(SyncConfig config, String sync, BigQueryGateway gateway) {
        this.config = config;
        this.sync = sync;
        this.gateway = gateway;
        this.staging = new StagingTables(config.stagingDataset(), sync);
        this.sql = new SyncSql(staging, config.keyColumns(), config.stagingExpirationHours());
    }

    public StagingTables staging() {
        return staging;
    }

    public void ensureStagingDataset() {
        gateway.ensureDataset(staging.dataset(), config.createStagingDataset());
    }

    /** Runs of the snapshot tables that exist in the staging dataset, ascending. */
    public List<Long> retainedSnapshots() {
        return runsOf(true);
    }

    /** Highest run of any staging table of this sync, or 0. */
    public long highestStagedRun() {
        List<Long> runs = new ArrayList<>(runsOf(true));
        runs.addAll(runsOf(false));
        return runs.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    private List<Long> runsOf(boolean snapshots) {
        List<Long> runs = new ArrayList<>();
        for (String name : gateway.tableNames(staging.dataset(), staging.prefix())) {
            OptionalLong r = snapshots ? staging.snapshotRun(name) : staging.diffRun(name);
            r.ifPresent(runs::add);
        }
        runs.sort(null);
        return runs;
    }

    public boolean diffExists(long run) {
        return gateway.table(staging.diff(run)).isPresent();
    }

    public boolean snapshotExists(long run) {
        return gateway.table(staging.snapshot(run)).isPresent();
    }

    /** Step 1: materialize the query result with row fingerprints. Returns bytes processed. */
    public long snapshot(long run) {
        try {
            return gateway.query("snapshot of run " + run, sql.snapshot(run, config.sourceQuery()), labels(run, "snapshot")).bytesProcessed();
        } catch (Retrier.PermanentException e) {
            throw new RunFailure(sync, "the query failed in BigQuery, nothing was emitted: " + Retrier.describe(e)
                + ". Fix the query (config '" + (config.query().isEmpty() ? SyncConfig.TABLE : SyncConfig.QUERY) + "'); the next run starts from the same baseline.", e);
        }
    }

    /** The record shape of a snapshot, checking key columns against the baseline's. */
    public RecordShape shape(long run, OptionalLong baseline) {
        FieldList fields = schemaOf(run).orElseThrow(() -> new RunFailure(sync, "snapshot table " + staging.snapshot(run) + " is missing"));
        RecordShape shape;
        try {
            shape = RecordShape.of(fields, config.keyColumns(), config.topic(), config.columnStyle());
        } catch (RecordShape.InvalidShape e) {
            throw new RunFailure(sync, "run " + run + ": " + e.getMessage() + ". Nothing was emitted; the next run after the fix starts from the same baseline.");
        }
        if (baseline.isPresent()) {
            schemaOf(baseline.getAsLong()).ifPresent(old -> {
                for (ColumnMapping key : shape.keyColumns()) {
                    Field before = old.stream().filter(f -> f.getName().equals(key.name())).findFirst().orElse(null);
                    String beforeType = before == null ? null : ColumnMapping.of(before, true, config.columnStyle()).bigQueryType();
                    if (beforeType != null && !beforeType.equals(key.bigQueryType())) {
                        throw new RunFailure(sync, "run " + run + ": key column `" + key.name() + "` changed type from " + beforeType + " (run "
                            + baseline.getAsLong() + ") to " + key.bigQueryType() + "; keys cannot be matched across types. Nothing was emitted. "
                            + "Cast it back to " + beforeType + " in the query, or reset the sync's offsets (DELETE /connectors/<name>/offsets) to resync.");
                    }
                }
            });
        }
        return shape;
    }

    private Optional<FieldList> schemaOf(long run) {
        return gateway.table(staging.snapshot(run)).map(t -> t.<StandardTableDefinition>getDefinition().getSchema()).map(Schema::getFields);
    }

    /** Step 2: fail the run on NULL or duplicate keys, naming an example. Returns the snapshot's row count. */
    public long checkKeys(long run) {
        FieldValueList row = gateway.query("key check of run " + run, sql.keyCheck(run), labels(run, "check")).rows().iterateAll().iterator().next();
        long nullKeys = longOrZero(row, "null_keys");
        long duplicates = longOrZero(row, "duplicate_keys");
        String keys = String.join(", ", config.keyColumns());
        if (nullKeys > 0) {
            throw new RunFailure(sync, "run " + run + ": " + nullKeys + " row(s) have a NULL in key column(s) " + keys + ", e.g. key "
                + row.get("null_example").getStringValue() + ". Nothing was emitted. Filter or fill NULL keys in the query (e.g. WHERE "
                + config.keyColumns().get(0) + " IS NOT NULL); the next run starts from the same baseline.");
        }
        if (duplicates > 0) {
            throw new RunFailure(sync, "run " + run + ": " + duplicates + " key(s) of " + keys + " occur more than once, e.g. key "
                + row.get("duplicate_example").getStringValue() + ". Nothing was emitted. Make the key unique in the query (GROUP BY the key, or add columns to "
                + SyncConfig.KEY_COLUMNS + "); the next run starts from the same baseline.");
        }
        return longOrZero(row, "row_count");
    }

    private RunFailure oversizeFailure(long run, RecordShape shape, long oversize, int maxRowBytes) {
        List<ColumnMapping> columns = shape.columns();
        FieldValueList largest = gateway.query("largest change of run " + run, sql.largestChange(run, columns), labels(run, "stats"))
            .rows().iterateAll().iterator().next();
        int widest = 0;
        for (int i = 1; i < columns.size(); i++) {
            if (largest.get("c" + i).getLongValue() > largest.get("c" + widest).getLongValue()) {
                widest = i;
            }
        }
        return new RunFailure(sync, "run " + run + ": " + oversize + " row(s) are larger than " + SyncConfig.RECORD_MAX_BYTES + "=" + maxRowBytes
            + " bytes as JSON; the largest, key " + largest.get("key").getStringValue() + ", has " + largest.get("row_bytes").getLongValue()
            + " bytes, " + largest.get("c" + widest).getLongValue() + " of them in column `" + columns.get(widest).name() + "`. Nothing was emitted. "
            + "Trim or leave out that column in the query, or raise " + SyncConfig.RECORD_MAX_BYTES + " together with the topic's max.message.bytes, "
            + "the worker's producer.override.max.request.size and the sink's fetch and packet limits (config/README.md); "
            + "the next run starts from the same baseline.");
    }

    private static long longOrZero(FieldValueList row, String column) {
        return row.get(column).isNull() ? 0 : row.get(column).getLongValue();
    }

    /** Step 3: materialize the changes. Returns bytes processed. */
    public long diff(long run, SyncSql.OldSide oldSide, RecordShape shape) {
        return gateway.query("diff of run " + run, sql.diff(run, oldSide, shape.columns(), config.diffBuckets()), labels(run, "diff")).bytesProcessed();
    }

    /**
     * Step 3b: counts per bucket and operation (the bucket count is read from the table itself); fails
     * the run, before anything is emitted, when a change is larger than {@code record.max.bytes}.
     */
    public DiffStats stats(long run, RecordShape shape) {
        int maxRowBytes = config.recordMaxBytes();
        List<long[]> rows = new ArrayList<>();
        int maxBucket = -1;
        long oversize = 0;
        for (FieldValueList r : gateway.query("diff stats of run " + run, sql.diffStats(run, maxRowBytes), labels(run, "stats")).rows().iterateAll()) {
            long[] v = {r.get("bucket").getLongValue(), r.get("changes").getLongValue(), r.get("added").getLongValue(),
                r.get("changed").getLongValue(), r.get("removed").getLongValue()};
            rows.add(v);
            maxBucket = Math.max(maxBucket, (int) v[0]);
            oversize += r.get("oversize").getLongValue();
        }
        if (oversize > 0) {
            throw oversizeFailure(run, shape, oversize, maxRowBytes);
        }
        long[] perBucket = new long[maxBucket + 1];
        long added = 0;
        long changed = 0;
        long removed = 0;
        for (long[] v : rows) {
            perBucket[(int) v[0]] = v[1];
            added += v[2];
            changed += v[3];
            removed += v[4];
        }
        return new DiffStats(perBucket, added, changed, removed);
    }

    /** Rows of a snapshot from table metadata (no query cost); 0 when unknown. */
    public long snapshotRows(long run) {
        return gateway.table(staging.snapshot(run)).map(Table::getNumRows).map(Number::longValue).orElse(0L);
    }

    /** Drops every staging table of runs before {@code keepFrom}: no resume can need them. */
    public int dropBefore(long keepFrom) {
        int dropped = 0;
        for (String name : gateway.tableNames(staging.dataset(), staging.prefix())) {
            OptionalLong r = staging.snapshotRun(name);
            if (r.isEmpty()) {
                r = staging.diffRun(name);
            }
            if (r.isPresent() && r.getAsLong() < keepFrom) {
                gateway.dropTable(staging.dataset().table(name));
                dropped++;
            }
        }
        return dropped;
    }

    private Map<String, String> labels(long run, String step) {
        return Map.of("bq2k_sync", sync.toLowerCase(java.util.Locale.ROOT), "bq2k_run", Long.toString(run), "bq2k_step", step);
    }
}
