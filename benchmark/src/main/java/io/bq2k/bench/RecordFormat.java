package io.bq2k.bench;

import java.util.List;

/**
 * The record formats of the format comparison ({@link FormatCase}): the shipped JSON configs
 * ({@code config/*.json}: JsonConverter with the schema in every record) and the shipped Avro configs
 * ({@code config/avro/}: Apicurio's AvroConverter, the schema in the stack's registry, Confluent wire format).
 */
enum RecordFormat {
    JSON("json", "JSON, schema in every record (config/)"),
    AVRO("avro", "Avro, Apicurio registry (config/avro/)");

    final String id;
    final String label;

    RecordFormat(String id, String label) {
        this.id = id;
        this.label = label;
    }

    /** The formats {@code --format} asks the comparison for: both, avro alone, or none (json: the JSON cases only). */
    static List<RecordFormat> of(String option) {
        return switch (option) {
            case "both" -> List.of(JSON, AVRO);
            case "avro" -> List.of(AVRO);
            default -> List.of();
        };
    }
}
