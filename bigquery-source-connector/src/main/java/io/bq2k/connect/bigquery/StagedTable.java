package io.bq2k.connect.bigquery;

import java.util.List;

/**
 * A table of this sync's name prefix found in the staging dataset.
 *
 * @param owner the owner mark (label {@code bq2k_owner}) it carries, or null when it has none
 * @param rows  rows of a snapshot (table metadata), 0 for a diff
 * @param keys  the key columns its rows were (or would be) published under, or null when not recorded
 * @param abandoned a diff whose emission was abandoned (a change of it was not written to Kafka):
 *                  whatever offset was committed since, the run must be retaken
 * @param created   creation time (ms): identifies this version of the table (a retake re-creates a diff)
 */
public record StagedTable(TableRef ref, Kind kind, long run, String owner, long rows, List<String> keys, boolean abandoned,
                          long created) {

    /** Label on a diff whose emission was abandoned; its value is the table's creation time, so a re-created diff is unmarked. */
    static final String ABANDONED_LABEL = "bq2k_abandoned";

    /** The description line that records the key columns (table descriptions are free text; labels are too restricted). */
    static final String KEYS_LINE = "bq2k-key-columns: ";

    static String describe(String connector, String sync, long run, List<String> keys) {
        return "bq2k staging table of connector '" + connector + "' (sync " + sync + ", run " + run + ")\n" + KEYS_LINE + String.join(",", keys);
    }

    /** The key columns recorded in a description, or null. */
    static List<String> keysOf(String description) {
        if (description == null) {
            return null;
        }
        int i = description.lastIndexOf(KEYS_LINE);
        return i < 0 ? null : List.of(description.substring(i + KEYS_LINE.length()).strip().split(","));
    }

    public enum Kind { SNAPSHOT, DIFF }

    public boolean isSnapshot() {
        return kind == Kind.SNAPSHOT;
    }
}
