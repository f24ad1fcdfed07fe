package io.bq2k.connect.bigquery;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The configuration of one sync (one connector instance): the single {@link ConfigDef} of the
 * connector, with docs, groups and validators. The config reference in the README is generated
 * from {@link #CONFIG_DEF} by {@link ConfigDocs}.
 */
public final class SyncConfig extends AbstractConfig {

    /** BigQuery identifiers we splice into SQL (dataset, sync name): letters, digits, underscores. */
    static final Pattern SIMPLE_IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,1023}");
    /** A project id as BigQuery accepts it (with an optional "domain:" prefix). */
    static final Pattern PROJECT_ID = Pattern.compile("([a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{1,61}[a-z0-9]");

    public static final String GROUP_BIGQUERY = "BigQuery";
    public static final String GROUP_SYNC = "Sync";
    public static final String GROUP_SCHEDULE = "Schedule";
    public static final String GROUP_SAFETY = "Safety";
    public static final String GROUP_READ = "Reading changes";

    public static final String PROJECT = "bigquery.project";
    public static final String LOCATION = "bigquery.location";
    public static final String ENDPOINT = "bigquery.endpoint";
    public static final String STORAGE_ENDPOINT = "bigquery.storage.endpoint";
    public static final String CREDENTIALS_TYPE = "bigquery.credentials.type";
    public static final String CREDENTIALS_JSON = "bigquery.credentials.json";
    public static final String CREDENTIALS_FILE = "bigquery.credentials.file";
    public static final String RETRY_MAX_ATTEMPTS = "bigquery.retry.max.attempts";
    public static final String RETRY_INITIAL_BACKOFF_MS = "bigquery.retry.initial.backoff.ms";
    public static final String RETRY_MAX_BACKOFF_MS = "bigquery.retry.max.backoff.ms";
    public static final String RETRY_QUOTA_INITIAL_BACKOFF_MS = "bigquery.retry.quota.initial.backoff.ms";
    public static final String RETRY_QUOTA_MAX_BACKOFF_MS = "bigquery.retry.quota.max.backoff.ms";
    public static final String JOB_TIMEOUT_MS = "bigquery.job.timeout.ms";

    public static final String SYNC_NAME = "sync.name";
    public static final String QUERY = "query";
    public static final String TABLE = "table";
    public static final String KEY_COLUMNS = "key.columns";
    public static final String TOPIC = "topic";
    public static final String RUN_HISTORY_TOPIC = "run.history.topic";
    public static final String STAGING_DATASET = "staging.dataset";
    public static final String STAGING_DATASET_CREATE = "staging.dataset.create";
    public static final String STAGING_EXPIRATION_HOURS = "staging.table.expiration.hours";
    public static final String TEMPORAL_PRECISION = "temporal.precision";
    public static final String JSON_COLUMNS = "json.columns";

    public static final String SCHEDULE_INTERVAL_MS = "schedule.interval.ms";
    public static final String SCHEDULE_CRON = "schedule.cron";
    public static final String SCHEDULE_TRIGGER = "schedule.trigger";
    public static final String SKIP_UNCHANGED = "schedule.skip.unchanged.inputs";

    public static final String MASS_DELETE_MAX_RATIO = "mass.delete.max.ratio";
    public static final String MASS_DELETE_ALLOW_RUN = "mass.delete.allow.run";
    public static final String RECORD_MAX_BYTES = "record.max.bytes";

    public static final String READ_API = "read.api";
    public static final String READ_CHUNK_ROWS = "read.chunk.rows";
    public static final String READ_CHUNK_BYTES = "read.chunk.bytes";
    public static final String DIFF_BUCKETS = "diff.buckets";
    /**
     * 8 MiB: with about two chunks in memory at a few times their JSON size once decoded, a task holds some
     * 100 MB of changes at most, a tenth of the 1 GB heap of the shipped worker (docker/connect.Dockerfile);
     * and 8 MiB take a few seconds to emit (the benchmark's 20k records/s of ~200-byte rows is ~4 MB/s), more
     * than a Storage Read session needs to fetch the next chunk, so reading stays hidden behind emission.
     */
    static final long DEFAULT_READ_CHUNK_BYTES = 8L << 20;

    public enum CredentialsType { APPLICATION_DEFAULT, SERVICE_ACCOUNT_JSON, KEY_FILE, NONE }

    public enum ReadApi { STORAGE, REST }

    /** How TIMESTAMP, DATETIME and TIME travel: see the type mapping in the README. */
    public enum TemporalPrecision { MICROS, MILLIS }

    /** How JSON, ARRAY and STRUCT columns (JSON text) are labelled: see the type mapping in the README. */
    public enum JsonColumns { TEXT, JSON }

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
        // BigQuery
        .define(PROJECT, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ProjectValidator(), Importance.HIGH,
            "Google Cloud project that runs the sync's query jobs and is billed for them. Unqualified table names in the query resolve in this project.",
            GROUP_BIGQUERY, 1, Width.MEDIUM, "Project")
        .define(LOCATION, Type.STRING, "", Importance.MEDIUM,
            "BigQuery location (e.g. 'US', 'EU', 'europe-west1') where jobs run; it must match the location of the staging dataset and of the query's tables. Empty: BigQuery infers it.",
            GROUP_BIGQUERY, 2, Width.SHORT, "Location")
        .define(ENDPOINT, Type.STRING, "", new EndpointValidator(true), Importance.LOW,
            "Override of the BigQuery REST endpoint, e.g. 'http://127.0.0.1:9050' for an emulator. Empty: Google's endpoint.",
            GROUP_BIGQUERY, 3, Width.MEDIUM, "REST endpoint")
        .define(STORAGE_ENDPOINT, Type.STRING, "", new EndpointValidator(false), Importance.LOW,
            "Override of the BigQuery Storage Read API endpoint as host:port, e.g. '127.0.0.1:9060' for an emulator (plaintext gRPC when credentials type is 'none'). Empty: Google's endpoint.",
            GROUP_BIGQUERY, 4, Width.MEDIUM, "Storage Read endpoint")
        .define(CREDENTIALS_TYPE, Type.STRING, "application_default", enumValidator(CredentialsType.values()), Importance.HIGH,
            "How the connector authenticates: 'application_default' (the worker's Application Default Credentials), 'service_account_json' (the key in bigquery.credentials.json), 'key_file' (a key file at bigquery.credentials.file on every worker), or 'none' (no credentials; emulators only).",
            GROUP_BIGQUERY, 5, Width.MEDIUM, "Credentials type")
        .define(CREDENTIALS_JSON, Type.PASSWORD, null, Importance.HIGH,
            "Service-account key JSON, used when bigquery.credentials.type=service_account_json. A secret: never logged or shown by the REST API; may come from a config provider, e.g. ${file:/etc/secrets/bq.properties:sa}.",
            GROUP_BIGQUERY, 6, Width.LONG, "Service-account JSON")
        .define(CREDENTIALS_FILE, Type.STRING, "", Importance.MEDIUM,
            "Path of a service-account key file present on every worker, used when bigquery.credentials.type=key_file.",
            GROUP_BIGQUERY, 7, Width.LONG, "Key file")
        .define(RETRY_MAX_ATTEMPTS, Type.INT, 4, ConfigDef.Range.between(1, 100), Importance.LOW,
            "Attempts of one BigQuery call, a short backoff apart (only during the call's first second, attempts included, so that a hanging endpoint holds no thread for long), before a transient error (HTTP 5xx, rate limit, connection reset, gRPC UNAVAILABLE) ends the call; the run then retries the step after bigquery.retry.initial.backoff.ms, growing to bigquery.retry.max.backoff.ms, without ever giving up. Each retry is logged and counted in the metric retries-total.",
            GROUP_BIGQUERY, 8, Width.SHORT, "Retry attempts")
        .define(RETRY_INITIAL_BACKOFF_MS, Type.LONG, 500L, ConfigDef.Range.between(1, 3_600_000), Importance.LOW,
            "Wait before a run retries a step that failed with a transient error; it doubles per consecutive failure (with jitter) up to bigquery.retry.max.backoff.ms. The task keeps polling meanwhile (and stops at once when asked).",
            GROUP_BIGQUERY, 9, Width.SHORT, "Initial backoff (ms)")
        .define(RETRY_MAX_BACKOFF_MS, Type.LONG, 30_000L, ConfigDef.Range.between(1, 3_600_000), Importance.LOW,
            "Upper bound of the wait between retries of a step that fails with transient errors.",
            GROUP_BIGQUERY, 10, Width.SHORT, "Max backoff (ms)")
        .define(RETRY_QUOTA_INITIAL_BACKOFF_MS, Type.LONG, 60_000L, ConfigDef.Range.between(1, 86_400_000), Importance.LOW,
            "Wait before a run retries a step that failed because a BigQuery quota is exhausted (reason quotaExceeded); it doubles per consecutive failure up to bigquery.retry.quota.max.backoff.ms. Google's guidance for quota errors is a long backoff.",
            GROUP_BIGQUERY, 11, Width.SHORT, "Quota backoff (ms)")
        .define(RETRY_QUOTA_MAX_BACKOFF_MS, Type.LONG, 1_800_000L, ConfigDef.Range.between(1, 86_400_000), Importance.LOW,
            "Upper bound of the wait between retries of a step that fails with quota errors.",
            GROUP_BIGQUERY, 12, Width.SHORT, "Max quota backoff (ms)")
        .define(JOB_TIMEOUT_MS, Type.LONG, 3_600_000L, ConfigDef.Range.between(10_000, 21_600_000), Importance.LOW,
            "Longest a BigQuery job of a run (snapshot, key check, diff, stats) may run. Sent as the job's jobTimeoutMs, and enforced by the task too: a job running longer is cancelled and the run fails naming it (nothing is emitted). BigQuery's own limit for a query is 6 h.",
            GROUP_BIGQUERY, 13, Width.SHORT, "Job timeout (ms)")
        // Sync
        .define(SYNC_NAME, Type.STRING, "", Importance.MEDIUM,
            "Name of the sync: letters, digits and underscores. Names the staging tables and the source partition of the offsets. Empty: the connector name, with characters other than letters, digits and underscores replaced and then a short hash of the name appended (so 'x-h5-1' and 'x.h5.1' stay two syncs). Staging tables carry an owner mark (label bq2k_owner, a hash of the connector name): a connector refuses tables marked by another. Changing it starts a new sync from scratch.",
            GROUP_SYNC, 1, Width.MEDIUM, "Sync name")
        .define(QUERY, Type.STRING, "", Importance.HIGH,
            "GoogleSQL query whose result the topic mirrors (one row per key). Exactly one of 'query' and 'table' is set.",
            GROUP_SYNC, 2, Width.LONG, "Query")
        .define(TABLE, Type.STRING, "", Importance.HIGH,
            "A table to mirror instead of a query, as 'dataset.table' or 'project.dataset.table'. Exactly one of 'query' and 'table' is set.",
            GROUP_SYNC, 3, Width.LONG, "Table")
        .define(KEY_COLUMNS, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, Importance.HIGH,
            "Comma-separated columns of the result that identify a row (the primary key in MySQL). Each must exist, be of a groupable scalar type, and never be NULL or duplicated.",
            GROUP_SYNC, 4, Width.MEDIUM, "Key columns")
        .define(TOPIC, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, Importance.HIGH,
            "Kafka topic that receives one record per change: key = key columns, value = the full row, null value (tombstone) for a removed row. Make it compacted (topic.creation.default.cleanup.policy=compact).",
            GROUP_SYNC, 5, Width.MEDIUM, "Topic")
        .define(RUN_HISTORY_TOPIC, Type.STRING, "", Importance.MEDIUM,
            "Topic that receives one summary record per finished run (counts, timings, end offsets on the data topic), keyed by sync. Empty: '<topic>.runs'. Never the data topic.",
            GROUP_SYNC, 6, Width.MEDIUM, "Run history topic")
        .define(STAGING_DATASET, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, Importance.HIGH,
            "Dataset ('dataset' or 'project.dataset') that holds the sync's snapshot and diff tables. It must be in the same location as the query's tables.",
            GROUP_SYNC, 7, Width.MEDIUM, "Staging dataset")
        .define(STAGING_DATASET_CREATE, Type.BOOLEAN, true, Importance.LOW,
            "Create the staging dataset when it does not exist.",
            GROUP_SYNC, 8, Width.SHORT, "Create staging dataset")
        .define(STAGING_EXPIRATION_HOURS, Type.INT, 168, ConfigDef.Range.between(1, 24 * 365), Importance.LOW,
            "Safety-net expiration of staging tables that nothing was published from yet (a run being prepared, or held by the mass-delete guard). Before a run emits its first change its snapshot and diff become durable (no expiration): a later run or a resume needs them however long the sync is paused. Tables of runs before the committed baseline are dropped at the next run.",
            GROUP_SYNC, 9, Width.SHORT, "Staging table expiration (h)")
        .define(TEMPORAL_PRECISION, Type.STRING, "micros", enumValidator(TemporalPrecision.values()), Importance.MEDIUM,
            "'micros' (default): TIMESTAMP/DATETIME as io.debezium.time.MicroTimestamp and TIME as io.debezium.time.MicroTime, keeping BigQuery's microseconds (Debezium's JDBC sink writes DATETIME(6)/TIME(6)). 'millis': Connect's Timestamp and Time logical types, which every sink understands, truncated to milliseconds.",
            GROUP_SYNC, 10, Width.SHORT, "Temporal precision")
        .define(JSON_COLUMNS, Type.STRING, "text", enumValidator(JsonColumns.values()), Importance.LOW,
            "How JSON, ARRAY and STRUCT columns travel, always as JSON text: 'text' (default), a plain Connect string that every sink stores as text (LONGTEXT in MySQL or MariaDB); 'json', a string named io.debezium.data.Json, which Debezium's JDBC sink writes into a native JSON column with CAST(? AS JSON) (MySQL 5.7 and later; MariaDB has no such cast and the sink fails).",
            GROUP_SYNC, 11, Width.SHORT, "JSON columns")
        // Schedule
        .define(SCHEDULE_INTERVAL_MS, Type.LONG, 3_600_000L, ConfigDef.Range.between(1_000, Long.MAX_VALUE), Importance.HIGH,
            "Time between the starts of consecutive runs. The first run starts when the task starts. Ignored when schedule.cron is set.",
            GROUP_SCHEDULE, 1, Width.SHORT, "Interval (ms)")
        .define(SCHEDULE_CRON, Type.STRING, "", new CronValidator(), Importance.MEDIUM,
            "Run at the times of this cron expression (5 fields: minute hour day-of-month month day-of-week, in UTC; e.g. '*/15 * * * *', '0 6 * * 1-5') instead of at a fixed interval. The first run still starts when the task starts.",
            GROUP_SCHEDULE, 2, Width.MEDIUM, "Cron")
        .define(SKIP_UNCHANGED, Type.BOOLEAN, true, Importance.MEDIUM,
            "Before running the query, dry-run it and skip an incremental run (no query cost) when no table it reads changed since the last run (by last-modified time). Only where that is the whole truth: a query that reads a view, an external or wildcard table, 50 tables or more, or calls CURRENT_DATE(), CURRENT_TIMESTAMP(), NOW(), RAND(), GENERATE_UUID(), SESSION_USER() or a system variable always runs, and the log says why once.",
            GROUP_SCHEDULE, 3, Width.SHORT, "Skip unchanged inputs")
        .define(SCHEDULE_TRIGGER, Type.STRING, "", Importance.LOW,
            "Run now: any new value (e.g. the current time) makes the task start a run at once. A task that starts (deploy, rebalance, restart, config edit) otherwise waits for the schedule of the last completed run, which it reads from the run history's offset; it runs at once when no run completed yet, the last run is unfinished or failed, the query or the record contract (topic, key columns, temporal.precision, json.columns) changed, or mass.delete.allow.run confirms a later run. E.g. PUT /connectors/<name>/config with \"schedule.trigger\": \"2026-11-29T21:00\".",
            GROUP_SCHEDULE, 4, Width.MEDIUM, "Run now (trigger)")
        // Safety
        .define(MASS_DELETE_MAX_RATIO, Type.DOUBLE, 0.5, ConfigDef.Range.between(0.0, 1.0), Importance.HIGH,
            "Mass-delete guard: a run that would remove more than this share of the baseline's rows is held (the task fails with an explanation) before anything is emitted. 1.0 disables the guard.",
            GROUP_SAFETY, 1, Width.SHORT, "Max share of removed rows")
        .define(MASS_DELETE_ALLOW_RUN, Type.LONG, -1L, Importance.MEDIUM,
            "Confirms one held run: set it to the run id the error names, and that run proceeds even though it removes more than mass.delete.max.ratio, or re-keys the sync after the key columns or their types changed (every old key tombstoned, every row republished under the new key by the next run). Run ids of held runs are stable across retries. -1: no run confirmed.",
            GROUP_SAFETY, 2, Width.SHORT, "Confirmed mass-delete run")
        .define(RECORD_MAX_BYTES, Type.INT, 1_000_000, ConfigDef.Range.atLeast(1024), Importance.MEDIUM,
            "A run whose result has a row larger than this many bytes, measured as the row's JSON text (plus 40 bytes for the connector's fingerprint), fails before anything is emitted, "
                + "naming the key and the largest column: Kafka would refuse such a record half-way through the run. The default suits Kafka's "
                + "defaults (1 MB max.message.bytes and max.request.size). JsonConverter with schemas adds the schema to this size, Avro is smaller. "
                + "To carry larger rows raise, together, this, the topic's max.message.bytes, the worker's producer.override.max.request.size "
                + "and the sink database's packet limit (MySQL max_allowed_packet).",
            GROUP_SAFETY, 3, Width.SHORT, "Max row bytes")
        // Reading
        .define(READ_API, Type.STRING, "storage", enumValidator(ReadApi.values()), Importance.MEDIUM,
            "How changes are read: 'storage' (BigQuery Storage Read API, Avro; needs bigquery.readsessions.create) or 'rest' (query results over REST; slower, for accounts without read-session permission).",
            GROUP_READ, 1, Width.SHORT, "Read API")
        .define(READ_CHUNK_ROWS, Type.INT, 20_000, ConfigDef.Range.between(100, 1_000_000), Importance.LOW,
            "Changes read per chunk at most (also bounded by read.chunk.bytes). Each change costs its record's own overhead (key, value and offset objects) on top of its data.",
            GROUP_READ, 2, Width.SHORT, "Chunk rows")
        .define(READ_CHUNK_BYTES, Type.LONG, DEFAULT_READ_CHUNK_BYTES, ConfigDef.Range.between(1L << 20, 1L << 30), Importance.LOW,
            "Bytes of rows read per chunk at most, measured like record.max.bytes (a row's JSON text; a removal counts 0): a chunk holds at most this plus one row, "
                + "and at least one row. About two chunks are in memory at a time (one being emitted, the next being read), each taking a few times its JSON size in heap "
                + "once decoded into records, so this bounds the task's memory whatever the row width; read.chunk.rows bounds narrow rows. The default reads "
                + "chunks large enough that the next chunk's read hides behind the emission of the current one.",
            GROUP_READ, 3, Width.SHORT, "Chunk bytes")
        .define(DIFF_BUCKETS, Type.INT, SyncSql.MAX_BUCKETS, ConfigDef.Range.between(1, SyncSql.MAX_BUCKETS), Importance.LOW,
            "Most hash buckets that number the changes of a run inside BigQuery. A run takes one bucket per 2 million rows of its snapshot plus the tables it is compared with "
                + "(an upper bound of its changes), so that no single BigQuery worker numbers more than about 2 million changes; this caps that count. Each bucket with "
                + "changes is read in chunks of its own: a lower cap means fewer reads for a small diff of a large table, and more changes numbered by one worker. "
                + "Changing it affects only diffs created afterwards.",
            GROUP_READ, 4, Width.SHORT, "Max diff buckets");

    public SyncConfig(Map<String, ?> props) {
        this(props, true);
    }

    private SyncConfig(Map<String, ?> props, boolean checkCrossFieldRules) {
        super(CONFIG_DEF, props, false);
        if (checkCrossFieldRules) {
            checkCrossFieldRules(this).ifPresent(e -> {
                throw new ConfigException(e.field(), null, e.message());
            });
        }
    }

    /** The config with single-field validation only, so validate() can attach cross-field errors to their fields. */
    static SyncConfig unchecked(Map<String, ?> props) {
        return new SyncConfig(props, false);
    }

    /** A rule spanning fields, broken: the field to blame and what to do. */
    public record FieldError(String field, String message) { }

    /** Rules that no single-field validator can express. */
    static java.util.Optional<FieldError> checkCrossFieldRules(SyncConfig c) {
        return firstError(List.of(
            () -> (c.query().isEmpty() == c.table().isEmpty())
                ? new FieldError(QUERY, "Set exactly one of 'query' and 'table' (query is "
                    + (c.query().isEmpty() ? "empty" : "set") + ", table is " + (c.table().isEmpty() ? "empty" : "set") + ").")
                : null,
            () -> !c.table().isEmpty() && TableRef.parse(c.table(), c.project()) == null
                ? new FieldError(TABLE, "'" + c.table() + "' is not a table name: use 'dataset.table' or 'project.dataset.table'.")
                : null,
            () -> keyColumnError(c.keyColumns()),
            () -> topicError(TOPIC, c.topic()),
            () -> topicError(RUN_HISTORY_TOPIC, c.runHistoryTopic()),
            () -> c.runHistoryTopic().equals(c.topic())
                ? new FieldError(RUN_HISTORY_TOPIC, "The run history topic must differ from the data topic '" + c.topic() + "': run summaries never go into the data.")
                : null,
            () -> DatasetRef.parse(c.getString(STAGING_DATASET), c.project()) == null
                ? new FieldError(STAGING_DATASET, "'" + c.getString(STAGING_DATASET) + "' is not a dataset name: use 'dataset' or 'project.dataset' (letters, digits, underscores).")
                : null,
            () -> c.credentialsType() == CredentialsType.SERVICE_ACCOUNT_JSON
                    && (c.getPassword(CREDENTIALS_JSON) == null || c.getPassword(CREDENTIALS_JSON).value().isBlank())
                ? new FieldError(CREDENTIALS_JSON, "bigquery.credentials.type=service_account_json needs the key JSON in bigquery.credentials.json.")
                : null,
            () -> c.credentialsType() == CredentialsType.KEY_FILE && c.getString(CREDENTIALS_FILE).isBlank()
                ? new FieldError(CREDENTIALS_FILE, "bigquery.credentials.type=key_file needs the path of the key file in bigquery.credentials.file.")
                : null,
            () -> !c.syncName().isEmpty() && !SIMPLE_IDENTIFIER.matcher(c.syncName()).matches()
                ? new FieldError(SYNC_NAME, "'" + c.syncName() + "' is not a valid sync name: use letters, digits and underscores.")
                : null));
    }

    private static java.util.Optional<FieldError> firstError(List<java.util.function.Supplier<FieldError>> rules) {
        return rules.stream().map(java.util.function.Supplier::get).filter(java.util.Objects::nonNull).findFirst();
    }

    static FieldError keyColumnError(List<String> keys) {
        if (keys.isEmpty()) {
            return new FieldError(KEY_COLUMNS, "Name at least one key column: the column(s) that identify a row of the result.");
        }
        if (keys.stream().distinct().count() != keys.size()) {
            return new FieldError(KEY_COLUMNS, "Key columns " + keys + " name a column twice.");
        }
        for (String k : keys) {
            if (k.isBlank() || k.contains("`") || k.length() > 300) {
                return new FieldError(KEY_COLUMNS, "'" + k + "' is not a column name (empty, too long or containing a backtick).");
            }
        }
        return null;
    }

    static FieldError topicError(String field, String topic) {
        try {
            org.apache.kafka.common.internals.Topic.validate(topic);
            return null;
        } catch (org.apache.kafka.common.errors.InvalidTopicException e) {
            return new FieldError(field, "Invalid topic name '" + topic + "': " + e.getMessage());
        }
    }

    // ---- typed getters -------------------------------------------------------------------------

    public String project() { return getString(PROJECT); }
    public String location() { return getString(LOCATION); }
    public String endpoint() { return getString(ENDPOINT); }
    public String storageEndpoint() { return getString(STORAGE_ENDPOINT); }
    public CredentialsType credentialsType() { return enumValue(CredentialsType.class, getString(CREDENTIALS_TYPE)); }
    public Password credentialsJson() { return getPassword(CREDENTIALS_JSON); }
    public String credentialsFile() { return getString(CREDENTIALS_FILE); }
    public int retryMaxAttempts() { return getInt(RETRY_MAX_ATTEMPTS); }
    public long retryInitialBackoffMs() { return getLong(RETRY_INITIAL_BACKOFF_MS); }
    public long retryMaxBackoffMs() { return getLong(RETRY_MAX_BACKOFF_MS); }
    public long retryQuotaInitialBackoffMs() { return getLong(RETRY_QUOTA_INITIAL_BACKOFF_MS); }
    public long retryQuotaMaxBackoffMs() { return getLong(RETRY_QUOTA_MAX_BACKOFF_MS); }
    public long jobTimeoutMs() { return getLong(JOB_TIMEOUT_MS); }
    public String syncName() { return getString(SYNC_NAME); }
    public String query() { return getString(QUERY).trim(); }
    public String table() { return getString(TABLE).trim(); }
    public List<String> keyColumns() { return getList(KEY_COLUMNS).stream().map(String::trim).toList(); }
    public String topic() { return getString(TOPIC); }
    public String runHistoryTopic() {
        String t = getString(RUN_HISTORY_TOPIC);
        return t.isBlank() ? topic() + ".runs" : t;
    }
    public DatasetRef stagingDataset() { return DatasetRef.parse(getString(STAGING_DATASET), project()); }
    public boolean createStagingDataset() { return getBoolean(STAGING_DATASET_CREATE); }
    public int stagingExpirationHours() { return getInt(STAGING_EXPIRATION_HOURS); }
    public TemporalPrecision temporalPrecision() { return enumValue(TemporalPrecision.class, getString(TEMPORAL_PRECISION)); }
    public JsonColumns jsonColumns() { return enumValue(JsonColumns.class, getString(JSON_COLUMNS)); }
    public ColumnMapping.Style columnStyle() { return new ColumnMapping.Style(temporalPrecision(), jsonColumns()); }
    public long scheduleIntervalMs() { return getLong(SCHEDULE_INTERVAL_MS); }
    public String scheduleCron() { return getString(SCHEDULE_CRON).trim(); }
    public String scheduleTrigger() { return getString(SCHEDULE_TRIGGER); }
    public boolean skipUnchangedInputs() { return getBoolean(SKIP_UNCHANGED); }
    public double massDeleteMaxRatio() { return getDouble(MASS_DELETE_MAX_RATIO); }
    public int recordMaxBytes() { return getInt(RECORD_MAX_BYTES); }
    public long massDeleteAllowRun() { return getLong(MASS_DELETE_ALLOW_RUN); }
    public ReadApi readApi() { return enumValue(ReadApi.class, getString(READ_API)); }
    public int readChunkRows() { return getInt(READ_CHUNK_ROWS); }
    public long readChunkBytes() { return getLong(READ_CHUNK_BYTES); }
    /** The most buckets a diff may have (the count itself comes from the diff's size: {@link SyncSql#bucketsFor}). */
    public int diffBuckets() { return getInt(DIFF_BUCKETS); }

    /** The connector's name as Connect gave it (tasks receive it in their config). */
    public String connectorName() {
        Object name = originals().get("name");
        return name == null ? syncName() : name.toString();
    }

    /** Whether a transformation or errors.tolerance=all may drop records between the task and Kafka. */
    public boolean mayDropRecords() {
        Object transforms = originals().get("transforms");
        Object tolerance = originals().get("errors.tolerance");
        return (transforms != null && !transforms.toString().isBlank()) || (tolerance != null && tolerance.toString().trim().equalsIgnoreCase("all"));
    }

    /** The owner mark of this connector's staging tables: a hash of its name (label values are restricted). */
    public String ownerId() {
        return RecordContract.shortHash("connector:" + connectorName());
    }

    /** The query whose result is mirrored: the configured query, or a SELECT * of the table. */
    public String sourceQuery() {
        return query().isEmpty() ? "SELECT * FROM " + TableRef.parse(table(), project()).quoted() : query();
    }

    // ---- validators ----------------------------------------------------------------------------

    static <E extends Enum<E>> E enumValue(Class<E> type, String value) {
        return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
    }

    static ConfigDef.Validator enumValidator(Enum<?>[] values) {
        List<String> names = java.util.Arrays.stream(values).map(v -> v.name().toLowerCase(Locale.ROOT)).toList();
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                if (value == null || !names.contains(value.toString().trim().toLowerCase(Locale.ROOT))) {
                    throw new ConfigException(name, value, "Must be one of " + names + ".");
                }
            }

            @Override
            public String toString() {
                return String.join(", ", names);
            }
        };
    }

    static final class ProjectValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || !PROJECT_ID.matcher(value.toString()).matches()) {
                throw new ConfigException(name, value, "Not a Google Cloud project id (lowercase letters, digits and hyphens, starting with a letter; optionally 'domain:' first).");
            }
        }

        @Override
        public String toString() {
            return "a Google Cloud project id";
        }
    }

    /** Empty, or an http(s) URL (REST) / a host:port (gRPC): a wrong form fails on the field, not at the first run. */
    static final class EndpointValidator implements ConfigDef.Validator {
        private static final Pattern URL = Pattern.compile("https?://[A-Za-z0-9.\\-\\[\\]:]+(:\\d{1,5})?(/\\S*)?");
        private static final Pattern HOST_PORT = Pattern.compile("[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5}");
        private final boolean url;

        EndpointValidator(boolean url) {
            this.url = url;
        }

        @Override
        public void ensureValid(String name, Object value) {
            String v = value == null ? "" : value.toString().trim();
            if (!v.isEmpty() && !(url ? URL : HOST_PORT).matcher(v).matches()) {
                throw new ConfigException(name, value, url ? "Not an http(s) URL: use e.g. 'http://127.0.0.1:9050', or leave it empty for Google's endpoint."
                    : "Not host:port: use e.g. '127.0.0.1:9060' (no scheme), or leave it empty for Google's endpoint.");
            }
        }

        @Override
        public String toString() {
            return url ? "empty or an http(s) URL" : "empty or host:port";
        }
    }

    static final class CronValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String expr = value == null ? "" : value.toString().trim();
            if (expr.isEmpty()) {
                return;
            }
            try {
                CronSchedule.parse(expr).next(java.time.Instant.parse("2024-01-01T00:00:00Z"));
            } catch (IllegalStateException e) {
                throw new ConfigException(name, value, "The cron expression never fires (e.g. February 30th): check the day-of-month and month fields.");
            } catch (IllegalArgumentException e) {
                throw new ConfigException(name, value, e.getMessage());
            }
        }

        @Override
        public String toString() {
            return "empty, or a 5-field cron expression";
        }
    }
}
