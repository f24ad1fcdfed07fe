package io.bq2k.stack;

import java.util.LinkedHashMap;
import java.util.Map;

/** The shipped connector configs (config/*.json) adapted to one test sync: what tests deploy. */
final class DemoConfigs {

    private DemoConfigs() { }

    /** config/source-bigquery-demo.json for another query, key {@code id}, topic and staging dataset; runs on demand. */
    static Map<String, String> source(LocalStack stack, String topic, String query, String stagingDataset) {
        Map<String, String> c = new LinkedHashMap<>(stack.deployer().read(stack.projectRoot().resolve("config/source-bigquery-demo.json")).getValue());
        c.put("query", query);
        c.put("key.columns", "id");
        c.put("topic", topic);
        c.put("staging.dataset", stagingDataset);
        c.put("schedule.interval.ms", "3600000");
        return c;
    }

    /** config/sink-debezium-mysql.json for another topic and table. */
    static Map<String, String> sink(LocalStack stack, String topic, String table) {
        Map<String, String> c = new LinkedHashMap<>(stack.deployer().read(stack.projectRoot().resolve("config/sink-debezium-mysql.json")).getValue());
        c.put("topics", topic);
        c.put("collection.name.format", table);
        return c;
    }
}
