package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Map;

import org.apache.avro.util.Utf8;
import org.apache.kafka.connect.data.ConnectSchema;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.StandardSQLTypeName;

import io.bq2k.connect.bigquery.SyncConfig.JsonColumns;
import io.bq2k.connect.bigquery.SyncConfig.TemporalPrecision;

class ColumnMappingTest {

    private static final TemporalPrecision MICROS = TemporalPrecision.MICROS;
    private static final TemporalPrecision MILLIS = TemporalPrecision.MILLIS;

    private static ColumnMapping.Style style(TemporalPrecision p) {
        return new ColumnMapping.Style(p, JsonColumns.TEXT);
    }

    private static ColumnMapping map(StandardSQLTypeName type, boolean key, TemporalPrecision p) {
        return ColumnMapping.of(Field.newBuilder("c", type).build(), key, style(p));
    }

    private static ColumnMapping map(StandardSQLTypeName type) {
        return map(type, false, MICROS);
    }

    private static ColumnMapping numeric(Long precision, Long scale) {
        return ColumnMapping.of(Field.newBuilder("n", StandardSQLTypeName.NUMERIC).setPrecision(precision).setScale(scale).build(), false, style(MICROS));
    }

    private static ByteBuffer unscaledBytes(BigDecimal v, int scale) {
        return ByteBuffer.wrap(v.setScale(scale).unscaledValue().toByteArray());
    }

    private static java.util.Date utcDate(String isoDate) {
        return java.util.Date.from(LocalDate.parse(isoDate).atStartOfDay(ZoneOffset.UTC).toInstant());
    }

    private static void assertValid(ColumnMapping m, Object value) {
        ConnectSchema.validateValue(m.schema(), value);
    }

    // ---- schemas -------------------------------------------------------------------------------

    @Test
    void scalarSchemas() {
        assertEquals(Schema.Type.INT64, map(StandardSQLTypeName.INT64).schema().type());
        assertEquals(Schema.Type.FLOAT64, map(StandardSQLTypeName.FLOAT64).schema().type());
        assertEquals(Schema.Type.BOOLEAN, map(StandardSQLTypeName.BOOL).schema().type());
        assertEquals(Schema.Type.STRING, map(StandardSQLTypeName.STRING).schema().type());
        assertEquals(Schema.Type.BYTES, map(StandardSQLTypeName.BYTES).schema().type());
        for (StandardSQLTypeName t : new StandardSQLTypeName[] {StandardSQLTypeName.INT64, StandardSQLTypeName.FLOAT64,
                StandardSQLTypeName.BOOL, StandardSQLTypeName.STRING, StandardSQLTypeName.BYTES}) {
            assertNull(map(t).schema().name(), t.name());
            assertEquals(t.name(), map(t).bigQueryType());
            assertEquals("n.`c`", map(t).emitExpression("n.`c`"), t.name());
        }
    }

    @ParameterizedTest
    @EnumSource(value = StandardSQLTypeName.class, names = {"INT64", "STRING", "NUMERIC", "BIGNUMERIC", "DATE", "DATETIME", "TIMESTAMP", "TIME", "BOOL"})
    void keyColumnsAreRequiredOthersOptional(StandardSQLTypeName type) {
        assertFalse(map(type, true, MICROS).schema().isOptional(), type.name());
        assertTrue(map(type, false, MICROS).schema().isOptional(), type.name());
        assertFalse(map(type, true, MILLIS).schema().isOptional(), type.name());
        assertTrue(ColumnMapping.isKeyType(type.name()));
    }

    @Test
    void nonKeyTypes() {
        for (String t : new String[] {"FLOAT64", "BYTES", "JSON", "GEOGRAPHY", "ARRAY", "STRUCT", "INTERVAL", "RANGE"}) {
            assertFalse(ColumnMapping.isKeyType(t), t);
        }
    }

    @Test
    void numericDefaultIsDecimal38Scale9() {
        ColumnMapping m = map(StandardSQLTypeName.NUMERIC);
        assertEquals(Decimal.LOGICAL_NAME, m.schema().name());
        assertEquals(Schema.Type.BYTES, m.schema().type());
        assertEquals("9", m.schema().parameters().get(Decimal.SCALE_FIELD));
        assertEquals("38", m.schema().parameters().get("connect.decimal.precision"));
        assertEquals("n.`c`", m.emitExpression("n.`c`"));
    }

    @Test
    void numericParameterized() {
        ColumnMapping m = numeric(10L, 2L);
        assertEquals(Map.of(Decimal.SCALE_FIELD, "2", "connect.decimal.precision", "10"), m.schema().parameters());
        assertEquals(new BigDecimal("12.50"), m.fromText("12.5"));
        assertEquals(new BigDecimal("-99999999.99"), m.fromText("-99999999.99"));
        assertEquals(new BigDecimal("12.50"), m.fromAvro(unscaledBytes(new BigDecimal("12.5"), 9)));
        assertValid(m, m.fromText("1"));
        ColumnMapping scale0 = numeric(20L, 0L);
        assertEquals("0", scale0.schema().parameters().get(Decimal.SCALE_FIELD));
        assertEquals(new BigDecimal("12345678901234567890"), scale0.fromText("12345678901234567890"));
    }

    @Test
    void numericWithPrecisionOnlyHasScaleZero() {
        ColumnMapping m = numeric(10L, null);
        assertEquals("0", m.schema().parameters().get(Decimal.SCALE_FIELD));
        assertEquals(new BigDecimal("12345"), m.fromText("12345"));
    }

    @Test
    void bigNumericIsExactText() {
        ColumnMapping m = map(StandardSQLTypeName.BIGNUMERIC);
        assertEquals(Schema.Type.STRING, m.schema().type());
        assertNull(m.schema().name());
        assertEquals("CAST(n.`c` AS STRING)", m.emitExpression("n.`c`"));
        String big = "-578960446186580977117854925043439539266.34992332820282019728792003956564819968";
        assertEquals(big, m.fromText(big));
        assertEquals(big, m.fromAvro(new Utf8(big)));
        assertNull(m.fromText(null));
        assertNull(m.fromAvro(null));
    }

    @Test
    void temporalSchemasMicros() {
        Schema ts = map(StandardSQLTypeName.TIMESTAMP).schema();
        assertEquals(Schema.Type.INT64, ts.type());
        assertEquals(ColumnMapping.MICRO_TIMESTAMP, ts.name());
        assertEquals(1, ts.version());
        Schema dt = map(StandardSQLTypeName.DATETIME).schema();
        assertEquals(ColumnMapping.MICRO_TIMESTAMP, dt.name());
        Schema t = map(StandardSQLTypeName.TIME).schema();
        assertEquals(Schema.Type.INT64, t.type());
        assertEquals(ColumnMapping.MICRO_TIME, t.name());
        Schema d = map(StandardSQLTypeName.DATE).schema();
        assertEquals(Date.LOGICAL_NAME, d.name());
        assertEquals(Schema.Type.INT32, d.type());
    }

    @Test
    void temporalSchemasMillis() {
        assertEquals(Timestamp.LOGICAL_NAME, map(StandardSQLTypeName.TIMESTAMP, false, MILLIS).schema().name());
        assertEquals(Timestamp.LOGICAL_NAME, map(StandardSQLTypeName.DATETIME, false, MILLIS).schema().name());
        assertEquals(Time.LOGICAL_NAME, map(StandardSQLTypeName.TIME, false, MILLIS).schema().name());
        assertEquals(Date.LOGICAL_NAME, map(StandardSQLTypeName.DATE, false, MILLIS).schema().name());
        for (StandardSQLTypeName type : new StandardSQLTypeName[] {StandardSQLTypeName.TIMESTAMP, StandardSQLTypeName.DATETIME,
                StandardSQLTypeName.TIME, StandardSQLTypeName.DATE}) {
            assertEquals("n.`c`", map(type, false, MILLIS).emitExpression("n.`c`"));
        }
    }

    @Test
    void jsonColumnsModeNamesTheStringForDebeziumsJsonColumn() {
        ColumnMapping.Style json = new ColumnMapping.Style(MICROS, JsonColumns.JSON);
        for (Field f : new Field[] {Field.of("c", StandardSQLTypeName.JSON),
                Field.newBuilder("c", StandardSQLTypeName.INT64).setMode(Field.Mode.REPEATED).build(),
                Field.of("c", StandardSQLTypeName.STRUCT, Field.of("a", StandardSQLTypeName.INT64))}) {
            ColumnMapping m = ColumnMapping.of(f, false, json);
            assertEquals(Schema.Type.STRING, m.schema().type());
            assertEquals(ColumnMapping.JSON_SCHEMA_NAME, m.schema().name());
            assertEquals(1, m.schema().version());
            assertEquals("IF(n.`c` IS NULL, NULL, TO_JSON_STRING(n.`c`))", m.emitExpression("n.`c`"));
        }
        assertNull(ColumnMapping.of(Field.of("g", StandardSQLTypeName.GEOGRAPHY), false, json).schema().name(), "GEOGRAPHY stays WKT text");
    }

    @Test
    void jsonArrayStructAreJsonText() {
        ColumnMapping json = map(StandardSQLTypeName.JSON);
        ColumnMapping array = ColumnMapping.of(Field.newBuilder("c", StandardSQLTypeName.INT64).setMode(Field.Mode.REPEATED).build(), false, style(MICROS));
        ColumnMapping arrayOfStruct = ColumnMapping.of(Field.newBuilder("c", StandardSQLTypeName.STRUCT,
            Field.of("a", StandardSQLTypeName.INT64)).setMode(Field.Mode.REPEATED).build(), false, style(MICROS));
        ColumnMapping struct = ColumnMapping.of(Field.newBuilder("c", StandardSQLTypeName.STRUCT,
            Field.of("a", StandardSQLTypeName.INT64), Field.of("b", StandardSQLTypeName.STRING)).build(), false, style(MICROS));
        assertEquals("JSON", json.bigQueryType());
        assertEquals("ARRAY", array.bigQueryType());
        assertEquals("ARRAY", arrayOfStruct.bigQueryType());
        assertEquals("STRUCT", struct.bigQueryType());
        for (ColumnMapping m : new ColumnMapping[] {json, array, arrayOfStruct, struct}) {
            assertEquals(Schema.Type.STRING, m.schema().type());
            assertNull(m.schema().name(), "json.columns=text: a plain string");
            assertTrue(m.schema().isOptional());
            assertEquals("IF(n.`c` IS NULL, NULL, TO_JSON_STRING(n.`c`))", m.emitExpression("n.`c`"));
            assertEquals("[1,2]", m.fromText("[1,2]"));
            assertEquals("{\"a\":1}", m.fromAvro(new Utf8("{\"a\":1}")));
            assertNull(m.fromText(null));
            assertNull(m.fromAvro(null));
        }
    }

    @Test
    void geographyIsWkt() {
        ColumnMapping m = map(StandardSQLTypeName.GEOGRAPHY);
        assertEquals(Schema.Type.STRING, m.schema().type());
        assertNull(m.schema().name());
        assertEquals("IF(n.`c` IS NULL, NULL, ST_ASTEXT(n.`c`))", m.emitExpression("n.`c`"));
        assertEquals("POINT(1 2)", m.fromText("POINT(1 2)"));
        assertEquals("POINT(1 2)", m.fromAvro(new Utf8("POINT(1 2)")));
    }

    @Test
    void intervalIsText() {
        ColumnMapping m = map(StandardSQLTypeName.INTERVAL);
        assertEquals("INTERVAL", m.bigQueryType());
        assertEquals(Schema.Type.STRING, m.schema().type());
        assertEquals("IF(n.`c` IS NULL, NULL, CAST(n.`c` AS STRING))", m.emitExpression("n.`c`"));
        assertEquals("1-2 3 4:5:6.789", m.fromText("1-2 3 4:5:6.789"));
    }

    @Test
    void rangeIsUnsupportedAndNamesTheColumn() {
        ColumnMapping.UnsupportedTypeException e = assertThrows(ColumnMapping.UnsupportedTypeException.class,
            () -> ColumnMapping.of(Field.newBuilder("valid_period", StandardSQLTypeName.RANGE).build(), false, style(MICROS)));
        assertEquals("valid_period", e.column());
        assertTrue(e.getMessage().contains("`valid_period`"), e.getMessage());
        assertTrue(e.getMessage().contains("RANGE"), e.getMessage());
        assertTrue(e.getMessage().contains("RANGE_START()"), e.getMessage());
    }

    @Test
    void emitExpressionWithPercentInSourceIsSafe() {
        assertEquals("IF(n.`a%sb` IS NULL, NULL, ST_ASTEXT(n.`a%sb`))", map(StandardSQLTypeName.GEOGRAPHY).emitExpression("n.`a%sb`"));
        assertEquals("n.`a%db`", map(StandardSQLTypeName.INT64).emitExpression("n.`a%db`"));
    }

    // ---- NULL in every type --------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = StandardSQLTypeName.class, names = {"RANGE", "ARRAY"}, mode = EnumSource.Mode.EXCLUDE)
    void nullStaysNullInEveryType(StandardSQLTypeName type) {
        for (TemporalPrecision p : TemporalPrecision.values()) {
            ColumnMapping m = type == StandardSQLTypeName.STRUCT
                ? ColumnMapping.of(Field.newBuilder("c", type, Field.of("a", StandardSQLTypeName.INT64)).build(), false, style(p))
                : map(type, false, p);
            assertNull(m.fromText(null), type.name());
            assertNull(m.fromAvro(null), type.name());
            assertValid(m, null);
        }
    }

    // ---- scalar conversions --------------------------------------------------------------------

    @Test
    void int64() {
        ColumnMapping m = map(StandardSQLTypeName.INT64);
        assertEquals(Long.MIN_VALUE, m.fromText("-9223372036854775808"));
        assertEquals(Long.MAX_VALUE, m.fromText("9223372036854775807"));
        assertEquals(42L, m.fromAvro(42L));
        assertValid(m, m.fromText("7"));
    }

    @Test
    void float64IncludingNaNAndInfinity() {
        ColumnMapping m = map(StandardSQLTypeName.FLOAT64);
        assertTrue(Double.isNaN((Double) m.fromText("NaN")));
        assertEquals(Double.POSITIVE_INFINITY, m.fromText("Infinity"));
        assertEquals(Double.NEGATIVE_INFINITY, m.fromText("-Infinity"));
        assertEquals(1.5e300, m.fromText("1.5E300"));
        assertEquals(-0.0, m.fromText("-0"));
        assertTrue(Double.isNaN((Double) m.fromAvro(Double.NaN)));
        assertEquals(Double.NEGATIVE_INFINITY, m.fromAvro(Double.NEGATIVE_INFINITY));
        assertValid(m, m.fromText("NaN"));
    }

    @Test
    void bool() {
        ColumnMapping m = map(StandardSQLTypeName.BOOL);
        assertEquals(true, m.fromText("true"));
        assertEquals(false, m.fromText("false"));
        assertEquals(true, m.fromAvro(true));
    }

    @Test
    void stringNonAscii() {
        ColumnMapping m = map(StandardSQLTypeName.STRING);
        assertEquals("größe 😀 日本", m.fromText("größe 😀 日本"));
        Object v = m.fromAvro(new Utf8("größe 😀 日本"));
        assertInstanceOf(String.class, v);
        assertEquals("größe 😀 日本", v);
        assertEquals("", m.fromText(""));
    }

    @Test
    void bytes() {
        ColumnMapping m = map(StandardSQLTypeName.BYTES);
        byte[] raw = {0, (byte) 0xff, 7, (byte) 0x80};
        assertArrayEquals(raw, (byte[]) m.fromText(Base64.getEncoder().encodeToString(raw)));
        ByteBuffer buffer = ByteBuffer.wrap(raw);
        assertArrayEquals(raw, (byte[]) m.fromAvro(buffer));
        assertEquals(0, buffer.position(), "the Avro buffer is not consumed");
        assertArrayEquals(raw, (byte[]) m.fromAvro(buffer));
        assertArrayEquals(new byte[0], (byte[]) m.fromText(""));
        assertValid(m, m.fromText("AAE="));
    }

    @Test
    void numericNegativeAndLarge() {
        ColumnMapping m = map(StandardSQLTypeName.NUMERIC);
        String max = "99999999999999999999999999999.999999999";
        String min = "-99999999999999999999999999999.999999999";
        assertEquals(new BigDecimal(max), m.fromText(max));
        assertEquals(new BigDecimal(min), m.fromText(min));
        assertEquals(new BigDecimal("-12.500000000"), m.fromText("-12.5"));
        assertEquals(9, ((BigDecimal) m.fromText("3")).scale());
        assertEquals(new BigDecimal(max), m.fromAvro(unscaledBytes(new BigDecimal(max), 9)));
        assertEquals(new BigDecimal(min), m.fromAvro(unscaledBytes(new BigDecimal(min), 9)));
        assertEquals(new BigDecimal("-0.000000001"), m.fromAvro(unscaledBytes(new BigDecimal("-0.000000001"), 9)));
        assertEquals(new BigDecimal("0E-9"), m.fromAvro(ByteBuffer.wrap(new byte[] {0})));
        assertValid(m, m.fromText(max));
        // The value survives Connect's Decimal encoding with the schema's scale.
        assertEquals(new BigDecimal(min), Decimal.toLogical(m.schema(), Decimal.fromLogical(m.schema(), (BigDecimal) m.fromText(min))));
    }

    @Test
    void dateIncludingBefore1970() {
        for (TemporalPrecision p : TemporalPrecision.values()) {
            ColumnMapping m = map(StandardSQLTypeName.DATE, false, p);
            assertEquals(utcDate("1969-07-20"), m.fromText("1969-07-20"));
            assertEquals(utcDate("1969-07-20"), m.fromAvro((int) LocalDate.parse("1969-07-20").toEpochDay()));
            assertEquals(utcDate("0001-01-01"), m.fromText("0001-01-01"));
            assertEquals(utcDate("9999-12-31"), m.fromText("9999-12-31"));
            assertEquals(utcDate("2024-02-29"), m.fromAvro(19782));
            assertEquals(utcDate("1970-01-01"), m.fromAvro(0));
            assertValid(m, m.fromText("1969-07-20"));
            // Connect's Date logical type accepts it (midnight UTC).
            assertEquals(-165, Date.fromLogical(m.schema(), (java.util.Date) m.fromText("1969-07-20")));
        }
    }

    @Test
    void timeMicrosAndMillis() {
        ColumnMapping micros = map(StandardSQLTypeName.TIME, false, MICROS);
        long us = (12 * 3600 + 34 * 60 + 56) * 1_000_000L + 123_456;
        assertEquals(us, micros.fromText("12:34:56.123456"));
        assertEquals(us, micros.fromAvro(us));
        assertEquals(0L, micros.fromText("00:00:00"));
        assertEquals(86_399_999_999L, micros.fromText("23:59:59.999999"));
        assertValid(micros, micros.fromText("01:02:03"));

        ColumnMapping millis = map(StandardSQLTypeName.TIME, false, MILLIS);
        assertEquals(new java.util.Date(us / 1000), millis.fromText("12:34:56.123456"));
        assertEquals(new java.util.Date(us / 1000), millis.fromAvro(us));
        assertValid(millis, millis.fromText("12:34:56.123456"));
        assertEquals((int) (us / 1000), Time.fromLogical(millis.schema(), (java.util.Date) millis.fromText("12:34:56.123456")));
    }

    @Test
    void timestampMicros() {
        ColumnMapping m = map(StandardSQLTypeName.TIMESTAMP, false, MICROS);
        long us = 1_700_000_000_123_456L;
        assertEquals(us, m.fromAvro(us));
        assertEquals(us, m.fromText("1700000000123456"));
        assertEquals(us, m.fromText("1.700000000123456E9"));
        assertEquals(us, m.fromText("1700000000.123456"));
        assertEquals(-1_500_000L, m.fromText("-1.5"));
        assertEquals(-1_500_000L, m.fromText("-1500000"));
        assertEquals(-1L, m.fromAvro(-1L));
        assertEquals(0L, m.fromText("0"));
        assertEquals(0L, m.fromText("0.0"));
        // Year 1 and 9999: the extremes of BigQuery's range.
        long min = Instant.parse("0001-01-01T00:00:00Z").getEpochSecond() * 1_000_000L;
        assertEquals(min, m.fromText(Long.toString(min)));
        assertEquals(253402300799999999L, m.fromText("2.53402300799999999E11"));
        assertValid(m, m.fromText("1"));
    }

    @Test
    void timestampMillisTruncatesTowardsMinusInfinity() {
        ColumnMapping m = map(StandardSQLTypeName.TIMESTAMP, false, MILLIS);
        assertEquals(new java.util.Date(1_700_000_000_123L), m.fromAvro(1_700_000_000_123_456L));
        assertEquals(new java.util.Date(1_700_000_000_123L), m.fromText("1700000000123456"));
        assertEquals(new java.util.Date(1_700_000_000_123L), m.fromText("1.700000000123456E9"));
        assertEquals(new java.util.Date(-1L), m.fromAvro(-1L), "1 µs before the epoch is in millisecond -1");
        assertEquals(new java.util.Date(-1500L), m.fromText("-1.5"));
        assertValid(m, m.fromText("1"));
    }

    @Test
    void datetimeTextWithTAndSpace() {
        ColumnMapping m = map(StandardSQLTypeName.DATETIME, false, MICROS);
        long us = Instant.parse("2024-02-29T12:34:56.123456Z").toEpochMilli() * 1000 + 456;
        assertEquals(us, m.fromText("2024-02-29T12:34:56.123456"));
        assertEquals(us, m.fromText("2024-02-29 12:34:56.123456"));
        assertEquals(us, m.fromAvro(new Utf8("2024-02-29T12:34:56.123456")));
        assertEquals(us, m.fromAvro(us), "emulators send timestamp-micros");
        long noFraction = Instant.parse("2024-02-29T12:34:56Z").getEpochSecond() * 1_000_000L;
        assertEquals(noFraction, m.fromText("2024-02-29T12:34:56"));
        assertEquals(noFraction, m.fromText("2024-02-29 12:34:56"));
        long before1970 = Instant.parse("1969-12-31T23:59:59.999999Z").getEpochSecond() * 1_000_000L + 999_999;
        assertEquals(-1L, before1970);
        assertEquals(-1L, m.fromText("1969-12-31T23:59:59.999999"));
        assertValid(m, m.fromText("2024-02-29 12:34:56"));

        ColumnMapping millis = map(StandardSQLTypeName.DATETIME, false, MILLIS);
        assertEquals(new java.util.Date(us / 1000), millis.fromText("2024-02-29 12:34:56.123456"));
        assertEquals(new java.util.Date(-1L), millis.fromText("1969-12-31T23:59:59.999999"));
        assertValid(millis, millis.fromText("2024-02-29 12:34:56.123456"));
    }

    @Test
    void timestampTextMicrosHelper() {
        assertEquals(1_000_000L, ColumnMapping.timestampTextMicros("1.0"));
        assertEquals(1_000_000L, ColumnMapping.timestampTextMicros("1E0"));
        assertEquals(1_000_000L, ColumnMapping.timestampTextMicros("1e0"));
        assertEquals(1L, ColumnMapping.timestampTextMicros("0.000001"));
        assertEquals(1L, ColumnMapping.timestampTextMicros("1"));
    }

    @Test
    void stringValuesFromAvroAreStrings() {
        assertEquals("x", map(StandardSQLTypeName.STRING).fromAvro("x"));
        assertEquals(StandardCharsets.UTF_8.name(), map(StandardSQLTypeName.STRING).fromAvro(new Utf8(StandardCharsets.UTF_8.name())));
    }
}
