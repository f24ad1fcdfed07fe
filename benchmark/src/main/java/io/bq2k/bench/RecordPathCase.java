package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;
import static io.bq2k.bench.Stats.fmtN;
import static io.bq2k.bench.Stats.median;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;

import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldList;
import com.google.cloud.bigquery.StandardSQLTypeName;
import com.google.protobuf.ByteString;

import io.bq2k.connect.bigquery.AvroChangeDecoder;
import io.bq2k.connect.bigquery.ColumnMapping;
import io.bq2k.connect.bigquery.RecordContract;
import io.bq2k.connect.bigquery.RecordShape;
import io.bq2k.connect.bigquery.SyncConfig;
import io.bq2k.connect.bigquery.SyncOffset;
import io.bq2k.connect.bigquery.SyncSql;

/**
 * The source's own record path, no stack (the emulator is not the limit): N diff rows of the bench's
 * narrow rows ({@link BenchData}), Avro-encoded as the Storage Read API sends them (binary rows back to
 * back under the read session's schema: the diff table's leading columns, then the query's columns, all
 * nullable), go through the connector's own code, chunk by chunk as a task reads them: decoding and record
 * building ({@link AvroChangeDecoder}, the seq sort of {@code StorageChangeReader}, {@link RecordShape#records}
 * with the in-run offsets), then the converter the worker applies to key and value ({@link JsonConverter}
 * with schemas, the shipped setting; and schema-less, the bench's wire format). One thread; CPU time of that
 * thread ({@link ThreadMXBean}), so the figures are records per CPU-second of one core; GC and JIT threads
 * are not in them (the process's CPU over the same pass is logged beside). A warm-up pass of each variant,
 * then R timed passes; the median is reported.
 */
final class RecordPathCase {

    static final double TARGET = 150_000;
    /** read.chunk.rows' default: a task reads a chunk per read session. */
    static final int CHUNK_ROWS = 20_000;
    /** Rows per ReadRowsResponse. */
    static final int PAGE_ROWS = 5_000;
    static final String TOPIC = "bench.features";

    private final BenchOptions opts;
    private final Map<String, Object> details;
    private final List<String> failures;

    RecordPathCase(BenchOptions opts, Map<String, Object> details, List<String> failures) {
        this.opts = opts;
        this.details = details;
        this.failures = failures;
    }

    /** The diff table's Avro schema as a read session reports it (BigQuery's Avro mapping; CTAS columns are nullable). */
    static String avroSchema() {
        return "{\"type\":\"record\",\"name\":\"Root\",\"namespace\":\"com.google.cloud.bigquery\",\"fields\":["
            + field(SyncSql.BUCKET, "\"long\"") + "," + field(SyncSql.SEQ, "\"long\"") + "," + field(SyncSql.OP, "\"string\"") + ","
            + field("_bq2k_bytes", "\"long\"") + "," + field("id", "\"long\"") + "," + field("f_int", "\"long\"") + ","
            + field("f_float", "\"double\"") + "," + field("f_str", "\"string\"") + ","
            + field("f_ts", "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}") + ","
            + field("f_num", "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":38,\"scale\":9}") + "]}";
    }

    private static String field(String name, String type) {
        return "{\"name\":\"" + name + "\",\"type\":[\"null\"," + type + "],\"default\":null}";
    }

    /** The shape of the bench's query result (snapshot columns, fingerprint included), key id, the default style. */
    static RecordShape shape() {
        FieldList fields = FieldList.of(Field.newBuilder("id", StandardSQLTypeName.INT64).setMode(Field.Mode.REQUIRED).build(),
            Field.of("f_int", StandardSQLTypeName.INT64), Field.of("f_float", StandardSQLTypeName.FLOAT64),
            Field.of("f_str", StandardSQLTypeName.STRING), Field.of("f_ts", StandardSQLTypeName.TIMESTAMP),
            Field.of("f_num", StandardSQLTypeName.NUMERIC), Field.of(SyncSql.FINGERPRINT, StandardSQLTypeName.BYTES));
        return RecordShape.of(fields, List.of("id"), TOPIC,
            new ColumnMapping.Style(SyncConfig.TemporalPrecision.MICROS, SyncConfig.JsonColumns.TEXT));
    }

    static long fTs(long id) {
        return 1_700_000_000_000_000L + id * 1_000_003L;
    }

    static long fNumUnscaled(long id) {
        return id * 104_729L % 100_000_000_000L;
    }

    /** Rows 1..n of an initial sync's diff (one bucket, all additions, seq = id), in chunks of pages of Avro binary rows. */
    static List<List<ByteString>> encode(long n) throws IOException {
        Schema schema = new Schema.Parser().parse(avroSchema());
        GenericDatumWriter<GenericRecord> writer = new GenericDatumWriter<>(schema);
        List<List<ByteString>> chunks = new ArrayList<>();
        ByteArrayOutputStream page = new ByteArrayOutputStream(PAGE_ROWS * 80);
        BinaryEncoder enc = null;
        GenericRecord r = new GenericData.Record(schema);
        List<ByteString> chunk = new ArrayList<>();
        for (long id = 1; id <= n; id++) {
            r.put(0, 0L);
            r.put(1, id);
            r.put(2, SyncSql.OP_ADDED);
            r.put(3, 140L + id % 10); // the row's JSON size: not decoded into the record
            r.put(4, id);
            r.put(5, id * 7919 % 1_000_000);
            r.put(6, (id % 100_000) / 16.0);
            r.put(7, id % 13 == 0 ? null : "u" + id + "-" + Long.toHexString((id * 2654435761L) & 0xffffffffL));
            r.put(8, fTs(id));
            r.put(9, ByteBuffer.wrap(BigInteger.valueOf(fNumUnscaled(id)).toByteArray()));
            enc = EncoderFactory.get().binaryEncoder(page, enc);
            writer.write(r, enc);
            enc.flush();
            boolean chunkEnd = id % CHUNK_ROWS == 0 || id == n;
            if (id % PAGE_ROWS == 0 || chunkEnd) {
                chunk.add(ByteString.copyFrom(page.toByteArray()));
                page.reset();
            }
            if (chunkEnd) {
                chunks.add(chunk);
                chunk = new ArrayList<>();
            }
        }
        return chunks;
    }

    /** What a pass measured: records, CPU seconds of this thread and of the process, a checksum of the output. */
    record Pass(long records, double threadCpuS, double processCpuS, double wallS, long checksum) {
        double perCore() {
            return records / threadCpuS;
        }
    }

    /** One pass over every chunk: decode + records, and with {@code converters} each record's key and value converted. */
    static Pass pass(List<List<ByteString>> chunks, RecordShape shape, JsonConverter[] converters) throws IOException {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Map<String, String> partition = SyncOffset.partition("bench");
        RecordContract contract = contract();
        RecordHeaders headers = new RecordHeaders();
        long records = 0, checksum = 0;
        long p0 = os.getProcessCpuTime(), w0 = System.nanoTime(), t0 = mx.getCurrentThreadCpuTime();
        for (List<ByteString> chunk : chunks) {
            List<SourceRecord> out = chunkRecords(chunk, shape, partition, contract);
            records += out.size();
            if (converters == null) {
                checksum += out.get(out.size() - 1).sourceOffset().size();
                continue;
            }
            // As the worker per record (WorkerSourceTask.convertTransformedRecord): key, then value.
            for (SourceRecord rec : out) {
                byte[] k = converters[0].fromConnectData(rec.topic(), headers, rec.keySchema(), rec.key());
                byte[] v = converters[1].fromConnectData(rec.topic(), headers, rec.valueSchema(), rec.value());
                checksum += k.length + (v == null ? 0 : v.length);
            }
        }
        long t1 = mx.getCurrentThreadCpuTime(), w1 = System.nanoTime(), p1 = os.getProcessCpuTime();
        return new Pass(records, (t1 - t0) / 1e9, (p1 - p0) / 1e9, (w1 - w0) / 1e9, checksum);
    }

    /** One chunk's records as a task makes them: decoded, in seq order, built with the in-run offsets. */
    static List<SourceRecord> chunkRecords(List<ByteString> chunk, RecordShape shape, Map<String, String> partition, RecordContract contract)
            throws IOException {
        // As StorageChangeReader per read session: a decoder for the session's schema, the rows in seq order.
        AvroChangeDecoder decoder = new AvroChangeDecoder(avroSchema(), shape, "bench.diff");
        List<RecordShape.Change> changes = new ArrayList<>(CHUNK_ROWS);
        for (ByteString page : chunk) {
            decoder.decode(page, changes);
        }
        changes.sort(Comparator.comparingLong(RecordShape.Change::seq));
        // As ActiveRun per chunk.
        return shape.records(changes, partition, TOPIC, 1, 0, 0, contract, 1_700_000_000_000L);
    }

    static RecordContract contract() {
        return new RecordContract(TOPIC, List.of("id"), SyncConfig.TemporalPrecision.MICROS, SyncConfig.JsonColumns.TEXT);
    }

    static JsonConverter[] json(boolean schemas) {
        JsonConverter key = new JsonConverter();
        key.configure(Map.of("schemas.enable", Boolean.toString(schemas)), true);
        JsonConverter value = new JsonConverter();
        value.configure(Map.of("schemas.enable", Boolean.toString(schemas)), false);
        return new JsonConverter[] {key, value};
    }

    /** The records of the first chunk checked against the row formula: the path must produce the right values. */
    private void check(List<List<ByteString>> chunks, RecordShape shape) throws IOException {
        AvroChangeDecoder decoder = new AvroChangeDecoder(avroSchema(), shape, "bench.diff");
        List<RecordShape.Change> changes = new ArrayList<>();
        for (ByteString page : chunks.get(0)) {
            decoder.decode(page, changes);
        }
        int bad = 0;
        for (int i = 0; i < changes.size(); i++) {
            long id = i + 1;
            RecordShape.Change c = changes.get(i);
            Struct v = c.value();
            boolean ok = c.seq() == id && c.op().equals(SyncSql.OP_ADDED) && c.key().get("id").equals(id) && v.get("id").equals(id)
                && v.get("f_int").equals(id * 7919 % 1_000_000) && v.get("f_float").equals((id % 100_000) / 16.0)
                && (id % 13 == 0 ? v.get("f_str") == null : v.get("f_str").equals("u" + id + "-" + Long.toHexString((id * 2654435761L) & 0xffffffffL)))
                && v.get("f_ts").equals(fTs(id)) && v.get("f_num").equals(BigDecimal.valueOf(fNumUnscaled(id), 9));
            if (!ok && bad++ < 3) {
                failures.add("record path: change " + id + " decoded as " + c);
            }
        }
        byte[] json = json(true)[1].fromConnectData(TOPIC, shape.valueSchema(), changes.get(12).value());
        log("  record path: value of id 13 as the worker's JsonConverter (schemas) writes it: %s", new String(json, java.nio.charset.StandardCharsets.UTF_8));
    }

    void run(Results res) throws Exception {
        long n = opts.rows;
        int reps = opts.reps;
        log("== record path: %s diff rows, Avro as the Storage Read API sends them -> AvroChangeDecoder -> RecordShape.records -> JsonConverter; "
            + "one thread, thread CPU time, 1 warm-up + %d timed pass(es) each; load avg %.1f", fmtN(n), reps, HostMetrics.load1());
        long e0 = System.nanoTime();
        List<List<ByteString>> chunks = encode(n);
        long bytes = chunks.stream().flatMap(List::stream).mapToLong(ByteString::size).sum();
        log("  encoded %,d rows in %d chunks (%,d bytes of Avro rows, %.1f bytes a row) in %.1fs", n, chunks.size(), bytes, (double) bytes / n,
            (System.nanoTime() - e0) / 1e9);
        RecordShape shape = shape();
        check(chunks, shape);
        String[] names = {"decode + records", "+ JsonConverter with schemas (shipped)", "+ JsonConverter schema-less"};
        List<List<Pass>> passes = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        List<Map<String, Object>> raw = new ArrayList<>();
        for (int rep = 0; rep <= reps; rep++) {
            for (int variant = 0; variant < 3; variant++) {
                JsonConverter[] conv = variant == 0 ? null : json(variant == 1);
                Pass p = pass(chunks, shape, conv);
                if (p.records() != n) {
                    failures.add("record path: " + p.records() + " records from " + n + " rows");
                }
                log("  %s %s: %,.0f records/s per core (thread CPU %.2fs; process CPU %.2fs = %,.0f records/s; wall %.2fs) load %.1f",
                    rep == 0 ? "warm-up" : "rep " + rep, names[variant], p.perCore(), p.threadCpuS(), p.processCpuS(), p.records() / p.processCpuS(),
                    p.wallS(), HostMetrics.load1());
                if (rep > 0) {
                    passes.get(variant).add(p);
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("variant", names[variant]); m.put("rep", rep); m.put("records", p.records());
                    m.put("thread_cpu_s", p.threadCpuS()); m.put("process_cpu_s", p.processCpuS()); m.put("wall_s", p.wallS());
                    m.put("records_per_core_s", p.perCore()); m.put("load1", HostMetrics.load1()); m.put("checksum", p.checksum());
                    raw.add(m);
                }
            }
        }
        details.put("record_path", raw);
        String[] notes = {
            "Avro rows -> AvroChangeDecoder -> seq sort -> RecordShape.records (Structs, offsets); per CPU-second of one thread",
            "what the worker does per record before the producer, with the shipped converters",
            "the bench's stack cases: schema-less JSON on the wire, schema in the sink's schema.content",
        };
        for (int v = 0; v < 3; v++) {
            double perCore = median(passes.get(v), Pass::perCore);
            res.add("Source record path, " + fmtN(n) + " changes, no stack: " + names[v] + " (records/s per core)", perCore, Double.NaN, Double.NaN,
                String.format("%.2fx target 150k", perCore / TARGET),
                notes[v] + String.format("; process CPU (GC, JIT included): %,.0f records/s", median(passes.get(v), p -> p.records() / p.processCpuS())));
        }
        double shipped = median(passes.get(1), Pass::perCore);
        res.target("Source's own emission >= 150,000 records/s per core (record path, JSON with schemas)", shipped >= TARGET,
            String.format("%,.0f records/s per core", shipped));
    }
}
