package io.bq2k.stack;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The mirror invariant (I1) as code, shared by the e2e tests and {@code bin/demo}: reads a BigQuery
 * query result and a MySQL table into canonical rows (one value type per BigQuery type, see
 * {@link Type}) keyed by the key column, and compares them column by column.
 *
 * <p>Canonical values: INT64 {@code Long}; STRING {@code String}; NUMERIC {@code BigDecimal} without
 * trailing zeros (so {@code 1.500} = {@code 1.5}: DECIMAL(38,9) pads); TIMESTAMP {@code Long} epoch
 * microseconds UTC (MySQL DATETIME(6) read as UTC wall time); DATE {@code LocalDate}; FLOAT64
 * {@code Double} (exact); BOOL {@code Boolean}; SQL NULL {@code null}.
 */
public final class MirrorCheck {

    public enum Type { INT64, STRING, NUMERIC, TIMESTAMP, DATE, FLOAT64, BOOL }

    public record Column(String name, Type type) {}

    /** Rows by key (the first column's canonical value); each row holds every column's canonical value. */
    public static final class Rows {
        final Map<Object, List<Object>> byKey;

        public Rows(Map<Object, List<Object>> byKey) {
            this.byKey = byKey;
        }

        public int size() {
            return byKey.size();
        }

        public Map<Object, List<Object>> asMap() {
            return byKey;
        }
    }

    /** The outcome: equal, or counts and up to 10 example differences. */
    public record Result(boolean equal, int expectedRows, int actualRows, int missing, int extra, int differing,
                         List<String> examples) {
        public String summary() {
            if (equal) {
                return "equal (" + expectedRows + " rows)";
            }
            return "MISMATCH expected " + expectedRows + " rows, MySQL has " + actualRows + ": " + missing + " missing, "
                    + extra + " extra, " + differing + " differing" + (examples.isEmpty() ? "" : "; e.g. " + String.join(" | ", examples));
        }
    }

    private final List<Column> columns;
    private final String keyColumn;

    /** The first column is the key. */
    public MirrorCheck(List<Column> columns) {
        this.columns = List.copyOf(columns);
        this.keyColumn = columns.get(0).name();
    }

    public List<Column> columns() {
        return columns;
    }

    // ------------------------------------------------------------------ canonical values

    /** Canonicalizes a Java value of the column's type (Long/Integer, BigDecimal, micros, LocalDate, ...). */
    public static Object canonical(Type t, Object v) {
        if (v == null) {
            return null;
        }
        switch (t) {
            case INT64: case TIMESTAMP: return ((Number) v).longValue();
            case STRING: return v.toString();
            case NUMERIC: {
                BigDecimal d = v instanceof BigDecimal ? (BigDecimal) v : new BigDecimal(v.toString());
                return d.signum() == 0 ? BigDecimal.ZERO : d.stripTrailingZeros();
            }
            case DATE: return v instanceof LocalDate ? v : LocalDate.parse(v.toString());
            case FLOAT64: return ((Number) v).doubleValue();
            case BOOL: return (Boolean) v;
            default: throw new AssertionError(t);
        }
    }

    /** Parses the string BigQuery's REST API returns for the projection built by {@link #bigQueryProjection}. */
    static Object fromBigQuery(Type t, String s) {
        if (s == null) {
            return null;
        }
        switch (t) {
            case INT64: case TIMESTAMP: return Long.parseLong(s);
            case STRING: return s;
            case NUMERIC: return canonical(t, new BigDecimal(s));
            case DATE: return LocalDate.parse(s);
            case FLOAT64: return Double.parseDouble(s);
            case BOOL: return Boolean.parseBoolean(s);
            default: throw new AssertionError(t);
        }
    }

    /** Row builder for expected rows computed in Java (values in column order). */
    public Rows rows(List<List<Object>> rows) {
        Map<Object, List<Object>> m = new HashMap<>();
        for (List<Object> r : rows) {
            List<Object> c = new ArrayList<>(r.size());
            for (int i = 0; i < columns.size(); i++) {
                c.add(canonical(columns.get(i).type(), r.get(i)));
            }
            if (m.put(c.get(0), c) != null) {
                throw new IllegalArgumentException("duplicate key " + c.get(0));
            }
        }
        return new Rows(m);
    }

    // ------------------------------------------------------------------ BigQuery side

    /**
     * The columns of a query's result, from BigQuery's own schema ({@code SELECT * ... LIMIT 0}), the
     * key column first. Types outside {@link Type} are refused.
     */
    public static MirrorCheck forQuery(BigQueryRest bq, String query, String keyColumn) {
        BigQueryRest.Result r = bq.query("SELECT * FROM (" + query + ") AS q LIMIT 0");
        List<Column> cols = new ArrayList<>();
        for (int i = 0; i < r.columns().size(); i++) {
            String t = r.types().get(i);
            Type type;
            switch (t) {
                case "INTEGER": case "INT64": type = Type.INT64; break;
                case "FLOAT": case "FLOAT64": type = Type.FLOAT64; break;
                case "BOOLEAN": case "BOOL": type = Type.BOOL; break;
                case "STRING": type = Type.STRING; break;
                case "NUMERIC": type = Type.NUMERIC; break;
                case "TIMESTAMP": type = Type.TIMESTAMP; break;
                case "DATE": type = Type.DATE; break;
                default: throw new IllegalArgumentException("column " + r.columns().get(i) + " has type " + t + ", which this check does not compare");
            }
            Column c = new Column(r.columns().get(i), type);
            if (c.name().equals(keyColumn)) {
                cols.add(0, c);
            } else {
                cols.add(c);
            }
        }
        if (cols.isEmpty() || !cols.get(0).name().equals(keyColumn)) {
            throw new IllegalArgumentException("key column " + keyColumn + " is not in the query result " + r.columns());
        }
        return new MirrorCheck(cols);
    }

    /**
     * The latest value per key of a topic's records (from {@link PipelineOps#readAll}), a tombstone
     * removing the key: what any consumer of the topic, a sink included, ends up holding.
     */
    public Rows latestPerKey(List<PipelineOps.TopicRecord> records, int decimalScale) {
        Map<Object, List<Object>> latest = new HashMap<>();
        for (PipelineOps.TopicRecord r : records) {
            Object key = fromConnectJson(PipelineOps.payload(r.key()), decimalScale).get(0);
            if (r.value() == null) {
                latest.remove(key);
            } else {
                latest.put(key, fromConnectJson(PipelineOps.payload(r.value()), decimalScale));
            }
        }
        return new Rows(latest);
    }

    /**
     * Canonical row from a record value of the source connector (JsonConverter payload): Decimal as
     * base64 unscaled bytes (JsonConverter's default) or a number, MicroTimestamp as micros, Date as days.
     */
    public List<Object> fromConnectJson(com.fasterxml.jackson.databind.JsonNode payload, int scale) {
        List<Object> row = new ArrayList<>(columns.size());
        for (Column c : columns) {
            com.fasterxml.jackson.databind.JsonNode v = payload.get(c.name());
            Object o;
            if (v == null || v.isNull()) {
                o = null;
            } else {
                switch (c.type()) {
                    case INT64: case TIMESTAMP: o = v.asLong(); break;
                    case STRING: o = v.asText(); break;
                    case NUMERIC: o = v.isTextual()
                            ? new BigDecimal(new java.math.BigInteger(java.util.Base64.getDecoder().decode(v.asText())), scale)
                            : v.decimalValue(); break;
                    case DATE: o = LocalDate.ofEpochDay(v.asLong()); break;
                    case FLOAT64: o = v.asDouble(); break;
                    case BOOL: o = v.asBoolean(); break;
                    default: throw new AssertionError(c.type());
                }
            }
            row.add(canonical(c.type(), o));
        }
        return row;
    }

    /**
     * Canonical row from a record value as a plain Avro consumer sees it: {@code field} returns a field's value by
     * column name (e.g. {@code GenericRecord::get}). Without Avro's logical-type conversions (what Apicurio's and
     * Confluent's deserializers return): INT64 and TIMESTAMP ({@code io.debezium.time.MicroTimestamp}) a {@code Long},
     * STRING a {@code CharSequence} ({@code Utf8}), NUMERIC ({@code decimal} logical type) a {@code ByteBuffer} of the
     * two's-complement unscaled value at {@code decimalScale}, DATE ({@code date}) an {@code Integer} of days since
     * 1970-01-01; with conversions, {@code BigDecimal} and {@code LocalDate} are taken as they are.
     */
    public List<Object> fromAvro(java.util.function.Function<String, Object> field, int decimalScale) {
        List<Object> row = new ArrayList<>(columns.size());
        for (Column c : columns) {
            Object v = field.apply(c.name());
            Object o;
            if (v == null) {
                o = null;
            } else {
                switch (c.type()) {
                    case NUMERIC:
                        if (v instanceof java.nio.ByteBuffer) {
                            java.nio.ByteBuffer b = ((java.nio.ByteBuffer) v).duplicate();
                            byte[] bytes = new byte[b.remaining()];
                            b.get(bytes);
                            o = new BigDecimal(new java.math.BigInteger(bytes), decimalScale);
                        } else {
                            o = v;
                        }
                        break;
                    case DATE: o = v instanceof Number ? LocalDate.ofEpochDay(((Number) v).longValue()) : v; break;
                    case STRING: o = v.toString(); break;
                    default: o = v;
                }
            }
            row.add(canonical(c.type(), o));
        }
        return row;
    }

    /** {@code SELECT <canonical projection> FROM (<query>)}: TIMESTAMP as UNIX_MICROS, DATE/NUMERIC as strings. */
    public String bigQueryProjection(String query) {
        List<String> sel = new ArrayList<>();
        for (Column c : columns) {
            String q = "`" + c.name() + "`";
            switch (c.type()) {
                case TIMESTAMP: sel.add("UNIX_MICROS(" + q + ") AS " + q); break;
                case DATE: case NUMERIC: sel.add("CAST(" + q + " AS STRING) AS " + q); break;
                default: sel.add(q);
            }
        }
        return "SELECT " + String.join(", ", sel) + " FROM (" + query + ") AS q";
    }

    /** The query's result, read through the REST API (every page). */
    public Rows readBigQuery(BigQueryRest bq, String query) {
        BigQueryRest.Result r = bq.query(bigQueryProjection(query));
        Map<Object, List<Object>> m = new HashMap<>();
        for (List<String> row : r.rows()) {
            List<Object> c = new ArrayList<>(columns.size());
            for (int i = 0; i < columns.size(); i++) {
                c.add(fromBigQuery(columns.get(i).type(), row.get(i)));
            }
            if (m.put(c.get(0), c) != null) {
                throw new IllegalStateException("query result has duplicate key " + c.get(0));
            }
        }
        return new Rows(m);
    }

    // ------------------------------------------------------------------ MySQL side

    /** True when the table exists in the connection's database. */
    public static boolean tableExists(Connection c, String table) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        try (ResultSet rs = md.getTables(c.getCatalog(), null, table, new String[] {"TABLE"})) {
            return rs.next();
        }
    }

    /** Row count, 0 when the table does not exist yet (the sink creates it with its first batch). */
    public static long count(Connection c, String table) throws SQLException {
        if (!tableExists(c, table)) {
            return 0;
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM `" + table + "`")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Every row of the MySQL table (empty when it does not exist yet). */
    public Rows readMySql(Connection c, String table) throws SQLException {
        Map<Object, List<Object>> m = new HashMap<>();
        if (!tableExists(c, table)) {
            return new Rows(m);
        }
        String cols = columns.stream().map(col -> "`" + col.name() + "`").collect(Collectors.joining(", "));
        try (Statement st = c.createStatement()) {
            st.setFetchSize(Integer.MIN_VALUE);
            try (ResultSet rs = st.executeQuery("SELECT " + cols + " FROM `" + table + "`")) {
                while (rs.next()) {
                    List<Object> row = new ArrayList<>(columns.size());
                    for (int i = 0; i < columns.size(); i++) {
                        row.add(mysqlValue(rs, i + 1, columns.get(i).type()));
                    }
                    m.put(row.get(0), row);
                }
            }
        }
        return new Rows(m);
    }

    private static Object mysqlValue(ResultSet rs, int i, Type t) throws SQLException {
        Object v;
        switch (t) {
            case INT64: v = rs.getLong(i); break;
            case STRING: v = rs.getString(i); break;
            case NUMERIC: v = rs.getBigDecimal(i); break;
            case TIMESTAMP: {
                LocalDateTime ldt = rs.getObject(i, LocalDateTime.class);
                v = ldt == null ? null : ldt.toEpochSecond(ZoneOffset.UTC) * 1_000_000L + ldt.getNano() / 1_000;
                break;
            }
            case DATE: v = rs.getObject(i, LocalDate.class); break;
            case FLOAT64: v = rs.getDouble(i); break;
            case BOOL: v = rs.getBoolean(i); break;
            default: throw new AssertionError(t);
        }
        return rs.wasNull() ? null : canonical(t, v);
    }

    // ------------------------------------------------------------------ comparison

    public Result compare(Rows expected, Rows actual) {
        int missing = 0;
        int differing = 0;
        List<String> examples = new ArrayList<>();
        for (Map.Entry<Object, List<Object>> e : new java.util.TreeMap<>(expected.byKey).entrySet()) {
            List<Object> a = actual.byKey.get(e.getKey());
            if (a == null) {
                missing++;
                if (examples.size() < 10) {
                    examples.add(keyColumn + "=" + e.getKey() + " missing in MySQL");
                }
                continue;
            }
            List<String> diffs = new ArrayList<>();
            for (int i = 0; i < columns.size(); i++) {
                if (!Objects.equals(e.getValue().get(i), a.get(i))) {
                    diffs.add(columns.get(i).name() + " expected " + show(e.getValue().get(i)) + " but was " + show(a.get(i)));
                }
            }
            if (!diffs.isEmpty()) {
                differing++;
                if (examples.size() < 10) {
                    examples.add(keyColumn + "=" + e.getKey() + ": " + String.join(", ", diffs));
                }
            }
        }
        int extra = 0;
        for (Object k : new TreeSet<>(actual.byKey.keySet())) {
            if (!expected.byKey.containsKey(k)) {
                extra++;
                if (examples.size() < 10) {
                    examples.add(keyColumn + "=" + k + " in MySQL but not in the expected rows");
                }
            }
        }
        boolean equal = missing == 0 && extra == 0 && differing == 0;
        return new Result(equal, expected.size(), actual.size(), missing, extra, differing, examples);
    }

    private static String show(Object o) {
        return o instanceof String ? "'" + o + "'" : String.valueOf(o);
    }

    /** A connection source that may throw. */
    @FunctionalInterface
    public interface ConnectionSupplier {
        Connection get() throws SQLException;
    }

    /**
     * Polls the MySQL table until it equals {@code expected} or the timeout passes; returns the last
     * comparison. {@code progress} (may be null) gets one line per poll.
     */
    public Result awaitMySqlEquals(ConnectionSupplier db, String table, Rows expected, Duration timeout,
                                   Consumer<String> progress) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Result last;
        String lastLine = null;
        try (Connection c = db.get()) {
            while (true) {
                last = compare(expected, readMySql(c, table));
                if (progress != null) {
                    String line = String.format("MySQL %s: %d rows (expected %d), %d missing, %d extra, %d differing",
                            table, last.actualRows(), last.expectedRows(), last.missing(), last.extra(), last.differing());
                    if (!line.equals(lastLine)) {
                        progress.accept(line);
                        lastLine = line;
                    }
                }
                if (last.equal() || System.nanoTime() > deadline) {
                    return last;
                }
                Thread.sleep(expected.size() > 20_000 ? 1500 : 300);
            }
        }
    }
}
