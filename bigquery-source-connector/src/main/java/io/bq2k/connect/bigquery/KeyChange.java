package io.bq2k.connect.bigquery;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldList;

/**
 * Whether a run's key (columns and their types) is the one the keys published so far have. Keys of
 * different definitions cannot be matched in a join, and the old ones must leave the topic and MySQL:
 * a changed key is a re-key, held until the operator confirms it.
 */
final class KeyChange {

    /**
     * A table whose keys consumers may hold: its columns, the key columns recorded on it, and their types
     * as recorded (null: the columns' own types).
     */
    record Published(TableRef table, FieldList fields, List<String> keys, List<String> keyTypes) { }

    /** A confirmed re-key: tombstone every key of these tables, under the old key columns. */
    record Rekey(List<String> oldKeys, String oldKey, String newKey, List<TableRef> tables) { }

    private KeyChange() { }

    /**
     * @return null when the keys match (or nothing was published), the re-key when it is confirmed
     * @throws RunFailure when a re-key is not confirmed, or the published keys have several definitions
     */
    static Rekey decide(String sync, long run, long base, List<Published> published, RecordShape current, long confirmedRun,
                        ColumnMapping.Style style, String stagingPrefix) {
        Map<String, List<TableRef>> tablesByKey = new LinkedHashMap<>();
        Map<String, List<String>> columnsByKey = new LinkedHashMap<>();
        for (Published p : published) {
            String signature = p.keyTypes() != null && p.keyTypes().size() == p.keys().size() ? signature(p.keys(), p.keyTypes())
                : signature(p.fields(), p.keys(), style);
            tablesByKey.computeIfAbsent(signature, k -> new ArrayList<>()).add(p.table());
            columnsByKey.put(signature, p.keys());
        }
        String newKey = signature(current);
        if (tablesByKey.isEmpty() || tablesByKey.keySet().equals(Set.of(newKey))) {
            return null;
        }
        if (tablesByKey.size() > 1) {
            throw new RunFailure(sync, "run " + run + ": the keys published so far have more than one definition " + tablesByKey.keySet()
                + " (the key changed back and forth while a run was interrupted), and this run's key is " + newKey + ". "
                + "Nothing was emitted. The connector cannot tombstone keys of several definitions in one run: re-seed the sync "
                + "(stop the sink, empty the MySQL table, delete and recreate the topic, reset this connector's offsets with "
                + "DELETE /connectors/<name>/offsets, drop the staging tables " + stagingPrefix + "*, resume).");
        }
        String oldKey = tablesByKey.keySet().iterator().next();
        if (confirmedRun != run) {
            throw new RunFailure(sync, "run " + run + " is held: the key changed from " + oldKey + " (run " + base + ") to " + newKey
                + " (" + SyncConfig.KEY_COLUMNS + " or the query changed); keys cannot be matched across key definitions. Nothing was emitted. "
                + "Either restore the old key (cast it back in the query, or restore " + SyncConfig.KEY_COLUMNS + "), or confirm a re-key with "
                + SyncConfig.MASS_DELETE_ALLOW_RUN + "=" + run + ": run " + run + " then tombstones every key published under the old key and run "
                + (run + 1) + " republishes every row under the new key (the MySQL table is empty in between; migrate its primary key to "
                + "the new key first).");
        }
        return new Rekey(columnsByKey.get(oldKey), oldKey, newKey, tablesByKey.get(oldKey));
    }

    /**
     * The tables whose keys consumers may hold before run {@code plan.run()}: the base's snapshot (when it has rows) and
     * the re-examined tables, each with its columns and the key it was published under.
     *
     * @param steps  the sync's steps (its own staging tables)
     * @param staged the sync's staging tables as listed when planning
     */
    static List<Published> publishedBefore(String sync, Plan plan, long baseRows, RunSteps steps, Map<TableRef, StagedTable> staged) {
        Set<TableRef> earlier = new java.util.LinkedHashSet<>();
        if (plan.base() > 0 && baseRows > 0) {
            earlier.add(steps.staging().snapshot(plan.base()));
        }
        earlier.addAll(plan.oldSide(steps.staging()).reexamine());
        List<Published> published = new ArrayList<>();
        for (TableRef t : earlier) {
            FieldList fields = steps.schema(t).orElseThrow(() -> new RunFailure(sync, "staging table " + t.quoted()
                + " vanished during run " + plan.run() + ". Nothing was emitted; restart the task."));
            StagedTable listed = staged.get(t);
            boolean recorded = listed != null && listed.keys() != null;
            published.add(new Published(t, fields, recorded ? listed.keys() : plan.baseKeys(), recorded ? listed.keyTypes() : null));
        }
        return published;
    }

    /** "[id INT64, region STRING]": the key columns and their BigQuery types in a table's columns. */
    static String signature(FieldList fields, List<String> keys, ColumnMapping.Style style) {
        List<String> parts = new ArrayList<>();
        for (String k : keys) {
            Optional<Field> f = fields.stream().filter(x -> x.getName().equals(k)).findFirst();
            parts.add(k + " " + f.map(x -> ColumnMapping.of(x, true, style).bigQueryType()).orElse("(missing)"));
        }
        return "[" + String.join(", ", parts) + "]";
    }

    static String signature(List<String> keys, List<String> types) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            parts.add(keys.get(i) + " " + types.get(i));
        }
        return "[" + String.join(", ", parts) + "]";
    }

    static String signature(RecordShape shape) {
        return "[" + String.join(", ", shape.keyColumns().stream().map(c -> c.name() + " " + c.bigQueryType()).toList()) + "]";
    }
}
