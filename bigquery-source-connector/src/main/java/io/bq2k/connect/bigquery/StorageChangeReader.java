package io.bq2k.connect.bigquery;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

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
        AvroChangeDecoder decoder = new AvroChangeDecoder(session.getAvroSchema().getSchema(), shape, diffTable);
        for (ReadStream stream : session.getStreamsList()) {
            for (ReadRowsResponse response : gateway.readClient().readRowsCallable()
                    .call(ReadRowsRequest.newBuilder().setReadStream(stream.getName()).setOffset(0).build())) {
                if (response.hasAvroRows()) {
                    decoder.decode(response.getAvroRows().getSerializedBinaryRows(), changes);
                }
            }
        }
        changes.sort(Comparator.comparingLong(RecordShape.Change::seq));
        return changes;
    }
}
