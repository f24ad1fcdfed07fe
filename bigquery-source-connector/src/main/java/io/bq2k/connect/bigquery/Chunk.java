package io.bq2k.connect.bigquery;

/** A contiguous range of changes inside one bucket of a run's diff: seq firstSeq..lastSeq. */
public record Chunk(int bucket, long firstSeq, long lastSeq) {
    public long size() {
        return lastSeq - firstSeq + 1;
    }
}
