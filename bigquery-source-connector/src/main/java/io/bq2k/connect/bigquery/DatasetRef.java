package io.bq2k.connect.bigquery;

/** A validated dataset name; {@link #quoted()} is safe to splice into SQL. */
public record DatasetRef(String project, String dataset) {

    /** Parses 'dataset' or 'project.dataset'; null when it is not a valid name. */
    public static DatasetRef parse(String text, String defaultProject) {
        if (text == null) {
            return null;
        }
        // Split at the last dot only: a domain-scoped project ("example.com:proj") has dots itself.
        String t = text.trim();
        int dot = t.lastIndexOf('.');
        String project = dot >= 0 ? t.substring(0, dot) : defaultProject;
        String dataset = t.substring(dot + 1);
        if (project == null || !SyncConfig.PROJECT_ID.matcher(project).matches()
            || !SyncConfig.SIMPLE_IDENTIFIER.matcher(dataset).matches()) {
            return null;
        }
        return new DatasetRef(project, dataset);
    }

    public TableRef table(String table) {
        return new TableRef(project, dataset, table);
    }

    public String quoted() {
        return "`" + project + "." + dataset + "`";
    }

    @Override
    public String toString() {
        return project + "." + dataset;
    }
}
