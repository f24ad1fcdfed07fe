package io.bq2k.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The printed table (figure, ours, each baseline, ratio, note), the targets, and their JSON. */
final class Results {

    record Row(String figure, double ours, double seed, double upsert, String ratio, String note) {}

    record Target(String target, boolean met, String measured) {}

    final List<Row> rows = new ArrayList<>();
    final List<Target> targets = new ArrayList<>();

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

    String markdown(BenchMain b) {
        StringBuilder sb = new StringBuilder();
        sb.append("| figure | ours (source + Debezium JDBC sink) | seed script (INSERT IGNORE x1000; never updates or deletes) | direct upsert loader (ON DUPLICATE KEY UPDATE x5000, rewrite) | ratio | note |\n");
        sb.append("|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.figure()).append(" | ").append(num(r.ours())).append(" | ").append(num(r.seed())).append(" | ")
              .append(num(r.upsert())).append(" | ").append(r.ratio()).append(" | ").append(r.note()).append(" |\n");
        }
        sb.append("\n| target | met | measured |\n|---|---|---|\n");
        for (Target t : targets) {
            sb.append("| ").append(t.target()).append(" | ").append(t.met() ? "yes" : "NO").append(" | ").append(t.measured()).append(" |\n");
        }
        return sb.toString();
    }

    void print(BenchMain b) {
        System.out.println();
        System.out.println("BENCHMARK RESULTS (" + b.rows + " rows, median of " + b.reps + ", " + Instant.now() + ", machine "
                + b.details.get("machine") + ", load avg 1m now " + BenchMain.load1() + ")");
        System.out.println();
        System.out.print(markdown(b));
        System.out.println();
    }

    void write(BenchMain b, Path out) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("finished_at", Instant.now().toString());
        m.put("rows", b.rows);
        m.put("reps", b.reps);
        m.put("table", rows);
        m.put("targets", targets);
        m.put("markdown", markdown(b));
        m.put("details", b.details);
        m.put("failures", b.failures);
        Files.createDirectories(out.toAbsolutePath().getParent());
        BenchMain.JSON.writeValue(out.toFile(), m);
    }
}
