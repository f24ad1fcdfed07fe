package io.bq2k.stack;

import java.util.LinkedHashMap;
import java.util.Map;

import io.bq2k.cli.ConnectorDeployer.ConfigFile;

/**
 * The shipped connector configs ({@code config/source-bigquery-demo.json},
 * {@code config/sink-debezium-mysql.json}, and their Avro twins in {@code config/avro/}) as the demo, the benchmark and the end-to-end tests deploy
 * them: read with the stack's placeholders, then adapted to one sync. The one place configs are derived,
 * so what is tested is what ships.
 */
public final class ConnectorConfigs {

    public static final String DEMO_SOURCE = "config/source-bigquery-demo.json";
    public static final String DEMO_SINK = "config/sink-debezium-mysql.json";
    /** The same pair with Apicurio's Avro converter for key and value (needs the stack's registry: {@link Component#REGISTRY}). */
    public static final String AVRO_SOURCE = "config/avro/source-bigquery.json";
    public static final String AVRO_SINK = "config/avro/sink-debezium-mysql.json";

    private ConnectorConfigs() {}

    public static ConfigFile demoSource(LocalStack stack) {
        return stack.deployer().read(stack.projectRoot().resolve(DEMO_SOURCE));
    }

    public static ConfigFile demoSink(LocalStack stack) {
        return stack.deployer().read(stack.projectRoot().resolve(DEMO_SINK));
    }

    public static ConfigFile avroSource(LocalStack stack) {
        return stack.deployer().read(stack.projectRoot().resolve(AVRO_SOURCE));
    }

    public static ConfigFile avroSink(LocalStack stack) {
        return stack.deployer().read(stack.projectRoot().resolve(AVRO_SINK));
    }

    /** The demo source for another query, key {@code id}, topic and staging dataset; runs on demand (hourly schedule). */
    public static Map<String, String> source(LocalStack stack, String topic, String query, String stagingDataset) {
        return adaptSource(demoSource(stack).config(), topic, query, stagingDataset);
    }

    /** {@link #source} from the Avro source config ({@link #AVRO_SOURCE}). */
    public static Map<String, String> avroSource(LocalStack stack, String topic, String query, String stagingDataset) {
        return adaptSource(avroSource(stack).config(), topic, query, stagingDataset);
    }

    /** {@link #sink} from the Avro sink config ({@link #AVRO_SINK}). */
    public static Map<String, String> avroSink(LocalStack stack, String topic, String table) {
        return adaptSink(avroSink(stack).config(), topic, table);
    }

    private static Map<String, String> adaptSource(Map<String, String> base, String topic, String query, String stagingDataset) {
        Map<String, String> c = new LinkedHashMap<>(base);
        c.put("query", query);
        c.put("key.columns", "id");
        c.put("topic", topic);
        c.put("staging.dataset", stagingDataset);
        c.put("schedule.interval.ms", "3600000");
        return c;
    }

    /** The demo sink for another topic and table. */
    public static Map<String, String> sink(LocalStack stack, String topic, String table) {
        return adaptSink(demoSink(stack).config(), topic, table);
    }

    private static Map<String, String> adaptSink(Map<String, String> base, String topic, String table) {
        Map<String, String> c = new LinkedHashMap<>(base);
        c.put("topics", topic);
        c.put("collection.name.format", table);
        return c;
    }
}
