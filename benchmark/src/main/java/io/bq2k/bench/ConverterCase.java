package io.bq2k.bench;

import static io.bq2k.bench.BenchLog.log;
import static io.bq2k.bench.Stats.fmtN;
import static io.bq2k.bench.Stats.median;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.Converter;

import com.google.protobuf.ByteString;

import io.apicurio.registry.utils.converter.AvroConverter;
import io.bq2k.connect.avro.CachingAvroConverter;
import io.bq2k.connect.bigquery.RecordShape;
import io.bq2k.connect.bigquery.SyncOffset;

/**
 * The converters alone, in the bench's JVM, on the stack's registry: the source's records of the record path
 * ({@link RecordPathCase}: the bench's narrow rows, decoded and built by the connector's own code) written by each
 * converter the worker could use for key and value — JsonConverter with the schema in every record (the shipped JSON
 * configs), Apicurio's AvroConverter as is, and {@link CachingAvroConverter} (the shipped Avro source config) — then
 * read back by the same converter (what the sink's worker does). One thread, its CPU time; a warm-up pass, then R
 * timed passes, medians. Where the worker's CPU per row goes in {@link FormatCase} is these two figures plus the
 * source, the sink's binding and the clients, which do not depend on the format.
 */
final class ConverterCase {

    /** Enough records for steady figures, few enough to keep them all in the bench's heap. */
    static final long MAX_RECORDS = 200_000;

    record Variant(String name, Supplier<Converter[]> converters) {
    }

    /** One timed pass of one converter pair: records written and read per CPU-second, bytes written per record. */
    record Pass(double writePerCore, double readPerCore, double bytesPerRecord) {
    }

    private final BenchOptions opts;
    /** The shipped Avro source config (config/avro/source-bigquery.json, the stack's registry filled in). */
    private final Map<String, String> avroSource;
    private final Map<String, Object> details;
    private final List<String> failures;

    ConverterCase(BenchOptions opts, Map<String, String> avroSource, Map<String, Object> details, List<String> failures) {
        this.opts = opts;
        this.avroSource = avroSource;
        this.details = details;
        this.failures = failures;
    }

    private Converter[] avro(Supplier<Converter> make) {
        Converter[] pair = new Converter[2];
        for (int i = 0; i < 2; i++) {
            // The shipped source config's settings of that converter, its class aside (the variant gives it).
            String prefix = (i == 0 ? "key" : "value") + ".converter.";
            Map<String, Object> c = new HashMap<>();
            avroSource.forEach((k, v) -> {
                if (k.startsWith(prefix)) {
                    c.put(k.substring(prefix.length()), v);
                }
            });
            pair[i] = make.get();
            pair[i].configure(c, i == 0);
        }
        return pair;
    }

    void run(Results res) throws Exception {
        long n = Math.min(opts.rows, MAX_RECORDS);
        List<SourceRecord> records = records(n);
        List<Variant> variants = List.of(
            new Variant("JsonConverter, schema in every record", () -> RecordPathCase.json(true)),
            new Variant("Apicurio AvroConverter as is", () -> avro(AvroConverter::new)),
            new Variant("CachingAvroConverter (shipped)", () -> avro(CachingAvroConverter::new)));
        log("== converters alone: %s source records (bench rows) written and read back by each converter, key and value; "
            + "one thread, thread CPU time, 1 warm-up + %d timed pass(es) each; registry %s", fmtN(n), opts.reps,
            avroSource.get("value.converter.apicurio.registry.url"));
        Map<String, List<Pass>> passes = new LinkedHashMap<>();
        List<Map<String, Object>> raw = new ArrayList<>();
        for (int rep = 0; rep <= opts.reps; rep++) {
            for (Variant v : variants) {
                Pass p = pass(records, v.converters().get());
                log("  %s %s: write %,.0f records/s per core, read %,.0f, %.1f bytes a record (key + value)",
                    rep == 0 ? "warm-up" : "rep " + rep, v.name(), p.writePerCore(), p.readPerCore(), p.bytesPerRecord());
                if (rep > 0) {
                    passes.computeIfAbsent(v.name(), k -> new ArrayList<>()).add(p);
                    raw.add(Map.of("variant", v.name(), "rep", rep, "write_per_core_s", p.writePerCore(), "read_per_core_s", p.readPerCore(),
                        "bytes_per_record", p.bytesPerRecord()));
                }
            }
        }
        details.put("converters", raw);
        double json = median(passes.get(variants.get(0).name()), Pass::writePerCore);
        double apicurio = median(passes.get(variants.get(1).name()), Pass::writePerCore);
        for (Variant v : variants) {
            List<Pass> ps = passes.get(v.name());
            double write = median(ps, Pass::writePerCore);
            res.add("Converter alone, " + fmtN(n) + " records: " + v.name() + ", write (records/s per core)", write, Double.NaN, Double.NaN,
                String.format(Locale.ROOT, "%.2fx JSON, %.2fx Apicurio as is", write / json, write / apicurio),
                String.format(Locale.ROOT, "read back %,.0f records/s per core; %.1f bytes a record", median(ps, Pass::readPerCore),
                    median(ps, Pass::bytesPerRecord)));
        }
    }

    /** The record path's records for rows 1..n (decoded and built by the connector's code, as a task sends them). */
    static List<SourceRecord> records(long n) throws Exception {
        RecordShape shape = RecordPathCase.shape();
        Map<String, String> partition = SyncOffset.partition("bench");
        List<SourceRecord> out = new ArrayList<>((int) n);
        for (List<ByteString> chunk : RecordPathCase.encode(n)) {
            out.addAll(RecordPathCase.chunkRecords(chunk, shape, partition, RecordPathCase.contract()));
        }
        return out;
    }

    /** Writes every record's key and value, then reads them back, with one converter pair; checks the round trip. */
    private Pass pass(List<SourceRecord> records, Converter[] pair) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        RecordHeaders headers = new RecordHeaders();
        byte[][] keys = new byte[records.size()][];
        byte[][] values = new byte[records.size()][];
        long bytes = 0;
        long t0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < records.size(); i++) {
            SourceRecord r = records.get(i);
            keys[i] = pair[0].fromConnectData(r.topic(), headers, r.keySchema(), r.key());
            values[i] = pair[1].fromConnectData(r.topic(), headers, r.valueSchema(), r.value());
        }
        long t1 = mx.getCurrentThreadCpuTime();
        Object last = null;
        for (int i = 0; i < records.size(); i++) {
            bytes += keys[i].length + values[i].length;
            pair[0].toConnectData(RecordPathCase.TOPIC, headers, keys[i]);
            last = pair[1].toConnectData(RecordPathCase.TOPIC, headers, values[i]).value();
        }
        long t2 = mx.getCurrentThreadCpuTime();
        SourceRecord lastRecord = records.get(records.size() - 1);
        if (!String.valueOf(lastRecord.value()).equals(String.valueOf(last))) {
            failures.add("converters: the last record read back as " + last + ", written as " + lastRecord.value());
        }
        return new Pass(records.size() / ((t1 - t0) / 1e9), records.size() / ((t2 - t1) / 1e9), (double) bytes / records.size());
    }
}
