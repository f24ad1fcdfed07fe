package io.bq2k.connect.bigquery;

import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Names of a sync's tables in the staging dataset: {@code <sync>__snap_<run>}, {@code <sync>__diff_<run>}. */
public record StagingTables(DatasetRef dataset, String sync) {

    public TableRef snapshot(long run) {
        return dataset.table(sync + "__snap_" + run);
    }

    public TableRef diff(long run) {
        return dataset.table(sync + "__diff_" + run);
    }

    /**
     * The tables of a dry run of this sync: {@code <sync>__plan_<marker>__snap_<run>} and {@code __diff_<run>}. They
     * start with this sync's prefix (so an operator sees whose they are) but are neither of its snapshots nor of its
     * diffs ({@link #snapshotRun}, {@link #diffRun}), so the sync's planner, cleanup and validation pass them by.
     *
     * @param marker letters and digits that tell this dry run from others (random)
     */
    public StagingTables dryRun(String marker) {
        if (!marker.matches("[A-Za-z0-9]+")) {
            throw new IllegalArgumentException("a dry-run marker is letters and digits, got '" + marker + "'");
        }
        return new StagingTables(dataset, sync + "__plan_" + marker);
    }

    public String prefix() {
        return sync + "__";
    }

    /** The run of a snapshot table of this sync, or empty for any other table. */
    public OptionalLong snapshotRun(String tableName) {
        return runOf(tableName, "snap");
    }

    /** The run of a diff table of this sync, or empty for any other table. */
    public OptionalLong diffRun(String tableName) {
        return runOf(tableName, "diff");
    }

    private OptionalLong runOf(String tableName, String kind) {
        Matcher m = Pattern.compile(Pattern.quote(sync) + "__" + kind + "_(\\d{1,18})").matcher(tableName);
        return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }
}
