package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.bq2k.connect.bigquery.SyncConfig.FieldError;

class SyncConfigTest {

    static Map<String, String> valid() {
        Map<String, String> m = new HashMap<>();
        m.put(SyncConfig.PROJECT, "my-project");
        m.put(SyncConfig.QUERY, "SELECT 1 AS id");
        m.put(SyncConfig.KEY_COLUMNS, "id");
        m.put(SyncConfig.TOPIC, "users");
        m.put(SyncConfig.STAGING_DATASET, "staging");
        m.put(SyncConfig.CREDENTIALS_TYPE, "none");
        m.put(SyncConfig.SYNC_NAME, "users_sync");
        return m;
    }

    static Map<String, String> with(String... kv) {
        Map<String, String> m = valid();
        for (int i = 0; i < kv.length; i += 2) {
            if (kv[i + 1] == null) {
                m.remove(kv[i]);
            } else {
                m.put(kv[i], kv[i + 1]);
            }
        }
        return m;
    }

    /** The cross-field error of a config that passes single-field validation. */
    static Optional<FieldError> crossField(Map<String, String> props) {
        return SyncConfig.checkCrossFieldRules(SyncConfig.unchecked(props));
    }

    static FieldError crossFieldError(Map<String, String> props) {
        return crossField(props).orElseThrow(() -> new AssertionError("expected a cross-field error for " + props));
    }

    static ConfigException rejected(Map<String, String> props) {
        return assertThrows(ConfigException.class, () -> new SyncConfig(props));
    }

    // ---- defaults and getters -------------------------------------------------------------------

    @Test
    void validConfigParsesWithDefaults() {
        SyncConfig c = new SyncConfig(valid());
        assertEquals("my-project", c.project());
        assertEquals(List.of("id"), c.keyColumns());
        assertEquals("users.runs", c.runHistoryTopic());
        assertEquals(new DatasetRef("my-project", "staging"), c.stagingDataset());
        assertEquals(SyncConfig.ReadApi.STORAGE, c.readApi());
        assertEquals(SyncConfig.TemporalPrecision.MICROS, c.temporalPrecision());
        assertEquals(SyncConfig.CredentialsType.NONE, c.credentialsType());
        assertEquals(0.5, c.massDeleteMaxRatio());
        assertEquals(-1L, c.massDeleteAllowRun());
        assertEquals(3_600_000L, c.scheduleIntervalMs());
        assertEquals("", c.scheduleCron());
        assertEquals(168, c.stagingExpirationHours());
        assertEquals(20_000, c.readChunkRows());
        assertEquals(8L << 20, c.readChunkBytes());
        assertEquals(SyncSql.MAX_BUCKETS, c.diffBuckets());
        assertEquals(4, c.retryMaxAttempts());
        assertEquals("SELECT 1 AS id", c.sourceQuery());
        assertTrue(crossField(valid()).isEmpty());
    }

    @Test
    void keyColumnsAreTrimmed() {
        SyncConfig c = new SyncConfig(with(SyncConfig.KEY_COLUMNS, " a , b "));
        assertEquals(List.of("a", "b"), c.keyColumns());
    }

    @Test
    void tableBecomesSelectStar() {
        SyncConfig c = new SyncConfig(with(SyncConfig.QUERY, null, SyncConfig.TABLE, "src.users"));
        assertEquals("SELECT * FROM `my-project.src.users`", c.sourceQuery());
        SyncConfig c3 = new SyncConfig(with(SyncConfig.QUERY, null, SyncConfig.TABLE, "other-proj.src.users"));
        assertEquals("SELECT * FROM `other-proj.src.users`", c3.sourceQuery());
    }

    @Test
    void explicitRunHistoryTopicIsKept() {
        assertEquals("history", new SyncConfig(with(SyncConfig.RUN_HISTORY_TOPIC, "history")).runHistoryTopic());
    }

    // ---- project -------------------------------------------------------------------------------

    @Test
    void missingProjectIsRejected() {
        ConfigException e = rejected(with(SyncConfig.PROJECT, null));
        assertTrue(e.getMessage().contains(SyncConfig.PROJECT), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"My_Project", "1project", "project-", "ab", "has space", ""})
    void invalidProjectIdIsRejected(String project) {
        ConfigException e = rejected(with(SyncConfig.PROJECT, project));
        assertTrue(e.getMessage().contains(SyncConfig.PROJECT), e.getMessage());
        assertTrue(e.getMessage().contains("Not a Google Cloud project id"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"my-project", "abc", "project-123", "example.com:my-project"})
    void validProjectIds(String project) {
        assertDoesNotThrow(() -> new SyncConfig(with(SyncConfig.PROJECT, project)));
    }

    // ---- endpoints -----------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"localhost:9050", "ftp://host", "http://", "http://host name", "127.0.0.1"})
    void malformedRestEndpointIsRejected(String endpoint) {
        ConfigException e = rejected(with(SyncConfig.ENDPOINT, endpoint));
        assertTrue(e.getMessage().contains(SyncConfig.ENDPOINT) && e.getMessage().contains("Not an http(s) URL"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "http://127.0.0.1:9050", "https://bigquery.example.com", "http://[::1]:9050/", "http://emulator:9050/base"})
    void wellFormedRestEndpoints(String endpoint) {
        assertDoesNotThrow(() -> new SyncConfig(with(SyncConfig.ENDPOINT, endpoint)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://localhost:9060", "localhost", "host:port", ":9060x"})
    void malformedStorageEndpointIsRejected(String endpoint) {
        ConfigException e = rejected(with(SyncConfig.STORAGE_ENDPOINT, endpoint));
        assertTrue(e.getMessage().contains(SyncConfig.STORAGE_ENDPOINT) && e.getMessage().contains("Not host:port"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "127.0.0.1:9060", "bigquerystorage.googleapis.com:443", "[::1]:9060"})
    void wellFormedStorageEndpoints(String endpoint) {
        assertDoesNotThrow(() -> new SyncConfig(with(SyncConfig.STORAGE_ENDPOINT, endpoint)));
    }

    @Test
    void recordMaxBytesHasAFloor() {
        assertEquals(1_000_000, new SyncConfig(valid()).recordMaxBytes());
        assertTrue(rejected(with(SyncConfig.RECORD_MAX_BYTES, "1023")).getMessage().contains(SyncConfig.RECORD_MAX_BYTES));
    }

    // ---- query / table -------------------------------------------------------------------------

    @Test
    void bothQueryAndTableIsAnError() {
        FieldError e = crossFieldError(with(SyncConfig.TABLE, "ds.t"));
        assertEquals(SyncConfig.QUERY, e.field());
        assertTrue(e.message().contains("exactly one"), e.message());
        assertTrue(e.message().contains("query is set, table is set"), e.message());
        ConfigException ce = rejected(with(SyncConfig.TABLE, "ds.t"));
        assertTrue(ce.getMessage().contains(SyncConfig.QUERY), ce.getMessage());
        assertTrue(ce.getMessage().contains("exactly one"), ce.getMessage());
    }

    @Test
    void neitherQueryNorTableIsAnError() {
        FieldError e = crossFieldError(with(SyncConfig.QUERY, "   "));
        assertEquals(SyncConfig.QUERY, e.field());
        assertTrue(e.message().contains("query is empty, table is empty"), e.message());
    }

    @ParameterizedTest
    @ValueSource(strings = {"justatable", "a.b.c.d", "ds.", ".t", "bad-dataset.t", "ds.t;drop", "Bad_Project.ds.t"})
    void malformedTableNameIsAnError(String table) {
        FieldError e = crossFieldError(with(SyncConfig.QUERY, null, SyncConfig.TABLE, table));
        assertEquals(SyncConfig.TABLE, e.field());
        assertTrue(e.message().contains("'" + table + "' is not a table name"), e.message());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ds.t", "my-proj.ds.t", "`my-proj.ds.t`", "ds.table with space", "ds.größe-1"})
    void wellFormedTableNames(String table) {
        assertTrue(crossField(with(SyncConfig.QUERY, null, SyncConfig.TABLE, table)).isEmpty());
    }

    // ---- key columns ---------------------------------------------------------------------------

    @Test
    void emptyKeyColumnsIsAnError() {
        FieldError e = crossFieldError(with(SyncConfig.KEY_COLUMNS, ""));
        assertEquals(SyncConfig.KEY_COLUMNS, e.field());
        assertTrue(e.message().contains("at least one key column"), e.message());
    }

    @Test
    void missingKeyColumnsIsRejected() {
        ConfigException e = rejected(with(SyncConfig.KEY_COLUMNS, null));
        assertTrue(e.getMessage().contains(SyncConfig.KEY_COLUMNS), e.getMessage());
    }

    @Test
    void duplicateKeyColumnIsAnError() {
        FieldError e = crossFieldError(with(SyncConfig.KEY_COLUMNS, "a, b, a"));
        assertEquals(SyncConfig.KEY_COLUMNS, e.field());
        assertTrue(e.message().contains("twice"), e.message());
    }

    @Test
    void keyWithBacktickIsAnError() {
        FieldError e = crossFieldError(with(SyncConfig.KEY_COLUMNS, "id,a`b"));
        assertEquals(SyncConfig.KEY_COLUMNS, e.field());
        assertTrue(e.message().contains("'a`b' is not a column name"), e.message());
    }

    @Test
    void blankKeyInListIsAnError() {
        FieldError e = crossFieldError(with(SyncConfig.KEY_COLUMNS, "id,,x"));
        assertEquals(SyncConfig.KEY_COLUMNS, e.field());
        assertTrue(e.message().contains("not a column name"), e.message());
    }

    @Test
    void overlongKeyIsAnError() {
        assertEquals(SyncConfig.KEY_COLUMNS, SyncConfig.keyColumnError(List.of("x".repeat(301))).field());
        assertNull(SyncConfig.keyColumnError(List.of("x".repeat(300))));
        assertNull(SyncConfig.keyColumnError(List.of("select", "größe")));
    }

    // ---- topics --------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"bad topic!", "a/b", "..", "."})
    void invalidTopicIsAnError(String topic) {
        FieldError e = crossFieldError(with(SyncConfig.TOPIC, topic, SyncConfig.RUN_HISTORY_TOPIC, "history"));
        assertEquals(SyncConfig.TOPIC, e.field());
        assertTrue(e.message().contains("Invalid topic name '" + topic + "'"), e.message());
    }

    @Test
    void overlongTopicIsAnError() {
        String topic = "t".repeat(250);
        FieldError e = crossFieldError(with(SyncConfig.TOPIC, topic, SyncConfig.RUN_HISTORY_TOPIC, "history"));
        assertEquals(SyncConfig.TOPIC, e.field());
    }

    @Test
    void invalidRunHistoryTopicIsAnError() {
        FieldError e = crossFieldError(with(SyncConfig.RUN_HISTORY_TOPIC, "bad topic!"));
        assertEquals(SyncConfig.RUN_HISTORY_TOPIC, e.field());
        assertTrue(e.message().contains("Invalid topic name 'bad topic!'"), e.message());
    }

    @Test
    void derivedRunHistoryTopicTooLongIsBlamedOnRunHistoryTopic() {
        // The data topic is valid, but '<topic>.runs' is longer than 249 characters.
        FieldError e = crossFieldError(with(SyncConfig.TOPIC, "t".repeat(246)));
        assertEquals(SyncConfig.RUN_HISTORY_TOPIC, e.field());
    }

    @Test
    void runHistoryTopicEqualToTopicIsAnError() {
        FieldError e = crossFieldError(with(SyncConfig.RUN_HISTORY_TOPIC, "users"));
        assertEquals(SyncConfig.RUN_HISTORY_TOPIC, e.field());
        assertTrue(e.message().contains("must differ from the data topic 'users'"), e.message());
    }

    // ---- staging dataset -----------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"bad-dataset", "a.b.c", "", "Bad_Project.ds", "ds.", "1ds x"})
    void malformedStagingDatasetIsAnError(String ds) {
        FieldError e = crossFieldError(with(SyncConfig.STAGING_DATASET, ds));
        assertEquals(SyncConfig.STAGING_DATASET, e.field());
        assertTrue(e.message().contains("is not a dataset name"), e.message());
    }

    @Test
    void stagingDatasetInOtherProject() {
        assertEquals(new DatasetRef("other-proj", "stage_1"),
            new SyncConfig(with(SyncConfig.STAGING_DATASET, "other-proj.stage_1")).stagingDataset());
    }

    @Test
    void missingStagingDatasetIsRejected() {
        ConfigException e = rejected(with(SyncConfig.STAGING_DATASET, null));
        assertTrue(e.getMessage().contains(SyncConfig.STAGING_DATASET), e.getMessage());
    }

    // ---- credentials ---------------------------------------------------------------------------

    @Test
    void serviceAccountJsonWithoutJsonIsAnError() {
        FieldError e = crossFieldError(with(SyncConfig.CREDENTIALS_TYPE, "service_account_json"));
        assertEquals(SyncConfig.CREDENTIALS_JSON, e.field());
        assertTrue(e.message().contains("needs the key JSON"), e.message());
        FieldError blank = crossFieldError(with(SyncConfig.CREDENTIALS_TYPE, "service_account_json", SyncConfig.CREDENTIALS_JSON, "  "));
        assertEquals(SyncConfig.CREDENTIALS_JSON, blank.field());
        assertTrue(crossField(with(SyncConfig.CREDENTIALS_TYPE, "service_account_json", SyncConfig.CREDENTIALS_JSON, "{}")).isEmpty());
    }

    @Test
    void keyFileWithoutPathIsAnError() {
        FieldError e = crossFieldError(with(SyncConfig.CREDENTIALS_TYPE, "key_file"));
        assertEquals(SyncConfig.CREDENTIALS_FILE, e.field());
        assertTrue(e.message().contains("needs the path"), e.message());
        assertTrue(crossField(with(SyncConfig.CREDENTIALS_TYPE, "key_file", SyncConfig.CREDENTIALS_FILE, "/etc/key.json")).isEmpty());
    }

    @Test
    void passwordIsHiddenInToString() {
        SyncConfig c = new SyncConfig(with(SyncConfig.CREDENTIALS_TYPE, "service_account_json", SyncConfig.CREDENTIALS_JSON, "s3cr3t-json"));
        assertEquals("s3cr3t-json", c.credentialsJson().value());
        assertEquals("[hidden]", c.credentialsJson().toString());
        assertFalse(c.values().toString().contains("s3cr3t-json"));
    }

    // ---- sync name -----------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"my sync", "my-sync", "1sync", "sync!", "größe"})
    void invalidSyncNameIsAnError(String name) {
        FieldError e = crossFieldError(with(SyncConfig.SYNC_NAME, name));
        assertEquals(SyncConfig.SYNC_NAME, e.field());
        assertTrue(e.message().contains("'" + name + "' is not a valid sync name"), e.message());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "_x", "Sync_2", "a"})
    void validSyncNames(String name) {
        assertTrue(crossField(with(SyncConfig.SYNC_NAME, name)).isEmpty());
    }

    // ---- cron ----------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"*/15 * * * *", "0 6 * * 1-5", "0 0 29 2 *", "5,35 1-3/2 1 1,7 0,7", "  0 0 * * *  ", ""})
    void validCron(String cron) {
        SyncConfig c = new SyncConfig(with(SyncConfig.SCHEDULE_CRON, cron));
        assertEquals(cron.trim(), c.scheduleCron());
    }

    @Test
    void cronWithWrongFieldCountIsRejected() {
        ConfigException e = rejected(with(SyncConfig.SCHEDULE_CRON, "* * * *"));
        assertTrue(e.getMessage().contains(SyncConfig.SCHEDULE_CRON), e.getMessage());
        assertTrue(e.getMessage().contains("has 4"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "60 * * * *|minute", "x * * * *|minute", "*/0 * * * *|minute",
        "* 24 * * *|hour", "* 5-2 * * *|hour",
        "* * 0 * *|day-of-month", "* * 32 * *|day-of-month",
        "* * * 13 *|month", "* * * 0 *|month", "* * * JAN *|month",
        "* * * * 8|day-of-week", "* * * * MON|day-of-week", "* * * * 1-2-3|day-of-week", "* * * * 1,|day-of-week"})
    void cronFieldErrorsNameTheField(String spec) {
        String[] p = spec.split("\\|");
        ConfigException e = rejected(with(SyncConfig.SCHEDULE_CRON, p[0]));
        assertTrue(e.getMessage().contains(SyncConfig.SCHEDULE_CRON), e.getMessage());
        assertTrue(e.getMessage().contains("Cron " + p[1] + " field"), e.getMessage());
    }

    @Test
    void cronThatNeverFiresIsRejected() {
        rejected(with(SyncConfig.SCHEDULE_CRON, "0 0 30 2 *"));
    }

    // ---- enums ---------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"rest", "REST", "Rest", " rest "})
    void readApiIsCaseInsensitive(String v) {
        assertEquals(SyncConfig.ReadApi.REST, new SyncConfig(with(SyncConfig.READ_API, v)).readApi());
    }

    @ParameterizedTest
    @ValueSource(strings = {"millis", "MILLIS", "Millis"})
    void temporalPrecisionIsCaseInsensitive(String v) {
        assertEquals(SyncConfig.TemporalPrecision.MILLIS, new SyncConfig(with(SyncConfig.TEMPORAL_PRECISION, v)).temporalPrecision());
    }

    @ParameterizedTest
    @ValueSource(strings = {"key_file", "KEY_FILE", "Key_File"})
    void credentialsTypeIsCaseInsensitive(String v) {
        SyncConfig c = new SyncConfig(with(SyncConfig.CREDENTIALS_TYPE, v, SyncConfig.CREDENTIALS_FILE, "/k.json"));
        assertEquals(SyncConfig.CredentialsType.KEY_FILE, c.credentialsType());
    }

    @Test
    void unknownEnumValuesAreRejectedListingTheChoices() {
        ConfigException e = rejected(with(SyncConfig.READ_API, "arrow"));
        assertTrue(e.getMessage().contains("Must be one of [storage, rest]"), e.getMessage());
        e = rejected(with(SyncConfig.TEMPORAL_PRECISION, "nanos"));
        assertTrue(e.getMessage().contains("Must be one of [micros, millis]"), e.getMessage());
        e = rejected(with(SyncConfig.CREDENTIALS_TYPE, "oauth"));
        assertTrue(e.getMessage().contains("application_default, service_account_json, key_file, none"), e.getMessage());
    }

    // ---- ranges --------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"0", "0.0", "0.25", "1", "1.0"})
    void massDeleteRatioInRange(String v) {
        assertEquals(Double.parseDouble(v), new SyncConfig(with(SyncConfig.MASS_DELETE_MAX_RATIO, v)).massDeleteMaxRatio());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-0.01", "1.01", "2", "half"})
    void massDeleteRatioOutOfRange(String v) {
        ConfigException e = rejected(with(SyncConfig.MASS_DELETE_MAX_RATIO, v));
        assertTrue(e.getMessage().contains(SyncConfig.MASS_DELETE_MAX_RATIO), e.getMessage());
    }

    @Test
    void otherRanges() {
        rejected(with(SyncConfig.READ_CHUNK_ROWS, "99"));
        rejected(with(SyncConfig.DIFF_BUCKETS, "0"));
        rejected(with(SyncConfig.DIFF_BUCKETS, "4097"));
        rejected(with(SyncConfig.SCHEDULE_INTERVAL_MS, "999"));
        rejected(with(SyncConfig.STAGING_EXPIRATION_HOURS, "0"));
        rejected(with(SyncConfig.RETRY_MAX_ATTEMPTS, "0"));
        assertEquals(4096, new SyncConfig(with(SyncConfig.DIFF_BUCKETS, "4096")).diffBuckets());
    }

    @Test
    void readChunkBytesIsBetweenOneMebibyteAndOneGibibyte() {
        rejected(with(SyncConfig.READ_CHUNK_BYTES, "1048575"));
        rejected(with(SyncConfig.READ_CHUNK_BYTES, Long.toString((1L << 30) + 1)));
        rejected(with(SyncConfig.READ_CHUNK_BYTES, "8MB"));
        assertEquals(1L << 20, new SyncConfig(with(SyncConfig.READ_CHUNK_BYTES, "1048576")).readChunkBytes());
        assertEquals(1L << 30, new SyncConfig(with(SyncConfig.READ_CHUNK_BYTES, "1073741824")).readChunkBytes());
        ConfigDef.ConfigKey key = SyncConfig.CONFIG_DEF.configKeys().get(SyncConfig.READ_CHUNK_BYTES);
        assertEquals(SyncConfig.GROUP_READ, key.group);
        assertEquals(ConfigDef.Type.LONG, key.type);
    }

    @Test
    void diffBucketsIsAnUpperBound() {
        assertEquals(1, new SyncConfig(with(SyncConfig.DIFF_BUCKETS, "1")).diffBuckets());
        ConfigDef.ConfigKey key = SyncConfig.CONFIG_DEF.configKeys().get(SyncConfig.DIFF_BUCKETS);
        assertEquals(SyncSql.MAX_BUCKETS, key.defaultValue);
        assertTrue(key.documentation.contains("2 million"), key.documentation);
    }

    @Test
    void firstBrokenRuleWins() {
        // Both query/table and topic are wrong: the query rule comes first.
        FieldError e = crossFieldError(with(SyncConfig.QUERY, "", SyncConfig.TOPIC, "bad topic!"));
        assertEquals(SyncConfig.QUERY, e.field());
    }
}
