package io.bq2k.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** Medians over repetitions, and the number formats of the figures' labels (1M, 20k; MB). */
final class Stats {

    private Stats() {
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** The median of {@code f} over {@code xs}. */
    static <T> double median(List<T> xs, ToDoubleFunction<T> f) {
        return median(xs.stream().map(f::applyAsDouble).toList());
    }

    /** 1000000 -> 1M, 20000 -> 20k, else the number. */
    static String fmtN(long n) {
        return n % 1_000_000 == 0 ? (n / 1_000_000) + "M" : n % 1000 == 0 ? (n / 1000) + "k" : String.valueOf(n);
    }

    static String mb(long b) {
        return String.format("%.0f MB", b / 1e6);
    }
}
