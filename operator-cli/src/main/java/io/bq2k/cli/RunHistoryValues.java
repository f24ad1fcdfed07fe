package io.bq2k.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads a run summary from the run-history topic as the source's value converter wrote it: JSON (with or
 * without the schema envelope), or Avro in the schema registry's wire format (a zero byte, the schema's
 * 4-byte id, the Avro body), whose schema is fetched once per id from the registry the connector's value
 * converter names — Apicurio's ({@code value.converter.apicurio.registry.url}, read through its
 * Confluent-compatible API) or Confluent's ({@code value.converter.schema.registry.url}).
 */
final class RunHistoryValues {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String schemasById;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<Integer, Schema> schemas = new HashMap<>();

    /** @param connectorConfig the source connector's config, as {@code GET /connectors?expand=info} shows it */
    RunHistoryValues(JsonNode connectorConfig) {
        String apicurio = connectorConfig.path("value.converter.apicurio.registry.url").asText("");
        String confluent = connectorConfig.path("value.converter.schema.registry.url").asText("");
        String base = !apicurio.isBlank() ? apicurio.replaceAll("/apis/registry/v\\d+/*$", "") + "/apis/ccompat/v7"
            : confluent.isBlank() ? null : confluent.split(",")[0].trim();
        this.schemasById = base == null ? null : base.replaceAll("/+$", "") + "/schemas/ids/";
    }

    /** The summary as JSON, or null when it cannot be read (not JSON, or Avro without a reachable registry). */
    JsonNode read(byte[] value) {
        if (value.length > 5 && value[0] == 0 && schemasById != null) {
            try {
                Schema schema = schema(ByteBuffer.wrap(value, 1, 4).getInt());
                GenericRecord record = new GenericDatumReader<GenericRecord>(schema)
                    .read(null, DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null));
                return JSON.readTree(GenericData.get().toString(record));
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }
        try {
            JsonNode n = JSON.readTree(value);
            return n.has("payload") ? n.get("payload") : n;
        } catch (IOException e) {
            return null;
        }
    }

    private Schema schema(int id) throws IOException {
        Schema known = schemas.get(id);
        if (known != null) {
            return known;
        }
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(schemasById + id)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("schema " + id + ": HTTP " + r.statusCode() + " from " + schemasById + id);
            }
            Schema schema = new Schema.Parser().parse(JSON.readTree(r.body()).path("schema").asText());
            schemas.put(id, schema);
            return schema;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
