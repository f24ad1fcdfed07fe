package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;

import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck;

/**
 * The correctness checks: the whole MySQL table against the query result, by key and every column
 * ({@link MirrorCheck}, the project's one oracle), in every repetition with --smoke, else in the
 * last. A mismatch of ours is a failure; a baseline's is reported (the baselines cannot apply
 * deletes; the seed script no updates). Each check is recorded in the details' "correctness".
 */
final class Correctness {

    private final BenchOptions opts;
    private final LocalStack stack;
    private final BigQueryRest bq;
    private final Map<String, Object> details;
    private final List<String> failures;
    private MirrorCheck check;
    /** The query result last read, and its signature: read again only when the signature changed. */
    private MirrorCheck.Rows expectedRows;
    private Signature expectedRowsSig;

    Correctness(BenchOptions opts, LocalStack stack, BigQueryRest bq, Map<String, Object> details, List<String> failures) {
        this.opts = opts;
        this.stack = stack;
        this.bq = bq;
        this.details = details;
        this.failures = failures;
    }

    /** Full comparison of a MySQL table with the query result (by key, every column). */
    MirrorCheck.Result fullCheck(String table) throws Exception {
        Signature s = Signature.ofQuery(bq, BenchData.QUERY);
        if (expectedRows == null || !s.equals(expectedRowsSig)) {
            if (check == null) {
                check = MirrorCheck.forQuery(bq, BenchData.QUERY, "id");
            }
            long t = System.nanoTime();
            expectedRows = null;
            expectedRows = check.readBigQuery(bq, BenchData.QUERY);
            expectedRowsSig = s;
            log("  (read the query result for the full comparison: %,d rows in %.1fs)", expectedRows.size(), (System.nanoTime() - t) / 1e9);
        }
        MirrorCheck.Rows actual;
        try (Connection c = stack.mysqlConnection()) {
            actual = check.readMySql(c, table);
        }
        return check.compare(expectedRows, actual);
    }

    boolean checkThisRep(int rep) {
        return opts.smoke || rep == opts.reps;
    }

    /** Our table vs the query result; a mismatch is a failure. */
    void checkOurs(String caseName, String table, int rep) throws Exception {
        if (!checkThisRep(rep)) {
            return;
        }
        MirrorCheck.Result r = fullCheck(table);
        log("  correctness %s rep %d (ours, %s): %s", caseName, rep, table, r.summary());
        record(caseName + ".ours", r.summary());
        if (!r.equal()) {
            failures.add(caseName + " (ours): " + r.summary());
        }
    }

    /** A baseline's table vs the query result: "correct", "WRONG: ..." or null when this repetition is not checked. */
    String checkBaseline(String caseName, String who, String table, int rep) throws Exception {
        if (!checkThisRep(rep)) {
            return null;
        }
        MirrorCheck.Result r = fullCheck(table);
        log("  correctness %s rep %d (%s, %s): %s", caseName, rep, who, table, r.summary());
        record(caseName + "." + who, r.summary());
        return r.equal() ? "correct" : String.format("WRONG: %d stale, %d missing, %d not updated", r.extra(), r.missing(), r.differing());
    }

    private void record(String key, String summary) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) details.computeIfAbsent("correctness", k -> new LinkedHashMap<String, Object>());
        m.put(key, summary);
    }
}
