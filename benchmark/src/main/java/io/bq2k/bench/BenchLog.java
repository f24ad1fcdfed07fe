package io.bq2k.bench;

import java.util.Locale;

/** The bench's progress lines on stdout ({@code bench: ...}). */
final class BenchLog {

    private BenchLog() {
    }

    static void log(String fmt, Object... args) {
        System.out.printf(Locale.ROOT, "bench: " + fmt + "%n", args);
        System.out.flush();
    }
}
