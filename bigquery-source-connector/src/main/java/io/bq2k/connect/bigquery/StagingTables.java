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
