package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class UnchangedInputsTest {

    @Test
    void deterministicQueriesHaveNoSuchCall() {
        assertNull(UnchangedInputs.nonDeterministicCall("SELECT id, current_plan FROM d.users WHERE note = 'CURRENT_DATE()'"));
        assertNull(UnchangedInputs.nonDeterministicCall("SELECT id FROM d.t -- CURRENT_TIMESTAMP() in a comment\n"));
        assertNull(UnchangedInputs.nonDeterministicCall("SELECT id /* RAND() */ FROM d.t"));
    }

    @Test
    void callsWhoseResultChangesByItselfAreFound() {
        assertEquals("CURRENT_DATE", UnchangedInputs.nonDeterministicCall("SELECT id FROM d.t WHERE day >= DATE_SUB(CURRENT_DATE(), INTERVAL 30 DAY)"));
        assertEquals("current_timestamp", UnchangedInputs.nonDeterministicCall("select id from d.t where ts > current_timestamp"));
        assertEquals("RAND", UnchangedInputs.nonDeterministicCall("SELECT id FROM d.t WHERE RAND() < 0.1"));
        assertEquals("_TABLE_SUFFIX", UnchangedInputs.nonDeterministicCall("SELECT id FROM `d.events_*` WHERE _TABLE_SUFFIX > '2026'"));
        assertEquals("@@run_time", UnchangedInputs.nonDeterministicCall("SELECT @@run_time AS t, id FROM d.t"));
        assertEquals("SESSION_USER", UnchangedInputs.nonDeterministicCall("SELECT id FROM d.t WHERE owner = SESSION_USER()"));
    }
}
