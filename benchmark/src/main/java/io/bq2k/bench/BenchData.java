package io.bq2k.bench;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.BigQueryRest.Field;

/**
 * The benchmark's data in the BigQuery emulator: {@code N} narrow "feature" rows loaded with
 * multipart-upload load jobs (NDJSON, {@link BigQueryRest#loadNdjson}), and the 1% change of each
 * incremental repetition as DML.
 *
 * <p>Row {@code id} (1..N): {@code f_int = id*7919 mod 1e6}, {@code f_float = (id mod 100000)/16}
 * (exact in binary), {@code f_str = 'u<id>-<hash>'} (NULL when id mod 13 = 0), {@code f_ts} a
 * microsecond TIMESTAMP, {@code f_num} a NUMERIC with 9 decimals.
 */
final class BenchData {

    static final String DATASET = "bench";
    static final String TABLE_ID = "features_src";
    static final String TABLE = DATASET + "." + TABLE_ID;
    static final String COLUMNS = "id, f_int, f_float, f_str, f_ts, f_num";
    /** The sync's query: every column aliased (the emulator needs it). */
    static final String QUERY = "SELECT id AS id, f_int AS f_int, f_float AS f_float, f_str AS f_str, f_ts AS f_ts, f_num AS f_num FROM " + TABLE;
    static final List<Field> SCHEMA = List.of(new Field("id", "INT64", "REQUIRED"), Field.of("f_int", "INT64"), Field.of("f_float", "FLOAT64"),
            Field.of("f_str", "STRING"), Field.of("f_ts", "TIMESTAMP"), Field.of("f_num", "NUMERIC"));

    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private BenchData() {
    }

    static String ndjsonRow(long id) {
        StringBuilder sb = new StringBuilder(160);
        sb.append("{\"id\":").append(id)
          .append(",\"f_int\":").append(id * 7919 % 1_000_000)
          .append(",\"f_float\":").append((id % 100_000) / 16.0)
          .append(",\"f_str\":");
        if (id % 13 == 0) {
            sb.append("null");
        } else {
            sb.append("\"u").append(id).append('-').append(Long.toHexString((id * 2654435761L) & 0xffffffffL)).append('"');
        }
        long micros = 1_700_000_000_000_000L + id * 1_000_003L;
        Instant ts = Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1000);
        sb.append(",\"f_ts\":\"").append(TS.format(ts)).append('"');
        long n = id * 104_729L % 100_000_000_000L;
        sb.append(",\"f_num\":\"").append(n / 1_000_000_000L).append('.').append(String.format("%09d", n % 1_000_000_000L)).append('"');
        return sb.append('}').toString();
    }

    /**
     * Loads rows 1..n into {@link #TABLE} (replacing it) with load jobs of {@code chunk} rows each:
     * the first WRITE_TRUNCATE, the rest WRITE_APPEND. Returns the seconds it took.
     */
    static double load(BigQueryRest bq, long n, int chunk) {
        long t0 = System.nanoTime();
        bq.query("CREATE SCHEMA IF NOT EXISTS " + DATASET);
        for (long from = 1; from <= n; from += chunk) {
            long to = Math.min(n, from + chunk - 1);
            StringBuilder data = new StringBuilder((int) (to - from + 1) * 150);
            for (long id = from; id <= to; id++) {
                data.append(ndjsonRow(id)).append('\n');
            }
            bq.loadNdjson(DATASET, TABLE_ID, SCHEMA, from == 1 ? "WRITE_TRUNCATE" : "WRITE_APPEND", data.toString());
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * Repetition {@code r} (1-based, up to 99) of the 1% change of the issue: half updates
     * ({@code id mod 200 = r}: every column but the key changes, f_int always), a quarter deletes
     * ({@code id mod 400 = 100 + r}), a quarter inserts (new ids above the current maximum).
     */
    static String[] changeSql(long n, int r, long maxId) {
        long inserts = Math.max(1, n / 400);
        return new String[] {
            "UPDATE " + TABLE + " SET f_int = f_int + 1000003, f_float = f_float + 0.5, f_str = CONCAT(COALESCE(f_str, 'n'), 'u"
                + r + "'), f_ts = TIMESTAMP_MICROS(UNIX_MICROS(f_ts) + 1), f_num = f_num + CAST('0.000000001' AS NUMERIC) WHERE MOD(id, 200) = " + r,
            "DELETE FROM " + TABLE + " WHERE MOD(id, 400) = " + (100 + r),
            "INSERT INTO " + TABLE + " (" + COLUMNS + ") SELECT id, MOD(id * 7919, 1000000), CAST(MOD(id, 100000) AS FLOAT64) / 16,"
                + " CONCAT('i', CAST(id AS STRING)), TIMESTAMP_MICROS(1700000000000000 + id * 1000003), CAST('1.5' AS NUMERIC)"
                + " FROM UNNEST(GENERATE_ARRAY(" + (maxId + 1) + ", " + (maxId + inserts) + ")) AS id",
        };
    }
}
