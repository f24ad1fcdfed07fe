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

    // ---- byte parts (issue item 4) -----------------------------------------------------------

    private static final long MB = 1L << 20;

    /**
     * The stats SyncSql.diffStats computes for rows of these JSON sizes (per bucket, in seq order): part k of a
     * bucket holds the rows whose bytes before them in the bucket are in [k, k + 1) times {@code chunkBytes}.
     */
    static DiffStats statsOf(long[][] rowBytes, long chunkBytes) {
        List<DiffStats.Part> parts = new ArrayList<>();
        for (int b = 0; b < rowBytes.length; b++) {
            long before = 0;
            long part = -1;
            long count = 0;
            for (int i = 0; i < rowBytes[b].length; i++) {
                long p = before / chunkBytes;
                if (p != part && count > 0) {
                    parts.add(new DiffStats.Part(b, i, count, count, 0, 0));
                    count = 0;
                }
                part = p;
                count++;
                before += rowBytes[b][i];
            }
            if (count > 0) {
                parts.add(new DiffStats.Part(b, rowBytes[b].length, count, count, 0, 0));
            }
        }
        java.util.Collections.shuffle(parts, new Random(7)); // the query's order does not matter
        return DiffStats.of(parts);
    }

    private static long[] sized(int rows, long bytes) {
        long[] out = new long[rows];
        java.util.Arrays.fill(out, bytes);
        return out;
    }

    /** Every chunk: 1..chunkRows rows, at most chunkBytes of rows plus its last row. */
    private static List<Chunk> checkedChunks(DiffStats s, long[][] rowBytes, int bucket, long seq, int chunkRows, long chunkBytes) {
        List<Chunk> out = chunks(s, bucket, seq, chunkRows);
        for (Chunk c : out) {
            long sum = 0;
            for (long q = c.firstSeq(); q <= c.lastSeq(); q++) {
                sum += rowBytes[c.bucket()][(int) q - 1];
            }
            assertTrue(c.size() >= 1 && c.size() <= chunkRows, c.toString());
            assertTrue(sum - rowBytes[c.bucket()][(int) c.lastSeq() - 1] < chunkBytes, c + " holds " + sum + " bytes");
        }
        return out;
    }

    @Test
    void wideRowsMakeSmallChunks() {
        long[][] rows = {sized(100, MB)}; // 1 MB rows (record.max.bytes), 8 MB chunks
        DiffStats s = statsOf(rows, 8 * MB);
        List<Chunk> chunks = checkedChunks(s, rows, 0, 0, 20_000, 8 * MB);
        assertEquals(new Chunk(0, 1, 8), chunks.get(0));
        assertEquals(13, chunks.size());
        assertTrue(chunks.stream().allMatch(c -> c.size() == 8 || c.equals(new Chunk(0, 97, 100))), chunks.toString());
    }

    @Test
    void narrowRowsAreCappedByRows() {
        long[][] rows = {sized(100_000, 100)}; // 10 MB of 100-byte rows
        DiffStats s = statsOf(rows, 8 * MB);
        List<Chunk> chunks = checkedChunks(s, rows, 0, 0, 20_000, 8 * MB);
        // the first byte part ends at seq 83,887, the last row starting below 8 MiB: the chunk there is cut short
        assertEquals(List.of(new Chunk(0, 1, 20_000), new Chunk(0, 20_001, 40_000), new Chunk(0, 40_001, 60_000), new Chunk(0, 60_001, 80_000),
            new Chunk(0, 80_001, 83_887), new Chunk(0, 83_888, 100_000)), chunks);
    }

    @Test
    void oneWideRowDoesNotShrinkTheRestOfItsBucket() {
        long[] bytes = sized(50_000, 200);
        bytes[29_999] = 1_000_000; // seq 30,000
        long[][] rows = {bytes};
        DiffStats s = statsOf(rows, 8 * MB);
        // a bound by the bucket's largest row (8 MB / 1 MB) would read 6,250 chunks of 8 rows
        assertEquals(List.of(new Chunk(0, 1, 20_000), new Chunk(0, 20_001, 36_945), new Chunk(0, 36_946, 50_000)),
            checkedChunks(s, rows, 0, 0, 20_000, 8 * MB));
    }

    @Test
    void removalsCountNoBytesAndAreCappedByRows() {
        long[][] rows = {sized(45_000, 0)};
        DiffStats s = statsOf(rows, MB);
        assertEquals(List.of(new Chunk(0, 1, 20_000), new Chunk(0, 20_001, 40_000), new Chunk(0, 40_001, 45_000)),
            checkedChunks(s, rows, 0, 0, 20_000, MB));
    }

    @Test
    void aRowLargerThanTheBudgetIsAChunkOfItsOwn() {
        long[][] rows = {{10, 5 * MB, 10, 10}};
        DiffStats s = statsOf(rows, MB);
        assertEquals(List.of(new Chunk(0, 1, 2), new Chunk(0, 3, 4)), checkedChunks(s, rows, 0, 0, 100, MB));
        long[][] big = {{5 * MB, 5 * MB, 10}};
        assertEquals(List.of(new Chunk(0, 1, 1), new Chunk(0, 2, 2), new Chunk(0, 3, 3)), checkedChunks(statsOf(big, MB), big, 0, 0, 100, MB));
    }

    @Test
    void resumeInsideABytePartStartsAtTheNextChange() {
        long[][] rows = {sized(20, MB), sized(5, 10)};
        DiffStats s = statsOf(rows, 4 * MB); // bucket 0: parts 1-4, 5-8, ..., 17-20
        assertEquals(List.of(new Chunk(0, 1, 4), new Chunk(0, 5, 8), new Chunk(0, 9, 12), new Chunk(0, 13, 16), new Chunk(0, 17, 20), new Chunk(1, 1, 5)),
            chunks(s, 0, 0, 100));
        assertEquals(List.of(new Chunk(0, 7, 8), new Chunk(0, 9, 12), new Chunk(0, 13, 16), new Chunk(0, 17, 20), new Chunk(1, 1, 5)),
            checkedChunks(s, rows, 0, 6, 100, 4 * MB));
        assertEquals(6, s.handedOverAt(0, 6));
        assertEquals(List.of(new Chunk(0, 9, 12), new Chunk(0, 13, 16), new Chunk(0, 17, 20), new Chunk(1, 1, 5)), chunks(s, 0, 8, 100));
        assertEquals(List.of(new Chunk(1, 1, 5)), chunks(s, 0, 20, 100));
        assertEquals(List.of(new Chunk(1, 3, 5)), chunks(s, 1, 2, 100));
        assertEquals(22, s.handedOverAt(1, 2));
        // with other byte parts (read.chunk.bytes changed before the resume) the rest is the same changes
        DiffStats other = statsOf(rows, 3 * MB);
        assertEquals(List.of(new Chunk(0, 7, 9), new Chunk(0, 10, 12), new Chunk(0, 13, 15), new Chunk(0, 16, 18), new Chunk(0, 19, 20), new Chunk(1, 1, 5)),
            chunks(other, 0, 6, 100));
        assertEquals(s.handedOverAt(0, 6), other.handedOverAt(0, 6));
    }

    @Test
    void statsOfPartsAddUpPerBucketAndOperation() {
        DiffStats s = DiffStats.of(List.of(
            new DiffStats.Part(3, 9, 4, 1, 2, 1),
            new DiffStats.Part(0, 2, 2, 2, 0, 0),
            new DiffStats.Part(3, 5, 5, 0, 0, 5)));
        assertEquals(List.of(2L, 0L, 0L, 9L), java.util.Arrays.stream(s.bucketChanges()).boxed().toList());
        assertEquals(3, s.added());
        assertEquals(2, s.changed());
        assertEquals(6, s.removed());
        assertEquals(11, s.total());
        assertEquals(3, s.parts());
        assertEquals(List.of(new Chunk(0, 1, 2), new Chunk(3, 1, 5), new Chunk(3, 6, 9)), chunks(s, 0, 0, 100));
        assertEquals(0, DiffStats.of(List.of()).total());
        assertFalse(DiffStats.of(List.of()).chunksAfter(0, 0, 10).hasNext());
        assertEquals(3, STATS.parts()); // without byte parts a bucket with changes is one part
    }

    /**
     * From every position: chunks are ordered, contiguous, capped by rows, inside one byte part (at most the
     * budget plus one row), and with handedOverAt add up to total.
     */
    @Test
    void everyResumePositionCoversTheRestExactlyOnce() {
        Random random = new Random(42);
        List<DiffStats> cases = new ArrayList<>(List.of(STATS, new DiffStats(new long[] {1}, 1, 0, 0)));
        List<long[][]> bytes = new ArrayList<>(java.util.Arrays.asList(null, null));
        for (int n = 0; n < 40; n++) {
            long[] buckets = new long[1 + random.nextInt(12)];
            long total = 0;
            for (int b = 0; b < buckets.length; b++) {
                buckets[b] = random.nextInt(3) == 0 ? 0 : random.nextInt(30);
                total += buckets[b];
            }
            long removed = total / 3;
            cases.add(new DiffStats(buckets, total - removed - total / 4, total / 4, removed));
            bytes.add(null);
        }
        for (int n = 0; n < 40; n++) {
            long[][] rowBytes = new long[1 + random.nextInt(8)][];
            for (int b = 0; b < rowBytes.length; b++) {
                rowBytes[b] = new long[random.nextInt(3) == 0 ? 0 : random.nextInt(30)];
                for (int i = 0; i < rowBytes[b].length; i++) {
                    rowBytes[b][i] = random.nextInt(4) == 0 ? 0 : random.nextInt(5) == 0 ? 3 * MB : random.nextInt(300_000);
                }
            }
            cases.add(statsOf(rowBytes, MB));
            bytes.add(rowBytes);
        }
        int checked = 0;
        for (int i = 0; i < cases.size(); i++) {
            DiffStats s = cases.get(i);
            long[] buckets = s.bucketChanges();
            for (int chunkRows : new int[] {1, 2, 7, 100}) {
                for (int b = 0; b <= buckets.length; b++) {
                    long maxSeq = b < buckets.length ? buckets[b] : 0;
                    for (long seq = 0; seq <= maxSeq; seq++) {
                        checkFrom(s, b, seq, chunkRows);
                        if (bytes.get(i) != null) {
                            checkedChunks(s, bytes.get(i), b, seq, chunkRows, MB);
                        }
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 2000, "checked " + checked);
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
