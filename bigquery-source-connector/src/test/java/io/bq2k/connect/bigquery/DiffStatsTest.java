package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;

import org.junit.jupiter.api.Test;

class DiffStatsTest {

    /** Buckets 0..5 with empty buckets in between: 9 changes. */
    private static final DiffStats STATS = new DiffStats(new long[] {3, 0, 0, 5, 0, 1}, 4, 3, 2);

    private static List<Chunk> chunks(DiffStats s, int bucket, long seq, int chunkRows) {
        List<Chunk> out = new ArrayList<>();
        s.chunksAfter(bucket, seq, chunkRows).forEachRemaining(out::add);
        return out;
    }

    @Test
    void total() {
        assertEquals(9, STATS.total());
    }

    @Test
    void fromTheStartSkippingEmptyBuckets() {
        assertEquals(List.of(
                new Chunk(0, 1, 2), new Chunk(0, 3, 3),
                new Chunk(3, 1, 2), new Chunk(3, 3, 4), new Chunk(3, 5, 5),
                new Chunk(5, 1, 1)),
            chunks(STATS, 0, 0, 2));
        assertEquals(0, STATS.handedOverAt(0, 0));
    }

    @Test
    void chunkSizesAreCappedByChunkRows() {
        assertEquals(List.of(new Chunk(0, 1, 3), new Chunk(3, 1, 5), new Chunk(5, 1, 1)), chunks(STATS, 0, 0, 100));
        assertEquals(List.of(new Chunk(0, 1, 3), new Chunk(3, 1, 3), new Chunk(3, 4, 5), new Chunk(5, 1, 1)), chunks(STATS, 0, 0, 3));
        List<Chunk> ones = chunks(STATS, 0, 0, 1);
        assertEquals(9, ones.size());
        assertTrue(ones.stream().allMatch(c -> c.size() == 1));
    }

    @Test
    void resumeInTheMiddleOfABucket() {
        assertEquals(List.of(new Chunk(3, 3, 4), new Chunk(3, 5, 5), new Chunk(5, 1, 1)), chunks(STATS, 3, 2, 2));
        assertEquals(5, STATS.handedOverAt(3, 2));
        assertEquals(List.of(new Chunk(0, 2, 3), new Chunk(3, 1, 5), new Chunk(5, 1, 1)), chunks(STATS, 0, 1, 20_000));
        assertEquals(1, STATS.handedOverAt(0, 1));
    }

    @Test
    void resumeAtTheLastSeqOfABucket() {
        assertEquals(List.of(new Chunk(3, 1, 5), new Chunk(5, 1, 1)), chunks(STATS, 0, 3, 10));
        assertEquals(3, STATS.handedOverAt(0, 3));
        assertEquals(List.of(new Chunk(5, 1, 1)), chunks(STATS, 3, 5, 10));
        assertEquals(8, STATS.handedOverAt(3, 5));
    }

    @Test
    void resumeAtTheVeryLastChange() {
        assertEquals(List.of(), chunks(STATS, 5, 1, 10));
        assertEquals(9, STATS.handedOverAt(5, 1));
        assertFalse(STATS.chunksAfter(5, 1, 10).hasNext());
    }

    @Test
    void resumeInsideAnEmptyBucket() {
        assertEquals(List.of(new Chunk(3, 1, 5), new Chunk(5, 1, 1)), chunks(STATS, 1, 0, 10));
        assertEquals(3, STATS.handedOverAt(1, 0));
        assertEquals(3, STATS.handedOverAt(2, 0));
        assertEquals(List.of(new Chunk(3, 1, 5), new Chunk(5, 1, 1)), chunks(STATS, 3, 0, 10));
        assertEquals(3, STATS.handedOverAt(3, 0));
    }

    @Test
    void positionsBeyondTheDiff() {
        assertEquals(List.of(), chunks(STATS, 6, 0, 10));
        assertEquals(9, STATS.handedOverAt(6, 0));
        assertEquals(9, STATS.handedOverAt(100, 7));
        // a seq past its bucket's end counts as the whole bucket
        assertEquals(3, STATS.handedOverAt(0, 99));
        assertEquals(List.of(new Chunk(3, 1, 5), new Chunk(5, 1, 1)), chunks(STATS, 0, 99, 10));
    }

    @Test
    void emptyDiff() {
        DiffStats none = new DiffStats(new long[0], 0, 0, 0);
        assertFalse(none.chunksAfter(0, 0, 10).hasNext());
        assertEquals(0, none.handedOverAt(0, 0));
        DiffStats zeros = new DiffStats(new long[] {0, 0, 0}, 0, 0, 0);
        assertFalse(zeros.chunksAfter(0, 0, 10).hasNext());
        assertEquals(0, zeros.handedOverAt(2, 0));
    }

    @Test
    void nextAfterTheEndThrows() {
        Iterator<Chunk> it = STATS.chunksAfter(5, 0, 10);
        assertEquals(new Chunk(5, 1, 1), it.next());
        assertThrows(NoSuchElementException.class, it::next);
    }

    @Test
    void hasNextIsIdempotent() {
        Iterator<Chunk> it = STATS.chunksAfter(0, 0, 2);
        assertTrue(it.hasNext());
        assertTrue(it.hasNext());
        assertEquals(new Chunk(0, 1, 2), it.next());
    }

    /** From every position: chunks are ordered, contiguous, capped, and with handedOverAt add up to total. */
    @Test
    void everyResumePositionCoversTheRestExactlyOnce() {
        Random random = new Random(42);
        List<DiffStats> cases = new ArrayList<>(List.of(STATS, new DiffStats(new long[] {1}, 1, 0, 0)));
        for (int n = 0; n < 40; n++) {
            long[] buckets = new long[1 + random.nextInt(12)];
            long total = 0;
            for (int b = 0; b < buckets.length; b++) {
                buckets[b] = random.nextInt(3) == 0 ? 0 : random.nextInt(30);
                total += buckets[b];
            }
            long removed = total / 3;
            cases.add(new DiffStats(buckets, total - removed - total / 4, total / 4, removed));
        }
        int checked = 0;
        for (DiffStats s : cases) {
            long[] buckets = s.bucketChanges();
            for (int chunkRows : new int[] {1, 2, 7, 100}) {
                for (int b = 0; b <= buckets.length; b++) {
                    long maxSeq = b < buckets.length ? buckets[b] : 0;
                    for (long seq = 0; seq <= maxSeq; seq++) {
                        checkFrom(s, b, seq, chunkRows);
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 1000, "checked " + checked);
    }

    private static void checkFrom(DiffStats s, int bucket, long seq, int chunkRows) {
        String at = "from (" + bucket + ", " + seq + ") by " + chunkRows + " over " + java.util.Arrays.toString(s.bucketChanges());
        long[] buckets = s.bucketChanges();
        // the positions a resume must still emit, in order
        List<long[]> expected = new ArrayList<>();
        for (int b = bucket; b < buckets.length; b++) {
            for (long q = (b == bucket ? seq + 1 : 1); q <= buckets[b]; q++) {
                expected.add(new long[] {b, q});
            }
        }
        List<long[]> actual = new ArrayList<>();
        long emitted = 0;
        for (Chunk c : chunks(s, bucket, seq, chunkRows)) {
            assertTrue(c.size() >= 1 && c.size() <= chunkRows, at + ": " + c);
            for (long q = c.firstSeq(); q <= c.lastSeq(); q++) {
                actual.add(new long[] {c.bucket(), q});
            }
            emitted += c.size();
        }
        assertEquals(expected.size(), actual.size(), at);
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i)[0], actual.get(i)[0], at);
            assertEquals(expected.get(i)[1], actual.get(i)[1], at);
        }
        assertEquals(s.total(), s.handedOverAt(bucket, seq) + emitted, at);
    }
}
