package io.bq2k.connect.bigquery;

import java.io.IOException;
import java.util.List;

import org.apache.avro.NameValidator;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

import com.google.protobuf.ByteString;

/**
 * Decodes the rows of a diff table as the Storage Read API sends them (Avro binary rows, back to back,
 * under the read session's Avro schema) into the changes of a {@link RecordShape}. One decoder per read
 * session; not thread-safe. {@code bin/bench --cases record-path} measures this path.
 */
public final class AvroChangeDecoder {

    private final RecordShape shape;
    private final List<ColumnMapping> columns;
    private final GenericDatumReader<GenericRecord> reader;
    private final int[] decimalScales;
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
        if (schema.getFields().size() != ChangeReader.LEADING_COLUMNS + columns.size()) {
            throw new IllegalStateException("diff table " + table + " has " + schema.getFields().size()
                + " columns, expected " + (ChangeReader.LEADING_COLUMNS + columns.size()));
        }
        this.reader = new GenericDatumReader<>(schema);
        // Decimals carry the scale of the Avro schema (9 for NUMERIC, the column's for NUMERIC(P, S)).
        this.decimalScales = new int[columns.size()];
        for (int i = 0; i < decimalScales.length; i++) {
            Schema s = schema.getFields().get(ChangeReader.LEADING_COLUMNS + i).schema();
            Schema nonNull = s.getType() == Schema.Type.UNION ? s.getTypes().stream().filter(t -> t.getType() != Schema.Type.NULL).findFirst().orElse(s) : s;
            decimalScales[i] = nonNull.getLogicalType() instanceof org.apache.avro.LogicalTypes.Decimal d ? d.getScale() : -1;
        }
    }

    /** Decodes every row of one {@code ReadRowsResponse}'s {@code serialized_binary_rows} into {@code out}, in order. */
    public void decode(ByteString rows, List<RecordShape.Change> out) throws IOException {
        decoder = DecoderFactory.get().binaryDecoder(rows.newInput(), decoder);
        while (!decoder.isEnd()) {
            record = reader.read(record, decoder);
            Object[] values = new Object[columns.size()];
            for (int i = 0; i < values.length; i++) {
                Object v = record.get(ChangeReader.LEADING_COLUMNS + i);
                if (decimalScales[i] >= 0 && v instanceof java.nio.ByteBuffer b) {
                    byte[] unscaled = new byte[b.remaining()];
                    b.duplicate().get(unscaled);
                    v = new java.math.BigDecimal(new java.math.BigInteger(unscaled), decimalScales[i]);
                }
                values[i] = columns.get(i).fromAvro(v);
            }
            out.add(shape.change((Long) record.get(1), record.get(2).toString(), values));
        }
    }
}
