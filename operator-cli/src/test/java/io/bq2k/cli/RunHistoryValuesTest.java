package io.bq2k.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;

/** Run summaries as each value converter writes them: JSON with and without the envelope, Avro in the registry's wire format. */
class RunHistoryValuesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema SUMMARY = SchemaBuilder.record("RunSummary").fields()
        .requiredString("sync").requiredLong("run").requiredString("mode").requiredLong("added").endRecord();

    @Test
    void jsonWithAndWithoutTheSchemaEnvelope() {
        RunHistoryValues values = new RunHistoryValues(JSON.createObjectNode());
        String payload = "{\"sync\":\"s\",\"run\":3,\"mode\":\"incremental\",\"added\":5}";
        assertEquals(3, values.read(("{\"schema\":{},\"payload\":" + payload + "}").getBytes(StandardCharsets.UTF_8)).path("run").asLong());
        assertEquals(5, values.read(payload.getBytes(StandardCharsets.UTF_8)).path("added").asLong());
    }

    @Test
    void avroInTheRegistryWireFormatIsDecodedWithTheSchemaFetchedOncePerId() throws Exception {
        AtomicInteger fetches = new AtomicInteger();
        HttpServer registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        registry.createContext("/apis/ccompat/v7/schemas/ids/42", ex -> {
            fetches.incrementAndGet();
            byte[] body = JSON.writeValueAsBytes(JSON.createObjectNode().put("schema", SUMMARY.toString()));
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        registry.start();
        try {
            ObjectNode config = JSON.createObjectNode().put("value.converter.apicurio.registry.url",
                "http://127.0.0.1:" + registry.getAddress().getPort() + "/apis/registry/v2");
            RunHistoryValues values = new RunHistoryValues(config);
            JsonNode first = values.read(wire(42, summary(7, 120)));
            JsonNode second = values.read(wire(42, summary(8, 3)));
            assertEquals(7, first.path("run").asLong());
            assertEquals("incremental", first.path("mode").asText());
            assertEquals(120, first.path("added").asLong());
            assertEquals(8, second.path("run").asLong());
            assertEquals(1, fetches.get(), "one schema fetch per id");
            assertNull(values.read(wire(43, summary(9, 0))), "an id the registry does not know: unreadable, not a failure");
        } finally {
            registry.stop(0);
        }
    }

    @Test
    void avroWithoutARegistryInTheConfigIsUnreadable() throws Exception {
        assertNull(new RunHistoryValues(JSON.createObjectNode()).read(wire(42, summary(1, 1))));
    }

    private static GenericRecord summary(long run, long added) {
        GenericRecord r = new GenericData.Record(SUMMARY);
        r.put("sync", "s");
        r.put("run", run);
        r.put("mode", "incremental");
        r.put("added", added);
        return r;
    }

    private static byte[] wire(int id, GenericRecord record) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(SUMMARY).write(record, enc);
        enc.flush();
        return out.toByteArray();
    }
}
