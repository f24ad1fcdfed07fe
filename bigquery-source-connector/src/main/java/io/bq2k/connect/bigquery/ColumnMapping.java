package io.bq2k.connect.bigquery;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.Base64;
import java.util.Locale;

import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.LegacySQLTypeName;

import io.bq2k.connect.bigquery.SyncConfig.JsonColumns;
import io.bq2k.connect.bigquery.SyncConfig.TemporalPrecision;

/**
 * The type mapping, one column at a time: how a BigQuery column is projected into the diff
 * table ({@link #emitExpression}), which Connect schema carries it, and how a value read back
 * (from Avro via the Storage Read API, or as text via REST) becomes the Connect value.
 * Composite and exotic types are turned into text inside BigQuery, so both read paths only ever
 * see scalars and produce identical values. The README's type table documents this class.
 */
public final class ColumnMapping {

    public static final String JSON_SCHEMA_NAME = "io.debezium.data.Json";
    public static final String MICRO_TIMESTAMP = "io.debezium.time.MicroTimestamp";
    public static final String MICRO_TIME = "io.debezium.time.MicroTime";
    static final String DECIMAL_PRECISION = "connect.decimal.precision";

    /** What the diff table holds for a column, which decides decoding. */
    enum Kind { INT64, FLOAT64, BOOL, STRING, BYTES, NUMERIC, DATE, TIME, TIMESTAMP, DATETIME }

    private static final DateTimeFormatter DATETIME_TEXT = new DateTimeFormatterBuilder()
        .append(DateTimeFormatter.ISO_LOCAL_DATE)
        .optionalStart().appendLiteral('T').optionalEnd()
        .optionalStart().appendLiteral(' ').optionalEnd()
        .append(DateTimeFormatter.ISO_LOCAL_TIME)
        .toFormatter(Locale.ROOT);

    private final String name;
    private final String bigQueryType;
    private final Kind kind;
    private final Schema schema;
    private final String emitTemplate;
    private final int scale;
    private final TemporalPrecision precision;

    private ColumnMapping(String name, String bigQueryType, Kind kind, Schema schema, String emitTemplate, int scale,
                          TemporalPrecision precision) {
        this.name = name;
        this.bigQueryType = bigQueryType;
        this.kind = kind;
        this.schema = schema;
        this.emitTemplate = emitTemplate;
        this.scale = scale;
        this.precision = precision;
    }

    /** The configurable choices of the mapping: temporal precision, and how JSON text is labelled. */
    public record Style(TemporalPrecision precision, JsonColumns json) { }

    /**
     * Maps one column of the snapshot. Key columns get a required schema, others optional.
     *
     * @throws UnsupportedTypeException for a type without a mapping
     */
    public static ColumnMapping of(Field field, boolean key, Style style) {
        TemporalPrecision precision = style.precision();
        String name = field.getName();
        boolean repeated = field.getMode() == Field.Mode.REPEATED;
        String type = repeated ? "ARRAY" : field.getType().getStandardType().name();
        if (!repeated && field.getType() == LegacySQLTypeName.RECORD) {
            type = "STRUCT";
        }
        switch (type) {
            case "INT64":
                return scalar(name, type, Kind.INT64, SchemaBuilder.int64(), key, precision);
            case "FLOAT64":
                return scalar(name, type, Kind.FLOAT64, SchemaBuilder.float64(), key, precision);
            case "BOOL":
                return scalar(name, type, Kind.BOOL, SchemaBuilder.bool(), key, precision);
            case "STRING":
                return scalar(name, type, Kind.STRING, SchemaBuilder.string(), key, precision);
            case "BYTES":
                return scalar(name, type, Kind.BYTES, SchemaBuilder.bytes(), key, precision);
            case "NUMERIC": {
                // NUMERIC is NUMERIC(38, 9); NUMERIC(P) means scale 0, as in BigQuery.
                int p = field.getPrecision() == null ? 38 : field.getPrecision().intValue();
                int s = field.getScale() != null ? field.getScale().intValue() : field.getPrecision() == null ? 9 : 0;
                SchemaBuilder b = Decimal.builder(s).parameter(DECIMAL_PRECISION, Integer.toString(p));
                return new ColumnMapping(name, type, Kind.NUMERIC, finish(b, key), "%s", s, precision);
            }
            case "BIGNUMERIC":
                // Up to 76 digits with scale 38: wider than MySQL's DECIMAL(65,30) and than the
                // Debezium sink's DECIMAL(38); exact decimal text keeps every digit.
                return new ColumnMapping(name, type, Kind.STRING, finish(SchemaBuilder.string(), key),
                    "CAST(%s AS STRING)", 0, precision);
            case "DATE":
                return scalar(name, type, Kind.DATE, Date.builder(), key, precision);
            case "TIME":
                return scalar(name, type, Kind.TIME,
                    precision == TemporalPrecision.MICROS ? SchemaBuilder.int64().name(MICRO_TIME).version(1) : Time.builder(),
                    key, precision);
            case "TIMESTAMP":
                return scalar(name, type, Kind.TIMESTAMP, temporal(precision), key, precision);
            case "DATETIME":
                return scalar(name, type, Kind.DATETIME, temporal(precision), key, precision);
            case "JSON":
            case "ARRAY":
            case "STRUCT":
                return text(name, type, jsonText(style.json()), key, "TO_JSON_STRING(%s)", precision);
            case "GEOGRAPHY":
                return text(name, type, SchemaBuilder.string(), key, "ST_ASTEXT(%s)", precision);
            case "INTERVAL":
                return text(name, type, SchemaBuilder.string(), key, "CAST(%s AS STRING)", precision);
            default:
                throw new UnsupportedTypeException(name, type);
        }
    }

    /** JSON text: a plain string, or one named io.debezium.data.Json (Debezium's sink then writes a JSON column). */
    private static SchemaBuilder jsonText(JsonColumns json) {
        return json == JsonColumns.JSON ? SchemaBuilder.string().name(JSON_SCHEMA_NAME).version(1) : SchemaBuilder.string();
    }

    private static SchemaBuilder temporal(TemporalPrecision precision) {
        return precision == TemporalPrecision.MICROS ? SchemaBuilder.int64().name(MICRO_TIMESTAMP).version(1) : Timestamp.builder();
    }

    private static ColumnMapping scalar(String name, String type, Kind kind, SchemaBuilder b, boolean key, TemporalPrecision p) {
        return new ColumnMapping(name, type, kind, finish(b, key), "%s", 0, p);
    }

    private static ColumnMapping text(String name, String type, SchemaBuilder b, boolean key, String template, TemporalPrecision p) {
        return new ColumnMapping(name, type, Kind.STRING, finish(b, key), "IF(%1$s IS NULL, NULL, " + template.replace("%s", "%1$s") + ")", 0, p);
    }

    private static Schema finish(SchemaBuilder b, boolean key) {
        return key ? b.required().build() : b.optional().build();
    }

    /** Types a key column may have: groupable in BigQuery and a valid primary key in MySQL. */
    public static boolean isKeyType(String bigQueryType) {
        return switch (bigQueryType) {
            case "INT64", "STRING", "NUMERIC", "BIGNUMERIC", "DATE", "DATETIME", "TIMESTAMP", "TIME", "BOOL" -> true;
            default -> false;
        };
    }

    public String name() { return name; }
    public String bigQueryType() { return bigQueryType; }
    public Schema schema() { return schema; }

    /** The SQL expression that puts this column of {@code source} into the diff table. */
    public String emitExpression(String source) {
        return String.format(Locale.ROOT, emitTemplate, source);
    }

    /** TIMESTAMP, DATETIME or TIME: its representation depends on temporal.precision. */
    public boolean isTemporal() {
        return kind == Kind.TIMESTAMP || kind == Kind.DATETIME || kind == Kind.TIME;
    }

    /** The SQL expression that reads this key column of a diff table back in the snapshot's type. */
    public String keyFromEmitted(String column) {
        return bigQueryType.equals("BIGNUMERIC") ? "CAST(" + column + " AS BIGNUMERIC)" : column;
    }

    /** The type this column has in a diff table (a BIGNUMERIC travels as text). */
    public String emittedKeyType() {
        return bigQueryType.equals("BIGNUMERIC") ? "STRING" : bigQueryType;
    }

    /** Converts a value read from the Storage Read API (Avro, as decoded by Avro's generic reader). */
    public Object fromAvro(Object v) {
        if (v == null) {
            return null;
        }
        return switch (kind) {
            case INT64, FLOAT64, BOOL -> v;
            case STRING -> v.toString();
            case BYTES -> bytes((ByteBuffer) v);
            case NUMERIC -> (v instanceof BigDecimal d ? d : new BigDecimal(new BigInteger(bytes((ByteBuffer) v)), 9)).setScale(scale);
            case DATE -> days(((Number) v).longValue());
            case TIME -> micros(((Number) v).longValue());
            case TIMESTAMP -> micros(((Number) v).longValue());
            // BigQuery sends DATETIME as Avro string; some emulators as timestamp-micros.
            case DATETIME -> micros(v instanceof Number n ? n.longValue() : datetimeMicros(v.toString()));
        };
    }

    /** Reads one value of a column from Avro binary, already converted to its Connect value. */
    interface AvroReader {
        Object read(org.apache.avro.io.BinaryDecoder in) throws java.io.IOException;
    }

    /**
     * A reader of this column's values of Avro type {@code avroType} (not a union) straight from the Storage Read API's
     * binary rows, giving what {@link #fromAvro} gives for what Avro's generic reader yields (a decimal's bytes first
     * turned into a BigDecimal of {@code decimalScale}, the column's Avro scale, -1 when it has none) without the
     * intermediate objects or a switch per value; null for a combination it does not cover (decode generically then).
     */
    AvroReader avroReader(org.apache.avro.Schema avroType, int decimalScale) {
        org.apache.avro.Schema.Type t = avroType.getType();
        return switch (kind) {
            case INT64 -> t == org.apache.avro.Schema.Type.LONG ? in -> in.readLong() : null;
            case FLOAT64 -> t == org.apache.avro.Schema.Type.DOUBLE ? in -> in.readDouble() : null;
            case BOOL -> t == org.apache.avro.Schema.Type.BOOLEAN ? in -> in.readBoolean() : null;
            case STRING -> t == org.apache.avro.Schema.Type.STRING ? in -> in.readString() : null;
            case BYTES -> t == org.apache.avro.Schema.Type.BYTES && decimalScale < 0 ? new AvroReader() {
                private ByteBuffer scratch;

                @Override
                public Object read(org.apache.avro.io.BinaryDecoder in) throws java.io.IOException {
                    scratch = in.readBytes(scratch);
                    return bytes(scratch);
                }
            } : null;
            case NUMERIC -> t == org.apache.avro.Schema.Type.BYTES ? new AvroReader() {
                private ByteBuffer scratch;
                private final int avroScale = decimalScale >= 0 ? decimalScale : 9;

                @Override
                public Object read(org.apache.avro.io.BinaryDecoder in) throws java.io.IOException {
                    scratch = in.readBytes(scratch);
                    return decimal(scratch, avroScale).setScale(scale);
                }
            } : null;
            case DATE -> t == org.apache.avro.Schema.Type.INT ? in -> days(in.readInt())
                : t == org.apache.avro.Schema.Type.LONG ? in -> days(in.readLong()) : null;
            case TIME, TIMESTAMP -> t == org.apache.avro.Schema.Type.LONG ? in -> micros(in.readLong()) : null;
            case DATETIME -> t == org.apache.avro.Schema.Type.LONG ? in -> micros(in.readLong())
                : t == org.apache.avro.Schema.Type.STRING ? in -> micros(datetimeMicros(in.readString())) : null;
        };
    }

    /**
     * A decimal from its big-endian two's-complement unscaled bytes (Avro's decimal): through a long when they fit in
     * 8 bytes (BigDecimal.valueOf, no BigInteger), equal in value and scale to {@code new BigDecimal(new BigInteger(bytes), scale)}.
     */
    static BigDecimal decimal(ByteBuffer unscaled, int scale) {
        int n = unscaled.remaining();
        if (n == 0 || n > 8) {
            return new BigDecimal(new BigInteger(bytes(unscaled)), scale);
        }
        int p = unscaled.position();
        long v = unscaled.get(p); // sign-extended
        for (int i = 1; i < n; i++) {
            v = (v << 8) | (unscaled.get(p + i) & 0xFF);
        }
        return BigDecimal.valueOf(v, scale);
    }

    /** Converts a value read over REST (BigQuery's text form). */
    public Object fromText(String v) {
        if (v == null) {
            return null;
        }
        return switch (kind) {
            case INT64 -> Long.parseLong(v);
            case FLOAT64 -> Double.parseDouble(v);
            case BOOL -> Boolean.parseBoolean(v);
            case STRING -> v;
            case BYTES -> Base64.getDecoder().decode(v);
            case NUMERIC -> new BigDecimal(v).setScale(scale);
            case DATE -> days(LocalDate.parse(v).toEpochDay());
            case TIME -> micros(LocalTime.parse(v).getLong(ChronoField.MICRO_OF_DAY));
            case TIMESTAMP -> micros(timestampTextMicros(v));
            case DATETIME -> micros(datetimeMicros(v));
        };
    }

    private Object days(long epochDay) {
        return java.util.Date.from(LocalDate.ofEpochDay(epochDay).atStartOfDay(ZoneOffset.UTC).toInstant());
    }

    private Object micros(long micros) {
        if (precision == TemporalPrecision.MICROS) {
            return micros;
        }
        return new java.util.Date(Math.floorDiv(micros, 1000L));
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** REST returns TIMESTAMP as int64 microseconds, or as float seconds on older API paths. */
    static long timestampTextMicros(String v) {
        if (v.indexOf('.') < 0 && v.indexOf('E') < 0 && v.indexOf('e') < 0) {
            return Long.parseLong(v);
        }
        return new BigDecimal(v).movePointRight(6).setScale(0, java.math.RoundingMode.HALF_EVEN).longValueExact();
    }

    static long datetimeMicros(String v) {
        LocalDateTime t = LocalDateTime.parse(v, DATETIME_TEXT);
        return Math.addExact(Math.multiplyExact(t.toEpochSecond(ZoneOffset.UTC), 1_000_000L), t.getNano() / 1000);
    }

    /** A column type without a mapping; fails the run before anything is emitted. */
    public static final class UnsupportedTypeException extends RuntimeException {
        private final String column;

        UnsupportedTypeException(String column, String type) {
            super("column `" + column + "` has type " + type + ", which has no mapping to Connect; "
                + "cast it in the query (e.g. CAST(`" + column + "` AS STRING) or, for RANGE, RANGE_START()/RANGE_END()).");
            this.column = column;
        }

        public String column() {
            return column;
        }
    }
}
