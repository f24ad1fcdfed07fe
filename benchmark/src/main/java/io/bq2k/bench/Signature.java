package io.bq2k.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck;

/**
 * A cheap signature of a table: count, sum(id), sum(f_int) - every change of the 1% case moves one
 * of them. The timed cases poll MySQL until it equals the query's (the full comparison of
 * {@link Correctness} comes after the clock has stopped).
 */
record Signature(long count, long sumId, long sumInt) {

    /** The signature of a query's result. */
    static Signature ofQuery(BigQueryRest bq, String query) {
        BigQueryRest.Result r = bq.query("SELECT COUNT(*) AS c, COALESCE(SUM(id), 0) AS s, COALESCE(SUM(f_int), 0) AS i FROM (" + query + ") AS q");
        List<String> row = r.rows().get(0);
        return new Signature(Long.parseLong(row.get(0)), Long.parseLong(row.get(1)), Long.parseLong(row.get(2)));
    }

    /** The signature of a MySQL table; (0, 0, 0) while it does not exist. */
    static Signature ofTable(Connection c, String table) throws SQLException {
        if (!MirrorCheck.tableExists(c, table)) {
            return new Signature(0, 0, 0);
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(SUM(f_int), 0) FROM `" + table + "`")) {
            rs.next();
            return new Signature(rs.getLong(1), rs.getLong(2), rs.getLong(3));
        }
    }

    /** Polls MySQL every 100 ms until the table's signature equals {@code expected}; returns System.nanoTime() then. */
    static long await(LocalStack stack, String table, Signature expected, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Signature last = null;
        try (Connection c = stack.mysqlConnection()) {
            while (true) {
                last = ofTable(c, table);
                if (last.equals(expected)) {
                    return System.nanoTime();
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("MySQL " + table + " did not reach " + expected + " within " + timeout + "; last " + last);
                }
                Thread.sleep(100);
            }
        }
    }
}
