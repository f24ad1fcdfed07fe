package io.bq2k.connect.bigquery;

import java.util.List;

/** Reads one chunk of a run's diff table, in seq order. */
public interface ChangeReader {

    /** Columns of a diff table before the query's own: bucket, seq, op, row bytes. */
    int LEADING_COLUMNS = 4;

    List<RecordShape.Change> read(TableRef diffTable, Chunk chunk, RecordShape shape);
}
