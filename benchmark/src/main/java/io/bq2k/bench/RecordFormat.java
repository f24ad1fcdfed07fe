package io.bq2k.bench;

import java.util.List;

/**
 * The record formats of the format comparison ({@link FormatCase}): the shipped JSON configs
 * ({@code config/*.json}: JsonConverter with the schema in every record), the shipped Avro configs
 * ({@code config/avro/}: the source writes with {@code CachingAvroConverter}, the sink reads with Apicurio's
 * AvroConverter, the schema in the stack's registry, Confluent wire format), and the same Avro configs with the
 * source writing through Apicurio's converter as is (what the cache cut, measured in the same run).
 */
enum RecordFormat {
    JSON("json", "JSON, schema in every record (config/)"),
    AVRO("avro", "Avro, CachingAvroConverter + Apicurio registry (config/avro/)"),
    AVRO_APICURIO("avro-apicurio", "Avro, Apicurio's AvroConverter as is");

    static final String APICURIO_CONVERTER = "io.apicurio.registry.utils.converter.AvroConverter";

    final String id;
    final String label;

    RecordFormat(String id, String label) {
        this.id = id;
        this.label = label;
    }

    boolean avro() {
        return this != JSON;
    }

    /** The formats {@code --format} asks the comparison for: both, all, avro alone, or none (json: the JSON cases only). */
    static List<RecordFormat> of(String option) {
        return switch (option) {
            case "both" -> List.of(JSON, AVRO);
            case "all" -> List.of(JSON, AVRO, AVRO_APICURIO);
            case "avro" -> List.of(AVRO);
            default -> List.of();
        };
    }
}
