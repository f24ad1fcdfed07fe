package io.bq2k.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.lang.management.RuntimeMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import javax.management.MBeanServerConnection;
import javax.management.Notification;
import javax.management.NotificationListener;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.GcInfo;

/**
 * The Connect worker's memory during a run, over JMX and /proc:
 * <ul>
 * <li>heap used after every GC of the window, from the worker's GC notifications (every collection,
 *     not a sample; each notification carries every pool's usage before and after it), together with
 *     the heap after the full GC that opens the window;
 * <li>with {@code start(liveEveryMs > 0)}: the live heap, i.e. heap used after a full GC forced in
 *     the worker every {@code liveEveryMs} (G1's young collections promote short-lived data that only
 *     a marking cycle or a full GC reclaims, so heap used after a young GC grows with the time since
 *     the last cycle, not with what the worker holds);
 * <li>heap used polled every 250 ms ({@code java.lang:type=Memory} HeapMemoryUsage.used), and the sum
 *     of the heap pools' peak usage since their reset at the window's start;
 * <li>the old generation's CollectionUsage (G1 updates it after a mixed or full collection only);
 * <li>RSS from /proc/&lt;pid&gt;/status: VmHWM after {@code clear_refs 5} reset it, and VmRSS polled.
 * </ul>
 */
final class WorkerMemory implements AutoCloseable {

    /** One collection of the window: heap (sum of the heap pools) and old generation before and after, in bytes. */
    record Gc(String collector, String action, String cause, long startMs, long durationMs, long heapBefore, long heapAfter,
              long oldBefore, long oldAfter) {}

    /**
     * Figures of one measured window, in bytes. {@code heapAfterGcPeak}: the most heap used after a
     * collection of the window, the full GC that opens it included (so it is defined when no GC ran).
     */
    record Peak(long heapUsedPolled, long heapPoolsPeak, long oldGenAfterGc, long rssHwm, long rssPolled, long heapAfterGcPeak,
                long heapAtStart, List<Gc> gcs) {
        long gcPauseMs() {
            return gcs.stream().mapToLong(Gc::durationMs).sum();
        }

        /** Full collections of the window (the forced ones of a live window). */
        List<Gc> fullGcs() {
            return gcs.stream().filter(g -> g.action().contains("major")).toList();
        }

        /** The most heap used after a full GC: the opening one and those of the window. */
        long liveHeapPeak() {
            return Math.max(heapAtStart, fullGcs().stream().mapToLong(Gc::heapAfter).max().orElse(0));
        }
    }

    private final JMXConnector jmx;
    private final MBeanServerConnection mbs;
    private final long pid;
    private final RuntimeMXBean runtime;
    private final MemoryMXBean mem;
    private final Set<String> heapPoolNames;
    private final List<Gc> gcs = new ArrayList<>();
    private final List<ObjectName> collectors = new ArrayList<>();
    private final NotificationListener gcListener = this::onGc;
    private volatile boolean polling;
    private Thread poller;
    private final AtomicLong maxHeap = new AtomicLong();
    private final AtomicLong maxOldAfterGc = new AtomicLong();
    private final AtomicLong maxRss = new AtomicLong();

    WorkerMemory(int jmxPort, long pid) throws IOException {
        this.jmx = JMXConnectorFactory.connect(new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi"));
        this.mbs = jmx.getMBeanServerConnection();
        this.pid = pid;
        this.runtime = ManagementFactory.newPlatformMXBeanProxy(mbs, ManagementFactory.RUNTIME_MXBEAN_NAME, RuntimeMXBean.class);
        this.mem = ManagementFactory.newPlatformMXBeanProxy(mbs, ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
        this.heapPoolNames = heapPools().stream().map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
        try {
            for (ObjectName n : mbs.queryNames(new ObjectName(ManagementFactory.GARBAGE_COLLECTOR_MXBEAN_DOMAIN_TYPE + ",*"), null)) {
                mbs.addNotificationListener(n, gcListener, null, null);
                collectors.add(n);
            }
        } catch (javax.management.JMException e) {
            throw new IOException("worker GC notifications: " + e, e);
        }
    }

    private List<MemoryPoolMXBean> heapPools() throws IOException {
        return ManagementFactory.getPlatformMXBeans(mbs, MemoryPoolMXBean.class).stream()
                .filter(p -> p.getType() == MemoryType.HEAP).toList();
    }

    private void onGc(Notification n, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
            return;
        }
        GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
        GcInfo g = info.getGcInfo();
        Gc gc = new Gc(info.getGcName(), info.getGcAction(), info.getGcCause(), g.getStartTime(), g.getDuration(),
                heap(g.getMemoryUsageBeforeGc()), heap(g.getMemoryUsageAfterGc()), old(g.getMemoryUsageBeforeGc()), old(g.getMemoryUsageAfterGc()));
        synchronized (gcs) {
            gcs.add(gc);
        }
    }

    private long heap(Map<String, MemoryUsage> pools) {
        return pools.entrySet().stream().filter(e -> heapPoolNames.contains(e.getKey())).mapToLong(e -> e.getValue().getUsed()).sum();
    }

    private static long old(Map<String, MemoryUsage> pools) {
        return pools.entrySet().stream().filter(e -> e.getKey().contains("Old")).mapToLong(e -> e.getValue().getUsed()).sum();
    }

    private long windowStartMs;
    private long heapAtStart;

    /** {@link #start(long)} without forced GCs. */
    void start() throws IOException {
        start(0);
    }

    /**
     * Full GC in the worker, reset pool peaks and the RSS high-water mark, start polling and collecting
     * GC notifications; with {@code liveEveryMs > 0} also a full GC in the worker every that many ms.
     */
    void start(long liveEveryMs) throws IOException {
        mem.gc();
        heapAtStart = mem.getHeapMemoryUsage().getUsed();
        windowStartMs = runtime.getUptime(); // GcInfo start times are JVM uptime in ms
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
            long lastGc = System.nanoTime();
            while (polling) {
                try {
                    if (liveEveryMs > 0 && System.nanoTime() - lastGc >= liveEveryMs * 1_000_000) {
                        lastGc = System.nanoTime();
                        mem.gc();
                    }
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
        long windowEndMs = runtime.getUptime();
        polling = false;
        poller.join(2000);
        long poolsPeak = 0;
        for (MemoryPoolMXBean p : heapPools()) {
            poolsPeak += p.getPeakUsage().getUsed();
        }
        Thread.sleep(1500); // the JMX client fetches notifications in the background: let the window's last ones arrive
        List<Gc> window;
        synchronized (gcs) {
            window = gcs.stream().filter(g -> g.startMs() >= windowStartMs && g.startMs() <= windowEndMs).toList();
        }
        long afterGc = Math.max(heapAtStart, window.stream().mapToLong(Gc::heapAfter).max().orElse(0));
        return new Peak(maxHeap.get(), poolsPeak, maxOldAfterGc.get(), status("VmHWM"), maxRss.get(), afterGc, heapAtStart, window);
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
        for (ObjectName n : collectors) {
            try {
                mbs.removeNotificationListener(n, gcListener);
            } catch (Exception ignored) {
                // closing anyway
            }
        }
        jmx.close();
    }
}
