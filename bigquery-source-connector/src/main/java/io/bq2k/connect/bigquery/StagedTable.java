package io.bq2k.connect.bigquery;

/**
 * A table of this sync's name prefix found in the staging dataset.
 *
 * @param owner the owner mark (label {@code bq2k_owner}) it carries, or null when it has none
 * @param rows  rows of a snapshot (table metadata), 0 for a diff
 */
public record StagedTable(TableRef ref, Kind kind, long run, String owner, long rows) {

    public enum Kind { SNAPSHOT, DIFF }

    public boolean isSnapshot() {
        return kind == Kind.SNAPSHOT;
    }
}
