package io.bq2k.connect.avro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.storage.Converter;
import org.junit.jupiter.api.Test;

import io.apicurio.registry.rest.client.RegistryClient;
import io.apicurio.registry.rest.v2.beans.ArtifactMetaData;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.apicurio.registry.utils.converter.AvroConverter;
import io.apicurio.registry.utils.converter.SerdeBasedConverter;

/**
 * The cached path writes exactly Apicurio's bytes, registers once per schema (again after the check period, and for a
 * new schema), and falls back to Apicurio's path where it cannot reproduce it. The registry is an in-memory
 * {@link RegistryClient} (content ids by content); the end-to-end proof on the real registry is {@code AvroPipelineIT}.
 */
class CachingAvroConverterTest {

    /** An in-memory registry: one content id per distinct schema text, counting registrations. */
    static final class MemoryRegistry {
        final Map<String, Long> ids = new HashMap<>();
        final Map<Long, String> contents = new HashMap<>();
        final AtomicLong creates = new AtomicLong();

        RegistryClient client() {
            return (RegistryClient) Proxy.newProxyInstance(RegistryClient.class.getClassLoader(), new Class<?>[] {RegistryClient.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "createArtifact" -> create((String) args[1], (InputStream) args[args.length - 1]);
                    case "getContentById" -> new ByteArrayInputStream(contents.get((Long) args[0]).getBytes());
                    case "getArtifactReferencesByContentId" -> List.of();
                    case "close" -> null;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        }

        private ArtifactMetaData create(String artifactId, InputStream content) {
            creates.incrementAndGet();
            String text;
            try {
                text = new String(content.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            long id = ids.computeIfAbsent(text, t -> (long) ids.size() + 1);
            contents.put(id, text);
            ArtifactMetaData md = new ArtifactMetaData();
            md.setId(artifactId);
            md.setContentId(id);
            md.setGlobalId(id + 1000);
            md.setVersion("1");
            return md;
        }
    }

    static final Schema VALUE = SchemaBuilder.struct().name("bq2k.Row")
        .field("id", Schema.INT64_SCHEMA)
        .field("name", Schema.OPTIONAL_STRING_SCHEMA)
        .field("amount", Decimal.builder(9).optional().build())
        .build();

    static Struct row(long id) {
        return new Struct(VALUE).put("id", id).put("name", id % 3 == 0 ? null : "n" + id)
            .put("amount", id % 5 == 0 ? null : BigDecimal.valueOf(id * 1_000_003L, 9));
    }

    static Map<String, Object> config(MemoryRegistry registry, Map<String, Object> extra) {
        Map<String, Object> c = new HashMap<>();
        c.put(SerdeBasedConverter.REGISTRY_CONVERTER_SERIALIZER_PARAM, new AvroKafkaSerializer<>(registry.client()));
        c.put(SerdeBasedConverter.REGISTRY_CONVERTER_DESERIALIZER_PARAM, new AvroKafkaDeserializer<>(registry.client()));
        c.put("apicurio.registry.auto-register", "true");
        c.put("apicurio.registry.as-confluent", "true");
        c.put("apicurio.registry.use-id", "contentId");
        c.put("apicurio.registry.headers.enabled", "false");
        c.putAll(extra);
        return c;
    }

    static <C extends Converter> C configured(C converter, MemoryRegistry registry, Map<String, Object> extra) {
        converter.configure(config(registry, extra), false);
        return converter;
    }

    @Test
    void writesApicuriosBytesAndRegistersOncePerSchema() {
        MemoryRegistry ours = new MemoryRegistry();
        MemoryRegistry theirs = new MemoryRegistry();
        CachingAvroConverter<Object> caching = configured(new CachingAvroConverter<>(), ours, Map.of());
        AvroConverter<Object> apicurio = configured(new AvroConverter<>(), theirs, Map.of());
        RecordHeaders headers = new RecordHeaders();
        for (long id = 1; id <= 500; id++) {
            byte[] expected = apicurio.fromConnectData("t", headers, VALUE, row(id));
            byte[] actual = caching.fromConnectData("t", headers, VALUE, row(id));
            assertArrayEquals(expected, actual, "record " + id);
            SchemaAndValue back = caching.toConnectData("t", actual);
            assertEquals(row(id), back.value(), "read back, record " + id);
        }
        assertEquals(1, ours.creates.get(), "one registration for 500 records of one schema");
        assertEquals(0, headers.toArray().length, "no record headers with headers.enabled=false");
    }

    @Test
    void anEqualSchemaObjectHitsTheCacheAndANewSchemaIsRegistered() {
        MemoryRegistry ours = new MemoryRegistry();
        MemoryRegistry theirs = new MemoryRegistry();
        CachingAvroConverter<Object> caching = configured(new CachingAvroConverter<>(), ours, Map.of());
        AvroConverter<Object> apicurio = configured(new AvroConverter<>(), theirs, Map.of());
        Schema equalCopy = SchemaBuilder.struct().name("bq2k.Row").field("id", Schema.INT64_SCHEMA)
            .field("name", Schema.OPTIONAL_STRING_SCHEMA).field("amount", Decimal.builder(9).optional().build()).build();
        Schema widened = SchemaBuilder.struct().name("bq2k.Row").field("id", Schema.INT64_SCHEMA)
            .field("name", Schema.OPTIONAL_STRING_SCHEMA).field("amount", Decimal.builder(9).optional().build())
            .field("extra", Schema.OPTIONAL_INT32_SCHEMA).build();
        record Send(String topic, Schema schema, Struct value, int registrationsAfter) {
        }
        List<Send> sends = List.of(
            new Send("t", VALUE, row(1), 1),
            new Send("t", equalCopy, new Struct(equalCopy).put("id", 2L).put("name", "n2").put("amount", BigDecimal.valueOf(2, 9)), 1),
            new Send("t", widened, new Struct(widened).put("id", 3L).put("extra", 7), 2), // the query gained a column
            new Send("t", VALUE, row(4), 2),
            // Another topic, same content: Apicurio finds it by content and registers nothing; neither does the cache.
            new Send("u", VALUE, row(5), 2));
        for (Send s : sends) {
            byte[] bytes = caching.fromConnectData(s.topic(), s.schema(), s.value());
            assertArrayEquals(apicurio.fromConnectData(s.topic(), s.schema(), s.value()), bytes, "record " + s.value());
            assertEquals(s.value(), caching.toConnectData(s.topic(), bytes).value());
            assertEquals(s.registrationsAfter(), ours.creates.get(), "registrations after record " + s.value());
            assertEquals(theirs.creates.get(), ours.creates.get(), "as many registrations as Apicurio's own path");
        }
        assertEquals(2, ours.ids.size());
    }

    @Test
    void looksTheSchemaUpAgainAfterTheCheckPeriod() throws InterruptedException {
        MemoryRegistry registry = new MemoryRegistry();
        CachingAvroConverter<Object> caching = configured(new CachingAvroConverter<>(), registry,
            Map.of("apicurio.registry.check-period-ms", "200"));
        caching.fromConnectData("t", VALUE, row(1));
        caching.fromConnectData("t", VALUE, row(2));
        assertEquals(1, registry.creates.get());
        Thread.sleep(300); // Apicurio's content cache expires with the same period: its path registers (finds) the schema again
        caching.fromConnectData("t", VALUE, row(3));
        assertEquals(2, registry.creates.get(), "expired: looked up through Apicurio's path again");
        caching.fromConnectData("t", VALUE, row(4));
        assertEquals(2, registry.creates.get(), "and kept again");
    }

    @Test
    void idsInRecordHeadersTakeApicuriosPathForEveryRecord() {
        MemoryRegistry ours = new MemoryRegistry();
        MemoryRegistry theirs = new MemoryRegistry();
        Map<String, Object> headersOn = Map.of("apicurio.registry.headers.enabled", "true");
        CachingAvroConverter<Object> caching = configured(new CachingAvroConverter<>(), ours, headersOn);
        AvroConverter<Object> apicurio = configured(new AvroConverter<>(), theirs, headersOn);
        for (long id = 1; id <= 20; id++) {
            RecordHeaders h1 = new RecordHeaders();
            RecordHeaders h2 = new RecordHeaders();
            assertArrayEquals(apicurio.fromConnectData("t", h1, VALUE, row(id)), caching.fromConnectData("t", h2, VALUE, row(id)));
            assertEquals(List.of(h1.toArray()).size(), h2.toArray().length, "the schema id travels in the record's headers");
            assertEquals(new ArrayList<>(List.of(h1.toArray())), new ArrayList<>(List.of(h2.toArray())));
        }
    }

    @Test
    void jsonEncodingIsNotReproducedSoEveryRecordTakesApicuriosPath() {
        MemoryRegistry ours = new MemoryRegistry();
        MemoryRegistry theirs = new MemoryRegistry();
        Map<String, Object> json = Map.of("apicurio.registry.avro.encoding", "JSON");
        CachingAvroConverter<Object> caching = configured(new CachingAvroConverter<>(), ours, json);
        AvroConverter<Object> apicurio = configured(new AvroConverter<>(), theirs, json);
        for (long id = 1; id <= 20; id++) {
            assertArrayEquals(apicurio.fromConnectData("t", VALUE, row(id)), caching.fromConnectData("t", VALUE, row(id)));
        }
    }

    @Test
    void tombstonesAndKeysOfAPrimitiveSchema() {
        MemoryRegistry ours = new MemoryRegistry();
        MemoryRegistry theirs = new MemoryRegistry();
        CachingAvroConverter<Object> caching = configured(new CachingAvroConverter<>(), ours, Map.of());
        AvroConverter<Object> apicurio = configured(new AvroConverter<>(), theirs, Map.of());
        assertNull(caching.fromConnectData("t", null, null), "a tombstone stays null");
        for (long id = 1; id <= 5; id++) {
            assertArrayEquals(apicurio.fromConnectData("t", Schema.INT64_SCHEMA, id), caching.fromConnectData("t", Schema.INT64_SCHEMA, id));
        }
        assertEquals(3L, caching.toConnectData("t", caching.fromConnectData("t", Schema.INT64_SCHEMA, 3L)).value());
        assertEquals(1, ours.creates.get());
    }
}
