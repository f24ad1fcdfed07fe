package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck.Column;
import io.bq2k.stack.MirrorCheck.Type;
import io.bq2k.stack.PipelineOps;

/**
 * A test table whose version v is a formula of (id, v), built in BigQuery by SQL and computed
 * independently in Java. Row id is present in version v when {@code id <= base + grow*v} and
 * {@code (7 id + 3 v) mod 11 != 0} (so every version inserts and deletes rows); its values depend on
 * the epoch {@code e = (v + id mod period) div period}, which changes for 1/period of the rows each
 * version (updates). Column {@code version} = e never decreases per key as v grows.
 */
final class VersionedTable {

    static final List<Column> COLUMNS = List.of(
            new Column("id", Type.INT64), new Column("version", Type.INT64), new Column("name", Type.STRING),
            new Column("amount", Type.NUMERIC), new Column("seen_at", Type.TIMESTAMP), new Column("day", Type.DATE),
            new Column("score", Type.FLOAT64), new Column("active", Type.BOOL));

    final String table;
    final int base;
    final int grow;
    final int period;

    VersionedTable(String table, int base, int grow, int period) {
        this.table = table;
        this.base = base;
        this.grow = grow;
        this.period = period;
    }

    /**
     * The MySQL columns the sink created for this table's columns (the documented mapping: INT64 key, NUMERIC,
     * TIMESTAMP in microseconds, DATE), asserted; returns every column's type ("PK" appended to the key's) for the log.
     */
    static Map<String, String> assertSinkColumnTypes(LocalStack stack, String mysqlTable) throws SQLException {
        Map<String, String> types = new LinkedHashMap<>();
        try (var c = stack.mysqlConnection(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT COLUMN_NAME, COLUMN_TYPE, COLUMN_KEY FROM information_schema.COLUMNS"
                     + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '" + mysqlTable + "' ORDER BY ORDINAL_POSITION")) {
            while (rs.next()) {
                types.put(rs.getString(1), rs.getString(2) + ("PRI".equals(rs.getString(3)) ? " PK" : ""));
            }
        }
        assertEquals("bigint(20) PK", types.get("id"), "the key column: " + types);
        assertEquals("decimal(38,9)", types.get("amount"), "NUMERIC: " + types);
        assertEquals("datetime(6)", types.get("seen_at"), "TIMESTAMP: " + types);
        assertEquals("date", types.get("day"), "DATE: " + types);
        return types;
    }

    /**
     * Invariant I2 on a topic of this table: per key, in offset order (readAll reads each partition in order),
     * the {@code version} column never decreases, except for keys whose data itself went back ({@code reverted}).
     * Returns up to ten violations, described; empty when none.
     */
    static List<String> versionsGoingBackwards(List<PipelineOps.TopicRecord> records, Set<Long> reverted) {
        Map<Long, Long> last = new HashMap<>();
        List<String> backwards = new ArrayList<>();
        for (PipelineOps.TopicRecord r : records) {
            if (r.value() == null) {
                continue;
            }
            long id = PipelineOps.payload(r.key()).get("id").asLong();
            long version = PipelineOps.payload(r.value()).get("version").asLong();
            Long prev = last.put(id, version);
            if (prev != null && version < prev && !reverted.contains(id) && backwards.size() < 10) {
                backwards.add("id=" + id + " p" + r.partition() + "@" + r.offset() + ": version " + version + " after " + prev);
            }
        }
        return backwards;
    }

    int maxId(int v) {
        return base + grow * v;
    }

    boolean present(long id, int v) {
        return id <= maxId(v) && (7 * id + 3L * v) % 11 != 0;
    }

    long epoch(long id, int v) {
        return (v + id % period) / period;
    }

    List<Object> row(long id, int v) {
        return rowAt(id, epoch(id, v));
    }

    /** The row of key {@code id} at epoch {@code e}: the values {@link #VALUES_SQL} computes in BigQuery. */
    static List<Object> rowAt(long id, long e) {
        String name = id % 10 == 0 ? null : "Zoë 東京 🎉 #" + id + "/" + e;
        BigDecimal amount = id % 97 == 1 ? new BigDecimal("1234.567891234")
                : id % 9 == 0 ? null
                : new BigDecimal((id % 5 == 0 ? "-" : "") + (id * 1000 + e) + "." + String.format("%09d", (id * 7919 + e * 104729) % 1_000_000_000L));
        Long seenAt = id % 8 == 0 ? null : 1_700_000_000_000_000L + id * 1_000_003L + e * 86_400_000_001L;
        LocalDate day = id % 6 == 0 ? null : LocalDate.ofEpochDay(19_700 + id % 1000 + e);
        Double score = id % 13 == 0 ? null : id / 8.0 + e;
        boolean active = (id + e) % 2 == 0;
        return Arrays.asList(id, e, name, amount, seenAt, day, score, active);
    }

    List<List<Object>> rows(int v) {
        List<List<Object>> out = new ArrayList<>();
        for (long id = 1; id <= maxId(v); id++) {
            if (present(id, v)) {
                out.add(row(id, v));
            }
        }
        return out;
    }

    /** {added, changed, removed} from version v-1 to v (v-1 = 0: empty). */
    long[] changes(int v) {
        long added = 0, changed = 0, removed = 0;
        for (long id = 1; id <= Math.max(maxId(v), maxId(v - 1)); id++) {
            boolean before = v > 1 && present(id, v - 1);
            boolean now = present(id, v);
            if (now && !before) {
                added++;
            } else if (before && !now) {
                removed++;
            } else if (now && !row(id, v - 1).equals(row(id, v))) {
                changed++;
            }
        }
        return new long[] {added, changed, removed};
    }

    /**
     * The table of version v. Written around the emulator's quirks: {@code DIV} is wrong there (so the
     * epoch is computed once with FLOOR in a subquery), and NUMERIC casts and literals may become DuckDB's
     * DECIMAL(18,3) depending on the statement (so amounts are PARSE_NUMERIC of their exact text).
     */
    String createSql(int v) {
        return "CREATE OR REPLACE TABLE " + table + " AS SELECT\n" + VALUES_SQL + "\n"
                + "FROM (SELECT id AS id, CAST(FLOOR((" + v + " + MOD(id, " + period + ")) / " + period + ") AS INT64) AS e\n"
                + "  FROM UNNEST(GENERATE_ARRAY(1, " + maxId(v) + ")) AS id\n"
                + "  WHERE MOD(id * 7 + " + (3 * v) + ", 11) != 0)";
    }

    /**
     * The select list of a row from columns {@code id} and {@code e} (the epoch), as {@link #rowAt(long, long)}.
     * Written around the emulator's quirks: {@code DIV} is wrong there (callers compute the epoch with
     * FLOOR), and NUMERIC casts and literals may become DuckDB's DECIMAL(18,3) depending on the statement
     * (so amounts are PARSE_NUMERIC of their exact text).
     */
    static final String VALUES_SQL = String.join("\n",
            "  id AS id,",
            "  e AS version,",
            "  IF(MOD(id, 10) = 0, NULL, CONCAT('Zoë 東京 🎉 #', CAST(id AS STRING), '/', CAST(e AS STRING))) AS name,",
            "  IF(MOD(id, 97) = 1, PARSE_NUMERIC('1234.567891234'), IF(MOD(id, 9) = 0, NULL,",
            "    PARSE_NUMERIC(CONCAT(IF(MOD(id, 5) = 0, '-', ''), CAST(id * 1000 + e AS STRING), '.',",
            "      LPAD(CAST(MOD(id * 7919 + e * 104729, 1000000000) AS STRING), 9, '0'))))) AS amount,",
            "  IF(MOD(id, 8) = 0, NULL, TIMESTAMP_MICROS(1700000000000000 + id * 1000003 + e * 86400000001)) AS seen_at,",
            "  IF(MOD(id, 6) = 0, NULL, DATE_FROM_UNIX_DATE(19700 + MOD(id, 1000) + e)) AS day,",
            "  IF(MOD(id, 13) = 0, NULL, CAST(id AS FLOAT64) / 8 + e) AS score,",
            "  MOD(id + e, 2) = 0 AS active");

    String query() {
        return "SELECT id AS id, version AS version, name AS name, amount AS amount, seen_at AS seen_at, day AS day, "
                + "score AS score, active AS active FROM " + table;
    }
}
