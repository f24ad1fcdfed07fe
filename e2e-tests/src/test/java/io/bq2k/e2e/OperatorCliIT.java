package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.bq2k.cli.ClientOptions;
import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.LocalStack;

/**
 * The operator CLI ({@code bin/bq2k}, i.e. {@code io.bq2k.cli.Cli}) against a cluster reached the way a
 * production one is: the broker's SSL listener and the worker's HTTPS REST listener, both with a server
 * certificate made here and trusted through a Kafka client properties file ({@code --command-config}),
 * and REST basic authentication (Kafka's {@code BasicAuthSecurityRestExtension}) with the password in a
 * file. Also: the local-stack defaults (no connection flags), wrong credentials, a missing trust store,
 * and the refusal of a PASSWORD field filled in from a client-side {@code ${NAME}} placeholder.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorCliIT {

    static final String TOPIC = "tls.features";
    static final String SOURCE = "source-tls";
    static final String SINK = "sink-tls";
    static final int ROWS = 200;
    static final String REST_USER = "ops";
    static final ObjectMapper JSON = new ObjectMapper();

    final String restPassword = "rest-pw-" + System.nanoTime();
    final String mysqlSecret = "mysql-pw-" + System.nanoTime();
    final String storePassword = "store-pw-" + System.nanoTime();

    Path tmp;
    LocalStack stack;
    Path truststore;
    /** Kafka client properties: SSL with the trust store holding the stack's server certificate. */
    Path clientProps;
    /** SSL without a trust store: the JVM's default trust, which does not know the stack's certificate. */
    Path noTrustProps;
    Path restPasswordFile;
    Path wrongPasswordFile;
    Map<String, String> env;

    // ------------------------------------------------------------------ set-up

    @BeforeAll
    void up() throws Exception {
        tmp = Files.createTempDirectory("bq2k-cli-tls-");
        Path serverKeystore = tmp.resolve("server.p12");
        truststore = tmp.resolve("truststore.p12");
        makeCertificates(serverKeystore, truststore);

        clientProps = tmp.resolve("client-ssl.properties");
        Files.writeString(clientProps, String.join("\n",
                "security.protocol=SSL",
                "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + truststore,
                "ssl.truststore.password=" + storePassword, ""));
        noTrustProps = tmp.resolve("client-ssl-no-truststore.properties");
        Files.writeString(noTrustProps, "security.protocol=SSL\n");
        restPasswordFile = tmp.resolve("rest.password");
        Files.writeString(restPasswordFile, restPassword + "\n");
        wrongPasswordFile = tmp.resolve("wrong.password");
        Files.writeString(wrongPasswordFile, "not-" + restPassword + "\n");

        stack = LocalStack.builder().randomPorts(false).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx512m").bqLogLevel("warning")
                .mysqlUser("sync", mysqlSecret)
                .brokerSslListener(0, serverKeystore, storePassword)
                .connectHttpsListener(0, serverKeystore, storePassword)
                .connectRestBasicAuth(REST_USER, restPassword)
                .stopOnJvmExit(true).build();
        stack.up();

        env = new HashMap<>(stack.placeholders()); // the stack's ports as ${NAME} values and CONNECT_PORT/KAFKA_PORT defaults
        env.remove(ClientOptions.REST_PASSWORD_ENV);
        env.remove("MYSQL_PASSWORD");

        BigQueryRest bq = stack.bigQuery();
        bq.query("CREATE SCHEMA IF NOT EXISTS tls");
        bq.query("CREATE OR REPLACE TABLE tls.src AS SELECT id AS id, CONCAT('row ', CAST(id AS STRING)) AS name"
                + " FROM UNNEST(GENERATE_ARRAY(1, " + ROWS + ")) AS id");
        stack.createCompactedTopic(TOPIC, 1);
    }

    @AfterAll
    void down() {
        if (stack != null) {
            stack.down(false);
        }
        // The certificates, key stores and config files.
        try (var files = Files.walk(tmp)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException ignored) {
            // best effort
        }
    }

    /**
     * A CA-less setup as small as it gets: one self-signed server certificate for 127.0.0.1 (IP SAN, so
     * both Kafka's and the HTTP client's host name checks pass) in a PKCS12 key store, shared by broker and
     * worker, and a PKCS12 trust store holding that certificate. Made with the JDK's keytool.
     */
    void makeCertificates(Path keystore, Path trust) throws Exception {
        Path cert = tmp.resolve("server.crt");
        keytool("-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=127.0.0.1, O=bq2k test", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", storePassword, "-keypass", storePassword);
        keytool("-exportcert", "-alias", "server", "-rfc", "-file", cert.toString(),
                "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", storePassword);
        keytool("-importcert", "-noprompt", "-alias", "bq2k-test-server", "-file", cert.toString(),
                "-keystore", trust.toString(), "-storetype", "PKCS12", "-storepass", storePassword);
    }

    static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool hangs");
        assertEquals(0, p.exitValue(), "keytool " + args[0] + ": " + out);
    }

    // ------------------------------------------------------------------ the CLI

    record Result(int exit, String out, String err) {
        String all() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    /** {@code Cli.run(args, env, out, err)}: the CLI's entry point without its System.exit (package-private, so by reflection). */
    Result cli(Map<String, String> environment, List<String> args) throws Exception {
        Method run = Class.forName("io.bq2k.cli.Cli").getDeclaredMethod("run", List.class, Map.class, PrintStream.class, PrintStream.class);
        run.setAccessible(true);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = (Integer) run.invoke(null, args, environment, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        Result r = new Result(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        if (rc != 0) {
            // What an operator sees on a failure, in the test log.
            System.out.println("bq2k " + String.join(" ", args) + "\n  -> exit " + rc + ": " + r.err().strip().lines().findFirst().orElse(""));
        }
        return r;
    }

    /** The CLI reaching the cluster over TLS only: HTTPS REST with basic auth, the SSL listener, the trust store of the properties file. */
    Result tlsCli(String... command) throws Exception {
        return cli(env, tlsArgs(clientProps, restPasswordFile, command));
    }

    List<String> tlsArgs(Path props, Path passwordFile, String... command) {
        List<String> a = new ArrayList<>(List.of("--connect", stack.connectHttpsUrl(), "--bootstrap", stack.kafkaSslBootstrap(),
                "--command-config", props.toString(), "--rest-user", REST_USER, "--rest-password-file", passwordFile.toString()));
        a.addAll(List.of(command));
        return a;
    }

    /** A GET over HTTPS with basic auth, through the CLI's own REST client as the options build it. */
    HttpResponse<String> httpsGet(String path) {
        ClientOptions o = ClientOptions.parse(tlsArgs(clientProps, restPasswordFile), env).options();
        return o.connectRest().send("GET", path, null);
    }

    /** The shipped config file, adapted to this test's table and topic, with its placeholders left for the CLI. */
    Path configFile(String shipped, String name, Map<String, String> changes) throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(stack.projectRoot().resolve(shipped).toFile());
        root.put("name", name);
        ObjectNode config = (ObjectNode) root.get("config");
        changes.forEach(config::put);
        Path f = tmp.resolve(name + ".json");
        Files.writeString(f, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        return f;
    }

    JsonNode sync(JsonNode status, String source) {
        for (JsonNode s : status.path("syncs")) {
            if (s.path("connector").asText().equals(source)) {
                return s;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ tests

    @Test
    @Order(1)
    void deployAndStatusOverTlsWithRestBasicAuth() throws Exception {
        Path source = configFile(ConnectorConfigs.DEMO_SOURCE, SOURCE, Map.of(
                "query", "SELECT id, name FROM tls.src", "key.columns", "id", "topic", TOPIC, "staging.dataset", "bq2k_staging_tls"));
        Path sink = configFile(ConnectorConfigs.DEMO_SINK, SINK, Map.of("topics", TOPIC, "collection.name.format", "tls_features"));
        assertTrue(Files.readString(sink).contains("\"${env:MYSQL_PASSWORD}\""), "the shipped sink references the password");

        Result deploy = tlsCli("deploy", "--wait", sink.toString(), source.toString());
        assertEquals(0, deploy.exit(), deploy.all());
        assertTrue(deploy.out().contains("deploy: created " + SINK + " (io.debezium.connector.jdbc.JdbcSinkConnector)"), deploy.all());
        assertTrue(deploy.out().contains("deploy: created " + SOURCE + " (io.bq2k.connect.bigquery.BigQuerySourceConnector)"), deploy.all());
        assertTrue(deploy.out().contains(SOURCE + " is RUNNING"), deploy.all());
        HttpResponse<String> list = httpsGet("/connectors");
        assertEquals(200, list.statusCode(), list.body());
        assertEquals(List.of(SINK, SOURCE), sorted(JSON.readTree(list.body())), list.body());

        // status --json over the SSL listener and HTTPS, until MySQL holds run 1.
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        Result status;
        JsonNode sync;
        do {
            status = tlsCli("status", "--json");
            assertEquals(0, status.exit(), status.all());
            sync = sync(JSON.readTree(status.out()), SOURCE);
            if (sync != null && sync.path("sinks").path(0).path("freshness").asText().startsWith("MySQL holds run 1 completely")) {
                break;
            }
            Thread.sleep(1000);
        } while (System.nanoTime() < deadline);
        JsonNode root = JSON.readTree(status.out());
        assertEquals(stack.connectHttpsUrl(), root.path("connect").asText());
        assertEquals(stack.kafkaSslBootstrap(), root.path("kafka").asText());
        assertNotNull(sync, status.all());
        assertEquals(TOPIC, sync.path("topic").asText());
        assertEquals("RUNNING", sync.path("state").path("connector").asText(), status.all());
        assertEquals(1, sync.path("last_run").path("run").asLong(), "the run history was read over SSL: " + status.all());
        assertEquals(ROWS, sync.path("last_run").path("added").asLong(), status.all());
        JsonNode sinkStatus = sync.path("sinks").path(0);
        assertEquals(SINK, sinkStatus.path("connector").asText(), status.all());
        assertEquals("MySQL holds run 1 completely", sinkStatus.path("freshness").asText(), status.all());
        assertTrue(sinkStatus.path("lag").isIntegralNumber(), status.all());
        assertEquals(0, sinkStatus.path("lag").asLong(), status.all());
        assertEquals(ROWS, sinkStatus.path("partitions").path(0).path("log_end").asLong(), status.all());
        assertEquals(ROWS, sinkStatus.path("partitions").path(0).path("committed").asLong(), status.all());

        // The sink reached MySQL with the password the worker resolved from ${env:MYSQL_PASSWORD}.
        try (Connection c = stack.mysqlConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM tls_features")) {
            rs.next();
            assertEquals(ROWS, rs.getLong(1));
        }

        // The human screen, same connection.
        Result human = tlsCli("status");
        assertEquals(0, human.exit(), human.all());
        assertTrue(human.out().contains("Sync " + SOURCE + " -> topic " + TOPIC), human.all());
        assertTrue(human.out().contains("sink " + SINK + " (group connect-" + SINK + "): connector RUNNING, tasks 0:RUNNING, lag 0"), human.all());

        // Connect keeps the reference, not the secret: config and task configs.
        HttpResponse<String> config = httpsGet("/connectors/" + SINK + "/config");
        assertEquals(200, config.statusCode(), config.body());
        assertEquals("${env:MYSQL_PASSWORD}", JSON.readTree(config.body()).path("connection.password").asText(), config.body());
        assertFalse(config.body().contains(mysqlSecret), config.body());
        HttpResponse<String> tasks = httpsGet("/connectors/" + SINK + "/tasks");
        assertEquals(200, tasks.statusCode(), tasks.body());
        assertFalse(tasks.body().contains(mysqlSecret), tasks.body());
    }

    @Test
    @Order(2)
    void againstTheLocalStackByDefaultWithThePasswordFromTheEnvironment() throws Exception {
        // No --connect/--bootstrap: the local stack's plain listeners from env CONNECT_PORT/KAFKA_PORT.
        Map<String, String> e = new HashMap<>(env);
        e.put(ClientOptions.REST_PASSWORD_ENV, restPassword);
        Result status = cli(e, List.of("--rest-user", REST_USER, "status", "--json"));
        assertEquals(0, status.exit(), status.all());
        JsonNode root = JSON.readTree(status.out());
        assertEquals(stack.connectUrl(), root.path("connect").asText());
        assertEquals(stack.kafkaBootstrap(), root.path("kafka").asText());
        assertNotNull(sync(root, SOURCE), status.all());
    }

    @Test
    @Order(3)
    void wrongOrMissingRestCredentialsAreRefusedNamingAuthentication() throws Exception {
        Result status = cli(env, tlsArgs(clientProps, wrongPasswordFile, "status"));
        assertEquals(2, status.exit(), status.all());
        assertTrue(status.err().contains("answered HTTP 401"), status.all());
        assertTrue(status.err().contains("REST authentication: --rest-user and --rest-password-file"), status.all());
        assertFalse(status.err().contains(restPassword), status.all());

        Path sink = configFile(ConnectorConfigs.DEMO_SINK, "sink-unauthorized", Map.of("topics", TOPIC));
        Result deploy = cli(env, tlsArgs(clientProps, wrongPasswordFile, "deploy", sink.toString()));
        assertEquals(1, deploy.exit(), deploy.all());
        assertTrue(deploy.err().contains("HTTP 401"), deploy.all());

        // Without any credentials, on either listener.
        List<String> anonymous = List.of("--connect", stack.connectHttpsUrl(), "--bootstrap", stack.kafkaSslBootstrap(),
                "--command-config", clientProps.toString(), "status");
        Result none = cli(env, anonymous);
        assertEquals(2, none.exit(), none.all());
        assertTrue(none.err().contains("HTTP 401") && none.err().contains("REST authentication"), none.all());
        HttpResponse<String> plain = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(stack.connectUrl() + "/connectors")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, plain.statusCode(), "basic auth guards the plain listener too: " + plain.body());
    }

    @Test
    @Order(4)
    void withoutTheTrustStoreTheTlsFailureIsReported() throws Exception {
        // HTTPS REST with the JVM's default trust: the handshake fails.
        Result status = cli(env, tlsArgs(noTrustProps, restPasswordFile, "status"));
        assertEquals(2, status.exit(), status.all());
        assertTrue(status.err().contains("The Connect REST API at " + stack.connectHttpsUrl() + " is unreachable (SSLHandshakeException)"), status.all());

        Path sink = configFile(ConnectorConfigs.DEMO_SINK, "sink-untrusted", Map.of("topics", TOPIC));
        Result deploy = cli(env, tlsArgs(noTrustProps, restPasswordFile, "deploy", sink.toString()));
        assertEquals(1, deploy.exit(), deploy.all());
        assertTrue(deploy.err().contains("SSLHandshakeException"), deploy.all());
        assertTrue(deploy.err().contains("PKIX path building failed"), deploy.all());

        // The broker's SSL listener without the trust store (REST over the plain listener, with credentials).
        List<String> kafkaOnly = List.of("--connect", stack.connectUrl(), "--bootstrap", stack.kafkaSslBootstrap(),
                "--command-config", noTrustProps.toString(), "--rest-user", REST_USER, "--rest-password-file", restPasswordFile.toString(), "status");
        Result kafka = cli(env, kafkaOnly);
        assertEquals(2, kafka.exit(), kafka.all());
        assertTrue(kafka.err().contains("Kafka at " + stack.kafkaSslBootstrap() + " is unreachable"), kafka.all());
    }

    @Test
    @Order(5)
    void aPasswordFromAClientPlaceholderIsRefusedAndNothingIsStored() throws Exception {
        Map<String, String> e = new HashMap<>(env);
        e.put("MYSQL_PASSWORD", mysqlSecret);
        Path sink = configFile(ConnectorConfigs.DEMO_SINK, "sink-plain-secret", Map.of("topics", TOPIC,
                "collection.name.format", "plain_secret", "connection.password", "${MYSQL_PASSWORD}"));
        Result deploy = cli(e, tlsArgs(clientProps, restPasswordFile, "deploy", sink.toString()));
        assertEquals(1, deploy.exit(), deploy.all());
        assertTrue(deploy.err().contains("sink-plain-secret: [connection.password] would be sent as plain text"), deploy.all());
        assertTrue(deploy.err().contains("${env:MYSQL_PASSWORD}"), "names the fix: " + deploy.all());
        assertFalse(deploy.all().contains(mysqlSecret), deploy.all());
        assertEquals(404, httpsGet("/connectors/sink-plain-secret").statusCode(), "not created");
    }

    static List<String> sorted(JsonNode array) {
        List<String> l = new ArrayList<>();
        array.forEach(n -> l.add(n.asText()));
        l.sort(null);
        return l;
    }
}
