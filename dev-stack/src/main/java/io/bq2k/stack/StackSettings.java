package io.bq2k.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything that tells one local stack from another: where its files live, its ports, heaps and
 * credentials, and the worker's base properties and overrides. Immutable; built by {@link Builder}
 * with defaults from the environment. The addresses clients use are derived here, once.
 */
public final class StackSettings {

    /** The module whose {@code target/} holds the stack's class paths and the unpacked sink. */
    static final String MODULE = "dev-stack";

    final Path projectRoot;
    final Path moduleDir;
    final Path stackDir;
    final int bqRestPort;
    final int bqGrpcPort;
    final int mysqlPort;
    final int kafkaPort;
    final int kafkaControllerPort;
    final int connectPort;
    final int connectJmxPort;
    /** Apicurio Registry's HTTP port (started only when asked for: {@link Component#REGISTRY}). */
    final int registryPort;
    final String registryHeap;
    final String connectHeap;
    final String kafkaHeap;
    final String mariadbHeap;
    final String mysqlDatabase;
    final String mysqlUser;
    final String mysqlPassword;
    final String mysqlRootPassword;
    final String bqProject;
    final String bqLogLevel;
    final Path workerBaseProperties;
    final List<Path> extraPluginPaths;
    final Map<String, String> workerOverrides;
    final Duration startTimeout;
    final boolean quiet;
    final boolean stopOnJvmExit;
    /** 0 = no SSL listener on the broker. */
    final int kafkaSslPort;
    final Path kafkaSslKeystore;
    final String kafkaSslPassword;
    /** 0 = the worker's REST API on plain HTTP only. */
    final int connectHttpsPort;
    final Path connectHttpsKeystore;
    final String connectHttpsPassword;
    /** null = no REST authentication. */
    final String connectRestUser;
    final String connectRestPassword;
    final List<String> connectJvmOptions;

    private StackSettings(Builder b) {
        this.projectRoot = b.projectRoot.toAbsolutePath().normalize();
        this.moduleDir = projectRoot.resolve(MODULE);
        this.stackDir = (b.stackDir != null ? b.stackDir : projectRoot.resolve(".local/stack")).toAbsolutePath().normalize();
        this.bqRestPort = b.bqRestPort;
        this.bqGrpcPort = b.bqGrpcPort;
        this.mysqlPort = b.mysqlPort;
        this.kafkaPort = b.kafkaPort;
        this.kafkaControllerPort = b.kafkaControllerPort;
        this.connectPort = b.connectPort;
        this.connectJmxPort = b.connectJmxPort;
        this.registryPort = b.registryPort;
        this.registryHeap = b.registryHeap;
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
        this.stopOnJvmExit = b.stopOnJvmExit;
        this.kafkaSslPort = b.kafkaSslPort;
        this.kafkaSslKeystore = b.kafkaSslKeystore == null ? null : b.kafkaSslKeystore.toAbsolutePath().normalize();
        this.kafkaSslPassword = b.kafkaSslPassword;
        this.connectHttpsPort = b.connectHttpsPort;
        this.connectHttpsKeystore = b.connectHttpsKeystore == null ? null : b.connectHttpsKeystore.toAbsolutePath().normalize();
        this.connectHttpsPassword = b.connectHttpsPassword;
        this.connectRestUser = b.connectRestUser;
        this.connectRestPassword = b.connectRestPassword;
        this.connectJvmOptions = List.copyOf(b.connectJvmOptions);
    }

    // ------------------------------------------------------------------ files

    public Path projectRoot() { return projectRoot; }
    public Path stackDir() { return stackDir; }
    public Path dataDir(Component c) { return stackDir.resolve(c.id()); }
    public Path pidFile(Component c) { return stackDir.resolve(c.id() + ".pid"); }
    public Path logFile(Component c) { return stackDir.resolve(c.id() + ".log"); }

    // ------------------------------------------------------------------ addresses

    /** {@code http://127.0.0.1:<rest>}: the BigQuery client's host. */
    public String bqRestUrl() { return "http://127.0.0.1:" + bqRestPort; }
    /** {@code 127.0.0.1:<grpc>}: the Storage Read API endpoint (plaintext). */
    public String bqGrpcEndpoint() { return "127.0.0.1:" + bqGrpcPort; }
    public String kafkaBootstrap() { return "127.0.0.1:" + kafkaPort; }
    /** The worker's plain-HTTP REST API: what the stack itself (probe, deployer, harness) uses. */
    public String connectUrl() { return "http://127.0.0.1:" + connectPort; }
    /** {@code 127.0.0.1:<ssl port>}: the broker's SSL listener, or null when it has none. */
    public String kafkaSslBootstrap() { return kafkaSslPort > 0 ? "127.0.0.1:" + kafkaSslPort : null; }
    /** {@code https://127.0.0.1:<https port>}: the worker's HTTPS REST listener, or null when it has none. */
    public String connectHttpsUrl() { return connectHttpsPort > 0 ? "https://127.0.0.1:" + connectHttpsPort : null; }
    /** {@code http://127.0.0.1:<registry>/apis/registry/v2}: Apicurio's converter and serdes ({@code apicurio.registry.url}). */
    public String registryUrl() { return "http://127.0.0.1:" + registryPort + "/apis/registry/v2"; }
    /** {@code http://127.0.0.1:<registry>/apis/ccompat/v7}: the same registry through its Confluent-compatible API. */
    public String registryConfluentCompatUrl() { return "http://127.0.0.1:" + registryPort + "/apis/ccompat/v7"; }
    /** The REST basic-auth user the worker requires, or null when its REST API is open. */
    public String connectRestUser() { return connectRestUser; }

    /** The JDBC URL of the demo database (the sink's URL shape). */
    public String mysqlJdbcUrl() {
        return "jdbc:mysql://127.0.0.1:" + mysqlPort + "/" + mysqlDatabase
                + "?rewriteBatchedStatements=true&connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true";
    }

    /**
     * The values config JSONs may reference as {@code ${NAME}}: the process environment, overridden
     * by this stack's ports and user names (so a test stack on random ports resolves its own). No
     * password: configs reference secrets through the worker's config providers ({@code ${env:…}}).
     */
    public Map<String, String> placeholders() {
        Map<String, String> m = new LinkedHashMap<>(System.getenv());
        m.remove("MYSQL_PASSWORD");
        m.put("BQ_REST_PORT", String.valueOf(bqRestPort));
        m.put("BQ_GRPC_PORT", String.valueOf(bqGrpcPort));
        m.put("BQ_PROJECT", bqProject);
        m.put("MYSQL_PORT", String.valueOf(mysqlPort));
        m.put("MYSQL_DATABASE", mysqlDatabase);
        m.put("MYSQL_USER", mysqlUser);
        m.put("KAFKA_PORT", String.valueOf(kafkaPort));
        m.put("KAFKA_BOOTSTRAP", kafkaBootstrap());
        m.put("CONNECT_PORT", String.valueOf(connectPort));
        m.put("REGISTRY_PORT", String.valueOf(registryPort));
        m.put("REGISTRY_URL", registryUrl());
        m.put("STACK_DIR", stackDir.toString());
        return m;
    }

    // ------------------------------------------------------------------ builder

    /**
     * Defaults: env STACK_DIR (else {@code <root>/.local/stack}), BQ_REST_PORT 9050, BQ_GRPC_PORT 9060,
     * MYSQL_PORT 3306, KAFKA_PORT 9092, KAFKA_CONTROLLER_PORT 9093, CONNECT_PORT 8083,
     * CONNECT_JMX_PORT (unset: no JMX), CONNECT_HEAP "-Xmx1g", KAFKA_HEAP "-Xmx512m", REGISTRY_PORT 8081,
     * REGISTRY_HEAP "-Xmx256m". The project
     * root: system property {@code project.root}, env BQ2K_ROOT, else the first ancestor of the
     * working directory holding {@code dev-stack/pom.xml}.
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
        private int registryPort = envInt("REGISTRY_PORT", 8081);
        private String registryHeap = env("REGISTRY_HEAP", "-Xmx256m");
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
        private int kafkaSslPort;
        private Path kafkaSslKeystore;
        private String kafkaSslPassword;
        private int connectHttpsPort;
        private Path connectHttpsKeystore;
        private String connectHttpsPassword;
        private String connectRestUser;
        private String connectRestPassword;
        private final List<String> connectJvmOptions = new ArrayList<>();

        Builder() {}

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
        /** Apicurio Registry's HTTP port ({@link Component#REGISTRY}). */
        public Builder registryPort(int p) { this.registryPort = p; return this; }
        /** JVM options for the registry's heap. */
        public Builder registryHeap(String opts) { this.registryHeap = opts; return this; }
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

        /**
         * An extra broker listener {@code SSL://127.0.0.1:<port>} (advertised as such) with the server
         * key and certificate of a PKCS12 key store; the PLAINTEXT listener stays what the stack uses.
         * Port 0: a free one. The address: {@link StackSettings#kafkaSslBootstrap()}.
         */
        public Builder brokerSslListener(int port, Path keystore, String password) {
            this.kafkaSslPort = port > 0 ? port : freePortBesides(usedPorts());
            this.kafkaSslKeystore = keystore;
            this.kafkaSslPassword = password;
            return this;
        }

        /**
         * An extra REST listener {@code https://127.0.0.1:<port>} on the worker with the server key and
         * certificate of a PKCS12 key store; the plain HTTP listener stays the advertised one, which the
         * stack's probe and harness use. Port 0: a free one. The address: {@link StackSettings#connectHttpsUrl()}.
         */
        public Builder connectHttpsListener(int port, Path keystore, String password) {
            this.connectHttpsPort = port > 0 ? port : freePortBesides(usedPorts());
            this.connectHttpsKeystore = keystore;
            this.connectHttpsPassword = password;
            return this;
        }

        /**
         * REST basic authentication on every listener of the worker (Kafka's
         * {@code BasicAuthSecurityRestExtension} with a JAAS {@code PropertyFileLoginModule} holding this one
         * user); the stack's own probe and deployer send these credentials.
         */
        public Builder connectRestBasicAuth(String user, String password) {
            this.connectRestUser = user;
            this.connectRestPassword = password;
            return this;
        }

        /** One more JVM option of the worker, e.g. {@code -Dsome.property=value}. */
        public Builder connectJvmOption(String option) { this.connectJvmOptions.add(option); return this; }

        private List<Integer> usedPorts() {
            return List.of(bqRestPort, bqGrpcPort, mysqlPort, kafkaPort, kafkaControllerPort, connectPort, connectJmxPort,
                    kafkaSslPort, connectHttpsPort, registryPort);
        }

        /** Free random ports for every component, the registry's included (and the JMX port if {@code withJmx}): for tests. */
        public Builder randomPorts(boolean withJmx) {
            int[] p = freePorts(withJmx ? 8 : 7);
            bqRestPort = p[0]; bqGrpcPort = p[1]; mysqlPort = p[2]; kafkaPort = p[3];
            kafkaControllerPort = p[4]; connectPort = p[5]; registryPort = p[6]; connectJmxPort = withJmx ? p[7] : 0;
            return this;
        }

        public StackSettings settings() {
            return new StackSettings(this);
        }

        public LocalStack build() {
            return new LocalStack(settings());
        }
    }

    // ------------------------------------------------------------------ environment

    public static Path detectProjectRoot() {
        String prop = System.getProperty("project.root");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("BQ2K_ROOT");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(MODULE).resolve("pom.xml"))) {
                return p;
            }
        }
        return Path.of("").toAbsolutePath();
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

    static int freePortBesides(List<Integer> taken) {
        for (int i = 0; i < 20; i++) {
            int p = freePorts(1)[0];
            if (!taken.contains(p)) {
                return p;
            }
        }
        throw new IllegalStateException("no free port found besides " + taken);
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
}
