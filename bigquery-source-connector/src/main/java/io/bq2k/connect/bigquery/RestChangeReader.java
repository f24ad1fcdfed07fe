package io.bq2k.connect.bigquery;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.google.cloud.bigquery.FieldValue;
import com.google.cloud.bigquery.FieldValueList;

/**
 * Reads a chunk with a query over REST, for accounts without read-session permission. Slower
 * (a query job per chunk) but reads the same table and produces the same changes.
 */
public final class RestChangeReader implements ChangeReader {

    private final BigQueryGateway gateway;

    public RestChangeReader(BigQueryGateway gateway) {
        this.gateway = gateway;
    }

    @Override
    public List<RecordShape.Change> read(TableRef diffTable, Chunk chunk, RecordShape shape) {
        BigQueryGateway.QueryOutcome outcome = gateway.query("read changes " + chunk + " of " + diffTable, SyncSql.chunkQuery(diffTable, chunk), Map.of());
        List<ColumnMapping> columns = shape.columns();
        List<RecordShape.Change> changes = new ArrayList<>((int) chunk.size());
        for (FieldValueList row : outcome.rows().iterateAll()) {
            Object[] values = new Object[columns.size()];
            for (int i = 0; i < values.length; i++) {
                FieldValue v = row.get(LEADING_COLUMNS + i);
                values[i] = columns.get(i).fromText(v.isNull() ? null : v.getStringValue());
            }
            changes.add(shape.change(row.get(1).getLongValue(), row.get(2).getStringValue(), values));
        }
        return changes;
    }
}
