package io.bq2k.connect.bigquery;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The shape of a run's diff: changes per bucket and per operation. Knowing the count of each
 * bucket turns a position (bucket, seq) into the chunks still to read.
 */
public record DiffStats(long[] bucketChanges, long added, long changed, long removed) {

    public long total() {
        return added + changed + removed;
    }

    /**
     * The chunks after position (bucket, seq) in emission order: buckets ascending, seq
     * ascending; each at most {@code chunkRows} changes. Position (0, 0) means from the start.
     */
    public Iterator<Chunk> chunksAfter(int bucket, long seq, int chunkRows) {
        return new Iterator<>() {
            int b = bucket;
            long next = seq + 1;

            private void skipExhausted() {
                while (b < bucketChanges.length && next > bucketChanges[b]) {
                    b++;
                    next = 1;
                }
            }

            @Override
            public boolean hasNext() {
                skipExhausted();
                return b < bucketChanges.length;
            }

            @Override
            public Chunk next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                long last = Math.min(bucketChanges[b], next + chunkRows - 1);
                Chunk c = new Chunk(b, next, last);
                next = last + 1;
                return c;
            }
        };
    }

    /** Changes at or before position (bucket, seq): what a resumed run has already handed over. */
    public long handedOverAt(int bucket, long seq) {
        long n = 0;
        for (int b = 0; b < Math.min(bucket, bucketChanges.length); b++) {
            n += bucketChanges[b];
        }
        return bucket < bucketChanges.length ? n + Math.min(seq, bucketChanges[bucket]) : n;
    }
}
