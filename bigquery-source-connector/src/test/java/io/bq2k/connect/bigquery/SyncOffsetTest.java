package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SyncOffsetTest {

    private static final RecordContract CONTRACT = new RecordContract("t", List.of("id"), SyncConfig.TemporalPrecision.MICROS, SyncConfig.JsonColumns.TEXT);

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static String rejected(Map<String, ?> m) {
        return assertThrows(IllegalArgumentException.class, () -> SyncOffset.fromMap(m)).getMessage();
    }

    @Test
    void roundTripInRun() {
        SyncOffset o = SyncOffset.inRun(7, 3, 12_345_678_901L, 6, CONTRACT, 1_700_000_000_123L);
        assertEquals(Map.of("run", 7L, "bucket", 3, "seq", 12_345_678_901L, "base", 6L, "contract", CONTRACT.fingerprint(), "keys", "id",
            "diff", 1_700_000_000_123L), o.toMap());
        assertEquals(o, SyncOffset.fromMap(o.toMap()));
    }

    @Test
    void roundTripCompleted() {
        SyncOffset o = SyncOffset.completed(9, CONTRACT, 1_700_000_000_999L);
        assertEquals(Map.of("run", 9L, "done", true, "contract", CONTRACT.fingerprint(), "keys", "id", "diff", 1_700_000_000_999L), o.toMap());
        assertEquals(o, SyncOffset.fromMap(o.toMap()));
        assertTrue(SyncOffset.fromMap(o.toMap()).done());
    }

    @Test
    void roundTripAbandoned() {
        SyncOffset o = SyncOffset.abandoned(4, 0, CONTRACT);
        assertEquals(Map.of("run", 4L, "abandoned", true, "base", 0L, "contract", CONTRACT.fingerprint(), "keys", "id"), o.toMap());
        assertEquals(o, SyncOffset.fromMap(o.toMap()));
        assertEquals(SyncOffset.Kind.ABANDONED, SyncOffset.fromMap(o.toMap()).kind());
    }

    @Test
    void offsetsWithoutContractOrBaseReadAsUnknown() {
        SyncOffset o = SyncOffset.fromMap(map("run", 3, "bucket", 1, "seq", 2));
        assertEquals(-1, o.base());
        assertNull(o.contract());
        assertNull(o.keys());
        assertTrue(rejected(map("run", 3, "bucket", 1, "seq", 2, "base", 3)).contains("\"base\" must be below \"run\""));
        assertTrue(rejected(map("run", 3, "done", true, "abandoned", true)).contains("not both"));
    }

    @Test
    void partition() {
        assertEquals(Map.of("sync", "s"), SyncOffset.partition("s"));
    }

    @Test
    void integerAndLongNumbersAreAccepted() {
        SyncOffset expected = SyncOffset.fromMap(map("run", 2L, "bucket", 1, "seq", 5L));
        assertEquals(expected, SyncOffset.fromMap(map("run", 2, "bucket", 1, "seq", 5)));
        assertEquals(expected, SyncOffset.fromMap(map("run", 2L, "bucket", 1L, "seq", 5L)));
        assertEquals(expected, SyncOffset.fromMap(map("run", (short) 2, "bucket", (byte) 1, "seq", 5)));
        assertTrue(SyncOffset.fromMap(map("run", 4, "done", true)).done());
        assertEquals(expected, SyncOffset.fromMap(map("run", 2, "done", false, "bucket", 1, "seq", 5)));
    }

    @Test
    void nullStaysNull() {
        assertNull(SyncOffset.fromMap(null));
    }

    @Test
    void startOfRunPosition() {
        assertEquals(0, SyncOffset.fromMap(map("run", 1, "bucket", 0, "seq", 0)).seq());
    }

    @Test
    void missingRun() {
        String msg = rejected(map("bucket", 0, "seq", 1));
        assertTrue(msg.contains("\"run\" must be an integer, got nothing"), msg);
        assertTrue(rejected(map("done", true)).contains("\"run\""));
    }

    @Test
    void runBelowOne() {
        assertTrue(rejected(map("run", 0, "done", true)).contains("\"run\" must be at least 1, got 0"));
        assertTrue(rejected(map("run", -3L, "bucket", 0, "seq", 0)).contains("\"run\" must be at least 1, got -3"));
    }

    @Test
    void negativeSeq() {
        String msg = rejected(map("run", 1, "bucket", 0, "seq", -1));
        assertTrue(msg.contains("\"seq\" must be at least 0, got -1"), msg);
    }

    @Test
    void negativeBucket() {
        assertTrue(rejected(map("run", 1, "bucket", -1, "seq", 0)).contains("\"bucket\" must be at least 0"));
    }

    @Test
    void bucketTooLarge() {
        assertTrue(rejected(map("run", 1, "bucket", 1L + Integer.MAX_VALUE, "seq", 0)).contains("\"bucket\" is too large"));
    }

    @Test
    void missingBucketOrSeq() {
        assertTrue(rejected(map("run", 1, "seq", 0)).contains("\"bucket\" must be an integer, got nothing"));
        assertTrue(rejected(map("run", 1, "bucket", 0)).contains("\"seq\" must be an integer, got nothing"));
    }

    @Test
    void doneWithBucketOrSeq() {
        String msg = rejected(map("run", 1, "done", true, "bucket", 0));
        assertTrue(msg.contains("\"done\": true has no \"bucket\" or \"seq\""), msg);
        assertTrue(rejected(map("run", 1, "done", true, "seq", 3)).contains("\"done\""));
    }

    @Test
    void doneNotABoolean() {
        String msg = rejected(map("run", 1, "done", "yes", "bucket", 0, "seq", 0));
        assertTrue(msg.contains("\"done\" must be true or false, got yes"), msg);
        assertTrue(rejected(map("run", 1, "done", "true")).contains("\"done\""));
        assertTrue(rejected(map("run", 1, "done", 1)).contains("\"done\""));
    }

    @Test
    void nonIntegerNumbers() {
        assertTrue(rejected(map("run", 1.5, "done", true)).contains("\"run\" must be an integer, got 1.5"));
        assertTrue(rejected(map("run", "1", "done", true)).contains("\"run\" must be an integer, got 1"));
        assertTrue(rejected(map("run", 1, "bucket", 0, "seq", 2.0)).contains("\"seq\" must be an integer"));
    }
}
