package io.bq2k.connect.bigquery;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldList;
import com.google.cloud.bigquery.FieldValueList;
import com.google.cloud.bigquery.Schema;
import com.google.cloud.bigquery.StandardTableDefinition;
import com.google.cloud.bigquery.Table;
import com.google.cloud.bigquery.TableId;

/**
 * The steps of a run in BigQuery — snapshot, check, diff, stats, read — and the housekeeping of
 * staging tables, with the SQL of {@link SyncSql}. Each step is idempotent (a table named by sync
 * and run, created or replaced), so a step that failed transiently is simply run again.
 */
public final class BigQueryRunSteps implements RunSteps {

    /** Label on every staging table: the owner mark, a hash of the connector name. */
    static final String OWNER_LABEL = "bq2k_owner";

    private final SyncConfig config;
    private final String sync;
    private final BigQueryGateway gateway;
    private final ChangeReader reader;
    /** Names of the tables the steps write: the sync's own, or a dry run's ({@link #dryRun}). */
    private final StagingTables staging;
    /** Names of the sync's own tables, which a diff's old side reads. */
    private final StagingTables syncTables;
    /** The owner mark of the tables and jobs these steps create. */
    private final String owner;
    private final SyncSql sql;
    private final QueryJobs jobs;

    public BigQueryRunSteps(SyncConfig config, BigQueryGateway gateway, ChangeReader reader) {
        this(config, gateway, reader, jobsOf(config, gateway, config.syncName()));
    }

    BigQueryRunSteps(SyncConfig config, BigQueryGateway gateway, ChangeReader reader, QueryJobs jobs) {
        this(config, gateway, reader, new StagingTables(config.stagingDataset(), config.syncName()), config.ownerId(), jobs);
    }

    private BigQueryRunSteps(SyncConfig config, BigQueryGateway gateway, ChangeReader reader, StagingTables staging, String owner, QueryJobs jobs) {
        this.config = config;
        this.sync = config.syncName();
        this.gateway = gateway;
        this.reader = reader;
        this.staging = staging;
        this.syncTables = new StagingTables(config.stagingDataset(), sync);
        this.owner = owner;
        this.sql = staging.equals(syncTables) ? new SyncSql(staging, config.keyColumns(), config.stagingExpirationHours())
            : SyncSql.dryRun(staging, syncTables, config.keyColumns(), config.stagingExpirationHours());
        this.jobs = jobs;
    }

    private static QueryJobs jobsOf(SyncConfig config, BigQueryGateway gateway, String sync) {
        return new QueryJobs(gateway.jobService(), gateway.retrier(), sync, java.time.Clock.systemUTC(), Thread::sleep, config.jobTimeoutMs(), JOB_WAIT_MS);
    }

    /**
     * The steps of a dry run of the sync ({@link DryRun}): they write the tables of {@link StagingTables#dryRun}
     * (which the sync's planner, cleanup and validation do not take for the sync's), compare with the sync's own
     * tables, never make a table durable, and mark tables and jobs with an owner of their own, so that a task of the
     * sync starting meanwhile does not cancel the dry run's jobs (nor the dry run the task's). Reading changes is not
     * part of a dry run.
     */
    public static BigQueryRunSteps dryRun(SyncConfig config, BigQueryGateway gateway, String marker) {
        StagingTables scratch = new StagingTables(config.stagingDataset(), config.syncName()).dryRun(marker);
        return new BigQueryRunSteps(config, gateway, null, scratch, RecordContract.shortHash("dry-run:" + config.connectorName() + ":" + marker),
            jobsOf(config, gateway, scratch.sync()));
    }

    private boolean isDryRun() {
        return !staging.equals(syncTables);
    }

    /** How long one step waits for its job before the poll returns (the step follows the job at the next poll). */
    static final long JOB_WAIT_MS = 500;

    @Override
    public StagingTables staging() {
        return staging;
    }

    @Override
    public void ensureStagingDataset() {
        gateway.ensureDataset(staging.dataset(), config.createStagingDataset());
    }

    @Override
    public void settleOrphanJobs() {
        if (isDryRun()) {
            throw new IllegalStateException("a dry run leaves the sync's jobs alone");
        }
        List<String> cancelled = gateway.cancelAndAwaitJobs(OWNER_LABEL, config.ownerId(), 600_000);
        if (!cancelled.isEmpty()) {
            org.slf4j.LoggerFactory.getLogger(BigQueryRunSteps.class).warn(
                "Sync '{}': cancelled {} BigQuery job(s) an earlier task instance left running: {}", sync, cancelled.size(), cancelled);
        }
    }

    @Override
    public List<StagedTable> stagedTables() {
        List<StagedTable> tables = new ArrayList<>();
        for (String name : gateway.tableNames(staging.dataset(), staging.prefix())) {
            OptionalLong snap = staging.snapshotRun(name);
            OptionalLong diff = staging.diffRun(name);
            if (snap.isEmpty() && diff.isEmpty()) {
                continue;
            }
            TableRef ref = staging.dataset().table(name);
            // tables.list does not return labels everywhere: read each table (a sync keeps a handful).
            Optional<Table> t = gateway.table(ref);
            if (t.isEmpty()) {
                continue; // dropped since the listing
            }
            Map<String, String> labels = t.get().getLabels();
            String owner = labels == null ? null : labels.get(OWNER_LABEL);
            long rows = snap.isPresent() && t.get().getNumRows() != null ? t.get().getNumRows().longValue() : 0;
            String abandonedAt = labels == null ? null : labels.get(StagedTable.ABANDONED_LABEL);
            boolean abandoned = abandonedAt != null && abandonedAt.equals(String.valueOf(t.get().getCreationTime()));
            tables.add(new StagedTable(ref, snap.isPresent() ? StagedTable.Kind.SNAPSHOT : StagedTable.Kind.DIFF,
                snap.isPresent() ? snap.getAsLong() : diff.getAsLong(), owner, rows, StagedTable.keysOf(t.get().getDescription()),
                StagedTable.keyTypesOf(t.get().getDescription()), abandoned,
                t.get().getCreationTime() == null ? 0 : t.get().getCreationTime()));
        }
        return tables;
    }

    @Override
    public long snapshot(long run) {
        return jobs.scope(() -> {
            long bytes;
            try {
                bytes = ddl("snapshot of run " + run, "snapshot", run, sql.snapshot(run, config.sourceQuery()));
            } catch (Retrier.PermanentException e) {
                throw new RunFailure(sync, "the query failed in BigQuery, nothing was emitted: " + Retrier.describe(e)
                    + ". Fix the query (config '" + (config.query().isEmpty() ? SyncConfig.TABLE : SyncConfig.QUERY) + "'); the next run starts from the same baseline.", e);
            }
            markOwned(staging.snapshot(run), run, config.keyColumns(), null);
            return bytes;
        });
    }

    @Override
    public void emptySnapshotLike(long run, TableRef from, List<String> keys) {
        jobs.scope(() -> {
            ddl("empty snapshot of re-key run " + run, "snapshot", run, sql.emptySnapshotLike(run, from));
            markOwned(staging.snapshot(run), run, keys, null);
            return null;
        });
    }

    /** A statement's job, followed to its end across polls; returns the bytes it processed. */
    private long ddl(String what, String step, long run, String statement) {
        return jobs.run(what, step, run, statement, labels(run, step), false).bytesProcessed();
    }

    /** A small SELECT's job, followed to its end across polls; returns every row. */
    private List<FieldValueList> select(String what, String step, long run, String query) {
        return jobs.run(what, step, run, query, labels(run, step), true).rows();
    }

    @Override
    public void cancelRunningJobs() {
        jobs.cancelRunning();
    }

    @Override
    public Optional<FieldList> schema(TableRef table) {
        return gateway.table(table).map(t -> t.<StandardTableDefinition>getDefinition().getSchema()).map(Schema::getFields);
    }

    @Override
    public KeyCheck checkKeys(long run) {
        FieldValueList row = select("key check of run " + run, "check", run, sql.keyCheck(run)).get(0);
        return new KeyCheck(longOrZero(row, "row_count"), longOrZero(row, "null_keys"), longOrZero(row, "duplicate_keys"),
            textOrNull(row, "null_example"), textOrNull(row, "duplicate_example"));
    }

    private static String textOrNull(FieldValueList row, String column) {
        return row.get(column).isNull() ? null : row.get(column).getStringValue();
    }

    private RunFailure oversizeFailure(long run, RecordShape shape, long oversize, int maxRowBytes) {
        List<ColumnMapping> columns = shape.columns();
        SyncSql keyed = sql.forKeys(shape.keyColumns().stream().map(ColumnMapping::name).toList());
        FieldValueList largest = select("largest change of run " + run, "largest", run, keyed.largestChange(run, columns)).get(0);
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

    @Override
    public long diff(long run, SyncSql.OldSide oldSide, RecordShape shape) {
        // Joined on the shape's key: a re-key run's is the old key, not the configured one.
        List<String> keys = shape.keyColumns().stream().map(ColumnMapping::name).toList();
        return jobs.scope(() -> {
            long maxChanges = maxChanges(run, oldSide);
            int buckets = SyncSql.bucketsFor(maxChanges, config.diffBuckets());
            org.slf4j.LoggerFactory.getLogger(BigQueryRunSteps.class).info("Sync '{}': the diff of run {} numbers its changes in {} bucket(s) "
                + "(at most {} changes: the rows of the tables it compares)", sync, run, buckets, maxChanges);
            long bytes = ddl("diff of run " + run, "diff", run, sql.forKeys(keys).diff(run, oldSide, shape.columns(), buckets));
            if (!oldSide.reexamine().isEmpty() && !isDryRun()) {
                // It records what earlier attempts published: durable now, whatever the dataset's default expiration.
                ddl("make the diff of run " + run + " durable", "durable_diff", run, SyncSql.makeDurable(staging.diff(run)));
            }
            markOwned(staging.diff(run), run, keys, shape.keyColumns().stream().map(ColumnMapping::bigQueryType).toList());
            return bytes;
        });
    }

    /**
     * An upper bound of the changes of run {@code run}'s diff, from the tables' metadata: the rows of its snapshot
     * (the key check's row count) plus those of every table of the old side, since each change is a key of one or
     * the other.
     */
    private long maxChanges(long run, SyncSql.OldSide oldSide) {
        List<java.math.BigInteger> rows = new ArrayList<>();
        rows.add(gateway.table(staging.snapshot(run)).map(Table::getNumRows).orElse(null));
        for (TableRef t : oldSide.tables(syncTables)) {
            rows.add(gateway.table(t).map(Table::getNumRows).orElse(null));
        }
        return maxChanges(rows);
    }

    /**
     * The sum of the tables' row counts; a count that is unknown (null) counts as {@link SyncSql#MAX_BUCKETS} full
     * buckets, so a missing figure can only make buckets smaller, never larger than intended.
     */
    static long maxChanges(List<java.math.BigInteger> rowCounts) {
        long n = 0;
        for (java.math.BigInteger rows : rowCounts) {
            long r = rows == null ? SyncSql.MAX_BUCKETS * SyncSql.CHANGES_PER_BUCKET : rows.min(java.math.BigInteger.valueOf(Long.MAX_VALUE)).longValue();
            n = n > Long.MAX_VALUE - r ? Long.MAX_VALUE : n + r;
        }
        return n;
    }

    /**
     * The bucket count is read from the table itself (the highest bucket with changes). Byte parts bound the
     * chunks by {@code read.chunk.bytes} ({@link SyncSql#diffStats}); the result has one row per part, so it is
     * read in one retried call.
     */
    @Override
    public DiffStats stats(long run, RecordShape shape) {
        return jobs.scope(() -> statsOf(run, shape));
    }

    private DiffStats statsOf(long run, RecordShape shape) {
        int maxRowBytes = config.recordMaxBytes();
        List<StatsRow> rows = select("diff stats of run " + run, "stats", run, sql.diffStats(run, maxRowBytes, config.readChunkBytes())).stream()
            .map(r -> new StatsRow(new DiffStats.Part((int) r.get("bucket").getLongValue(), r.get("last_seq").getLongValue(),
                r.get("changes").getLongValue(), r.get("added").getLongValue(), r.get("changed").getLongValue(), r.get("removed").getLongValue()),
                r.get("oversize").getLongValue())).toList();
        long oversize = rows.stream().mapToLong(StatsRow::oversize).sum();
        if (oversize > 0) {
            throw oversizeFailure(run, shape, oversize, maxRowBytes);
        }
        List<DiffStats.Part> parts = rows.stream().map(StatsRow::part).toList();
        return DiffStats.of(parts);
    }

    private record StatsRow(DiffStats.Part part, long oversize) { }

    @Override
    public void makeDurable(long run) {
        if (isDryRun()) {
            throw new IllegalStateException("a dry run's tables keep their expiration");
        }
        jobs.scope(() -> {
            ddl("make the snapshot of run " + run + " durable", "durable_snapshot", run, SyncSql.makeDurable(staging.snapshot(run)));
            ddl("make the diff of run " + run + " durable", "durable_diff", run, SyncSql.makeDurable(staging.diff(run)));
            return null;
        });
    }

    /**
     * The owner mark (a table carrying another connector's is refused by {@link Planner}) and the key
     * columns its rows are published under (a later run re-examining it needs them).
     */
    private void markOwned(TableRef table, long run, List<String> keys, List<String> keyTypes) {
        gateway.label(table, Map.of(OWNER_LABEL, owner), StagedTable.describe(config.connectorName(), staging.sync(), run, keys, keyTypes));
    }

    @Override
    public long created(TableRef table) {
        Table t = gateway.table(table).orElseThrow(() -> new Retrier.PermanentException("Not found: Table " + table, null));
        return t.getCreationTime() == null ? 0 : t.getCreationTime();
    }

    @Override
    public void markAbandoned(long run) {
        TableRef diff = staging.diff(run);
        Table t = gateway.table(diff).orElseThrow(() -> new IllegalStateException("diff table " + diff + " is gone"));
        Map<String, String> labels = new java.util.HashMap<>(t.getLabels() == null ? Map.of() : t.getLabels());
        labels.put(StagedTable.ABANDONED_LABEL, String.valueOf(t.getCreationTime()));
        gateway.label(diff, labels, t.getDescription());
    }

    @Override
    public void drop(TableRef table) {
        gateway.dropTable(table);
    }

    @Override
    public List<SampleKey> sampleKeys(long run, int perOperation) {
        return select("sample keys of run " + run, "samples", run, sql.sampleKeys(run, perOperation)).stream()
            .map(r -> new SampleKey(r.get("op").getStringValue(), r.get("key").getStringValue())).toList();
    }

    @Override
    public long bytesProcessed() {
        return jobs.bytesProcessed();
    }

    @Override
    public List<RecordShape.Change> read(long run, Chunk chunk, RecordShape shape) {
        return reader.read(staging.diff(run), chunk, shape);
    }

    @Override
    public UnchangedInputs inputs() {
        String call = UnchangedInputs.nonDeterministicCall(config.sourceQuery());
        if (call != null) {
            return UnchangedInputs.notSafe("the query calls " + call + ", whose result changes without any table changing");
        }
        try {
            List<TableId> refs = gateway.dryRun(config.sourceQuery()).referencedTables();
            if (refs.isEmpty()) {
                return UnchangedInputs.notSafe("BigQuery lists no table the query reads");
            }
            if (refs.size() >= UnchangedInputs.LISTED_TABLES_LIMIT) {
                return UnchangedInputs.notSafe("the query reads " + refs.size() + " tables or more, and BigQuery lists at most "
                    + UnchangedInputs.LISTED_TABLES_LIMIT);
            }
            Map<String, Long> inputs = new TreeMap<>();
            for (TableId id : refs) {
                String name = id.getProject() + "." + id.getDataset() + "." + id.getTable();
                Table t = gateway.table(id).orElse(null);
                if (t == null || t.getLastModifiedTime() == null) {
                    return UnchangedInputs.notSafe("the last change of " + name + " is not known");
                }
                if (name.endsWith("*") || !(t.getDefinition() instanceof StandardTableDefinition)) {
                    return UnchangedInputs.notSafe(name + " is a " + (name.endsWith("*") ? "wildcard table" : t.getDefinition().getType())
                        + ", whose content changes without its last-modified time");
                }
                inputs.put(name, t.getLastModifiedTime());
            }
            return UnchangedInputs.safe(inputs);
        } catch (Retrier.PermanentException e) {
            return UnchangedInputs.notSafe("the dry run failed (the snapshot step reports it)");
        }
    }

    private Map<String, String> labels(long run, String step) {
        // A label value has at most 63 characters: a dry run's name is the sync's plus 15.
        String syncLabel = staging.sync().toLowerCase(java.util.Locale.ROOT);
        syncLabel = syncLabel.length() > 63 ? syncLabel.substring(0, 63) : syncLabel;
        return Map.of("bq2k_sync", syncLabel, "bq2k_run", Long.toString(run), "bq2k_step", step,
            OWNER_LABEL, owner);
    }
}
