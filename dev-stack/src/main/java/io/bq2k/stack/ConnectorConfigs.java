package io.bq2k.stack;

import java.util.LinkedHashMap;
import java.util.Map;

import io.bq2k.cli.ConnectorDeployer.ConfigFile;

/**
 * The shipped connector configs ({@code config/source-bigquery-demo.json},
 * {@code config/sink-debezium-mysql.json}) as the demo, the benchmark and the end-to-end tests deploy
 * them: read with the stack's placeholders, then adapted to one sync. The one place configs are derived,
 * so what is tested is what ships.
 */
public final class ConnectorConfigs {

    public static final String DEMO_SOURCE = "config/source-bigquery-demo.json";
    public static final String DEMO_SINK = "config/sink-debezium-mysql.json";

    private ConnectorConfigs() {}

    public static ConfigFile demoSource(LocalStack stack) {
        return stack.deployer().read(stack.projectRoot().resolve(DEMO_SOURCE));
    }

    public static ConfigFile demoSink(LocalStack stack) {
        return stack.deployer().read(stack.projectRoot().resolve(DEMO_SINK));
    }

    /** The demo source for another query, key {@code id}, topic and staging dataset; runs on demand (hourly schedule). */
    public static Map<String, String> source(LocalStack stack, String topic, String query, String stagingDataset) {
        Map<String, String> c = new LinkedHashMap<>(demoSource(stack).config());
        c.put("query", query);
        c.put("key.columns", "id");
        c.put("topic", topic);
        c.put("staging.dataset", stagingDataset);
        c.put("schedule.interval.ms", "3600000");
        return c;
    }

    /** The demo sink for another topic and table. */
    public static Map<String, String> sink(LocalStack stack, String topic, String table) {
        Map<String, String> c = new LinkedHashMap<>(demoSink(stack).config());
        c.put("topics", topic);
        c.put("collection.name.format", table);
        return c;
    }
}
