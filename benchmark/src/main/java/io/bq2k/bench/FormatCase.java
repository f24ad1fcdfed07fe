package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;
import static io.bq2k.bench.BenchRun.RUN_TIMEOUT;
import static io.bq2k.bench.BenchRun.ms;
import static io.bq2k.bench.Stats.fmtN;
import static io.bq2k.bench.Stats.median;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

import com.fasterxml.jackson.databind.JsonNode;

import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.PipelineOps;

/**
 * The format comparison ({@code --format both|all|avro}): first the converters alone ({@link ConverterCase}), then the initial sync of all N rows once per record format
 * ({@link RecordFormat}: the shipped JSON with the schema in every record, the shipped Avro through the stack's
 * registry), same query, same tuning (partitions, producer, sink batch and fetch), only the converters differ. First an
 * untimed warm-up sync per format of the first {@link #warmUpRows} rows (class loading, JIT, the registry's client: the
 * cases before ran JSON only, so without it Avro would pay its warm-up inside the measurement); none with {@code --smoke},
 * whose figures at its small N are fixed costs more than per-row costs (correctness is what it checks). Per
 * repetition and format a fresh sync (topic, staging dataset, table), timed from the source's deploy until the MySQL
 * table's signature equals the query's; the formats alternate their order between repetitions. Per format: rows/s end
 * to end, CPU microseconds per row of each stack process over that interval ({@link HostMetrics}), bytes per record
 * on the topic (serialized key and value, read with a byte-array consumer; the partitions' size on the broker,
 * compressed), the run summary's split, and the full comparison of the MySQL table with the query result
 * ({@link Correctness}). Printed side by side with the ratios Avro/JSON and the target "worker CPU per row, Avro
 * at most half of JSON".
 */
final class FormatCase {

    /** One sync of one format. */
    record Pass(RecordFormat format, int rep, double seconds, Map<String, Double> cpu, TopicBytes.Size size, double bqS, double emitS,
                double sinkTailS, double load1) {
        double rowsPerS(long rows) {
            return rows / seconds;
        }

        /** CPU microseconds of a process per row, NaN when the process did not run. */
        double cpuUsPerRow(String process, long rows) {
            Double s = cpu.get(process);
            return s == null ? Double.NaN : s * 1e6 / rows;
        }
    }

    private static final String[] PROCESSES = {"connect", "emulator", "mariadb", "kafka", "registry"};

    private final BenchRun run;
    private final BenchOptions opts;
    private final BenchStack st;
    private final KeptSync kept;

    FormatCase(BenchRun run, KeptSync kept) {
        this.run = run;
        this.opts = run.opts();
        this.st = run.stack();
        this.kept = kept;
    }

    void run(Results res) throws Exception {
        List<RecordFormat> formats = RecordFormat.of(opts.format);
        long rows = opts.rows;
        log("== format comparison: initial sync of %,d rows per format (%s), %d repetition(s)", rows,
                String.join(", ", formats.stream().map(f -> f.id).toList()), opts.reps);
        if (kept != null) {
            kept.remove(st.deployer); // nothing else runs in the worker: its CPU seconds are this sync's
        }
        if (formats.stream().anyMatch(RecordFormat::avro)) {
            new ConverterCase(opts, ConnectorConfigs.avroSource(st.local).config(), run.details(), run.failures()).run(res);
        }
        long warm = warmUpRows(rows);
        String warmQuery = BenchData.QUERY + " WHERE id <= " + warm;
        Signature warmExpected = Signature.ofQuery(st.bq, warmQuery);
        for (RecordFormat f : opts.smoke ? List.<RecordFormat>of() : formats) {
            long w0 = System.nanoTime();
            sync(f, 0, warmQuery, warmExpected);
            log("  warm-up %s: the first %,d rows synced in %.1fs (not measured)", f.id, warm, (System.nanoTime() - w0) / 1e9);
        }
        Signature expected = Signature.ofQuery(st.bq, BenchData.QUERY);
        Map<RecordFormat, List<Pass>> passes = new LinkedHashMap<>();
        formats.forEach(f -> passes.put(f, new ArrayList<>()));
        for (int rep = 1; rep <= opts.reps; rep++) {
            List<RecordFormat> order = new ArrayList<>(formats);
            if (rep % 2 == 0) {
                java.util.Collections.reverse(order);
            }
            for (RecordFormat f : order) {
                passes.get(f).add(sync(f, rep, BenchData.QUERY, expected));
            }
        }
        List<Map<String, Object>> raw = new ArrayList<>();
        passes.values().forEach(ps -> ps.forEach(p -> raw.add(Map.of("format", p.format().id, "rep", p.rep(), "seconds", p.seconds(),
                "cpu_s", p.cpu(), "topic", p.size(), "bq_s", p.bqS(), "emit_s", p.emitS(), "sink_after_emit_s", p.sinkTailS(),
                "load1_before", p.load1()))));
        run.details().put("format", raw);
        res.tables.add(table(formats, passes, rows));
        if (passes.containsKey(RecordFormat.JSON) && passes.containsKey(RecordFormat.AVRO)) {
            double ratio = median(passes.get(RecordFormat.AVRO), p -> p.cpuUsPerRow("connect", rows))
                    / median(passes.get(RecordFormat.JSON), p -> p.cpuUsPerRow("connect", rows));
            double load = median(passes.values().stream().flatMap(List::stream).toList(), Pass::load1);
            res.target("Worker CPU per row in the initial sync, Avro <= 0.5x JSON (schema in every record)", ratio <= 0.5,
                    String.format(Locale.ROOT, "%.2fx (load avg 1m before the runs: %.1f)%s", ratio, load,
                            opts.smoke ? "; --smoke: no warm-up, small N: not a measurement" : ""));
            log("format comparison: worker CPU per row, Avro <= 0.5x JSON: %s (%.2fx)", ratio <= 0.5 ? "yes" : "NO", ratio);
        }
        if (run.details().get("initial_baselines") instanceof Map<?, ?> b) {
            // The initial sync case's baselines, measured earlier in this run on the same data.
            double ups = (Double) b.get("upsert_rows_s");
            double upsMysql = (Double) b.get("upsert_mysql_rows_s");
            for (RecordFormat f : formats) {
                double ours = median(passes.get(f), p -> p.rowsPerS(rows));
                res.target("Initial sync, " + f.id + ": >= 1.0x the direct upsert loader and >= 0.35x its MySQL-only rate",
                        ours / ups >= 1.0 && ours / upsMysql >= 0.35,
                        String.format(Locale.ROOT, "%,.0f rows/s: %.2fx the loader (%,.0f), %.2fx its MySQL-only rate (%,.0f)", ours, ours / ups,
                                ups, ours / upsMysql, upsMysql));
            }
        }
        if (passes.containsKey(RecordFormat.AVRO) && passes.containsKey(RecordFormat.AVRO_APICURIO)) {
            log("format comparison: worker CPU per row, CachingAvroConverter / Apicurio's converter as is: %.2fx",
                    median(passes.get(RecordFormat.AVRO), p -> p.cpuUsPerRow("connect", rows))
                            / median(passes.get(RecordFormat.AVRO_APICURIO), p -> p.cpuUsPerRow("connect", rows)));
        }
    }

    /** The warm-up's size: a tenth of the rows, at least 2,000 and at most 50,000. */
    static long warmUpRows(long rows) {
        return Math.max(2000, Math.min(50_000, rows / 10));
    }

    /**
     * A fresh sync of {@code query} in format {@code f}, timed until MySQL's signature equals {@code expected}; checked
     * (not the warm-up, {@code rep} 0), then removed.
     */
    private Pass sync(RecordFormat f, int rep, String query, Signature expected) throws Exception {
        long rows = opts.rows;
        String name = st.nextSync("bench-" + f.id);
        String topic = "bench." + name;
        String table = name.replace('-', '_');
        String sinkName = "sink-" + name;
        st.local.createCompactedTopic(topic, opts.partitions);
        st.deployer.deploy(sinkName, st.sinkConfig(f, topic, table));
        st.deployer.awaitRunning(sinkName, Duration.ofSeconds(90));
        double l1 = HostMetrics.load1();
        Map<String, Double> c0 = st.host.cpu();
        long t0 = System.nanoTime();
        long wall0 = System.currentTimeMillis();
        st.deployer.deploy(name, st.sourceConfig(f, topic, query, st.staging()));
        long tEq = Signature.await(st.local, table, expected, RUN_TIMEOUT);
        Map<String, Double> cpu = HostMetrics.cpuDelta(c0, st.host.cpu());
        double total = (tEq - t0) / 1e9;
        PipelineOps.RunSummary s = f.avro()
                ? TopicBytes.awaitAvroRun(st.local, topic + ".runs", 1, Duration.ofMinutes(2))
                : st.ops.awaitRun(topic + ".runs", 1, Duration.ofMinutes(2));
        JsonNode pl = s.payload();
        double bqWork = (ms(pl, "snapshot_ms") + ms(pl, "check_ms") + ms(pl, "diff_ms")) / 1000;
        double emit = ms(pl, "emit_ms") / 1000;
        double sinkTail = (wall0 + total * 1000 - pl.path("finished_at_ms").asLong()) / 1000;
        if (rep == 0) {
            st.deployer.delete(name);
            st.deployer.delete(sinkName);
            st.dropTable(table);
            return null;
        }
        TopicBytes.Size size = TopicBytes.measure(st.local, topic);
        log("  rep %d %s: %,d rows in MySQL %.1fs after the run started = %,.0f rows/s (BigQuery %.1fs, emit %.1fs, sink after emit %.1fs)"
                + " load %.1f; CPU s %s; topic: %,d records, key %.1f + value %.1f bytes serialized, %.1f bytes on the broker", rep, f.id, rows,
                total, rows / total, bqWork, emit, sinkTail, l1, cpu, size.records(), size.keyPerRecord(), size.valuePerRecord(),
                size.brokerPerRecord());
        run.check().checkOurs("format." + f.id, table, rep);
        st.deployer.delete(name);
        st.deployer.delete(sinkName);
        st.dropTable(table);
        return new Pass(f, rep, total, cpu, size, bqWork, emit, sinkTail, l1);
    }

    /** The side-by-side table: a column per format, then each Avro format's ratio to JSON when JSON ran (it comes first). */
    private String table(List<RecordFormat> formats, Map<RecordFormat, List<Pass>> passes, long rows) {
        int ratios = ratioColumns(formats);
        StringBuilder sb = new StringBuilder("| format comparison, initial sync of " + fmtN(rows) + " rows (median of " + opts.reps + ")");
        formats.forEach(f -> sb.append(" | ").append(f.label));
        formats.subList(formats.size() - ratios, formats.size()).forEach(f -> sb.append(" | ").append(f.id).append(" / json"));
        sb.append(" |\n");
        sb.append("|---").append("|---".repeat(formats.size() + ratios)).append("|\n");
        row(sb, formats, passes, "end to end (rows/s)", p -> p.rowsPerS(rows));
        row(sb, formats, passes, "worker (Connect) CPU µs per row", p -> p.cpuUsPerRow("connect", rows));
        row(sb, formats, passes, "emulator CPU µs per row", p -> p.cpuUsPerRow("emulator", rows));
        row(sb, formats, passes, "MariaDB CPU µs per row", p -> p.cpuUsPerRow("mariadb", rows));
        row(sb, formats, passes, "broker CPU µs per row", p -> p.cpuUsPerRow("kafka", rows));
        row(sb, formats, passes, "registry CPU µs per row", p -> p.cpuUsPerRow("registry", rows));
        row(sb, formats, passes, "bytes per record on the topic, key (serialized)", p -> p.size().keyPerRecord());
        row(sb, formats, passes, "bytes per record on the topic, value (serialized)", p -> p.size().valuePerRecord());
        row(sb, formats, passes, "bytes per record on the broker (log size / records, " + opts.producerCompression + " batches)",
                p -> p.size().brokerPerRecord());
        row(sb, formats, passes, "source: BigQuery s (snapshot + check + diff)", Pass::bqS);
        row(sb, formats, passes, "source: emit s", Pass::emitS);
        row(sb, formats, passes, "sink after the last record was emitted (s)", Pass::sinkTailS);
        sb.append("| MySQL equals the query result");
        for (RecordFormat f : formats) {
            Object v = correctness().get("format." + f.id + ".ours");
            sb.append(" | ").append(v == null ? "-" : String.valueOf(v).replace("|", "/"));
        }
        sb.append(" |".repeat(ratios)).append(" |\n");
        return sb.toString();
    }

    /** How many ratio columns the table has: one per format after JSON, when JSON ran. */
    private static int ratioColumns(List<RecordFormat> formats) {
        return formats.get(0) == RecordFormat.JSON ? formats.size() - 1 : 0;
    }

    private void row(StringBuilder sb, List<RecordFormat> formats, Map<RecordFormat, List<Pass>> passes, String figure,
                     ToDoubleFunction<Pass> f) {
        sb.append("| ").append(figure);
        double[] v = new double[formats.size()];
        for (int i = 0; i < formats.size(); i++) {
            v[i] = median(passes.get(formats.get(i)), f);
            sb.append(" | ").append(Results.num(v[i]));
        }
        for (int i = formats.size() - ratioColumns(formats); i < formats.size(); i++) {
            sb.append(" | ").append(Double.isNaN(v[0]) || Double.isNaN(v[i]) || v[0] == 0 ? "-" : String.format(Locale.ROOT, "%.2fx", v[i] / v[0]));
        }
        sb.append(" |\n");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> correctness() {
        return (Map<String, Object>) run.details().getOrDefault("correctness", Map.of());
    }
}
