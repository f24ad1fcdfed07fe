package io.bq2k.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The Connect worker's memory during a run: heap over JMX (java.lang:type=Memory polled every 250 ms,
 * plus the heap pools' peak usage after a reset, plus the old generation's usage after GC)
 * and RSS from /proc/&lt;pid&gt;/status (VmHWM after {@code clear_refs 5} resets it, and VmRSS).
 */
final class WorkerMemory implements AutoCloseable {

    /** Figures of one measured window, in bytes. */
    record Peak(long heapUsedPolled, long heapPoolsPeak, long oldGenAfterGc, long rssHwm, long rssPolled) {}

    private final JMXConnector jmx;
    private final MBeanServerConnection mbs;
    private final long pid;
    private volatile boolean polling;
    private Thread poller;
    private final AtomicLong maxHeap = new AtomicLong();
    private final AtomicLong maxOldAfterGc = new AtomicLong();
    private final AtomicLong maxRss = new AtomicLong();

    WorkerMemory(int jmxPort, long pid) throws IOException {
        this.jmx = JMXConnectorFactory.connect(new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi"));
        this.mbs = jmx.getMBeanServerConnection();
        this.pid = pid;
    }

    private List<MemoryPoolMXBean> heapPools() throws IOException {
        return ManagementFactory.getPlatformMXBeans(mbs, MemoryPoolMXBean.class).stream()
                .filter(p -> p.getType() == MemoryType.HEAP).toList();
    }

    /** Full GC in the worker, reset pool peaks and the RSS high-water mark, start polling. */
    void start() throws IOException {
        MemoryMXBean mem = ManagementFactory.newPlatformMXBeanProxy(mbs, ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
        mem.gc();
        for (MemoryPoolMXBean p : heapPools()) {
            p.resetPeakUsage();
        }
        try {
            Files.writeString(Path.of("/proc/" + pid + "/clear_refs"), "5"); // resets VmHWM to the current RSS
        } catch (IOException e) {
            // not permitted: VmHWM is then the process lifetime's peak (stated in the report)
        }
        maxHeap.set(0);
        maxOldAfterGc.set(0);
        maxRss.set(0);
        polling = true;
        List<MemoryPoolMXBean> pools = heapPools();
        poller = new Thread(() -> {
            while (polling) {
                try {
                    MemoryUsage h = mem.getHeapMemoryUsage();
                    maxHeap.accumulateAndGet(h.getUsed(), Math::max);
                    for (MemoryPoolMXBean p : pools) {
                        if (p.getName().contains("Old")) {
                            MemoryUsage cu = p.getCollectionUsage();
                            if (cu != null) {
                                maxOldAfterGc.accumulateAndGet(cu.getUsed(), Math::max);
                            }
                        }
                    }
                    maxRss.accumulateAndGet(status("VmRSS"), Math::max);
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // a failed poll: skip it
                }
            }
        }, "worker-memory");
        poller.setDaemon(true);
        poller.start();
    }

    Peak stop() throws IOException, InterruptedException {
        polling = false;
        poller.join(2000);
        long poolsPeak = 0;
        for (MemoryPoolMXBean p : heapPools()) {
            poolsPeak += p.getPeakUsage().getUsed();
        }
        return new Peak(maxHeap.get(), poolsPeak, maxOldAfterGc.get(), status("VmHWM"), maxRss.get());
    }

    /** A /proc/&lt;pid&gt;/status field in bytes (its value is in kB), -1 when unreadable. */
    long status(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return -1;
    }

    /** A JMX attribute of an MBean, or null. */
    Object attribute(String objectName, String attribute) {
        try {
            return mbs.getAttribute(new ObjectName(objectName), attribute);
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        polling = false;
        jmx.close();
    }
}
