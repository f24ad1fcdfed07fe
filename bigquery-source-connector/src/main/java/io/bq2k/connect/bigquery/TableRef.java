package io.bq2k.connect.bigquery;

import java.util.regex.Pattern;

/** A validated table name; {@link #quoted()} is safe to splice into SQL. */
public record TableRef(String project, String dataset, String table) {

    private static final Pattern TABLE_NAME = Pattern.compile("[\\p{L}\\p{M}\\p{N}\\p{Pc}\\p{Pd} ]{1,1024}");

    /** Parses 'dataset.table' or 'project.dataset.table'; null when it is not a valid name. */
    public static TableRef parse(String text, String defaultProject) {
        if (text == null) {
            return null;
        }
        String t = text.trim().replace("`", "");
        int dot = t.lastIndexOf('.');
        if (dot <= 0) {
            return null;
        }
        DatasetRef dataset = DatasetRef.parse(t.substring(0, dot), defaultProject);
        String table = t.substring(dot + 1);
        return dataset == null || !TABLE_NAME.matcher(table).matches() ? null : dataset.table(table);
    }

    public String quoted() {
        return "`" + project + "." + dataset + "." + table + "`";
    }

    @Override
    public String toString() {
        return project + "." + dataset + "." + table;
    }
}
