package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

import com.google.cloud.bigquery.FieldList;
import com.google.cloud.bigquery.StandardSQLTypeName;

import io.bq2k.connect.bigquery.SyncConfig.TemporalPrecision;

class RecordShapeTest {

    private static com.google.cloud.bigquery.Field f(String name, StandardSQLTypeName type) {
        return com.google.cloud.bigquery.Field.of(name, type);
    }

    private static RecordShape shape(List<String> keys, com.google.cloud.bigquery.Field... fields) {
        return RecordShape.of(FieldList.of(fields), keys, "users", new ColumnMapping.Style(TemporalPrecision.MICROS, SyncConfig.JsonColumns.TEXT));
    }

    private static final com.google.cloud.bigquery.Field[] FIELDS = {
        f("id", StandardSQLTypeName.INT64),
        f("name", StandardSQLTypeName.STRING),
        f("score", StandardSQLTypeName.FLOAT64),
        f(SyncSql.FINGERPRINT, StandardSQLTypeName.BYTES),
    };

    @Test
    void schemasFromColumns() {
        RecordShape s = shape(List.of("id"), FIELDS);
        assertEquals(List.of("id", "name", "score"), s.columns().stream().map(ColumnMapping::name).toList());
        assertEquals(List.of("id"), s.keyColumns().stream().map(ColumnMapping::name).toList());
        assertEquals("users.Key", s.keySchema().name());
        assertEquals(Schema.Type.STRUCT, s.keySchema().type());
        assertFalse(s.keySchema().isOptional());
        assertEquals(List.of("id"), s.keySchema().fields().stream().map(Field::name).toList());
        assertFalse(s.keySchema().field("id").schema().isOptional());
        assertEquals("users.Value", s.valueSchema().name());
        assertTrue(s.valueSchema().isOptional(), "tombstones need an optional value schema");
        assertEquals(List.of("id", "name", "score"), s.valueSchema().fields().stream().map(Field::name).toList());
        assertFalse(s.valueSchema().field("id").schema().isOptional());
        assertTrue(s.valueSchema().field("name").schema().isOptional());
    }

    @Test
    void fingerprintColumnIsSkipped() {
        RecordShape s = shape(List.of("id"), FIELDS);
        assertNull(s.valueSchema().field(SyncSql.FINGERPRINT));
    }

    @Test
    void compositeKeyFollowsKeyColumnsOrder() {
        RecordShape s = shape(List.of("b", "a"), f("a", StandardSQLTypeName.STRING), f("v", StandardSQLTypeName.INT64), f("b", StandardSQLTypeName.DATE));
        assertEquals(List.of("b", "a"), s.keySchema().fields().stream().map(Field::name).toList());
        java.util.Date day = new java.util.Date(86_400_000L);
        RecordShape.Change c = s.change(5, SyncSql.OP_ADDED, new Object[] {"x", 7L, day});
        assertEquals("x", c.key().get("a"));
        assertEquals(day, c.key().get("b"));
        assertEquals(7L, c.value().get("v"));
        assertEquals("x", c.value().get("a"));
        assertEquals(day, c.value().get("b"));
    }

    @Test
    void missingKeyNamesColumnAndListsAvailable() {
        RecordShape.InvalidShape e = assertThrows(RecordShape.InvalidShape.class, () -> shape(List.of("user_id"), FIELDS));
        String msg = e.getMessage();
        assertEquals(SyncConfig.KEY_COLUMNS, e.field());
        assertTrue(msg.contains("key column `user_id` is not in the query result"), msg);
        assertTrue(msg.contains("(columns: [id, name, score])"), msg);
        assertTrue(msg.contains(SyncConfig.KEY_COLUMNS), msg);
    }

    @Test
    void secondKeyMissing() {
        RecordShape.InvalidShape e = assertThrows(RecordShape.InvalidShape.class, () -> shape(List.of("id", "tenant"), FIELDS));
        assertTrue(e.getMessage().contains("key column `tenant`"), e.getMessage());
    }

    @Test
    void float64KeyIsRejected() {
        RecordShape.InvalidShape e = assertThrows(RecordShape.InvalidShape.class, () -> shape(List.of("score"), FIELDS));
        assertTrue(e.getMessage().contains("key column `score` has type FLOAT64, which cannot be a key"), e.getMessage());
    }

    @Test
    void otherNonKeyTypesAreRejectedAsKeys() {
        for (StandardSQLTypeName t : new StandardSQLTypeName[] {StandardSQLTypeName.BYTES, StandardSQLTypeName.JSON,
                StandardSQLTypeName.GEOGRAPHY, StandardSQLTypeName.INTERVAL}) {
            RecordShape.InvalidShape e = assertThrows(RecordShape.InvalidShape.class, () -> shape(List.of("k"), f("k", t)), t.name());
            assertTrue(e.getMessage().contains("has type " + t.name()), e.getMessage());
        }
        com.google.cloud.bigquery.Field array = com.google.cloud.bigquery.Field.newBuilder("k", StandardSQLTypeName.INT64)
            .setMode(com.google.cloud.bigquery.Field.Mode.REPEATED).build();
        assertTrue(assertThrows(RecordShape.InvalidShape.class, () -> shape(List.of("k"), array)).getMessage().contains("has type ARRAY"));
    }

    @Test
    void reservedPrefixIsRejected() {
        for (String name : new String[] {"_bq2k_seq", "_BQ2K_mine", "_bq2k_"}) {
            RecordShape.InvalidShape e = assertThrows(RecordShape.InvalidShape.class, () -> shape(List.of("id"), f("id", StandardSQLTypeName.INT64), f(name, StandardSQLTypeName.STRING)));
            assertTrue(e.getMessage().contains("column `" + name + "` uses the prefix _bq2k_"), e.getMessage());
        }
    }

    @Test
    void unsupportedTypeFailsTheRunNamingTheColumn() {
        RecordShape.InvalidShape e = assertThrows(RecordShape.InvalidShape.class,
            () -> shape(List.of("id"), f("id", StandardSQLTypeName.INT64), f("period", StandardSQLTypeName.RANGE)));
        assertTrue(e.getMessage().startsWith("column `period` has type RANGE"), e.getMessage());
        assertEquals(SyncConfig.QUERY, e.field());
    }

    @Test
    void changeBuildsKeyAndValue() {
        RecordShape s = shape(List.of("id"), FIELDS);
        RecordShape.Change c = s.change(12, SyncSql.OP_CHANGED, new Object[] {3L, "größe", null});
        assertEquals(12, c.seq());
        assertEquals("U", c.op());
        assertEquals(new Struct(s.keySchema()).put("id", 3L), c.key());
        assertEquals(3L, c.value().get("id"));
        assertEquals("größe", c.value().get("name"));
        assertNull(c.value().get("score"));
        c.key().validate();
        c.value().validate();
    }

    @Test
    void removalHasNullValue() {
        RecordShape s = shape(List.of("id"), FIELDS);
        RecordShape.Change c = s.change(1, SyncSql.OP_REMOVED, new Object[] {3L, null, null});
        assertEquals("D", c.op());
        assertEquals(3L, c.key().get("id"));
        assertNull(c.value());
    }

    @Test
    void schemaNamePrefix() {
        assertEquals("users.v1", RecordShape.schemaNamePrefix("users.v1"));
        assertEquals("my_topic_x", RecordShape.schemaNamePrefix("my-topic-x"));
        assertEquals("_1users", RecordShape.schemaNamePrefix("1users"));
        RecordShape s = RecordShape.of(FieldList.of(FIELDS), List.of("id"), "9-topic", new ColumnMapping.Style(TemporalPrecision.MICROS, SyncConfig.JsonColumns.TEXT));
        assertEquals("_9_topic.Key", s.keySchema().name());
    }
}
