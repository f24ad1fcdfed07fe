package io.bq2k.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The deployer against a fake worker whose validate endpoint declares {@code connection.password} a PASSWORD. */
class ConnectorDeployerTest {

    static final String SECRET = "hunter2-" + System.nanoTime();

    @TempDir
    Path tmp;

    Path sinkFile(String password) throws Exception {
        Path f = tmp.resolve("sink.json");
        Files.writeString(f, "{\"name\": \"sink-${SYNC:-one}\", \"config\": {"
                + "\"connector.class\": \"io.debezium.connector.jdbc.JdbcSinkConnector\","
                + "\"connection.url\": \"jdbc:mysql://127.0.0.1:${MYSQL_PORT:-3306}/demo\","
                + "\"connection.username\": \"${MYSQL_USER}\","
                + "\"connection.password\": \"" + password + "\","
                + "\"tasks.max\": 1}}");
        return f;
    }

    static final Map<String, String> ENV = Map.of("MYSQL_PORT", "3307", "MYSQL_USER", "sync", "MYSQL_PASSWORD", SECRET);

    @Test
    void aPasswordFieldFilledInFromAClientPlaceholderIsRefusedBeforeAnythingIsStored() throws Exception {
        try (FakeConnect fake = new FakeConnect()) {
            ConnectorDeployer d = new ConnectorDeployer(fake.url(), ENV, null);
            ConnectorDeployer.DeployException e = assertThrows(ConnectorDeployer.DeployException.class,
                    () -> d.deploy(sinkFile("${MYSQL_PASSWORD}")));
            assertTrue(e.getMessage().startsWith("sink-one: [connection.password] would be sent as plain text"), e.getMessage());
            assertTrue(e.getMessage().contains("${env:MYSQL_PASSWORD}"), "names the fix: " + e.getMessage());
            assertTrue(!e.getMessage().contains(SECRET), "the message holds no secret");
            assertEquals(0, fake.puts().size(), "nothing stored: " + fake.requests);
            // The defaulted form is a client placeholder as well.
            assertThrows(ConnectorDeployer.DeployException.class, () -> d.deploy(sinkFile("${MYSQL_PASSWORD:-sync}")));
            assertEquals(0, fake.puts().size());
        }
    }

    @Test
    void aConfigProviderReferenceIsDeployedAsWrittenAndOtherPlaceholdersSubstituted() throws Exception {
        try (FakeConnect fake = new FakeConnect()) {
            ConnectorDeployer d = new ConnectorDeployer(fake.url(), ENV, null);
            ConnectorDeployer.Deployment dep = d.deploy(sinkFile("${env:MYSQL_PASSWORD}"));
            assertEquals(new ConnectorDeployer.Deployment("sink-one", "io.debezium.connector.jdbc.JdbcSinkConnector", true), dep);
            assertEquals(1, fake.puts().size());
            FakeConnect.Request put = fake.puts().get(0);
            assertEquals("/connectors/sink-one/config", put.path());
            @SuppressWarnings("unchecked")
            Map<String, String> sent = new ObjectMapper().readValue(put.body(), Map.class);
            assertEquals("${env:MYSQL_PASSWORD}", sent.get("connection.password"), "the worker resolves the reference");
            assertEquals("sync", sent.get("connection.username"));
            assertEquals("jdbc:mysql://127.0.0.1:3307/demo", sent.get("connection.url"));
            assertEquals("1", sent.get("tasks.max"), "every value a string");
            assertEquals("sink-one", sent.get("name"));
            assertTrue(fake.requests.stream().noneMatch(r -> r.body().contains(SECRET)), "the secret never left this process");
        }
    }

    @Test
    void readReportsWhichKeysAPlaceholderFilledIn() throws Exception {
        ConnectorDeployer d = new ConnectorDeployer("http://127.0.0.1:1", ENV, null);
        ConnectorDeployer.ConfigFile f = d.read(sinkFile("${env:MYSQL_PASSWORD}"));
        assertEquals(Set.of("connection.url", "connection.username"), f.substitutedKeys());
        assertEquals("sink-one", f.name());
    }

    @Test
    void validationErrorsFailTheDeployWithEveryFieldNamed() throws Exception {
        try (FakeConnect fake = new FakeConnect()) {
            fake.invalidField = "connection.url";
            ConnectorDeployer d = new ConnectorDeployer(fake.url(), ENV, null);
            ConnectorDeployer.DeployException e = assertThrows(ConnectorDeployer.DeployException.class,
                    () -> d.deploy(sinkFile("${env:MYSQL_PASSWORD}")));
            assertTrue(e.getMessage().contains("validation of io.debezium.connector.jdbc.JdbcSinkConnector failed with 1 error(s)"), e.getMessage());
            assertTrue(e.getMessage().contains("connection.url = jdbc:mysql://127.0.0.1:3307/demo : Invalid value for connection.url"), e.getMessage());
            assertEquals(0, fake.puts().size());
        }
    }

    @Test
    void anUnsetPlaceholderIsAnErrorNamingIt() throws Exception {
        ConnectorDeployer d = new ConnectorDeployer("http://127.0.0.1:1", Map.of(), null);
        ConnectorDeployer.DeployException e = assertThrows(ConnectorDeployer.DeployException.class, () -> d.read(sinkFile("${env:MYSQL_PASSWORD}")));
        assertTrue(e.getMessage().contains("unset placeholder(s) [MYSQL_USER]"), e.getMessage());
    }
}
