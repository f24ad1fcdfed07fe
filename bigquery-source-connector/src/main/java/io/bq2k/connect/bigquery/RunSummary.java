package io.bq2k.connect.bigquery;

import java.util.Map;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;

/**
 * One finished run, as published on the run-history topic (keyed by sync, so the compacted
 * topic keeps every sync's latest run) and as logged. {@code endOffsets} maps each data-topic
 * partition to the offset after the last record written there by this sync so far: a consumer
 * whose position is at or past it on every partition has consumed the run completely.
 */
public record RunSummary(String sync, long run, long baseline, String mode, long startedAtMs, long finishedAtMs,
                         long rows, long added, long changed, long removed, long bytesProcessed,
                         long snapshotMs, long checkMs, long diffMs, long emitMs, Map<String, Long> endOffsets) {

    public static final Schema KEY_SCHEMA = SchemaBuilder.struct().name("io.bq2k.RunKey")
        .field("sync", Schema.STRING_SCHEMA).build();

    public static final Schema VALUE_SCHEMA = SchemaBuilder.struct().name("io.bq2k.RunSummary")
        .field("sync", Schema.STRING_SCHEMA)
        .field("run", Schema.INT64_SCHEMA)
        .field("baseline", Schema.OPTIONAL_INT64_SCHEMA)
        .field("mode", Schema.STRING_SCHEMA)
        .field("started_at_ms", Schema.INT64_SCHEMA)
        .field("finished_at_ms", Schema.INT64_SCHEMA)
        .field("rows", Schema.INT64_SCHEMA)
        .field("added", Schema.INT64_SCHEMA)
        .field("changed", Schema.INT64_SCHEMA)
        .field("removed", Schema.INT64_SCHEMA)
        .field("bytes_processed", Schema.INT64_SCHEMA)
        .field("snapshot_ms", Schema.INT64_SCHEMA)
        .field("check_ms", Schema.INT64_SCHEMA)
        .field("diff_ms", Schema.INT64_SCHEMA)
        .field("emit_ms", Schema.INT64_SCHEMA)
        .field("end_offsets", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT64_SCHEMA).build())
        .build();

    public long emitted() {
        return added + changed + removed;
    }

    public Struct key() {
        return new Struct(KEY_SCHEMA).put("sync", sync);
    }

    public Struct value() {
        return new Struct(VALUE_SCHEMA)
            .put("sync", sync).put("run", run).put("baseline", baseline > 0 ? baseline : null).put("mode", mode)
            .put("started_at_ms", startedAtMs).put("finished_at_ms", finishedAtMs).put("rows", rows)
            .put("added", added).put("changed", changed).put("removed", removed).put("bytes_processed", bytesProcessed)
            .put("snapshot_ms", snapshotMs).put("check_ms", checkMs).put("diff_ms", diffMs).put("emit_ms", emitMs)
            .put("end_offsets", endOffsets);
    }

    /** The operator's one line per run. */
    public String logLine() {
        return String.format(java.util.Locale.ROOT,
            "Sync '%s' run %d (%s%s) done: %d rows, +%d added, ~%d changed, -%d removed in %.1f s "
                + "[snapshot %.1f s, check %.1f s, diff %.1f s, emit %.1f s], %.1f MB processed",
            sync, run, mode, baseline > 0 ? " against run " + baseline : "", rows, added, changed, removed,
            (finishedAtMs - startedAtMs) / 1000.0, snapshotMs / 1000.0, checkMs / 1000.0, diffMs / 1000.0, emitMs / 1000.0,
            bytesProcessed / 1e6);
    }
}
