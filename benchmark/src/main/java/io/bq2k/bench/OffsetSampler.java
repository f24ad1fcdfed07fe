package io.bq2k.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

import io.bq2k.stack.LocalStack;

/** Samples a topic's end offsets every 250 ms on a thread of its own: records/s between the first record and the last. */
final class OffsetSampler {

    private final LocalStack stack;
    private final String topic;
    private final int partitions;
    private final List<long[]> samples = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean on = true;
    private Thread t;

    OffsetSampler(LocalStack stack, String topic, int partitions) {
        this.stack = stack;
        this.topic = topic;
        this.partitions = partitions;
    }

    void start() {
        t = new Thread(() -> {
            try {
                Admin admin = stack.admin();
                try {
                    Map<TopicPartition, OffsetSpec> req = new LinkedHashMap<>();
                    for (int i = 0; i < partitions; i++) {
                        req.put(new TopicPartition(topic, i), OffsetSpec.latest());
                    }
                    while (on) {
                        long sum = 0;
                        for (var e : admin.listOffsets(req).all().get().values()) {
                            sum += e.offset();
                        }
                        samples.add(new long[] {System.nanoTime(), sum});
                        Thread.sleep(250);
                    }
                } finally {
                    admin.close(Duration.ofSeconds(2));
                }
            } catch (Exception e) {
                // sampling is best effort
            }
        }, "offset-sampler");
        t.setDaemon(true);
        t.start();
    }

    void stop() throws InterruptedException {
        on = false;
        t.join(5000);
    }

    /** Records/s from the first sample with a record to the first with {@code total}; NaN when the samples cannot tell. */
    double rate(long total) {
        long tFirst = -1, tLast = -1, cFirst = 0;
        synchronized (samples) {
            for (long[] s : samples) {
                if (tFirst < 0 && s[1] > 0) {
                    tFirst = s[0];
                    cFirst = s[1];
                }
                if (s[1] >= total) {
                    tLast = s[0];
                    break;
                }
            }
        }
        return tFirst < 0 || tLast <= tFirst ? Double.NaN : (total - cFirst) / ((tLast - tFirst) / 1e9);
    }
}
