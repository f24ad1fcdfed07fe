package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bin/bench}: the benchmark of the issue "refresh speed, throughput and memory against the
 * scripts users would write", on a local stack of its own (random ports, a stack dir under /tmp).
 *
 * <pre>
 *   bin/bench [--rows N] [--reps R] [--json PATH] [--smoke] [tuning flags, see {@link BenchOptions#usage()}]
 *   bin/bench --memory [--rows N] [--reps R] [--strict]
 * </pre>
 *
 * Cases (each figure the median of R repetitions): the source's record path alone, in this JVM with no
 * stack ({@link RecordPathCase}: records/s per core of decoding, record building and the converter), initial sync ({@link InitialSyncCase}), 1%
 * incremental refresh ({@link IncrementalCase}), no-change run ({@link NoChangeCase}), source emission
 * alone with the sink absent and the worker's memory ({@link EmissionCase}), and with {@code --memory}
 * only the memory case ({@link MemoryCase}); baselines ({@link Baselines}: seed script, direct upsert
 * loader) on the same emulator and MariaDB. {@code --smoke} compares the whole MySQL table with the
 * query result in every repetition of every case ({@link Correctness}) and exits 1 on a mismatch of
 * ours (the baselines' known incorrectness after a change is reported, not fatal); {@code --strict}
 * exits 1 when the memory case's target is missed.
 *
 * <p>This class wires them: options, stack, data load, the cases in order, the table ({@link Results}), the exit code.
 */
public final class BenchMain {

    public static void main(String[] args) {
        int code;
        try {
            code = run(BenchOptions.parse(args));
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            BenchOptions.usage();
            code = 2;
        } catch (Exception e) {
            System.err.println("bench: error: " + e);
            e.printStackTrace();
            code = 2;
        }
        System.exit(code);
    }

    static int run(BenchOptions opts) throws Exception {
        opts.resolvePaths();
        Map<String, Object> details = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        details.put("started_at", Instant.now().toString());
        details.put("options", opts.asDetails());
        details.put("machine", HostMetrics.machine());
        long t0 = System.nanoTime();
        boolean memoryTargetMissed = false;
        Results res = new Results();
        if (opts.runs("record-path")) {
            new RecordPathCase(opts, details, failures).run(res); // in this JVM, before the stack starts
        }
        if (!opts.runsOnStack()) {
            res.print(opts, details);
            res.write(opts, details, failures, opts.jsonOut);
            log("wrote %s; total %.1f min", opts.jsonOut, (System.nanoTime() - t0) / 60e9);
            return exitCode(opts, failures, false);
        }
        BenchStack stack = new BenchStack(opts);
        try {
            stack.up();
            BenchRun run = new BenchRun(opts, stack, new Correctness(opts, stack.local, stack.bq, details, failures), details, failures);
            load(run);
            if (opts.compactJson && opts.runsASink()) {
                stack.probeSchemas(details); // for the sink's schema.content; the memory case runs no sink
            }
            KeptSync kept = null;
            if (opts.runs("initial") || opts.runs("nochange") || opts.runs("incremental")) {
                kept = new InitialSyncCase(run).run(res);
            }
            if (opts.runs("nochange")) {
                new NoChangeCase(run, kept).run(res);
            }
            if (opts.runs("incremental")) {
                new IncrementalCase(run, kept).run(res);
            }
            if (opts.runs("emission")) {
                new EmissionCase(run, kept).run(res);
            }
            if (opts.runs("format")) {
                new FormatCase(run, kept).run(res);
            }
            if (opts.runs("memory")) {
                memoryTargetMissed = !new MemoryCase(run, kept).run(res);
            }
            res.print(opts, details);
            res.write(opts, details, failures, opts.jsonOut);
            log("wrote %s; total %.1f min", opts.jsonOut, (System.nanoTime() - t0) / 60e9);
        } finally {
            stack.down();
        }
        return exitCode(opts, failures, memoryTargetMissed);
    }

    private static int exitCode(BenchOptions opts, List<String> failures, boolean memoryTargetMissed) {
        if (!failures.isEmpty()) {
            System.out.println("BENCH SMOKE: FAILED");
            failures.forEach(f -> System.out.println("  - " + f));
            return 1;
        }
        if (opts.smoke) {
            System.out.println("BENCH SMOKE: OK (every case's MySQL table equals the query result)");
        }
        if (opts.strict && memoryTargetMissed) {
            System.out.println("BENCH MEMORY: target missed (--strict)");
            return 1;
        }
        return 0;
    }

    /** Loads the N rows into the emulator with load jobs and checks their count. */
    private static void load(BenchRun run) {
        long rows = run.opts().rows;
        log("loading %,d rows into %s with load jobs (multipart upload, NDJSON, 100,000 rows a job)", rows, BenchData.TABLE);
        double loadS = BenchData.load(run.stack().bq, rows, 100_000);
        long count = Long.parseLong(run.stack().bq.scalar("SELECT COUNT(*) AS n FROM " + BenchData.TABLE));
        if (count != rows) {
            throw new IllegalStateException("load: " + count + " rows in " + BenchData.TABLE + ", expected " + rows);
        }
        log("loaded %,d rows in %.1fs (%.0f rows/s) with load jobs", rows, loadS, rows / loadS);
        run.details().put("load", Map.of("rows", rows, "seconds", loadS, "method", "load jobs (multipart upload, NDJSON)"));
    }
}
