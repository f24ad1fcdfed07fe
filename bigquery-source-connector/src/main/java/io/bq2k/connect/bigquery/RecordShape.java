package io.bq2k.connect.bigquery;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldList;


/**
 * The record contract of one run, derived from the snapshot's schema: key = Struct of the key
 * columns, value = flat Struct of every column, under the {@link ColumnMapping} type mapping.
 */
public final class RecordShape {

    private final List<ColumnMapping> columns;
    private final List<ColumnMapping> keyColumns;
    private final int[] keyPositions;
    private final Schema keySchema;
    private final Schema valueSchema;
    /** The schemas' fields in column order: Struct.put(Field, v) skips put(String, v)'s lookup by name. */
    private final org.apache.kafka.connect.data.Field[] keyFields;
    private final org.apache.kafka.connect.data.Field[] valueFields;

    private RecordShape(List<ColumnMapping> columns, List<ColumnMapping> keyColumns, String schemaNamePrefix) {
        this.columns = columns;
        this.keyColumns = keyColumns;
        this.keyPositions = keyColumns.stream().mapToInt(columns::indexOf).toArray();
        SchemaBuilder key = SchemaBuilder.struct().name(schemaNamePrefix + ".Key");
        keyColumns.forEach(c -> key.field(c.name(), c.schema()));
        SchemaBuilder value = SchemaBuilder.struct().name(schemaNamePrefix + ".Value").optional();
        columns.forEach(c -> value.field(c.name(), c.schema()));
        this.keySchema = key.build();
        this.valueSchema = value.build();
        this.keyFields = keySchema.fields().toArray(new org.apache.kafka.connect.data.Field[0]);
        this.valueFields = valueSchema.fields().toArray(new org.apache.kafka.connect.data.Field[0]);
    }

    /**
     * The shape of a snapshot whose schema is {@code fields} (the fingerprint column excluded).
     *
     * @throws InvalidShape for missing key columns, key columns of a non-key type, reserved names or unmapped types
     */
    public static RecordShape of(FieldList fields, List<String> keys, String topic, ColumnMapping.Style style) {
        List<ColumnMapping> columns = new ArrayList<>();
        ColumnMapping[] keyColumns = new ColumnMapping[keys.size()];
        for (Field f : fields) {
            if (f.getName().equals(SyncSql.FINGERPRINT)) {
                continue;
            }
            if (f.getName().toLowerCase(Locale.ROOT).startsWith(SyncSql.PREFIX)) {
                throw new InvalidShape(SyncConfig.QUERY, "column `" + f.getName() + "` uses the prefix " + SyncSql.PREFIX
                    + ", reserved for the connector's own columns: rename it in the query");
            }
            int k = keys.indexOf(f.getName());
            ColumnMapping m;
            try {
                m = ColumnMapping.of(f, k >= 0, style);
            } catch (ColumnMapping.UnsupportedTypeException e) {
                throw new InvalidShape(SyncConfig.QUERY, e.getMessage());
            }
            if (k >= 0) {
                if (!ColumnMapping.isKeyType(m.bigQueryType())) {
                    throw new InvalidShape(SyncConfig.KEY_COLUMNS, "key column `" + f.getName() + "` has type " + m.bigQueryType()
                        + ", which cannot be a key (use INT64, STRING, NUMERIC, DATE, DATETIME, TIMESTAMP, TIME or BOOL; cast it in the query)");
                }
                keyColumns[k] = m;
            }
            columns.add(m);
        }
        for (int i = 0; i < keys.size(); i++) {
            if (keyColumns[i] == null) {
                throw new InvalidShape(SyncConfig.KEY_COLUMNS, "key column `" + keys.get(i) + "` is not in the query result (columns: "
                    + columns.stream().map(ColumnMapping::name).toList() + "); fix " + SyncConfig.KEY_COLUMNS + " or the query");
            }
        }
        return new RecordShape(columns, List.of(keyColumns), schemaNamePrefix(topic));
    }

    /** A query result that cannot become records, and the config field whose fix (or the query's) resolves it. */
    public static final class InvalidShape extends RuntimeException {
        private final String field;

        /** {@code message} is a clause; callers end the sentence, so a trailing period is dropped. */
        InvalidShape(String field, String message) {
            super(message.endsWith(".") ? message.substring(0, message.length() - 1) : message);
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    /** Connect schema names are namespaced like Avro names: letters, digits, underscores, dots. */
    static String schemaNamePrefix(String topic) {
        String s = topic.replaceAll("[^A-Za-z0-9_.]", "_");
        return Character.isDigit(s.charAt(0)) ? "_" + s : s;
    }

    public List<ColumnMapping> columns() { return columns; }
    public List<ColumnMapping> keyColumns() { return keyColumns; }
    public Schema keySchema() { return keySchema; }
    public Schema valueSchema() { return valueSchema; }

    /** Builds key and value from decoded column values, in {@link #columns()} order. */
    public Change change(long seq, String op, Object[] values) {
        Struct key = new Struct(keySchema);
        for (int i = 0; i < keyPositions.length; i++) {
            key.put(keyFields[i], values[keyPositions[i]]);
        }
        if (SyncSql.OP_REMOVED.equals(op)) {
            return new Change(seq, op, key, null);
        }
        Struct value = new Struct(valueSchema);
        for (int i = 0; i < valueFields.length; i++) {
            value.put(valueFields[i], values[i]);
        }
        return new Change(seq, op, key, value);
    }

    /**
     * The records of a chunk's changes, as the task emits them: to {@code topic}, each with the in-run offset
     * of its position (run, bucket, seq) under the contract it is published under.
     */
    public List<SourceRecord> records(List<Change> changes, Map<String, ?> partition, String topic, long run, int bucket, long base,
                                      RecordContract published, long diffCreated) {
        List<SourceRecord> records = new ArrayList<>(changes.size());
        SyncOffset.InRun offsets = new SyncOffset.InRun(run, bucket, base, published, diffCreated);
        for (Change c : changes) {
            records.add(new SourceRecord(partition, offsets.offset(c.seq()),
                topic, null, keySchema, c.key(), c.value() == null ? null : valueSchema, c.value()));
        }
        return records;
    }

    /** One change of a run: its position in the bucket, operation, key and (null for a removal) value. */
    public record Change(long seq, String op, Struct key, Struct value) { }
}
