package io.bq2k.connect.bigquery;

import java.util.List;

/**
 * A table of this sync's name prefix found in the staging dataset.
 *
 * @param owner the owner mark (label {@code bq2k_owner}) it carries, or null when it has none
 * @param rows  rows of a snapshot (table metadata), 0 for a diff
 * @param keys  the key columns its rows were (or would be) published under, or null when not recorded
 * @param keyTypes the BigQuery types of those key columns as published (a diff holds a BIGNUMERIC key as text),
 *                 or null when not recorded (its columns' types are then the key's)
 * @param abandoned a diff whose emission was abandoned (a change of it was not written to Kafka):
 *                  whatever offset was committed since, the run must be retaken
 * @param created   creation time (ms): identifies this version of the table (a retake re-creates a diff)
 */
public record StagedTable(TableRef ref, Kind kind, long run, String owner, long rows, List<String> keys, List<String> keyTypes,
                          boolean abandoned, long created) {

    /** Label on a diff whose emission was abandoned; its value is the table's creation time, so a re-created diff is unmarked. */
    static final String ABANDONED_LABEL = "bq2k_abandoned";

    /** Description lines that record the key (table descriptions are free text; labels are too restricted). */
    static final String KEYS_LINE = "bq2k-key-columns: ";
    static final String KEY_TYPES_LINE = "bq2k-key-types: ";

    static String describe(String connector, String sync, long run, List<String> keys, List<String> keyTypes) {
        return "bq2k staging table of connector '" + connector + "' (sync " + sync + ", run " + run + ")\n" + KEYS_LINE + String.join(",", keys)
            + (keyTypes == null ? "" : "\n" + KEY_TYPES_LINE + String.join(",", keyTypes));
    }

    /** The key columns recorded in a description, or null. */
    static List<String> keysOf(String description) {
        return line(description, KEYS_LINE);
    }

    /** The key types recorded in a description, or null. */
    static List<String> keyTypesOf(String description) {
        return line(description, KEY_TYPES_LINE);
    }

    private static List<String> line(String description, String prefix) {
        if (description == null) {
            return null;
        }
        int i = description.lastIndexOf(prefix);
        if (i < 0) {
            return null;
        }
        String rest = description.substring(i + prefix.length());
        int end = rest.indexOf('\n');
        return List.of((end < 0 ? rest : rest.substring(0, end)).strip().split(","));
    }

    public enum Kind { SNAPSHOT, DIFF }

    public boolean isSnapshot() {
        return kind == Kind.SNAPSHOT;
    }
}
