package io.bq2k.connect.bigquery;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What decides whether a run may be skipped because nothing it reads changed: the last-modified
 * time of every table the query reads — when that is the whole truth. It is not when the query reads
 * a view, an external or wildcard table, or calls a function whose result changes by itself
 * (CURRENT_DATE() and friends), or when BigQuery's list of referenced tables may be cut short.
 *
 * @param lastModified  table → last-modified time (ms), when skipping is safe; null otherwise
 * @param notSafeBecause why a run cannot be skipped on this evidence, for the log; null when it can
 */
public record UnchangedInputs(Map<String, Long> lastModified, String notSafeBecause) {

    /** BigQuery lists at most this many referenced tables in a dry run's statistics. */
    static final int LISTED_TABLES_LIMIT = 50;

    private static final Pattern NON_DETERMINISTIC = Pattern.compile(
        "(?i)\\b(CURRENT_(DATE|DATETIME|TIME|TIMESTAMP)|NOW|RAND|GENERATE_UUID|SESSION_USER|_TABLE_SUFFIX)\\b|@@\\w+");

    public static UnchangedInputs safe(Map<String, Long> lastModified) {
        return new UnchangedInputs(lastModified, null);
    }

    public static UnchangedInputs notSafe(String because) {
        return new UnchangedInputs(null, because);
    }

    /** The first call in the query whose result changes without any input table changing, or null. */
    static String nonDeterministicCall(String sql) {
        Matcher m = NON_DETERMINISTIC.matcher(stripLiteralsAndComments(sql));
        return m.find() ? m.group() : null;
    }

    /** The query without string literals and comments, so a word inside them does not count. */
    static String stripLiteralsAndComments(String sql) {
        return sql.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("--[^\\n]*|#[^\\n]*", " ")
            .replaceAll("'(?:[^'\\\\]|\\\\.)*'|\"(?:[^\"\\\\]|\\\\.)*\"", "''");
    }
}
