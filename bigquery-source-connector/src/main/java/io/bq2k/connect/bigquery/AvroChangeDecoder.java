package io.bq2k.connect.bigquery;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.List;

import org.apache.avro.NameValidator;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

import com.google.protobuf.ByteString;

/**
 * Decodes the rows of a diff table as the Storage Read API sends them (Avro binary rows, back to back,
 * under the read session's Avro schema) into the changes of a {@link RecordShape}. One decoder per read
 * session; not thread-safe. {@code bin/bench --cases record-path} measures this path.
 *
 * <p>A diff table's columns are scalars (composite types travel as text), so each field gets a reader of its
 * own, chosen once from its Avro type and its column's mapping ({@link ColumnMapping#avroReader}): rows are read
 * straight from the binary decoder into Connect values. A schema with a type these readers do not cover (a nested
 * union, a record, an array...) is decoded with Avro's generic reader and {@link ColumnMapping#fromAvro}, which
 * gives the same values.
 */
public final class AvroChangeDecoder {

    private static final ColumnMapping.AvroReader NULL = in -> {
        in.readNull();
        return null;
    };

    private final RecordShape shape;
    private final List<ColumnMapping> columns;
    private final int[] decimalScales;
    /** One per field of the schema, leading columns included; null when the generic reader decodes. */
    private final ColumnMapping.AvroReader[] readers;
    private final GenericDatumReader<GenericRecord> generic;
    private BinaryDecoder decoder;
    private GenericRecord record;

    /**
     * @param avroSchema the read session's Avro schema (JSON)
     * @param table      the diff table, for the message of a column-count mismatch
     * @throws IllegalStateException when the schema's columns are not the diff table's columns of {@code shape}
     */
    public AvroChangeDecoder(String avroSchema, RecordShape shape, Object table) {
        this.shape = shape;
        this.columns = shape.columns();
        // BigQuery may name columns in ways Avro does not allow (non-ASCII, spaces): decode by position.
        Schema schema = new Schema.Parser(NameValidator.NO_VALIDATION).parse(avroSchema);
        List<Schema.Field> fields = schema.getFields();
        if (fields.size() != ChangeReader.LEADING_COLUMNS + columns.size()) {
            throw new IllegalStateException("diff table " + table + " has " + fields.size()
                + " columns, expected " + (ChangeReader.LEADING_COLUMNS + columns.size()));
        }
        // Decimals carry the scale of the Avro schema (9 for NUMERIC, the column's for NUMERIC(P, S)).
        this.decimalScales = new int[columns.size()];
        for (int i = 0; i < decimalScales.length; i++) {
            Schema s = fields.get(ChangeReader.LEADING_COLUMNS + i).schema();
            Schema nonNull = s.getType() == Schema.Type.UNION ? s.getTypes().stream().filter(t -> t.getType() != Schema.Type.NULL).findFirst().orElse(s) : s;
            decimalScales[i] = nonNull.getLogicalType() instanceof org.apache.avro.LogicalTypes.Decimal d ? d.getScale() : -1;
        }
        ColumnMapping.AvroReader[] direct = new ColumnMapping.AvroReader[fields.size()];
        for (int f = 0; direct != null && f < direct.length; f++) {
            direct[f] = fieldReader(fields.get(f).schema(), f);
            if (direct[f] == null) {
                direct = null;
            }
        }
        this.readers = direct;
        this.generic = direct == null ? new GenericDatumReader<>(schema) : null;
    }

    /** Whether rows are read by the fields' own readers (false: Avro's generic reader). */
    boolean readsDirectly() {
        return readers != null;
    }

    /** Decodes every row of one {@code ReadRowsResponse}'s {@code serialized_binary_rows} into {@code out}, in order. */
    public void decode(ByteString rows, List<RecordShape.Change> out) throws IOException {
        if (readers == null) {
            decodeGenerically(rows, out);
            return;
        }
        byte[] bytes = rows.toByteArray();
        BinaryDecoder in = decoder = DecoderFactory.get().binaryDecoder(bytes, 0, bytes.length, decoder);
        ColumnMapping.AvroReader[] r = readers;
        int lead = ChangeReader.LEADING_COLUMNS;
        while (!in.isEnd()) {
            r[0].read(in);
            Object seq = r[1].read(in);
            Object op = r[2].read(in);
            for (int f = 3; f < lead; f++) {
                r[f].read(in);
            }
            Object[] values = new Object[r.length - lead];
            for (int i = 0; i < values.length; i++) {
                values[i] = r[lead + i].read(in);
            }
            out.add(shape.change((Long) seq, op.toString(), values));
        }
    }

    /** A reader of one field (a union: of each branch), null when one of its types has none. */
    private ColumnMapping.AvroReader fieldReader(Schema s, int f) {
        if (s.getType() != Schema.Type.UNION) {
            return valueReader(s, f);
        }
        List<Schema> branches = s.getTypes();
        ColumnMapping.AvroReader[] byIndex = new ColumnMapping.AvroReader[branches.size()];
        for (int b = 0; b < byIndex.length; b++) {
            byIndex[b] = branches.get(b).getType() == Schema.Type.NULL ? NULL : valueReader(branches.get(b), f);
            if (byIndex[b] == null) {
                return null;
            }
        }
        if (byIndex.length == 2 && byIndex[0] == NULL) {
            ColumnMapping.AvroReader value = byIndex[1]; // ["null", T]: BigQuery's nullable column
            return in -> in.readIndex() == 0 ? null : value.read(in);
        }
        return in -> byIndex[in.readIndex()].read(in);
    }

    /** A reader of one value of a non-union type: the leading columns as Avro's generic reader yields them, the others as Connect values. */
    private ColumnMapping.AvroReader valueReader(Schema type, int f) {
        ColumnMapping.AvroReader raw = rawReader(type);
        if (raw == null || f < ChangeReader.LEADING_COLUMNS) {
            return f == 2 && type.getType() == Schema.Type.STRING ? opReader() : raw;
        }
        int i = f - ChangeReader.LEADING_COLUMNS;
        ColumnMapping column = columns.get(i);
        ColumnMapping.AvroReader direct = column.avroReader(type, decimalScales[i]);
        if (direct != null) {
            return direct;
        }
        int decimalScale = decimalScales[i];
        return in -> column.fromAvro(decimal(raw.read(in), decimalScale));
    }

    /** The operation: one of the three constants, without a String per row. */
    private static ColumnMapping.AvroReader opReader() {
        return new ColumnMapping.AvroReader() {
            private Utf8 scratch;

            @Override
            public Object read(BinaryDecoder in) throws IOException {
                scratch = in.readString(scratch);
                if (scratch.getByteLength() == 1) {
                    switch (scratch.getBytes()[0]) {
                        case 'C': return SyncSql.OP_ADDED;
                        case 'U': return SyncSql.OP_CHANGED;
                        case 'D': return SyncSql.OP_REMOVED;
                        default: break;
                    }
                }
                return scratch.toString();
            }
        };
    }

    /** What Avro's generic reader yields for a primitive type (no conversions registered); null for other types. */
    private static ColumnMapping.AvroReader rawReader(Schema type) {
        return switch (type.getType()) {
            case NULL -> NULL;
            case BOOLEAN -> in -> in.readBoolean();
            case INT -> in -> in.readInt();
            case LONG -> in -> in.readLong();
            case FLOAT -> in -> in.readFloat();
            case DOUBLE -> in -> in.readDouble();
            case STRING -> "String".equals(type.getProp("avro.java.string")) ? in -> in.readString() : in -> in.readString(null);
            case BYTES -> in -> in.readBytes(null);
            default -> null;
        };
    }

    /** A column's decimal bytes as a BigDecimal of the Avro scale, as the generic path has always done; other values as they are. */
    private static Object decimal(Object v, int decimalScale) {
        if (decimalScale >= 0 && v instanceof ByteBuffer b) {
            byte[] unscaled = new byte[b.remaining()];
            b.duplicate().get(unscaled);
            return new BigDecimal(new BigInteger(unscaled), decimalScale);
        }
        return v;
    }

    private void decodeGenerically(ByteString rows, List<RecordShape.Change> out) throws IOException {
        decoder = DecoderFactory.get().binaryDecoder(rows.newInput(), decoder);
        while (!decoder.isEnd()) {
            record = generic.read(record, decoder);
            Object[] values = new Object[columns.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = columns.get(i).fromAvro(decimal(record.get(ChangeReader.LEADING_COLUMNS + i), decimalScales[i]));
            }
            out.add(shape.change((Long) record.get(1), record.get(2).toString(), values));
        }
    }
}
