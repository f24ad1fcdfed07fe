package io.bq2k.stack;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs the stack's components as OS processes the same way for each {@link ComponentRecipe}: its own
 * session ({@code setsid}, so a Ctrl-C of the caller does not reach it), a pid file, a log file
 * appended per start, a readiness wait, and a graceful stop (SIGTERM, SIGKILL after the recipe's
 * timeout) that also reaps what the process left behind.
 *
 * <p>The recorded pid is the component's own process (the JVM, or the emulator's Python process), and
 * a pid is only trusted while its command line is still the recipe's (pid reuse).
 */
final class ProcessSupervisor {

    private final StackSettings s;
    private final Map<Component, Duration> lastStartDurations = new EnumMap<>(Component.class);

    ProcessSupervisor(StackSettings s) {
        this.s = s;
    }

    Map<Component, Duration> lastStartDurations() {
        return Map.copyOf(lastStartDurations);
    }

    /** Starts the recipe's process (its ports must be free) and records its pid; does not wait. */
    void spawn(ComponentRecipe r) {
        Component c = r.component();
        for (int port : r.ports()) {
            if (portOpen(port)) {
                throw new IllegalStateException("cannot start " + c.id() + ": port 127.0.0.1:" + port
                        + " is already in use by another process (not this stack's " + c.id() + "); choose another port (env var or builder)");
            }
        }
        r.reapOrphans();
        List<String> cmd = r.command();
        List<String> full = new java.util.ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid")) || Files.isExecutable(Path.of("/bin/setsid"))) {
            full.add("setsid"); // own session; no fork, so the pid stays the component's
        }
        full.addAll(cmd);
        try {
            Files.createDirectories(s.dataDir(c));
            Path log = s.logFile(c);
            Files.writeString(log, "\n===== " + Instant.now() + " starting " + c.id() + ": " + String.join(" ", cmd) + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ProcessBuilder pb = new ProcessBuilder(full)
                    .directory(s.projectRoot.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().putAll(r.environment());
            Process p = pb.start();
            Files.writeString(s.pidFile(c), p.pid() + "\n");
            log("started %s (pid %d), log %s", c.id(), p.pid(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + c.id() + " failed", e);
        }
    }

    /** Waits until the recipe's probe answers; a process that exits meanwhile fails with its own log lines. */
    void awaitReady(ComponentRecipe r, Instant spawnedAt) {
        Component c = r.component();
        Instant t0 = spawnedAt != null ? spawnedAt : Instant.now();
        long deadline = System.nanoTime() + s.startTimeout.toNanos();
        while (true) {
            boolean alive = spawnedAt != null ? spawnedAlive(c) : running(r).isPresent();
            if (!alive) {
                throw new IllegalStateException(c.id() + " exited during start-up; what it wrote to " + s.logFile(c) + ":\n"
                        + LogFiles.sinceLastStart(s.logFile(c), 60));
            }
            String detail = probeQuietly(r);
            if (detail != null) {
                if (spawnedAt != null) {
                    Duration d = Duration.between(t0, Instant.now());
                    lastStartDurations.put(c, d);
                    log("%s ready in %.1fs: %s", c.id(), d.toMillis() / 1000.0, r.address());
                }
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(c.id() + " not ready after " + s.startTimeout.toSeconds() + "s; last lines of "
                        + s.logFile(c) + ":\n" + LogFiles.tail(s.logFile(c), 40));
            }
            sleep(250);
        }
    }

    static String probeQuietly(ComponentRecipe r) {
        try {
            return r.probe();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            return null;
        }
    }

    /** Graceful stop (SIGTERM, then SIGKILL after the recipe's timeout); leftovers of its process tree are killed. */
    void stop(ComponentRecipe r) {
        Component c = r.component();
        Optional<ProcessHandle> ph = running(r);
        if (ph.isPresent()) {
            ProcessHandle p = ph.get();
            List<ProcessHandle> children = p.descendants().collect(Collectors.toList());
            log("stopping %s (pid %d)", c.id(), p.pid());
            long t0 = System.nanoTime();
            p.destroy();
            if (!waitForExit(p, r.stopTimeout())) {
                log("%s did not stop within %ds: SIGKILL", c.id(), r.stopTimeout().toSeconds());
                p.destroyForcibly();
                waitForExit(p, Duration.ofSeconds(10));
            }
            for (ProcessHandle h : children) {
                stopProcess(h, "leftover child");
            }
            log("stopped %s in %.1fs", c.id(), (System.nanoTime() - t0) / 1e9);
        }
        r.reapOrphans();
        LogFiles.deleteQuietly(s.pidFile(c));
    }

    /** SIGKILL (no graceful shutdown) and wait until gone. */
    void kill(ComponentRecipe r) {
        Optional<ProcessHandle> ph = running(r);
        if (ph.isEmpty()) {
            log("%s is not running", r.component().id());
            return;
        }
        log("kill -9 %s (pid %d)", r.component().id(), ph.get().pid());
        ph.get().destroyForcibly();
        waitForExit(ph.get(), Duration.ofSeconds(15));
        LogFiles.deleteQuietly(s.pidFile(r.component()));
    }

    /** The component's live process, if its pid file names one whose command line is the recipe's. */
    Optional<ProcessHandle> running(ComponentRecipe r) {
        Path pf = s.pidFile(r.component());
        if (!Files.exists(pf)) {
            return Optional.empty();
        }
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pf).trim());
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> r.isOwnProcess(cmdline(pid)));
    }

    /**
     * Whether the process just spawned is alive. Its command line cannot prove it ours yet: for its
     * first milliseconds it is Java's launch helper or setsid, not the component.
     */
    private boolean spawnedAlive(Component c) {
        try {
            long pid = Long.parseLong(Files.readString(s.pidFile(c)).trim());
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    /** Runs a preparatory command (an install, a storage format) to completion, its output into the component's log. */
    void runToCompletion(List<String> cmd, Component logOf, Duration timeout) {
        Path log = s.logFile(logOf);
        try {
            Files.createDirectories(log.getParent());
            Process p = new ProcessBuilder(cmd).directory(s.projectRoot.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", cmd));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("failed (exit " + p.exitValue() + "): " + String.join(" ", cmd)
                        + "\nlast lines of " + log + ":\n" + LogFiles.tail(log, 30));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Gracefully stops every process whose command line contains {@code needle}. */
    void stopProcessesWhoseCommandContains(String needle, String what) {
        ProcessHandle.allProcesses().filter(h -> cmdline(h.pid()).contains(needle)).forEach(h -> stopProcess(h, what));
    }

    private void stopProcess(ProcessHandle h, String what) {
        if (!h.isAlive()) {
            return;
        }
        log("stopping %s (pid %d)", what, h.pid());
        h.destroy();
        if (!waitForExit(h, Duration.ofSeconds(30))) {
            h.destroyForcibly();
            waitForExit(h, Duration.ofSeconds(10));
        }
    }

    static String cmdline(long pid) {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "cmdline"));
            return new String(b, StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return ProcessHandle.of(pid).flatMap(h -> h.info().commandLine()).orElse("") + " ";
        }
    }

    static boolean portOpen(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean waitForExit(ProcessHandle p, Duration d) {
        try {
            p.onExit().get(d.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !p.isAlive();
        } catch (java.util.concurrent.TimeoutException | ExecutionException e) {
            return !p.isAlive();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    void log(String fmt, Object... args) {
        if (!s.quiet) {
            System.out.println("stack: " + String.format(fmt, args));
            System.out.flush();
        }
    }
}
