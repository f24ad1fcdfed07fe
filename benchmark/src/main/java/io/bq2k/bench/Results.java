package io.bq2k.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The printed tables (figure, ours, each baseline, ratio, note; the memory case's runs), the targets,
 * and their JSON.
 */
final class Results {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    record Row(String figure, double ours, double seed, double upsert, String ratio, String note) {}

    record Target(String target, boolean met, String measured) {}

    /**
     * A row of the memory case (medians over its repetitions), heap in MB (1e6 bytes): the live pass's
     * peak live heap and the live heap of the idle worker before the run; the plain pass's sampled
     * peak heap used, peak heap used after a GC, emission rate, worker CPU seconds and run time.
     */
    record MemRow(String label, long changes, double rowsPerS, double liveHeapMb, double idleLiveHeapMb, double heapPolledMb,
                  double heapAfterGcMb, double workerCpuS, double runS) {}

    final List<Row> rows = new ArrayList<>();
    final List<Target> targets = new ArrayList<>();
    final List<MemRow> memRows = new ArrayList<>();
    /** Further tables, markdown, printed after the figures (the format comparison's). */
    final List<String> tables = new ArrayList<>();
    double memRatio = Double.NaN;
    double memRatioPolled = Double.NaN;
    double memRatioAfterGc = Double.NaN;

    void memRow(MemRow r) {
        memRows.add(r);
    }

    void add(String figure, double ours, double seed, double upsert, String ratio, String note) {
        rows.add(new Row(figure, ours, seed, upsert, ratio, note));
    }

    void target(String target, boolean met, String measured) {
        targets.add(new Target(target, met, measured));
    }

    static String num(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        if (Math.abs(v) >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (Math.abs(v) >= 10 || v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%.1f", v).replaceAll("\\.0$", "");
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        if (!rows.isEmpty()) {
            figures(sb);
        }
        if (!memRows.isEmpty()) {
            memory(sb);
        }
        tables.forEach(t -> sb.append(sb.length() == 0 ? "" : "\n").append(t));
        sb.append("\n| target | met | measured |\n|---|---|---|\n");
        for (Target t : targets) {
            sb.append("| ").append(t.target()).append(" | ").append(t.met() ? "yes" : "NO").append(" | ").append(t.measured()).append(" |\n");
        }
        return sb.toString();
    }

    private void figures(StringBuilder sb) {
        sb.append("| figure | ours (source + Debezium JDBC sink) | seed script (INSERT IGNORE x1000; never updates or deletes) | direct upsert loader (ON DUPLICATE KEY UPDATE x5000, rewrite) | ratio | note |\n");
        sb.append("|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.figure()).append(" | ").append(num(r.ours())).append(" | ").append(num(r.seed())).append(" | ")
              .append(num(r.upsert())).append(" | ").append(r.ratio()).append(" | ").append(r.note()).append(" |\n");
        }
    }

    private void memory(StringBuilder sb) {
        if (!rows.isEmpty()) {
            sb.append('\n');
        }
        sb.append("| case | changes | rows/s (emission) | worker peak heap MB: live, used after a forced full GC (idle worker before the run) |"
                + " worker peak heap MB: sampled used, no forced GC | worker peak heap MB: used after a young/mixed GC | worker CPU s | run s |\n");
        sb.append("|---|---|---|---|---|---|---|---|\n");
        for (MemRow r : memRows) {
            sb.append("| ").append(r.label()).append(" | ").append(String.format(Locale.ROOT, "%,d", r.changes())).append(" | ")
              .append(num(r.rowsPerS())).append(" | ").append(num(r.liveHeapMb())).append(" (").append(num(r.idleLiveHeapMb())).append(") | ")
              .append(num(r.heapPolledMb())).append(" | ").append(num(r.heapAfterGcMb())).append(" | ").append(num(r.workerCpuS())).append(" | ")
              .append(num(r.runS())).append(" |\n");
        }
        sb.append(String.format(Locale.ROOT, "| ratio | %.0fx | | **%.2fx** (target <= 1.20: %s) | %.2fx | %.2fx | | |\n",
                (double) memRows.get(memRows.size() - 1).changes() / memRows.get(0).changes(), memRatio, memRatio <= 1.2 ? "met" : "NOT met",
                memRatioPolled, memRatioAfterGc));
    }

    void print(BenchOptions o, Map<String, Object> details) {
        System.out.println();
        System.out.println("BENCHMARK RESULTS (" + o.rows + " rows, median of " + o.reps + ", " + Instant.now() + ", machine "
                + details.get("machine") + ", load avg 1m now " + HostMetrics.load1() + ")");
        System.out.println();
        System.out.print(markdown());
        System.out.println();
    }

    void write(BenchOptions o, Map<String, Object> details, List<String> failures, Path out) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("finished_at", Instant.now().toString());
        m.put("rows", o.rows);
        m.put("reps", o.reps);
        m.put("table", rows);
        m.put("targets", targets);
        if (!memRows.isEmpty()) {
            m.put("memory_table", memRows);
            m.put("memory_ratio_live_heap", memRatio);
            m.put("memory_ratio_heap_polled", memRatioPolled);
            m.put("memory_ratio_heap_after_gc", memRatioAfterGc);
        }
        m.put("markdown", markdown());
        m.put("details", details);
        m.put("failures", failures);
        Files.createDirectories(out.toAbsolutePath().getParent());
        JSON.writeValue(out.toFile(), m);
    }
}
