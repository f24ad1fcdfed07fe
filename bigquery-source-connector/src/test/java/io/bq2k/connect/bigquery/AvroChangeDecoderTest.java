package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.apache.avro.NameValidator;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.google.cloud.bigquery.FieldList;
import com.google.cloud.bigquery.StandardSQLTypeName;
import com.google.protobuf.ByteString;

import io.bq2k.connect.bigquery.SyncConfig.JsonColumns;
import io.bq2k.connect.bigquery.SyncConfig.TemporalPrecision;

/**
 * The Storage Read path's decoding: Avro binary rows of a diff table, as the Storage Read API sends them, into
 * changes. Every column type, nulls, REQUIRED columns, both union orders, emulator quirks, checked value by value
 * against Avro's generic reader followed by {@link ColumnMapping#fromAvro} (how the connector decoded before it
 * had a decoder of its own).
 */
class AvroChangeDecoderTest {

    private static final String[] NAMES = {"k", "i", "f", "b", "s", "by", "n", "n2", "d", "t", "ts", "dt", "dt_emu", "bn", "js", "r"};

    private static FieldList fields() {
        return FieldList.of(
            com.google.cloud.bigquery.Field.newBuilder("k", StandardSQLTypeName.INT64).setMode(com.google.cloud.bigquery.Field.Mode.REQUIRED).build(),
            com.google.cloud.bigquery.Field.of("i", StandardSQLTypeName.INT64),
            com.google.cloud.bigquery.Field.of("f", StandardSQLTypeName.FLOAT64),
            com.google.cloud.bigquery.Field.of("b", StandardSQLTypeName.BOOL),
            com.google.cloud.bigquery.Field.of("s", StandardSQLTypeName.STRING),
            com.google.cloud.bigquery.Field.of("by", StandardSQLTypeName.BYTES),
            com.google.cloud.bigquery.Field.of("n", StandardSQLTypeName.NUMERIC),
            com.google.cloud.bigquery.Field.newBuilder("n2", StandardSQLTypeName.NUMERIC).setPrecision(10L).setScale(2L).build(),
            com.google.cloud.bigquery.Field.of("d", StandardSQLTypeName.DATE),
            com.google.cloud.bigquery.Field.of("t", StandardSQLTypeName.TIME),
            com.google.cloud.bigquery.Field.of("ts", StandardSQLTypeName.TIMESTAMP),
            com.google.cloud.bigquery.Field.of("dt", StandardSQLTypeName.DATETIME),
            com.google.cloud.bigquery.Field.of("dt_emu", StandardSQLTypeName.DATETIME),
            com.google.cloud.bigquery.Field.of("bn", StandardSQLTypeName.BIGNUMERIC),
            com.google.cloud.bigquery.Field.of("js", StandardSQLTypeName.JSON),
            com.google.cloud.bigquery.Field.of("r", StandardSQLTypeName.INT64),
            com.google.cloud.bigquery.Field.of(SyncSql.FINGERPRINT, StandardSQLTypeName.BYTES));
    }

    /** The diff table's Avro schema: leading columns, then one per column; {@code k} REQUIRED, {@code r} a [T, null] union. */
    private static String avroSchema() {
        String[] types = {
            "\"long\"", "\"long\"", "\"double\"", "\"boolean\"", "\"string\"", "\"bytes\"",
            "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":38,\"scale\":9}",
            "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":10,\"scale\":2}",
            "{\"type\":\"int\",\"logicalType\":\"date\"}", "{\"type\":\"long\",\"logicalType\":\"time-micros\"}",
            "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}", "{\"type\":\"string\",\"sqlType\":\"DATETIME\"}",
            "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}", "\"string\"", "\"string\"", "\"long\"",
        };
        StringBuilder sb = new StringBuilder("{\"type\":\"record\",\"name\":\"__root__\",\"fields\":[")
            .append("{\"name\":\"_bq2k_bucket\",\"type\":[\"null\",\"long\"]},{\"name\":\"_bq2k_seq\",\"type\":[\"null\",\"long\"]},")
            .append("{\"name\":\"_bq2k_op\",\"type\":[\"null\",\"string\"]},{\"name\":\"_bq2k_bytes\",\"type\":[\"null\",\"long\"]}");
        for (int i = 0; i < NAMES.length; i++) {
            String type = i == 0 ? types[i] : i == NAMES.length - 1 ? "[" + types[i] + ",\"null\"]" : "[\"null\"," + types[i] + "]";
            sb.append(",{\"name\":\"").append(NAMES[i]).append("\",\"type\":").append(type).append('}');
        }
        return sb.append("]}").toString();
    }

    private static RecordShape shape(TemporalPrecision precision) {
        return RecordShape.of(fields(), List.of("k"), "t", new ColumnMapping.Style(precision, JsonColumns.JSON));
    }

    private static ByteBuffer unscaled(BigDecimal d, int scale) {
        return ByteBuffer.wrap(d.setScale(scale).unscaledValue().toByteArray());
    }

    /** Rows with every column set, every nullable column null in turn, extremes, and removals. */
    private static List<GenericRecord> rows(Schema schema, int n) {
        Random random = new Random(42);
        List<GenericRecord> rows = new ArrayList<>();
        String[] ops = {SyncSql.OP_ADDED, SyncSql.OP_CHANGED, SyncSql.OP_REMOVED};
        BigDecimal[] numerics = {new BigDecimal("0"), new BigDecimal("-1.5"), new BigDecimal("12345678901.123456789"),
            new BigDecimal("99999999999999999999999999999.999999999"), new BigDecimal("-99999999999999999999999999999.999999999"),
            new BigDecimal("9223372036.854775807"), new BigDecimal("9223372036.854775808"), new BigDecimal("-9223372036.854775808"),
            new BigDecimal("-9223372036.854775809"), new BigDecimal("0.000000001"), new BigDecimal("-0.000000001")};
        for (int r = 0; r < n; r++) {
            GenericRecord g = new GenericData.Record(schema);
            g.put(0, (long) (r % 3));
            g.put(1, (long) (n - r)); // seq, not in row order
            g.put(2, ops[r % ops.length]);
            g.put(3, 100L);
            g.put(4, r % 7 == 0 ? Long.MIN_VALUE + r : r % 11 == 0 ? Long.MAX_VALUE - r : random.nextLong());
            g.put(5, random.nextLong());
            g.put(6, r % 5 == 0 ? Double.NaN : r % 9 == 0 ? -0.0 : random.nextDouble() * 1e6);
            g.put(7, random.nextBoolean());
            g.put(8, r % 4 == 0 ? "" : "ü→" + r + "\uD83D\uDE00" + Long.toHexString(random.nextLong()));
            byte[] bytes = new byte[r % 6];
            random.nextBytes(bytes);
            g.put(9, ByteBuffer.wrap(bytes));
            g.put(10, unscaled(numerics[r % numerics.length], 9));
            g.put(11, unscaled(new BigDecimal(random.nextInt(2_000_000) - 1_000_000).movePointLeft(2), 2));
            g.put(12, random.nextInt(200_000) - 100_000);
            g.put(13, (long) random.nextInt(86_400) * 1_000_000L + random.nextInt(1_000_000));
            g.put(14, random.nextLong() / 1000);
            g.put(15, r % 2 == 0 ? "2024-02-29T23:59:59.999999" : "1970-01-01 00:00:00");
            g.put(16, random.nextLong() / 1000);
            g.put(17, "-123456789012345678901234567890.12345678901234567890123456789012345678");
            g.put(18, "{\"a\":[" + r + "]}");
            g.put(19, random.nextLong());
            int nulled = 5 + r % (NAMES.length - 1); // every nullable column of the query null in turn
            if (r % 2 == 1) {
                g.put(nulled, null);
            }
            if (r == n - 1) {
                for (int c = 5; c < 4 + NAMES.length; c++) {
                    g.put(c, null);
                }
            }
            rows.add(g);
        }
        return rows;
    }

    private static List<ByteString> encode(Schema schema, List<GenericRecord> rows, int perPage) throws IOException {
        GenericDatumWriter<GenericRecord> writer = new GenericDatumWriter<>(schema);
        List<ByteString> pages = new ArrayList<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = null;
        for (int i = 0; i < rows.size(); i++) {
            enc = EncoderFactory.get().binaryEncoder(out, enc);
            writer.write(rows.get(i), enc);
            enc.flush();
            if ((i + 1) % perPage == 0 || i == rows.size() - 1) {
                pages.add(ByteString.copyFrom(out.toByteArray()));
                out.reset();
            }
        }
        return pages;
    }

    /** How the connector decoded a read session's rows before AvroChangeDecoder: Avro's generic reader, then fromAvro. */
    private static List<RecordShape.Change> reference(String avroSchema, RecordShape shape, List<ByteString> pages) throws IOException {
        Schema schema = new Schema.Parser(NameValidator.NO_VALIDATION).parse(avroSchema);
        GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(schema);
        List<ColumnMapping> columns = shape.columns();
        int[] decimalScales = new int[columns.size()];
        for (int i = 0; i < decimalScales.length; i++) {
            Schema s = schema.getFields().get(ChangeReader.LEADING_COLUMNS + i).schema();
            Schema nonNull = s.getType() == Schema.Type.UNION ? s.getTypes().stream().filter(t -> t.getType() != Schema.Type.NULL).findFirst().orElse(s) : s;
            decimalScales[i] = nonNull.getLogicalType() instanceof org.apache.avro.LogicalTypes.Decimal d ? d.getScale() : -1;
        }
        List<RecordShape.Change> changes = new ArrayList<>();
        BinaryDecoder decoder = null;
        GenericRecord record = null;
        for (ByteString page : pages) {
            decoder = DecoderFactory.get().binaryDecoder(page.newInput(), decoder);
            while (!decoder.isEnd()) {
                record = reader.read(record, decoder);
                Object[] values = new Object[columns.size()];
                for (int i = 0; i < values.length; i++) {
                    Object v = record.get(ChangeReader.LEADING_COLUMNS + i);
                    if (decimalScales[i] >= 0 && v instanceof ByteBuffer b) {
                        byte[] unscaled = new byte[b.remaining()];
                        b.duplicate().get(unscaled);
                        v = new BigDecimal(new BigInteger(unscaled), decimalScales[i]);
                    }
                    values[i] = columns.get(i).fromAvro(v);
                }
                changes.add(shape.change((Long) record.get(1), record.get(2).toString(), values));
            }
        }
        return changes;
    }

    private static List<RecordShape.Change> decode(String avroSchema, RecordShape shape, List<ByteString> pages) throws IOException {
        AvroChangeDecoder decoder = new AvroChangeDecoder(avroSchema, shape, "d");
        List<RecordShape.Change> changes = new ArrayList<>();
        for (ByteString page : pages) {
            decoder.decode(page, changes);
        }
        return changes;
    }

    private static void assertSameValue(Object expected, Object actual, String where) {
        if (expected instanceof byte[] e) {
            assertArrayEquals(e, (byte[]) actual, where);
            return;
        }
        assertEquals(expected, actual, where);
        if (expected != null) {
            assertSame(expected.getClass(), actual.getClass(), where);
        }
        if (expected instanceof BigDecimal e) {
            assertEquals(e.scale(), ((BigDecimal) actual).scale(), where);
        }
    }

    private static void assertSameStruct(Struct expected, Struct actual, String where) {
        if (expected == null) {
            assertNull(actual, where);
            return;
        }
        assertSame(expected.schema(), actual.schema(), where);
        for (Field f : expected.schema().fields()) {
            assertSameValue(expected.get(f), actual.get(f), where + " " + f.name());
        }
        actual.validate();
    }

    @ParameterizedTest
    @EnumSource(TemporalPrecision.class)
    void decodesAsAvrosGenericReaderDid(TemporalPrecision precision) throws IOException {
        String avro = avroSchema();
        Schema schema = new Schema.Parser().parse(avro);
        RecordShape shape = shape(precision);
        List<ByteString> pages = encode(schema, rows(schema, 600), 37);
        List<RecordShape.Change> expected = reference(avro, shape, pages);
        List<RecordShape.Change> actual = decode(avro, shape, pages);
        assertTrue(new AvroChangeDecoder(avro, shape, "d").readsDirectly());
        assertEquals(600, actual.size());
        for (int i = 0; i < expected.size(); i++) {
            RecordShape.Change e = expected.get(i), a = actual.get(i);
            assertEquals(e.seq(), a.seq());
            assertEquals(e.op(), a.op());
            assertSameStruct(e.key(), a.key(), "row " + i + " key");
            assertSameStruct(e.value(), a.value(), "row " + i + " value");
        }
    }

    @Test
    void typesWithoutADirectReaderDecodeGenerically() throws IOException {
        // An enum for the STRING column: no direct reader, so the whole schema goes through Avro's generic reader.
        RecordShape shape = RecordShape.of(FieldList.of(
                com.google.cloud.bigquery.Field.of("k", StandardSQLTypeName.INT64),
                com.google.cloud.bigquery.Field.of("v", StandardSQLTypeName.STRING),
                com.google.cloud.bigquery.Field.of("n", StandardSQLTypeName.NUMERIC)),
            List.of("k"), "t", new ColumnMapping.Style(TemporalPrecision.MICROS, JsonColumns.TEXT));
        String avro = "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"b\",\"type\":\"long\"},{\"name\":\"s\",\"type\":\"long\"},"
            + "{\"name\":\"o\",\"type\":\"string\"},{\"name\":\"x\",\"type\":\"long\"},{\"name\":\"k\",\"type\":\"long\"},"
            + "{\"name\":\"v\",\"type\":[\"null\",{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}]},"
            + "{\"name\":\"n\",\"type\":[\"null\",{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":38,\"scale\":9}]}]}";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        enc.writeLong(0); enc.writeLong(1); enc.writeString("C"); enc.writeLong(1); enc.writeLong(5); enc.writeIndex(1); enc.writeEnum(1);
        enc.writeIndex(1); enc.writeBytes(new BigDecimal("-2.5").setScale(9).unscaledValue().toByteArray());
        enc.writeLong(0); enc.writeLong(2); enc.writeString("U"); enc.writeLong(1); enc.writeLong(6); enc.writeIndex(0); enc.writeIndex(0);
        enc.flush();
        List<ByteString> pages = List.of(ByteString.copyFrom(out.toByteArray()));
        List<RecordShape.Change> changes = decode(avro, shape, pages);
        List<RecordShape.Change> expected = reference(avro, shape, pages);
        assertFalse(new AvroChangeDecoder(avro, shape, "d").readsDirectly());
        assertEquals(2, changes.size());
        assertEquals("B", changes.get(0).value().get("v"));
        assertEquals(new BigDecimal("-2.500000000"), changes.get(0).value().get("n"));
        for (int i = 0; i < 2; i++) {
            assertSameStruct(expected.get(i).key(), changes.get(i).key(), "key " + i);
            assertSameStruct(expected.get(i).value(), changes.get(i).value(), "value " + i);
            assertEquals(expected.get(i).op(), changes.get(i).op());
        }
    }

    @Test
    void decimalsThroughALongEqualTheBigIntegerWay() {
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = new byte[1 + random.nextInt(12)];
            random.nextBytes(b);
            int scale = random.nextInt(40);
            BigDecimal expected = new BigDecimal(new BigInteger(b), scale);
            BigDecimal actual = ColumnMapping.decimal(ByteBuffer.wrap(b), scale);
            assertEquals(expected, actual);
            assertEquals(expected.hashCode(), actual.hashCode());
            assertEquals(expected.toString(), actual.toString());
            assertArrayEquals(expected.unscaledValue().toByteArray(), actual.unscaledValue().toByteArray());
        }
        byte[] padded = {9, 9, 0, 0, 0, 0, 0, 0, 0, 1}; // a buffer's position is respected
        assertEquals(BigDecimal.valueOf(1, 2), ColumnMapping.decimal(ByteBuffer.wrap(padded, 2, 8), 2));
        assertEquals(BigDecimal.valueOf(Long.MIN_VALUE, 0), ColumnMapping.decimal(ByteBuffer.wrap(BigInteger.valueOf(Long.MIN_VALUE).toByteArray()), 0));
    }

    @Test
    void aNullKeyIsRefusedAsStructDoes() throws IOException {
        RecordShape shape = RecordShape.of(FieldList.of(
                com.google.cloud.bigquery.Field.of("k", StandardSQLTypeName.INT64),
                com.google.cloud.bigquery.Field.of("v", StandardSQLTypeName.STRING)),
            List.of("k"), "t", new ColumnMapping.Style(TemporalPrecision.MICROS, JsonColumns.TEXT));
        String avro = "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"b\",\"type\":\"long\"},{\"name\":\"s\",\"type\":\"long\"},"
            + "{\"name\":\"o\",\"type\":\"string\"},{\"name\":\"x\",\"type\":\"long\"},{\"name\":\"k\",\"type\":[\"null\",\"long\"]},"
            + "{\"name\":\"v\",\"type\":[\"null\",\"string\"]}]}";
        for (String op : new String[] {"C", "D"}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            for (int row = 0; row < 3; row++) {
                enc.writeLong(0); enc.writeLong(row); enc.writeString(op); enc.writeLong(1);
                if (row == 2) {
                    enc.writeIndex(0);
                } else {
                    enc.writeIndex(1); enc.writeLong(row);
                }
                enc.writeIndex(0);
            }
            enc.flush();
            List<ByteString> pages = List.of(ByteString.copyFrom(out.toByteArray()));
            org.apache.kafka.connect.errors.DataException expected = assertThrows(org.apache.kafka.connect.errors.DataException.class,
                () -> reference(avro, shape, pages));
            org.apache.kafka.connect.errors.DataException actual = assertThrows(org.apache.kafka.connect.errors.DataException.class,
                () -> decode(avro, shape, pages));
            assertEquals(expected.getMessage(), actual.getMessage());
        }
    }

    @Test
    void aSchemaOfOtherColumnsIsRefused() {
        String avro = "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"}]}";
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new AvroChangeDecoder(avro, shape(TemporalPrecision.MICROS), "p.d.t"));
        assertEquals("diff table p.d.t has 1 columns, expected " + (ChangeReader.LEADING_COLUMNS + NAMES.length), e.getMessage());
    }

    @Test
    void unusualColumnNamesDecodeByPosition() throws IOException {
        RecordShape shape = RecordShape.of(FieldList.of(
                com.google.cloud.bigquery.Field.of("näme with space", StandardSQLTypeName.INT64),
                com.google.cloud.bigquery.Field.of("v", StandardSQLTypeName.STRING)),
            List.of("näme with space"), "t", new ColumnMapping.Style(TemporalPrecision.MICROS, JsonColumns.TEXT));
        String avro = "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"b\",\"type\":\"long\"},{\"name\":\"s\",\"type\":\"long\"},"
            + "{\"name\":\"o\",\"type\":\"string\"},{\"name\":\"x\",\"type\":\"long\"},{\"name\":\"näme with space\",\"type\":\"long\"},"
            + "{\"name\":\"v\",\"type\":[\"null\",\"string\"]}]}";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        enc.writeLong(0); enc.writeLong(7); enc.writeString("U"); enc.writeLong(1); enc.writeLong(-3); enc.writeIndex(1); enc.writeString("x");
        enc.writeLong(0); enc.writeLong(8); enc.writeString("D"); enc.writeLong(0); enc.writeLong(4); enc.writeIndex(0);
        enc.flush();
        List<RecordShape.Change> changes = decode(avro, shape, List.of(ByteString.copyFrom(out.toByteArray())));
        assertEquals(2, changes.size());
        assertEquals(-3L, changes.get(0).key().get("näme with space"));
        assertEquals("x", changes.get(0).value().get("v"));
        assertEquals(SyncSql.OP_REMOVED, changes.get(1).op());
        assertNull(changes.get(1).value());
        assertEquals(4L, changes.get(1).key().get("näme with space"));
    }

    @Test
    void recordsCarryTheInRunOffsetOfEachChange() throws IOException {
        String avro = avroSchema();
        Schema schema = new Schema.Parser().parse(avro);
        RecordShape shape = shape(TemporalPrecision.MICROS);
        List<RecordShape.Change> changes = decode(avro, shape, encode(schema, rows(schema, 30), 30));
        RecordContract contract = new RecordContract("t", List.of("k"), TemporalPrecision.MICROS, JsonColumns.JSON);
        Map<String, String> partition = SyncOffset.partition("s");
        List<SourceRecord> records = shape.records(changes, partition, "t", 5, 2, 4, contract, 1234);
        assertEquals(changes.size(), records.size());
        for (int i = 0; i < records.size(); i++) {
            SourceRecord r = records.get(i);
            RecordShape.Change c = changes.get(i);
            assertEquals(partition, r.sourcePartition());
            assertEquals(SyncOffset.inRun(5, 2, c.seq(), 4, contract, 1234).toMap(), r.sourceOffset());
            assertEquals("t", r.topic());
            assertNull(r.kafkaPartition());
            assertSame(shape.keySchema(), r.keySchema());
            assertSame(c.key(), r.key());
            assertSame(c.value() == null ? null : shape.valueSchema(), r.valueSchema());
            assertSame(c.value(), r.value());
        }
        records.get(0).sourceOffset().get("seq"); // offsets are maps of their own: Connect may hold them
        assertEquals(false, records.get(0).sourceOffset() == records.get(1).sourceOffset());
    }
}
