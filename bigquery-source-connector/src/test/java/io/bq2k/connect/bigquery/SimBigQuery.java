package io.bq2k.connect.bigquery;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.TreeMap;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldList;
import com.google.cloud.bigquery.StandardSQLTypeName;

/**
 * An in-memory model of what the connector needs from BigQuery, for the simulation test: one staging
 * dataset shared by every simulated sync (tables with expiration, owner labels, loss and restore by
 * "time travel"), each sync's upstream table, and the snapshot/check/diff/stats/read semantics of
 * {@link SyncSql} in Java. Values are held in BigQuery's text form, so rows reach records through
 * the same {@link ColumnMapping#fromText} as the REST read path.
 */
final class SimBigQuery {

    static final DatasetRef DATASET = new DatasetRef("sim", "stage");
    /**
     * The simulation's tables hold tens to hundreds of rows: a diff takes a bucket per 50 rows (BigQuery: per
     * {@link SyncSql#CHANGES_PER_BUCKET}), so runs have one to {@code diff.buckets} buckets and resume across them.
     */
    static final long CHANGES_PER_BUCKET = 50;
    /**
     * And its rows are some 130 bytes as JSON: byte parts are cut at {@code read.chunk.bytes} / 1000 (the default
     * 8 MiB then stands for about 60 rows, the minimum 1 MiB for 8), so that chunks are bounded by bytes as often
     * as by {@code read.chunk.rows} (100 to 150 in the simulation).
     */
    static final long CHUNK_BYTES_SCALE = 1000;

    /** A deterministic clock the test moves; the runner's waits move it too. */
    static final class SimClock extends Clock {
        long millis = 1_700_000_000_000L;

        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return Instant.ofEpochMilli(millis); }
        @Override public long millis() { return millis; }
    }

    /** A table of the staging dataset: schema, rows of text values, expiration and owner. */
    static final class Table {
        final FieldList schema;
        final List<String[]> rows;
        Long expiresAtMs;
        String owner;
        List<String> keys;
        List<String> keyTypes;
        final long createdAt = ++created;
        Long abandonedAt;

        Table(FieldList schema, List<String[]> rows, Long expiresAtMs) {
            this.schema = schema;
            this.rows = rows;
            this.expiresAtMs = expiresAtMs;
        }

        int index(String column) {
            for (int i = 0; i < schema.size(); i++) {
                if (schema.get(i).getName().equals(column)) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** One sync's upstream: rows by id, and how its query presents them. */
    static final class Source {
        final TreeMap<Long, String[]> rows = new TreeMap<>(); // id -> grp, name, ts, attrs
        boolean idAsString;
        boolean duplicateKey;
        long version;
        long nextId = 1;

        FieldList schema() {
            return FieldList.of(Field.of("id", idAsString ? StandardSQLTypeName.STRING : StandardSQLTypeName.INT64),
                Field.of("grp", StandardSQLTypeName.STRING), Field.of("name", StandardSQLTypeName.STRING),
                Field.of("ts", StandardSQLTypeName.TIMESTAMP), Field.of("attrs", StandardSQLTypeName.JSON));
        }

        /** The query result: id, grp, name, ts, attrs. */
        List<String[]> result() {
            List<String[]> out = new ArrayList<>();
            rows.forEach((id, r) -> out.add(new String[] {Long.toString(id), r[0], r[1], r[2], r[3]}));
            if (duplicateKey && !out.isEmpty()) {
                out.add(out.get(0).clone());
            }
            return out;
        }

        void put(long id, Random random, long epoch) {
            rows.put(id, new String[] {"g" + (id % 3), random.nextInt(5) == 0 ? null : "n" + id + "-" + epoch,
                Long.toString(1_700_000_000_000_000L + id * 1_000_003L + epoch * 7 + random.nextInt(999)), "{\"e\":" + epoch + "}"});
            version++;
        }

        void insert(int n, Random random) {
            for (int i = 0; i < n; i++) {
                put(nextId++, random, 0);
            }
        }
    }

    static long created;
    final SimClock clock = new SimClock();
    final Map<String, Table> tables = new TreeMap<>();
    /** Dropped tables by name, for the operator's "restore with time travel". */
    final Map<String, Table> dropped = new HashMap<>();
    final Map<String, Source> sources = new HashMap<>();
    /** The upstream version each run's snapshot was taken at, per sync prefix and run. */
    final Map<String, Long> snapshotVersion = new HashMap<>();
    final Random faults;
    /** For failure reports: per diff created, "table#version: op key" lines. */
    final List<String> diffLog = new ArrayList<>();
    double transientErrorRate;
    /** Probability that a job step finds its job still running. */
    double stillRunningRate;

    SimBigQuery(long seed) {
        this.faults = new Random(seed * 31 + 7);
    }

    Source source(String name) {
        return sources.computeIfAbsent(name, n -> new Source());
    }

    void expire() {
        tables.values().removeIf(t -> t.expiresAtMs != null && t.expiresAtMs <= clock.millis);
    }

    void drop(String name) {
        Table t = tables.remove(name);
        if (t != null) {
            dropped.put(name, t);
        }
    }

    /** Restores every dropped table that is still missing (BigQuery's time travel, in the operator's hands). */
    int restoreDropped() {
        int n = 0;
        for (Map.Entry<String, Table> e : dropped.entrySet()) {
            if (!tables.containsKey(e.getKey())) {
                tables.put(e.getKey(), e.getValue());
                n++;
            }
        }
        dropped.clear();
        return n;
    }

    /** {@link RunSteps} of one sync against this model. */
    RunSteps steps(SyncConfig config, String sourceName) {
        return new Steps(config, source(sourceName), new StagingTables(DATASET, config.syncName()), config.ownerId());
    }

    /** The steps of a dry run of one sync ({@link BigQueryRunSteps#dryRun}): tables of its own, compared with the sync's. */
    RunSteps dryRunSteps(SyncConfig config, String sourceName, String marker) {
        return new Steps(config, source(sourceName), new StagingTables(DATASET, config.syncName()).dryRun(marker), "dry-run-" + marker);
    }

    private final class Steps implements RunSteps {
        final SyncConfig config;
        final Source source;
        /** The tables these steps write. */
        final StagingTables staging;
        /** The sync's own tables, which a diff's old side reads. */
        final StagingTables syncTables;
        final String owner;
        final boolean dryRun;

        Steps(SyncConfig config, Source source, StagingTables staging, String owner) {
            this.config = config;
            this.source = source;
            this.staging = staging;
            this.syncTables = new StagingTables(DATASET, config.syncName());
            this.owner = owner;
            this.dryRun = !staging.equals(syncTables);
        }

        /**
         * A step that runs a BigQuery job: besides transient errors, the job may not be done yet when the step
         * first looks (the task's poll returns, and the step is called again later).
         */
        private void job(String what) {
            call(what);
            if (stillRunningRate > 0 && faults.nextDouble() < stillRunningRate) {
                throw new JobStillRunning(what, "sim_" + what.replace(' ', '_'), 0);
            }
        }

        private void call(String what) {
            expire();
            if (transientErrorRate > 0 && faults.nextDouble() < transientErrorRate) {
                throw new Retrier.TransientException(what + " failed with a simulated 503", null);
            }
        }

        private Table require(TableRef ref) {
            Table t = tables.get(ref.table());
            if (t == null) {
                throw new Retrier.PermanentException("Not found: Table " + ref, null);
            }
            return t;
        }

        private Long expiry() {
            return clock.millis + config.stagingExpirationHours() * 3_600_000L;
        }

        @Override
        public StagingTables staging() {
            return staging;
        }

        @Override
        public void ensureStagingDataset() {
            call("check dataset");
        }

        @Override
        public void settleOrphanJobs() {
            call("list jobs"); // the model's statements are instantaneous: none outlives its task
        }

        @Override
        public List<StagedTable> stagedTables() {
            call("list tables");
            List<StagedTable> out = new ArrayList<>();
            tables.forEach((name, t) -> {
                OptionalLong snap = staging.snapshotRun(name);
                OptionalLong diff = staging.diffRun(name);
                if (snap.isPresent() || diff.isPresent()) {
                    out.add(new StagedTable(DATASET.table(name), snap.isPresent() ? StagedTable.Kind.SNAPSHOT : StagedTable.Kind.DIFF,
                        snap.isPresent() ? snap.getAsLong() : diff.getAsLong(), t.owner, snap.isPresent() ? t.rows.size() : 0, t.keys, t.keyTypes,
                        t.abandonedAt != null && t.abandonedAt == t.createdAt, t.createdAt));
                }
            });
            return out;
        }

        @Override
        public long snapshot(long run) {
            job("snapshot");
            List<String[]> rows = new ArrayList<>();
            for (String[] r : source.result()) {
                String[] withFp = java.util.Arrays.copyOf(r, r.length + 1);
                withFp[r.length] = md5(String.join("\u0001", java.util.Arrays.stream(r).map(v -> v == null ? "\u0000" : v).toList()));
                rows.add(withFp);
            }
            List<Field> fields = new ArrayList<>(source.schema());
            fields.add(Field.of(SyncSql.FINGERPRINT, StandardSQLTypeName.BYTES));
            Table t = new Table(FieldList.of(fields), rows, expiry());
            t.owner = owner;
            t.keys = config.keyColumns();
            tables.put(staging.snapshot(run).table(), t);
            snapshotVersion.put(staging.prefix() + run, source.version);
            return 0;
        }

        @Override
        public void emptySnapshotLike(long run, TableRef fromRef, List<String> keys) {
            job("empty snapshot");
            Table from = require(fromRef);
            boolean diff = syncTables.diffRun(fromRef.table()).isPresent();
            List<Field> fields = new ArrayList<>(diff ? from.schema.subList(ChangeReader.LEADING_COLUMNS, from.schema.size()) : from.schema);
            if (diff) {
                fields.add(Field.of(SyncSql.FINGERPRINT, StandardSQLTypeName.BYTES));
            }
            FieldList schema = FieldList.of(fields);
            Table t = new Table(schema, new ArrayList<>(), expiry());
            t.owner = owner;
            t.keys = keys;
            tables.put(staging.snapshot(run).table(), t);
            snapshotVersion.put(staging.prefix() + run, -1L);
        }

        @Override
        public Optional<FieldList> schema(TableRef table) {
            call("get table");
            return Optional.ofNullable(tables.get(table.table())).map(t -> t.schema);
        }

        @Override
        public KeyCheck checkKeys(long run) {
            job("key check");
            Table t = require(staging.snapshot(run));
            int[] keys = config.keyColumns().stream().mapToInt(t::index).toArray();
            Map<String, Integer> counts = new TreeMap<>();
            long nulls = 0;
            String nullExample = null;
            for (String[] r : t.rows) {
                String k = keyText(r, keys);
                if (java.util.Arrays.stream(keys).anyMatch(i -> r[i] == null)) {
                    nulls++;
                    nullExample = nullExample == null ? k : nullExample;
                }
                counts.merge(k, 1, Integer::sum);
            }
            String dupExample = counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).findFirst().orElse(null);
            return new KeyCheck(t.rows.size(), nulls, counts.values().stream().filter(c -> c > 1).count(), nullExample, dupExample);
        }

        @Override
        public long diff(long run, SyncSql.OldSide oldSide, RecordShape shape) {
            job("diff");
            Table n = require(staging.snapshot(run));
            List<String> keyNames = shape.keyColumns().stream().map(ColumnMapping::name).toList();
            int[] nKeys = indexes(n, keyNames);
            // The old side: key -> fingerprint (null: re-examine whatever the fingerprint).
            Map<String, String[]> oldKeys = new LinkedHashMap<>();
            Map<String, String> oldFp = new HashMap<>();
            if (oldSide.baseline().isPresent()) {
                Table b = require(syncTables.snapshot(oldSide.baseline().getAsLong()));
                int[] bKeys = indexes(b, keyNames);
                sameKeyTypes(n, nKeys, b, bKeys);
                int fp = b.index(SyncSql.FINGERPRINT);
                for (String[] r : b.rows) {
                    String k = keyText(r, bKeys);
                    oldKeys.putIfAbsent(k, pick(r, bKeys));
                    oldFp.put(k, r[fp]);
                }
            }
            for (TableRef ref : oldSide.reexamine()) {
                Table x = require(ref);
                int[] xKeys = indexes(x, keyNames);
                sameKeyTypes(n, nKeys, x, xKeys);
                for (String[] r : x.rows) {
                    String k = keyText(r, xKeys);
                    oldKeys.putIfAbsent(k, pick(r, xKeys));
                    oldFp.put(k, null);
                }
            }
            int nFp = n.index(SyncSql.FINGERPRINT);
            // Buckets from an upper bound of the changes: the snapshot's rows plus the old side's (BigQueryRunSteps.maxChanges).
            long maxChanges = n.rows.size();
            for (TableRef ref : oldSide.tables(syncTables)) {
                maxChanges += require(ref).rows.size();
            }
            int buckets = SyncSql.bucketsFor(maxChanges, CHANGES_PER_BUCKET, config.diffBuckets());
            List<String> columns = shape.columns().stream().map(ColumnMapping::name).toList();
            int[] nCols = indexes(n, columns);
            List<Object[]> changes = new ArrayList<>(); // bucket, op, key text, values, row bytes
            Map<String, Boolean> seen = new HashMap<>();
            for (String[] r : n.rows) {
                String k = keyText(r, nKeys);
                seen.put(k, true);
                String op;
                if (!oldKeys.containsKey(k)) {
                    op = SyncSql.OP_ADDED;
                } else if (oldFp.get(k) == null || !oldFp.get(k).equals(r[nFp])) {
                    op = SyncSql.OP_CHANGED;
                } else {
                    continue;
                }
                changes.add(new Object[] {bucket(k, buckets), op, k, pick(r, nCols), jsonBytes(n.schema, r)});
            }
            for (Map.Entry<String, String[]> e : oldKeys.entrySet()) {
                if (!seen.containsKey(e.getKey())) {
                    String[] values = new String[columns.size()];
                    for (int i = 0; i < keyNames.size(); i++) {
                        values[columns.indexOf(keyNames.get(i))] = e.getValue()[i];
                    }
                    changes.add(new Object[] {bucket(e.getKey(), buckets), SyncSql.OP_REMOVED, e.getKey(), values, 0L});
                }
            }
            // ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY op, key)
            changes.sort(Comparator.<Object[]>comparingInt(c -> (Integer) c[0]).thenComparing(c -> (String) c[1]).thenComparing(c -> (String) c[2]));
            List<String[]> rows = new ArrayList<>();
            int bucket = -1;
            long seq = 0;
            for (Object[] c : changes) {
                seq = (Integer) c[0] == bucket ? seq + 1 : 1;
                bucket = (Integer) c[0];
                String[] values = (String[]) c[3];
                String[] row = new String[ChangeReader.LEADING_COLUMNS + values.length];
                row[0] = Integer.toString(bucket);
                row[1] = Long.toString(seq);
                row[2] = (String) c[1];
                row[3] = Long.toString((Long) c[4]);
                System.arraycopy(values, 0, row, ChangeReader.LEADING_COLUMNS, values.length);
                rows.add(row);
            }
            List<Field> fields = new ArrayList<>(List.of(Field.of(SyncSql.BUCKET, StandardSQLTypeName.INT64),
                Field.of(SyncSql.SEQ, StandardSQLTypeName.INT64), Field.of(SyncSql.OP, StandardSQLTypeName.STRING),
                Field.of("_bq2k_bytes", StandardSQLTypeName.INT64)));
            shape.columns().forEach(c -> fields.add(n.schema.get(n.index(c.name()))));
            Table d = new Table(FieldList.of(fields), rows, oldSide.reexamine().isEmpty() || dryRun ? expiry() : null);
            for (Object[] c : changes) {
                diffLog.add(staging.diff(run).table() + "#" + d.createdAt + " (old side " + oldSide + "): " + c[1] + " " + c[2]);
            }
            d.owner = owner;
            d.keys = keyNames;
            d.keyTypes = shape.keyColumns().stream().map(ColumnMapping::bigQueryType).toList();
            tables.put(staging.diff(run).table(), d);
            return 0;
        }

        @Override
        public DiffStats stats(long run, RecordShape shape) {
            job("diff stats");
            Table d = require(staging.diff(run));
            // SyncSql.diffStats: per bucket, part k holds the rows whose bytes before them in the bucket are in [k, k + 1) chunk budgets.
            long budget = config.readChunkBytes() / CHUNK_BYTES_SCALE;
            TreeMap<Long, long[]> parts = new TreeMap<>(); // (bucket << 32 | part) -> last seq, changes, added, changed, removed
            Map<Integer, Long> bytesBefore = new HashMap<>();
            List<String[]> inOrder = new ArrayList<>(d.rows);
            inOrder.sort(Comparator.<String[]>comparingInt(r -> Integer.parseInt(r[0])).thenComparingLong(r -> Long.parseLong(r[1])));
            for (String[] r : inOrder) {
                int b = Integer.parseInt(r[0]);
                long before = bytesBefore.getOrDefault(b, 0L);
                bytesBefore.put(b, before + Long.parseLong(r[3]));
                long[] p = parts.computeIfAbsent(((long) b << 32) | (before / budget), x -> new long[5]);
                p[0] = Math.max(p[0], Long.parseLong(r[1]));
                p[1]++;
                switch (r[2]) {
                    case SyncSql.OP_ADDED -> p[2]++;
                    case SyncSql.OP_CHANGED -> p[3]++;
                    default -> p[4]++;
                }
            }
            List<DiffStats.Part> out = new ArrayList<>();
            parts.forEach((k, p) -> out.add(new DiffStats.Part((int) (k >>> 32), p[0], p[1], p[2], p[3], p[4])));
            return DiffStats.of(out);
        }

        @Override
        public void makeDurable(long run) {
            job("make durable");
            require(staging.snapshot(run)).expiresAtMs = null;
            require(staging.diff(run)).expiresAtMs = null;
        }

        @Override
        public long created(TableRef table) {
            call("get table");
            return require(table).createdAt;
        }

        @Override
        public void markAbandoned(long run) {
            Table d = require(staging.diff(run)); // no injected failure: see the closing note of issue 9
            d.abandonedAt = d.createdAt;
        }

        @Override
        public void drop(TableRef table) {
            call("drop table");
            tables.remove(table.table());
        }

        @Override
        public List<RecordShape.Change> read(long run, Chunk chunk, RecordShape shape) {
            call("read");
            Table d = require(staging.diff(run));
            List<ColumnMapping> columns = shape.columns();
            List<RecordShape.Change> out = new ArrayList<>();
            for (String[] r : d.rows) {
                long seq = Long.parseLong(r[1]);
                if (Integer.parseInt(r[0]) == chunk.bucket() && seq >= chunk.firstSeq() && seq <= chunk.lastSeq()) {
                    Object[] values = new Object[columns.size()];
                    for (int i = 0; i < values.length; i++) {
                        values[i] = columns.get(i).fromText(r[ChangeReader.LEADING_COLUMNS + i]);
                    }
                    out.add(shape.change(seq, r[2], values));
                }
            }
            return out;
        }

        @Override
        public List<SampleKey> sampleKeys(long run, int perOperation) {
            job("sample keys");
            Table d = require(staging.diff(run));
            List<String[]> inOrder = new ArrayList<>(d.rows);
            inOrder.sort(Comparator.<String[]>comparingInt(r -> Integer.parseInt(r[0])).thenComparingLong(r -> Long.parseLong(r[1])));
            List<String> keys = d.keys;
            Map<String, List<SampleKey>> byOp = new TreeMap<>();
            for (String[] r : inOrder) {
                List<SampleKey> op = byOp.computeIfAbsent(r[2], o -> new ArrayList<>());
                if (op.size() < perOperation) {
                    StringBuilder json = new StringBuilder("{");
                    for (String k : keys) {
                        int i = d.index(k);
                        boolean number = d.schema.get(i).getType().getStandardType() == StandardSQLTypeName.INT64;
                        json.append(json.length() > 1 ? "," : "").append('"').append(k).append("\":")
                            .append(r[i] == null ? "null" : number ? r[i] : "\"" + r[i] + "\"");
                    }
                    op.add(new SampleKey(r[2], json.append('}').toString()));
                }
            }
            List<SampleKey> out = new ArrayList<>();
            byOp.values().forEach(out::addAll);
            return out;
        }

        @Override
        public long bytesProcessed() {
            return 0; // the model bills nothing
        }

        @Override
        public UnchangedInputs inputs() {
            return UnchangedInputs.notSafe("the simulation never skips");
        }

        /** BigQuery refuses to join keys of different types. */
        private void sameKeyTypes(Table n, int[] nKeys, Table o, int[] oKeys) {
            for (int i = 0; i < nKeys.length; i++) {
                if (n.schema.get(nKeys[i]).getType() != o.schema.get(oKeys[i]).getType()) {
                    throw new Retrier.PermanentException("No matching signature for operator = for argument types: "
                        + n.schema.get(nKeys[i]).getType() + ", " + o.schema.get(oKeys[i]).getType(), null);
                }
            }
        }

        private int[] indexes(Table t, List<String> names) {
            int[] idx = new int[names.size()];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = t.index(names.get(i));
                if (idx[i] < 0) {
                    throw new Retrier.PermanentException("Unrecognized name: " + names.get(i), null);
                }
            }
            return idx;
        }
    }

    private static String[] pick(String[] row, int[] idx) {
        String[] out = new String[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = row[idx[i]];
        }
        return out;
    }

    /** About BYTE_LENGTH(TO_JSON_STRING(row)) of a snapshot row: {"name":value,...}. */
    private static long jsonBytes(FieldList schema, String[] row) {
        long n = 2;
        for (int i = 0; i < row.length; i++) {
            n += schema.get(i).getName().getBytes(StandardCharsets.UTF_8).length + 4
                + (row[i] == null ? 4 : row[i].getBytes(StandardCharsets.UTF_8).length + 2);
        }
        return n;
    }

    private static String keyText(String[] row, int[] keys) {
        StringBuilder b = new StringBuilder();
        for (int k : keys) {
            b.append(row[k]).append('\u0001');
        }
        return b.toString();
    }

    private static int bucket(String key, int buckets) {
        return Math.floorMod(md5(key).hashCode(), buckets);
    }

    static String md5(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
