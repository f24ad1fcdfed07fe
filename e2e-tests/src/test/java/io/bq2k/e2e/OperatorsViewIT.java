package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.fasterxml.jackson.databind.JsonNode;

import io.bq2k.stack.ConnectorConfigs;
import io.bq2k.stack.BigQueryRest;
import io.bq2k.stack.Component;
import io.bq2k.stack.LocalStack;
import io.bq2k.stack.MirrorCheck;
import io.bq2k.stack.PipelineOps;
import io.bq2k.cli.SyncStatus;

/**
 * The operators' view on the real stack: bin/status's freshness and lag (checked against Kafka's
 * consumer-group offsets), the run-history records (against what was emitted) and the JMX metrics
 * of the running worker (against the run's counts), with the sink paused and resumed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OperatorsViewIT {

    static final String TOPIC = "ops.features";
    static final String SOURCE = "source-ops";
    static final String SINK = "sink-ops";

    LocalStack stack;
    Path tmp;
    BigQueryRest bq;
    PipelineOps ops;
    final VersionedTable table = new VersionedTable("ops.src", 3000, 100, 4);
    final MirrorCheck check = new MirrorCheck(VersionedTable.COLUMNS);

    @BeforeAll
    void up() throws Exception {
        tmp = Files.createTempDirectory("bq2k-ops-");
        stack = LocalStack.builder().randomPorts(true).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx768m").bqLogLevel("warning").stopOnJvmExit(true).build();
        stack.up();
        bq = new BigQueryRest(stack.bqRestUrl(), "demo");
        ops = PipelineOps.of(stack);
        bq.query("CREATE SCHEMA IF NOT EXISTS ops");
    }

    @AfterAll
    void down() {
        if (stack != null) {
            stack.down(false);
        }
    }

    JsonNode sinkStatus() {
        JsonNode all = new SyncStatus(stack.connectUrl(), stack.kafkaBootstrap()).collect();
        for (JsonNode s : all.path("syncs")) {
            if (s.path("connector").asText().equals(SOURCE)) {
                return s.path("sinks").get(0);
            }
        }
        throw new AssertionError("no sync " + SOURCE + " in " + all);
    }

    JsonNode awaitFreshness(String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        JsonNode s = sinkStatus();
        while (!s.path("freshness").asText().startsWith(prefix) && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            s = sinkStatus();
        }
        assertTrue(s.path("freshness").asText().startsWith(prefix), "freshness: " + s);
        return s;
    }

    /** Lag per partition as Kafka itself reports it: log end minus the group's committed offset. */
    Map<Integer, Long> kafkaLag(String group) throws Exception {
        try (Admin admin = stack.admin()) {
            Map<TopicPartition, OffsetSpec> req = new HashMap<>();
            for (int p = 0; p < 2; p++) {
                req.put(new TopicPartition(TOPIC, p), OffsetSpec.latest());
            }
            var ends = admin.listOffsets(req).all().get(10, TimeUnit.SECONDS);
            var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Map<Integer, Long> lag = new HashMap<>();
            ends.forEach((tp, e) -> lag.put(tp.partition(), e.offset() - (committed.get(tp) == null ? 0 : committed.get(tp).offset())));
            return lag;
        }
    }

    Object jmx(String sync, String attribute) throws Exception {
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + stack.connectJmxPort() + "/jmxrmi");
        try (JMXConnector c = JMXConnectorFactory.connect(url)) {
            MBeanServerConnection server = c.getMBeanServerConnection();
            return server.getAttribute(new ObjectName("io.bq2k.connect:type=bigquery-source-sync,sync=" + ObjectName.quote(sync)), attribute);
        }
    }

    @Test
    void statusLagHistoryAndMetricsTellTheTruth() throws Exception {
        stack.createCompactedTopic(TOPIC, 2);
        bq.query(table.createSql(1));
        stack.deployer().deploy(SINK, ConnectorConfigs.sink(stack, TOPIC, "ops_features"));
        Map<String, String> source = ConnectorConfigs.source(stack, TOPIC, table.query(), "bq2k_staging_ops");
        stack.deployer().deploy(SOURCE, source);
        stack.deployer().awaitRunning(SINK, Duration.ofSeconds(90));

        PipelineOps.RunSummary run1 = ops.awaitRun(TOPIC + ".runs", 1, Duration.ofMinutes(5));
        JsonNode s = awaitFreshness("MySQL holds run 1 completely");
        assertEquals(0, s.path("lag").asLong(), s.toString());
        assertTrue(check.awaitMySqlEquals(stack::mysqlConnection, "ops_features", check.rows(table.rows(1)), Duration.ofMinutes(2), null).equal());

        // Sink paused: run 2 lands in Kafka only; status shows the gap, with Kafka's own lag.
        ops.pause(SINK);
        Thread.sleep(3000);
        bq.query(table.createSql(2));
        ops.triggerRun(SOURCE);
        PipelineOps.RunSummary run2 = ops.awaitRun(TOPIC + ".runs", 2, Duration.ofMinutes(5));
        s = awaitFreshness("run 2 in progress: ");
        assertTrue(s.path("freshness").asText().contains("0 of " + run2.emitted() + " changes applied"), s.toString());
        Map<Integer, Long> lag = kafkaLag(s.path("group").asText());
        long statusLag = 0;
        for (JsonNode p : s.path("partitions")) {
            assertEquals(lag.get(p.path("partition").asInt()), p.path("lag").asLong(), "lag of partition " + p);
            statusLag += p.path("lag").asLong();
        }
        assertEquals(run2.emitted(), statusLag, "with the sink paused, the lag is exactly run 2's changes");
        assertEquals(statusLag, s.path("lag").asLong());

        // Run history: one record per run; its counts equal the records of the run on the data topic.
        List<PipelineOps.TopicRecord> history = ops.readAll(TOPIC + ".runs");
        assertEquals(2, history.size(), "one summary per finished run");
        Map<Integer, Long> end1 = run1.endOffsets();
        Map<Integer, Long> end2 = run2.endOffsets();
        long inRun2 = 0;
        long tombstones = 0;
        for (PipelineOps.TopicRecord r : ops.readAll(TOPIC)) {
            if (r.offset() >= end1.getOrDefault(r.partition(), 0L) && r.offset() < end2.get(r.partition())) {
                inRun2++;
                tombstones += r.value() == null ? 1 : 0;
            }
        }
        assertEquals(run2.emitted(), inRun2, "records of run 2 on the data topic");
        assertEquals(run2.removed(), tombstones, "tombstones of run 2");
        long[] expected = table.changes(2);
        assertEquals(expected[0], run2.added());
        assertEquals(expected[1], run2.changed());
        assertEquals(expected[2], run2.removed());

        // JMX from the running worker.
        // The sync name: the connector name made an identifier, plus a hash of it (the run summary names it).
        String sync = run2.sync();
        assertTrue(sync.matches("source_ops_[0-9a-f]{6}"), sync);
        assertEquals(2L, jmx(sync, "LastRunId"));
        assertEquals(run2.added(), jmx(sync, "LastRunAdded"));
        assertEquals(run2.changed(), jmx(sync, "LastRunChanged"));
        assertEquals(run2.removed(), jmx(sync, "LastRunRemoved"));
        assertEquals(run2.rows(), jmx(sync, "LastRunRows"));
        // Counters count since the task started, like Connect's own task metrics; run 2 ran in a restarted task.
        assertTrue((Long) jmx(sync, "RunsSucceeded") >= 1, "RunsSucceeded");
        assertEquals(0L, jmx(sync, "RunsFailed"));
        assertEquals("waiting", jmx(sync, "Phase"));

        // Resumed: the gap closes.
        ops.resume(SINK);
        s = awaitFreshness("MySQL holds run 2 completely");
        assertEquals(0, s.path("lag").asLong());
        assertTrue(check.awaitMySqlEquals(stack::mysqlConnection, "ops_features", check.rows(table.rows(2)), Duration.ofMinutes(2), null).equal());
        assertTrue(Set.of(0L).contains(kafkaLag(s.path("group").asText()).values().stream().mapToLong(Long::longValue).sum()));
    }

    /** Issue "Security": a service-account key never shows in the worker log, the REST API or the task trace. */
    @Test
    void secretsStayOutOfLogsAndRestResponses() throws Exception {
        String marker = "bq2k-secret-" + System.nanoTime();
        String keyJson = "{\"type\":\"service_account\",\"project_id\":\"demo\",\"private_key_id\":\"" + marker
                + "\",\"private_key\":\"-----BEGIN PRIVATE KEY-----\\n" + marker + "\\n-----END PRIVATE KEY-----\\n\",\"client_email\":\"x@demo.iam.gserviceaccount.com\"}";
        Path secrets = tmp.resolve("secrets.properties");
        Files.writeString(secrets, "service_account_json=" + keyJson.replace("\\", "\\\\") + "\n");
        Map<String, String> source = ConnectorConfigs.source(stack, "ops.secret", table.query(), "bq2k_staging_ops");
        source.put("bigquery.credentials.type", "service_account_json");
        source.put("bigquery.credentials.json", "${file:" + secrets + ":service_account_json}");

        // validate(): the key does not parse, the error names the field and holds no secret.
        List<String> errors = stack.deployer().validate(SyncStatus.SOURCE_CLASS, source);
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("bigquery.credentials.json")), errors.toString());
        assertTrue(errors.stream().noneMatch(e -> e.contains(marker)), errors.toString());

        // Connect validates on PUT and refuses the config; its answer holds no secret either.
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String body = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(source);
        var put = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(stack.connectUrl() + "/connectors/source-secret/config"))
                .header("Content-Type", "application/json").PUT(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(400, put.statusCode(), put.body());
        assertTrue(put.body().contains("Credentials could not be loaded") && !put.body().contains(marker), put.body());
        String log = Files.readString(stack.logFile(Component.CONNECT));
        assertTrue(!log.isEmpty(), "the worker log exists");
        assertTrue(!log.contains(marker), "the worker log contains the secret");
    }

    /**
     * Issue "Security", at run time: a sync authenticating with a service-account key from a
     * {@code ${file:…}} config provider completes a run, and neither the key nor the access token it
     * obtained shows in the worker log, the run history, or the REST API's config, tasks and status.
     */
    @Test
    void aSyncWithAServiceAccountKeyFromAConfigProviderLeaksItNowhere() throws Exception {
        String marker = "bq2k-key-" + System.nanoTime();
        String accessToken = "ya29.bq2k-token-" + System.nanoTime();
        java.security.KeyPairGenerator gen = java.security.KeyPairGenerator.getInstance("RSA");
        gen.initialize(2048);
        String keyBase64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .encodeToString(gen.generateKeyPair().getPrivate().getEncoded());
        // A token endpoint standing in for oauth2.googleapis.com: the key signs a JWT, the endpoint answers a token.
        com.sun.net.httpserver.HttpServer tokens = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 8);
        java.util.concurrent.atomic.AtomicInteger tokenRequests = new java.util.concurrent.atomic.AtomicInteger();
        tokens.createContext("/token", ex -> {
            tokenRequests.incrementAndGet();
            ex.getRequestBody().readAllBytes();
            byte[] body = ("{\"access_token\":\"" + accessToken + "\",\"expires_in\":3600,\"token_type\":\"Bearer\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        tokens.start();
        try {
            Map<String, String> key = new java.util.LinkedHashMap<>();
            key.put("type", "service_account");
            key.put("project_id", "demo");
            key.put("private_key_id", marker);
            key.put("private_key", "-----BEGIN PRIVATE KEY-----\n" + keyBase64 + "\n-----END PRIVATE KEY-----\n");
            key.put("client_email", "sync@demo.iam.gserviceaccount.com");
            key.put("client_id", "1");
            key.put("token_uri", "http://127.0.0.1:" + tokens.getAddress().getPort() + "/token");
            String keyJson = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(key);
            Path secrets = tmp.resolve("runtime-secrets.properties");
            Files.writeString(secrets, "service_account_json=" + keyJson.replace("\\", "\\\\") + "\n");

            bq.query("CREATE OR REPLACE TABLE ops.secret_src AS SELECT id AS id, CONCAT('row ', CAST(id AS STRING)) AS name"
                    + " FROM UNNEST(GENERATE_ARRAY(1, 100)) AS id");
            Map<String, String> source = ConnectorConfigs.source(stack, "ops.keyed", "SELECT id, name FROM ops.secret_src", "bq2k_staging_keyed");
            source.put("bigquery.credentials.type", "service_account_json");
            source.put("bigquery.credentials.json", "${file:" + secrets + ":service_account_json}");
            source.put("read.api", "rest"); // the emulator's gRPC port is plaintext, which credentials rule out
            stack.deployer().deploy("source-keyed", source);
            PipelineOps.RunSummary run = ops.awaitRun("ops.keyed.runs", 1, Duration.ofMinutes(3));
            assertEquals(100, run.added());
            assertTrue(tokenRequests.get() > 0, "the connector authenticated with the key");

            String keyMaterial = keyBase64.substring(200, 240); // inside the 4th line of the PEM body, past the common ASN.1 header
            List<String> leaks = new java.util.ArrayList<>();
            Map<String, String> places = new java.util.LinkedHashMap<>();
            places.put("worker log", Files.readString(stack.logFile(Component.CONNECT)));
            places.put("run history", ops.readAll("ops.keyed.runs").toString());
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            for (String path : List.of("/config", "/tasks", "/status")) {
                places.put("GET /connectors/source-keyed" + path, http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(stack.connectUrl() + "/connectors/source-keyed" + path)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body());
            }
            places.forEach((where, text) -> {
                for (String secret : List.of(marker, keyMaterial, accessToken)) {
                    if (text.contains(secret)) {
                        leaks.add(where + " contains " + (secret.equals(accessToken) ? "the access token" : "the key"));
                    }
                }
            });
            assertTrue(leaks.isEmpty(), leaks.toString());
            assertTrue(places.get("GET /connectors/source-keyed/tasks").contains("${file:"),
                    "task configs keep the provider reference, not the value");
            stack.deployer().delete("source-keyed");
        } finally {
            tokens.stop(0);
        }
    }
}
