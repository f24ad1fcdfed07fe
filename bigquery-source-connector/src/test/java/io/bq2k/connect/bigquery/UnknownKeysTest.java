package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class UnknownKeysTest {

    @Test
    void aTypoIsWarnedWithTheClosestKey() {
        List<String> w = UnknownKeys.warnings(Map.of("key.column", "id", "topic", "t"));
        assertEquals(List.of("Unknown config key 'key.column' is ignored; did you mean 'key.columns'?"), w);
    }

    @Test
    void connectFrameworkKeysAreKnown() {
        assertTrue(UnknownKeys.warnings(Map.of("name", "n", "connector.class", "c", "tasks.max", "1",
            "value.converter.schemas.enable", "true", "topic.creation.default.partitions", "3", "transforms", "x",
            "transforms.x.type", "y", "errors.tolerance", "none", "producer.override.linger.ms", "5")).isEmpty());
        assertTrue(UnknownKeys.warnings(Map.of("exactly.once.support", "required", "transaction.boundary", "connector")).isEmpty());
    }

    @Test
    void somethingFarFromAnyKeyGetsNoSuggestion() {
        assertEquals(List.of("Unknown config key 'completely.unrelated.setting' is ignored."),
            UnknownKeys.warnings(Map.of("completely.unrelated.setting", "x")));
    }
}
