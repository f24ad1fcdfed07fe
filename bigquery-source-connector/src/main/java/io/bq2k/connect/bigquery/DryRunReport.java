package io.bq2k.connect.bigquery;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * What a {@link DryRun} found: the run the connector would make now and what it would emit, or why it would not.
 *
 * @param sync           the sync name
 * @param tablePrefix    the prefix of the dry run's own tables ({@code <sync>__plan_<marker>__})
 * @param committed      the committed offset the plan started from, or null (none given)
 * @param run            the run id the connector would give the run (0 when planning failed)
 * @param mode           initial, incremental, retake, resync, resume or rekey (null when planning failed)
 * @param why            the plan's reason, in words
 * @param rows           rows of the query result (-1: not known)
 * @param added          changes that add a key (-1: not known), likewise {@code changed} and {@code removed}
 * @param samples        up to N keys (as JSON) per operation: {@code add}, {@code change}, {@code remove}; the first in emission order
 * @param guard          what the mass-delete guard would do, in words (null: not reached)
 * @param held           the guard, or a re-key, would hold the run until confirmed
 * @param failure        the message the connector's task would fail with (null: the run would go ahead)
 * @param error          why the dry run itself could not finish (BigQuery unreachable, ...); null when it finished
 * @param bytesProcessed bytes processed by the dry run's BigQuery jobs (job statistics; the emulator reports 0)
 * @param tables         every table the dry run created → {@code dropped}, or why it was left
 */
public record DryRunReport(String sync, String tablePrefix, Map<String, Object> committed, long run, String mode, String why, long rows,
                           long added, long changed, long removed, Map<String, List<String>> samples, String guard, boolean held,
                           String failure, String error, long bytesProcessed, Map<String, String> tables) {

    /** The outcome in one word: EMITS, NO_CHANGES, RESUMES, HELD, FAILS, or DRY_RUN_FAILED. */
    public String outcome() {
        if (error != null) {
            return "DRY_RUN_FAILED";
        }
        if (failure != null) {
            return held ? "HELD" : "FAILS";
        }
        if ("resume".equals(mode)) {
            return "RESUMES";
        }
        return added + changed + removed == 0 ? "NO_CHANGES" : "EMITS";
    }

    /** Whether every table the dry run created is dropped again. */
    public boolean nothingLeft() {
        return tables.values().stream().allMatch("dropped"::equals);
    }

    /** A report that did not get as far as BigQuery's tables. */
    static DryRunReport notStarted(String sync, String error) {
        Builder b = new Builder(sync, "");
        b.error(error);
        return b.build();
    }

    /** The report for a person. */
    public String text() {
        StringBuilder b = new StringBuilder();
        b.append("Plan for sync '").append(sync).append("' (dry run: nothing emitted)\n");
        b.append("  committed offset: ").append(committed == null ? "none (planned as after an offset reset, or for a new sync)" : committed).append('\n');
        if (mode != null) {
            b.append("  next run:         ").append(run).append(" (").append(mode).append("): ").append(why).append('\n');
        }
        if (rows >= 0) {
            b.append("  result rows:      ").append(rows).append('\n');
        }
        if (added >= 0) {
            b.append(String.format(Locale.ROOT, "  changes:          %d (+%d added, ~%d changed, -%d removed)%n", added + changed + removed, added, changed, removed));
            samples.forEach((op, keys) -> {
                if (!keys.isEmpty()) {
                    b.append(String.format(Locale.ROOT, "    %-7s e.g. %s%n", op + ":", String.join(" ", keys)));
                }
            });
        }
        if (guard != null) {
            b.append("  mass-delete guard: ").append(guard).append('\n');
        }
        b.append("  outcome:          ").append(outcome()).append('\n');
        if (failure != null) {
            b.append("  the task would fail with: ").append(failure).append('\n');
        }
        if (error != null) {
            b.append("  the dry run could not finish: ").append(error).append('\n');
        }
        b.append("  bytes processed:  ").append(bytesProcessed).append('\n');
        b.append("  tables created:   ").append(tables.isEmpty() ? "none" : tables.size() + " (dropped at the end of the dry run)").append('\n');
        tables.forEach((t, what) -> b.append("    ").append(t).append(": ").append(what).append('\n'));
        return b.toString();
    }

    /** The report as JSON (the record's fields plus {@code outcome}). */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sync", sync);
        m.put("outcome", outcome());
        m.put("committedOffset", committed);
        m.put("run", run);
        m.put("mode", mode);
        m.put("why", why);
        m.put("rows", rows);
        m.put("added", added);
        m.put("changed", changed);
        m.put("removed", removed);
        m.put("samples", samples);
        m.put("guard", guard);
        m.put("held", held);
        m.put("failure", failure);
        m.put("error", error);
        m.put("bytesProcessed", bytesProcessed);
        m.put("tablePrefix", tablePrefix);
        m.put("tables", tables);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Collects a report while the dry run goes. */
    static final class Builder {
        private final String sync;
        private final String tablePrefix;
        private Map<String, Object> committed;
        private long run;
        private String mode;
        private String why;
        private long rows = -1;
        private long added = -1;
        private long changed = -1;
        private long removed = -1;
        private final Map<String, List<String>> samples = new LinkedHashMap<>();
        private String guard;
        private boolean held;
        private String failure;
        private String error;
        private long bytesProcessed;
        private final Map<String, String> tables = new LinkedHashMap<>();

        Builder(String sync, String tablePrefix) {
            this.sync = sync;
            this.tablePrefix = tablePrefix;
            samples.put("add", new ArrayList<>());
            samples.put("change", new ArrayList<>());
            samples.put("remove", new ArrayList<>());
        }

        void plan(long run, String mode, String why, Map<String, Object> committed) {
            this.run = run;
            this.mode = mode;
            this.why = why;
            this.committed = committed == null ? null : new java.util.TreeMap<>(committed);
        }

        void rekey(String what) {
            this.mode = "rekey";
            this.why = what;
        }

        void rows(long rows) {
            this.rows = rows;
        }

        void changes(long added, long changed, long removed) {
            this.added = added;
            this.changed = changed;
            this.removed = removed;
        }

        void samples(List<RunSteps.SampleKey> keys) {
            for (RunSteps.SampleKey k : keys) {
                String op = switch (k.op()) {
                    case SyncSql.OP_ADDED -> "add";
                    case SyncSql.OP_CHANGED -> "change";
                    default -> "remove";
                };
                samples.get(op).add(k.key());
            }
        }

        void guard(String guard, boolean held) {
            this.guard = guard;
            this.held = held;
        }

        /** The task would fail with this message. */
        void failure(String failure) {
            this.failure = failure;
        }

        /** The run would be held until the operator confirms it; the task fails with this message meanwhile. */
        void held(String failure) {
            this.failure = failure;
            this.held = true;
        }

        void error(String error) {
            this.error = error;
        }

        void bytesProcessed(long bytes) {
            this.bytesProcessed = bytes;
        }

        void table(String table, String outcome) {
            tables.put(table, outcome);
        }

        DryRunReport build() {
            Map<String, List<String>> s = new LinkedHashMap<>();
            samples.forEach((k, v) -> s.put(k, List.copyOf(v)));
            return new DryRunReport(sync, tablePrefix, committed, run, mode, why, rows, added, changed, removed, s, guard, held,
                failure, error, bytesProcessed, new LinkedHashMap<>(tables));
        }
    }
}
