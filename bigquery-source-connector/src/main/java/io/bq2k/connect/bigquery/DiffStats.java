package io.bq2k.connect.bigquery;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The shape of a run's diff: changes per bucket and per operation, and where each bucket's byte parts
 * end. Knowing the count of each bucket turns a position (bucket, seq) into the chunks still to read;
 * the byte parts bound what a chunk holds in bytes.
 *
 * @param bucketChanges changes per bucket (seq runs from 1 to this count)
 * @param partEnds      per bucket, the last seq of each of its byte parts, ascending ({@link SyncSql#diffStats}:
 *                      a part holds at most {@code read.chunk.bytes} of rows plus one row); a bucket without
 *                      entries (or beyond the array) is one part
 */
public record DiffStats(long[] bucketChanges, long added, long changed, long removed, long[][] partEnds) {

    /** One row of the stats query: one byte part of one bucket. */
    public record Part(int bucket, long lastSeq, long changes, long added, long changed, long removed) { }

    public DiffStats {
        partEnds = partEnds == null ? new long[0][] : partEnds;
    }

    /** Without byte parts: chunks are bounded by rows only. */
    public DiffStats(long[] bucketChanges, long added, long changed, long removed) {
        this(bucketChanges, added, changed, removed, null);
    }

    /** The stats of a diff from its byte parts, in any order. A bucket absent from them has no change. */
    public static DiffStats of(List<Part> parts) {
        int buckets = parts.stream().mapToInt(Part::bucket).max().orElse(-1) + 1;
        long[] perBucket = new long[buckets];
        int[] partCount = new int[buckets];
        long added = 0;
        long changed = 0;
        long removed = 0;
        for (Part p : parts) {
            perBucket[p.bucket()] += p.changes();
            partCount[p.bucket()]++;
            added += p.added();
            changed += p.changed();
            removed += p.removed();
        }
        long[][] ends = new long[buckets][];
        for (int b = 0; b < buckets; b++) {
            ends[b] = new long[partCount[b]];
            partCount[b] = 0;
        }
        for (Part p : parts) {
            ends[p.bucket()][partCount[p.bucket()]++] = p.lastSeq();
        }
        for (long[] e : ends) {
            Arrays.sort(e);
        }
        return new DiffStats(perBucket, added, changed, removed, ends);
    }

    public long total() {
        return added + changed + removed;
    }

    /** Byte parts over all buckets (a bucket with changes and no recorded part counts as one). */
    public long parts() {
        long n = 0;
        for (int b = 0; b < bucketChanges.length; b++) {
            n += b < partEnds.length && partEnds[b].length > 0 ? partEnds[b].length : bucketChanges[b] > 0 ? 1 : 0;
        }
        return n;
    }

    /**
     * The chunks after position (bucket, seq) in emission order: buckets ascending, seq
     * ascending; each at most {@code chunkRows} changes and inside one byte part, so at most
     * {@code read.chunk.bytes} of rows plus one row. Position (0, 0) means from the start. The
     * boundaries do not matter for correctness: a resume starts at seq + 1 wherever its part ends.
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
                long last = Math.min(Math.min(bucketChanges[b], partEnd(b, next)), next + chunkRows - 1);
                Chunk c = new Chunk(b, next, last);
                next = last + 1;
                return c;
            }
        };
    }

    /** The last seq of the byte part of bucket {@code b} that holds {@code seq}. */
    private long partEnd(int b, long seq) {
        if (b >= partEnds.length || partEnds[b].length == 0) {
            return bucketChanges[b];
        }
        int i = Arrays.binarySearch(partEnds[b], seq);
        int at = i >= 0 ? i : -i - 1; // the first end at or after seq
        return at < partEnds[b].length ? partEnds[b][at] : bucketChanges[b];
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
