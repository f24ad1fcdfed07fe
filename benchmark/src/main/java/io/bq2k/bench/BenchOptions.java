package io.bq2k.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The command line of {@code bin/bench}: the options, their defaults, parsing and the usage text. */
final class BenchOptions {

    long rows = 1_000_000;
    int reps = 3;
    boolean repsGiven;
    boolean smoke;
    Path jsonOut;
    Path stackDir;
    boolean keep;
    int partitions = 2;
    int sinkTasks = -1;
    int sinkBatch = 5000;
    boolean compactJson = true;
    String producerLinger = "10";
    String producerBatch = "262144";
    String producerCompression = "lz4";
    String connectHeap = "-Xms1g -Xmx1g -Xmn128m";
    boolean jfr;
    int pageSize = 20_000;
    String chunkRows = null;
    String jdbcExtra = "";
    Set<String> cases = new LinkedHashSet<>(List.of("record-path", "initial", "nochange", "incremental", "emission", "format"));
    boolean strict;
    /** The record formats of the format comparison ({@link FormatCase}): json (no comparison), avro, both (default) or all. */
    String format = "both";

    static void usage() {
        System.err.println(String.join("\n",
                "usage: bin/bench [--rows N] [--reps R] [--json PATH] [--smoke] [--keep] [--stack-dir DIR]",
                "                 [--partitions P] [--sink-tasks T] [--sink-batch B] [--schema-in-records]",
                "                 [--linger-ms MS] [--producer-batch BYTES] [--compression TYPE] [--connect-heap OPTS] [--jfr]",
                "                 [--chunk-rows N] [--jdbc-url-extra 'k=v&k2=v2'] [--cases record-path,initial,nochange,incremental,emission,format,memory]",
                "                 [--format json|avro|both|all]",
                "       bin/bench --memory [--rows N] [--reps R] [--strict] [--connect-heap OPTS] [--chunk-rows N]",
                "  --rows N            rows loaded into the emulator (default 1000000)",
                "  --reps R            repetitions per figure, the median is reported (default 3; 1 with --smoke)",
                "  --json PATH         also write the table and every measurement as JSON (default <stack dir>/bench.json)",
                "  --smoke             check every case's MySQL table against the query result; exit 1 on a mismatch",
                "  --memory            only the memory case: the source alone (no sink) syncs N/10 then N rows on one worker;",
                "                      worker peak heap after GC, sampled peak heap, CPU seconds, rows/s; reps default 1",
                "  --cases LIST        the cases to run (default record-path,initial,nochange,incremental,emission);",
                "                      record-path alone needs no stack: the source's decoding, record building and JsonConverter",
                "                      on N Avro diff rows in this JVM, records/s per core (thread CPU time)",
                "  --strict            with --memory: exit 1 when peak heap (after GC) of the N run > 1.20x the N/10 run",
                "  --format F          the format comparison (initial sync, shipped JSON with schema in every record vs shipped",
                "                      Avro through the stack's registry, side by side): both (default), all (both, and Avro",
                "                      written by Apicurio's converter as is: what CachingAvroConverter cut), avro (Avro alone),",
                "                      json (no comparison, no registry: the JSON cases only); with Avro, the converters alone",
                "                      first (ConverterCase: records/s per core writing and reading, no Connect)",
                "  --schema-in-records JsonConverter with the schema in every record (the shipped config) instead of",
                "                      schema-less JSON on the wire + the schema given to the sink's converter (schema.content)"));
    }

    /** The options of {@code args}; throws IllegalArgumentException on an unknown option or a missing value. */
    static BenchOptions parse(String[] a) {
        BenchOptions o = new BenchOptions();
        for (int i = 0; i < a.length; i++) {
            String k = a[i];
            String val = i + 1 < a.length ? a[i + 1] : null;
            switch (k) {
                case "--rows": o.rows = Long.parseLong(need(k, val)); i++; break;
                case "--reps": o.reps = Integer.parseInt(need(k, val)); o.repsGiven = true; i++; break;
                case "--json": o.jsonOut = Path.of(need(k, val)); i++; break;
                case "--stack-dir": o.stackDir = Path.of(need(k, val)); i++; break;
                case "--smoke": o.smoke = true; break;
                case "--keep": o.keep = true; break;
                case "--partitions": o.partitions = Integer.parseInt(need(k, val)); i++; break;
                case "--sink-tasks": o.sinkTasks = Integer.parseInt(need(k, val)); i++; break;
                case "--sink-batch": o.sinkBatch = Integer.parseInt(need(k, val)); i++; break;
                case "--schema-in-records": o.compactJson = false; break;
                case "--linger-ms": o.producerLinger = need(k, val); i++; break;
                case "--producer-batch": o.producerBatch = need(k, val); i++; break;
                case "--compression": o.producerCompression = need(k, val); i++; break;
                case "--connect-heap": o.connectHeap = need(k, val); i++; break;
                case "--page-size": o.pageSize = Integer.parseInt(need(k, val)); i++; break;
                case "--jfr": o.jfr = true; break;
                case "--chunk-rows": o.chunkRows = need(k, val); i++; break;
                case "--jdbc-url-extra": o.jdbcExtra = need(k, val); i++; break;
                case "--cases": o.cases = new LinkedHashSet<>(List.of(need(k, val).split(","))); i++; break;
                case "--memory": o.cases = new LinkedHashSet<>(List.of("memory")); break;
                case "--strict": o.strict = true; break;
                case "--format": o.format = need(k, val); i++; break;
                case "-h": case "--help": usage(); System.exit(0); break;
                default: throw new IllegalArgumentException("unknown option " + k);
            }
        }
        if ((o.smoke || o.cases.equals(Set.of("memory"))) && !o.repsGiven) {
            o.reps = 1;
        }
        if (!List.of("json", "avro", "both", "all").contains(o.format)) {
            throw new IllegalArgumentException("--format must be json, avro, both or all");
        }
        if (o.format.equals("json")) {
            o.cases.remove("format");
        }
        if (o.sinkTasks < 0) {
            o.sinkTasks = o.partitions;
        }
        if (o.rows < 4000) {
            throw new IllegalArgumentException("--rows must be at least 4000 (the 1% change needs 0.25% >= 10 rows)");
        }
        return o;
    }

    private static String need(String k, String v) {
        if (v == null) {
            throw new IllegalArgumentException(k + " needs a value");
        }
        return v;
    }

    /** Fills in the defaults of the stack dir (a new /tmp/bq2k-bench-* dir) and the JSON output (beside it). */
    void resolvePaths() throws IOException {
        if (stackDir == null) {
            stackDir = Files.createTempDirectory(Path.of("/tmp"), "bq2k-bench-").resolve("stack");
        }
        if (jsonOut == null) {
            jsonOut = stackDir.getParent().resolve("bench.json");
        }
    }

    boolean runs(String caseName) {
        return cases.contains(caseName);
    }

    /** Whether the format comparison runs with Avro (the stack then starts its schema registry too). */
    boolean runsAvro() {
        return runs("format") && !format.equals("json");
    }

    /** Whether a case that needs the local stack runs (every case but record-path). */
    boolean runsOnStack() {
        return runsASink() || runs("memory") || runs("format");
    }

    /** Whether a case with a sink runs (the sink's schema.content is then needed). */
    boolean runsASink() {
        return runs("initial") || runs("nochange") || runs("incremental") || runs("emission");
    }

    /** The options as recorded in the JSON's details. */
    Map<String, Object> asDetails() {
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("rows", rows); opts.put("reps", reps); opts.put("smoke", smoke); opts.put("partitions", partitions);
        opts.put("sink_tasks", sinkTasks); opts.put("sink_batch", sinkBatch); opts.put("schema_less_json_on_wire", compactJson);
        opts.put("producer", Map.of("linger.ms", producerLinger, "batch.size", producerBatch, "compression.type", producerCompression));
        opts.put("connect_heap", connectHeap); opts.put("jdbc_url_extra", jdbcExtra);
        opts.put("read_chunk_rows", chunkRows == null ? "default" : chunkRows);
        opts.put("format", runs("format") ? format : "json");
        return opts;
    }
}
