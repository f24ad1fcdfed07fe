package io.bq2k.connect.avro;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.connect.data.Schema;

import io.apicurio.registry.resolver.SchemaResolverConfig;
import io.apicurio.registry.serde.SerdeConfig;
import io.apicurio.registry.serde.avro.NonRecordContainer;
import io.apicurio.registry.utils.converter.AvroConverter;

/**
 * Apicurio's {@link AvroConverter}, with the registry lookup done once per Connect schema instead of once per record.
 *
 * <p>Why: with {@code apicurio.registry.auto-register=true} (what a source needs: its schema follows the query),
 * Apicurio's serializer finds the schema's id by its content, so for every record it prints the whole Avro schema to
 * JSON and looks the text up in its cache; and it builds a new datum writer per record. On the bench's narrow rows
 * that is 60% of the converter's CPU and makes Avro slower to write than JSON with the schema in every record
 * ({@code bin/bench --format all}, README Performance).
 *
 * <p>How: the first record of a (topic, Connect schema) goes through Apicurio's converter unchanged (registration,
 * its caches, its wire format). Its bytes are then split into the header Apicurio wrote (magic byte and schema id)
 * and the Avro body, the body is re-encoded here with a kept {@link GenericDatumWriter}, and only when that
 * reproduces Apicurio's bytes exactly is the pair (header, writer) kept: every later record of that schema is
 * converted to Avro by Apicurio's own {@code AvroData} and written as header + body here. So the bytes on the topic
 * are Apicurio's; anything this class does not reproduce (ids in record headers, JSON encoding) falls back to
 * Apicurio's path for every record, never to different bytes. Deserialization is Apicurio's, untouched.
 *
 * <p>Kept entries expire after {@code apicurio.registry.check-period-ms} (Apicurio's own re-check period, default
 * 30 s), so a schema deleted or changed in the registry is looked up again as Apicurio would. At most
 * {@link #MAX_SCHEMAS} schemas are kept (least recently used out). Connect calls a converter from one task thread; the
 * cache is not shared between threads.
 */
public class CachingAvroConverter<T> extends AvroConverter<T> {

    static final int MAX_SCHEMAS = 64;

    /** The Avro writing Apicurio's first record of a schema was reproduced with, and the header it wrote before the body. */
    private record Kept(org.apache.avro.Schema avroSchema, GenericDatumWriter<Object> writer, byte[] header, long expiresAtMs) {
    }

    /** Why a schema's records take Apicurio's path every time: Apicurio's bytes could not be reproduced. */
    private static final Kept NOT_REPRODUCIBLE = new Kept(null, null, null, Long.MAX_VALUE);

    private record Key(String topic, Schema schema) {
    }

    private final Map<Key, Kept> kept = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Kept> eldest) {
            return size() > MAX_SCHEMAS;
        }
    };
    private boolean headersEnabled;
    private long checkPeriodMs;
    private BinaryEncoder encoder;
    // The last hit, compared by identity: a source sends the same Schema object for every record of a run.
    private String lastTopic;
    private Schema lastSchema;
    private Kept lastKept;

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        super.configure(configs, isKey);
        headersEnabled = bool(configs.get(SerdeConfig.ENABLE_HEADERS), SerdeConfig.ENABLE_HEADERS_DEFAULT);
        Object period = configs.get(SchemaResolverConfig.CHECK_PERIOD_MS);
        checkPeriodMs = period == null ? SchemaResolverConfig.CHECK_PERIOD_MS_DEFAULT : Long.parseLong(period.toString().trim());
    }

    private static boolean bool(Object v, boolean dflt) {
        return v == null ? dflt : Boolean.parseBoolean(v.toString().trim());
    }

    @Override
    public byte[] fromConnectData(String topic, Schema schema, Object value) {
        return fromConnectData(topic, null, schema, value);
    }

    @Override
    public byte[] fromConnectData(String topic, Headers headers, Schema schema, Object value) {
        if (value == null || schema == null || headersEnabled) {
            // Tombstones and schema-less values as Apicurio does them; with ids in record headers every record needs its headers.
            return super.fromConnectData(topic, headers, schema, value);
        }
        long now = System.currentTimeMillis();
        Kept k = topic.equals(lastTopic) && schema == lastSchema ? lastKept : kept.get(new Key(topic, schema));
        if (k == null || now >= k.expiresAtMs()) {
            return firstOfSchema(topic, headers, schema, value, now);
        }
        if (k == NOT_REPRODUCIBLE) {
            return super.fromConnectData(topic, headers, schema, value);
        }
        remember(topic, schema, k);
        Object avro = applySchema(schema, value);
        org.apache.avro.Schema avroSchema = avroSchemaOf(avro);
        if (avroSchema != k.avroSchema() && !avroSchema.equals(k.avroSchema())) {
            // AvroData's own cache gave another schema for an equal Connect schema: let Apicurio resolve it.
            return firstOfSchema(topic, headers, schema, value, now);
        }
        return write(k.header(), k.writer(), avro);
    }

    /** Apicurio's path for the first record of a schema; keeps header and writer when its bytes are reproduced exactly. */
    private byte[] firstOfSchema(String topic, Headers headers, Schema schema, Object value, long now) {
        byte[] apicurio = super.fromConnectData(topic, headers, schema, value);
        Object avro = applySchema(schema, value);
        Kept k = NOT_REPRODUCIBLE;
        if (apicurio != null && avro != null) {
            org.apache.avro.Schema avroSchema = avroSchemaOf(avro);
            GenericDatumWriter<Object> writer = new GenericDatumWriter<>(avroSchema);
            byte[] body = write(new byte[0], writer, avro);
            int headerLength = apicurio.length - body.length;
            if (headerLength > 0 && Arrays.equals(apicurio, headerLength, apicurio.length, body, 0, body.length)) {
                k = new Kept(avroSchema, writer, Arrays.copyOf(apicurio, headerLength), now + checkPeriodMs);
            }
        }
        kept.put(new Key(topic, schema), k);
        remember(topic, schema, k);
        return apicurio;
    }

    private void remember(String topic, Schema schema, Kept k) {
        lastTopic = topic;
        lastSchema = schema;
        lastKept = k;
    }

    private static org.apache.avro.Schema avroSchemaOf(Object avro) {
        return ((GenericContainer) avro).getSchema();
    }

    private byte[] write(byte[] header, GenericDatumWriter<Object> writer, Object avro) {
        Object datum = avro instanceof NonRecordContainer<?> c ? c.getValue() : avro;
        ByteArrayOutputStream out = new ByteArrayOutputStream(header.length + 64);
        out.write(header, 0, header.length);
        encoder = EncoderFactory.get().directBinaryEncoder(out, encoder);
        try {
            writer.write(datum, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
