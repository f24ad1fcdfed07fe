package io.bq2k.connect.bigquery;

import java.util.List;
import java.util.Map;

import com.google.cloud.bigquery.FieldValue;

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
        List<ColumnMapping> columns = shape.columns();
        return gateway.queryAllRows("read changes " + chunk + " of " + diffTable, SyncSql.chunkQuery(diffTable, chunk), Map.of(), row -> {
            Object[] values = new Object[columns.size()];
            for (int i = 0; i < values.length; i++) {
                FieldValue v = row.get(LEADING_COLUMNS + i);
                values[i] = columns.get(i).fromText(v.isNull() ? null : v.getStringValue());
            }
            return shape.change(row.get(1).getLongValue(), row.get(2).getStringValue(), values);
        });
    }
}
