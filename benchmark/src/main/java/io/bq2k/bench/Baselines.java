package io.bq2k.bench;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import com.google.cloud.NoCredentials;
import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryOptions;
import com.google.cloud.bigquery.FieldValueList;
import com.google.cloud.bigquery.Job;
import com.google.cloud.bigquery.JobInfo;
import com.google.cloud.bigquery.QueryJobConfiguration;
import com.google.cloud.bigquery.TableId;
import com.google.cloud.bigquery.TableResult;

/**
 * The scripts teams write today, run against the same emulator and MySQL server:
 * <ul>
 *   <li>{@link #seed}: page through the query with the BigQuery Java client, multi-row
 *       {@code INSERT IGNORE} of 1,000 rows per statement, no sleep. Never updates, never deletes.</li>
 *   <li>{@link #upsert}: page through the query, JDBC batches of 5,000 {@code INSERT … ON DUPLICATE KEY
 *       UPDATE} with {@code rewriteBatchedStatements=true}: the MySQL ceiling of our write path.
 *       Updates, never deletes (it cannot see removed rows).</li>
 * </ul>
 * Both time the BigQuery read and the MySQL writes separately.
 */
final class Baselines {

    /** One baseline pass: wall seconds, seconds inside MySQL statements, rows written. */
    record Pass(double seconds, double mysqlSeconds, long rows) {
        double rowsPerSec() { return rows / seconds; }
        double mysqlRowsPerSec() { return rows / mysqlSeconds; }
    }

    /** The baselines' MySQL tables. */
    static final String SEED_TABLE = "bench_seed";
    static final String UPSERT_TABLE = "bench_upsert";

    static final String DDL_COLUMNS = "(id BIGINT NOT NULL PRIMARY KEY, f_int BIGINT NULL, f_float DOUBLE NULL, f_str LONGTEXT NULL,"
            + " f_ts DATETIME(6) NULL, f_num DECIMAL(38,9) NULL)";

    private final BigQuery bigquery;
    private final String mysqlBaseUrl;
    private final String user;
    private final String password;
    private final int pageSize;

    Baselines(String bqRestUrl, String project, String mysqlBaseUrl, String user, String password, int pageSize) {
        this.bigquery = BigQueryOptions.newBuilder().setProjectId(project).setHost(bqRestUrl)
                .setCredentials(NoCredentials.getInstance()).build().getService();
        this.mysqlBaseUrl = mysqlBaseUrl;
        this.user = user;
        this.password = password;
        this.pageSize = pageSize;
    }

    static void createTable(Connection c, String table, boolean dropFirst) throws SQLException {
        try (Statement st = c.createStatement()) {
            if (dropFirst) {
                st.execute("DROP TABLE IF EXISTS `" + table + "`");
            }
            st.execute("CREATE TABLE IF NOT EXISTS `" + table + "` " + DDL_COLUMNS);
        }
    }

    /**
     * The query's result, paged with the Java client. The query writes to a destination table and the
     * pages are read with tabledata.list: the emulator answers tabledata.list only for named tables, not for
     * the anonymous result table the client pages through by default (404 from the second page on).
     */
    private Iterable<FieldValueList> pages(String query, String resultTable) throws InterruptedException {
        TableId dest = TableId.of(BenchData.DATASET, resultTable);
        // (The emulator ignores a query job's destinationTable: materialize with DDL instead, same effect.)
        bigquery.query(QueryJobConfiguration.newBuilder("CREATE OR REPLACE TABLE " + BenchData.DATASET + "." + resultTable + " AS " + query)
                .setUseLegacySql(false).build());
        TableResult r = bigquery.listTableData(dest, bigquery.getTable(dest).getDefinition().getSchema(),
                BigQuery.TableDataListOption.pageSize(pageSize));
        return r.iterateAll();
    }

    private static void bind(PreparedStatement ps, int base, FieldValueList r) throws SQLException {
        ps.setLong(base + 1, r.get("id").getLongValue());
        if (r.get("f_int").isNull()) ps.setNull(base + 2, Types.BIGINT); else ps.setLong(base + 2, r.get("f_int").getLongValue());
        if (r.get("f_float").isNull()) ps.setNull(base + 3, Types.DOUBLE); else ps.setDouble(base + 3, r.get("f_float").getDoubleValue());
        if (r.get("f_str").isNull()) ps.setNull(base + 4, Types.VARCHAR); else ps.setString(base + 4, r.get("f_str").getStringValue());
        if (r.get("f_ts").isNull()) {
            ps.setNull(base + 5, Types.TIMESTAMP);
        } else {
            long micros = micros(r.get("f_ts").getStringValue());
            ps.setObject(base + 5, LocalDateTime.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
                    (int) Math.floorMod(micros, 1_000_000L) * 1000, ZoneOffset.UTC));
        }
        if (r.get("f_num").isNull()) ps.setNull(base + 6, Types.DECIMAL); else ps.setBigDecimal(base + 6, r.get("f_num").getNumericValue());
    }

    /**
     * TIMESTAMP cells: BigQuery sends float seconds ("1.7E9"); the emulator sends integer microseconds
     * (what jobs.getQueryResults returns with formatOptions.useInt64Timestamp), which
     * FieldValue.getTimestampValue() misreads as seconds. Accept both.
     */
    static long micros(String v) {
        if (v.indexOf('.') < 0 && v.indexOf('E') < 0 && v.indexOf('e') < 0) {
            return Long.parseLong(v);
        }
        return new java.math.BigDecimal(v).movePointRight(6).setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
    }

    private static String tuples(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append("(?,?,?,?,?,?)");
        }
        return sb.toString();
    }

    /** The seed script: multi-row INSERT IGNORE, 1,000 rows per statement, autocommit, no sleep. */
    Pass seed(String query, String table) throws Exception {
        final int batch = 1000;
        long t0 = System.nanoTime();
        long inMysql = 0;
        long rows = 0;
        try (Connection c = DriverManager.getConnection(mysqlBaseUrl, user, password)) {
            String head = "INSERT IGNORE INTO `" + table + "` (" + BenchData.COLUMNS + ") VALUES ";
            try (PreparedStatement full = c.prepareStatement(head + tuples(batch))) {
                List<FieldValueList> buf = new ArrayList<>(batch);
                for (FieldValueList r : pages(query, "result_" + table)) {
                    buf.add(r);
                    if (buf.size() == batch) {
                        long s = System.nanoTime();
                        for (int i = 0; i < batch; i++) {
                            bind(full, i * 6, buf.get(i));
                        }
                        full.executeUpdate();
                        inMysql += System.nanoTime() - s;
                        rows += batch;
                        buf.clear();
                    }
                }
                if (!buf.isEmpty()) {
                    long s = System.nanoTime();
                    try (PreparedStatement last = c.prepareStatement(head + tuples(buf.size()))) {
                        for (int i = 0; i < buf.size(); i++) {
                            bind(last, i * 6, buf.get(i));
                        }
                        last.executeUpdate();
                    }
                    inMysql += System.nanoTime() - s;
                    rows += buf.size();
                }
            }
        }
        return new Pass((System.nanoTime() - t0) / 1e9, inMysql / 1e9, rows);
    }

    /** The direct upsert loader: JDBC batches of 5,000 upserts, rewriteBatchedStatements=true, a commit per batch. */
    Pass upsert(String query, String table) throws Exception {
        final int batch = 5000;
        long t0 = System.nanoTime();
        long inMysql = 0;
        long rows = 0;
        String url = mysqlBaseUrl + (mysqlBaseUrl.contains("?") ? "&" : "?") + "rewriteBatchedStatements=true";
        try (Connection c = DriverManager.getConnection(url, user, password)) {
            c.setAutoCommit(false);
            String sql = "INSERT INTO `" + table + "` (" + BenchData.COLUMNS + ") VALUES (?,?,?,?,?,?) ON DUPLICATE KEY UPDATE"
                    + " f_int = VALUES(f_int), f_float = VALUES(f_float), f_str = VALUES(f_str), f_ts = VALUES(f_ts), f_num = VALUES(f_num)";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int n = 0;
                List<FieldValueList> buf = new ArrayList<>(batch);
                for (FieldValueList r : pages(query, "result_" + table)) {
                    buf.add(r);
                    if (buf.size() == batch) {
                        inMysql += flush(c, ps, buf);
                        rows += buf.size();
                        buf.clear();
                    }
                }
                if (!buf.isEmpty()) {
                    inMysql += flush(c, ps, buf);
                    rows += buf.size();
                }
            }
        }
        return new Pass((System.nanoTime() - t0) / 1e9, inMysql / 1e9, rows);
    }

    private static long flush(Connection c, PreparedStatement ps, List<FieldValueList> buf) throws SQLException {
        long s = System.nanoTime();
        for (FieldValueList r : buf) {
            bind(ps, 0, r);
            ps.addBatch();
        }
        ps.executeBatch();
        c.commit();
        return System.nanoTime() - s;
    }

}
