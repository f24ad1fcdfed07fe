package io.bq2k.connect.bigquery;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.apache.avro.NameValidator;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

import com.google.cloud.bigquery.storage.v1.CreateReadSessionRequest;
import com.google.cloud.bigquery.storage.v1.DataFormat;
import com.google.cloud.bigquery.storage.v1.ReadRowsRequest;
import com.google.cloud.bigquery.storage.v1.ReadRowsResponse;
import com.google.cloud.bigquery.storage.v1.ReadSession;
import com.google.cloud.bigquery.storage.v1.ReadSession.TableReadOptions;
import com.google.cloud.bigquery.storage.v1.ReadStream;

/**
 * Reads a chunk with the BigQuery Storage Read API (Avro). The row restriction selects the chunk
 * (the diff table is clustered by bucket and seq, so only its blocks are scanned); the rows
 * are put in seq order in memory, which a chunk's bounded size allows.
 */
public final class StorageChangeReader implements ChangeReader {

    private final BigQueryGateway gateway;
    private final String project;

    public StorageChangeReader(BigQueryGateway gateway, String project) {
        this.gateway = gateway;
        this.project = project;
    }

    @Override
    public List<RecordShape.Change> read(TableRef diffTable, Chunk chunk, RecordShape shape) {
        return gateway.retrier().call("read changes " + chunk + " of " + diffTable, () -> readOnce(diffTable, chunk, shape));
    }

    private List<RecordShape.Change> readOnce(TableRef diffTable, Chunk chunk, RecordShape shape) throws IOException {
        ReadSession session = gateway.readClient().createReadSession(CreateReadSessionRequest.newBuilder()
            .setParent("projects/" + project)
            .setReadSession(ReadSession.newBuilder()
                .setTable("projects/" + diffTable.project() + "/datasets/" + diffTable.dataset() + "/tables/" + diffTable.table())
                .setDataFormat(DataFormat.AVRO)
                .setReadOptions(TableReadOptions.newBuilder().setRowRestriction(SyncSql.chunkRestriction(chunk))))
            .setMaxStreamCount(1)
            .build());
        List<RecordShape.Change> changes = new ArrayList<>((int) chunk.size());
        if (session.getStreamsCount() == 0) {
            return changes;
        }
        // BigQuery may name columns in ways Avro does not allow (non-ASCII, spaces): decode by position.
        Schema schema = new Schema.Parser(NameValidator.NO_VALIDATION).parse(session.getAvroSchema().getSchema());
        GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(schema);
        List<ColumnMapping> columns = shape.columns();
        if (schema.getFields().size() != LEADING_COLUMNS + columns.size()) {
            throw new IllegalStateException("diff table " + diffTable + " has " + schema.getFields().size()
                + " columns, expected " + (LEADING_COLUMNS + columns.size()));
        }
        // Decimals carry the scale of the Avro schema (9 for NUMERIC, the column's for NUMERIC(P, S)).
        int[] decimalScales = new int[columns.size()];
        for (int i = 0; i < decimalScales.length; i++) {
            Schema s = schema.getFields().get(LEADING_COLUMNS + i).schema();
            Schema nonNull = s.getType() == Schema.Type.UNION ? s.getTypes().stream().filter(t -> t.getType() != Schema.Type.NULL).findFirst().orElse(s) : s;
            decimalScales[i] = nonNull.getLogicalType() instanceof org.apache.avro.LogicalTypes.Decimal d ? d.getScale() : -1;
        }
        BinaryDecoder decoder = null;
        GenericRecord record = null;
        for (ReadStream stream : session.getStreamsList()) {
            for (ReadRowsResponse response : gateway.readClient().readRowsCallable()
                    .call(ReadRowsRequest.newBuilder().setReadStream(stream.getName()).setOffset(0).build())) {
                if (!response.hasAvroRows()) {
                    continue;
                }
                decoder = DecoderFactory.get().binaryDecoder(response.getAvroRows().getSerializedBinaryRows().newInput(), decoder);
                while (!decoder.isEnd()) {
                    record = reader.read(record, decoder);
                    Object[] values = new Object[columns.size()];
                    for (int i = 0; i < values.length; i++) {
                        Object v = record.get(LEADING_COLUMNS + i);
                        if (decimalScales[i] >= 0 && v instanceof java.nio.ByteBuffer b) {
                            byte[] unscaled = new byte[b.remaining()];
                            b.duplicate().get(unscaled);
                            v = new java.math.BigDecimal(new java.math.BigInteger(unscaled), decimalScales[i]);
                        }
                        values[i] = columns.get(i).fromAvro(v);
                    }
                    changes.add(shape.change((Long) record.get(1), record.get(2).toString(), values));
                }
            }
        }
        changes.sort(Comparator.comparingLong(RecordShape.Change::seq));
        return changes;
    }
}
