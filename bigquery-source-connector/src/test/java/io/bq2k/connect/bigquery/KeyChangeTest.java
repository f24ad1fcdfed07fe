package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldList;
import com.google.cloud.bigquery.StandardSQLTypeName;

class KeyChangeTest {

    static final ColumnMapping.Style STYLE = new ColumnMapping.Style(SyncConfig.TemporalPrecision.MICROS, SyncConfig.JsonColumns.TEXT);
    static final StagingTables STAGING = new StagingTables(new DatasetRef("p", "stage"), "s");
    static final FieldList INT_ID = FieldList.of(Field.of("id", StandardSQLTypeName.INT64), Field.of("grp", StandardSQLTypeName.STRING));
    static final FieldList STRING_ID = FieldList.of(Field.of("id", StandardSQLTypeName.STRING), Field.of("grp", StandardSQLTypeName.STRING));

    static RecordShape shape(FieldList fields, String... keys) {
        return RecordShape.of(fields, List.of(keys), "t", STYLE);
    }

    static KeyChange.Published published(long run, FieldList fields, String... keys) {
        return new KeyChange.Published(STAGING.snapshot(run), fields, List.of(keys), null);
    }

    @Test
    void sameKeyOrNothingPublishedGoesAhead() {
        assertNull(KeyChange.decide("s", 4, 3, List.of(published(3, INT_ID, "id")), shape(INT_ID, "id"), -1, STYLE, "s__"));
        assertNull(KeyChange.decide("s", 1, 0, List.of(), shape(INT_ID, "id"), -1, STYLE, "s__"));
    }

    @Test
    void aTypeChangeIsHeldNamingTheRunToConfirm() {
        RunFailure f = assertThrows(RunFailure.class,
            () -> KeyChange.decide("s", 4, 3, List.of(published(3, INT_ID, "id")), shape(STRING_ID, "id"), -1, STYLE, "s__"));
        assertTrue(f.getMessage().contains("run 4 is held: the key changed from [id INT64] (run 3) to [id STRING]"), f.getMessage());
        assertTrue(f.getMessage().contains("mass.delete.allow.run=4"), f.getMessage());
    }

    @Test
    void aConfirmedKeyColumnChangeReKeysTheOldTablesUnderTheOldColumns() {
        KeyChange.Rekey r = KeyChange.decide("s", 4, 3, List.of(published(3, INT_ID, "id")), shape(INT_ID, "id", "grp"), 4, STYLE, "s__");
        assertEquals(new KeyChange.Rekey(List.of("id"), "[id INT64]", "[id INT64, grp STRING]", List.of(STAGING.snapshot(3))), r);
    }

    @Test
    void keysOfSeveralDefinitionsAskForAReSeed() {
        RunFailure f = assertThrows(RunFailure.class, () -> KeyChange.decide("s", 6, 3,
            List.of(published(3, INT_ID, "id"), published(5, STRING_ID, "id")), shape(INT_ID, "id", "grp"), 6, STYLE, "s__"));
        assertTrue(f.getMessage().contains("more than one definition") && f.getMessage().contains("re-seed"), f.getMessage());
    }

    @Test
    void aDiffsRecordedKeyTypesCountNotItsEmittedColumns() {
        // A diff holds a BIGNUMERIC key as text; its recorded type says what was published.
        FieldList emitted = FieldList.of(Field.of("amount", StandardSQLTypeName.STRING));
        FieldList snapshot = FieldList.of(Field.of("amount", StandardSQLTypeName.BIGNUMERIC));
        assertNull(KeyChange.decide("s", 5, 3, List.of(published(3, snapshot, "amount"),
            new KeyChange.Published(STAGING.diff(4), emitted, List.of("amount"), List.of("BIGNUMERIC"))), shape(snapshot, "amount"), -1, STYLE, "s__"));
    }

    @Test
    void aMissingKeyColumnIsPartOfTheSignature() {
        assertEquals("[id INT64, region (missing)]", KeyChange.signature(INT_ID, List.of("id", "region"), STYLE));
    }
}
