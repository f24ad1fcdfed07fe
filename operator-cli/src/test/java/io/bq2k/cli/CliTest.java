package io.bq2k.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

/** {@code Cli.run}: usage, exit codes and where messages go. */
class CliTest {

    @TempDir
    Path tmp;

    record Result(int exit, String out, String err) {}

    static Result run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Cli.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Result run(String... args) {
        return run(Map.of(), args);
    }

    /** A port nobody listens on. */
    static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void usage() {
        Result none = run();
        assertEquals(64, none.exit());
        assertTrue(none.err().startsWith("usage: bin/bq2k"), none.err());
        assertEquals("", none.out());

        Result help = run("--help");
        assertEquals(0, help.exit());
        assertTrue(help.out().startsWith("usage: bin/bq2k"), help.out());

        Result unknown = run("frobnicate");
        assertEquals(64, unknown.exit());
        assertTrue(unknown.err().startsWith("bq2k: unknown command 'frobnicate'"), unknown.err());

        Result noFiles = run("deploy", "--wait");
        assertEquals(64, noFiles.exit());
        assertTrue(noFiles.err().startsWith("bq2k deploy: no config files"), noFiles.err());
    }

    @Test
    void badConnectionFlagsAreUsageErrors() {
        Result noPassword = run("--rest-user", "ops", "status");
        assertEquals(64, noPassword.exit());
        assertTrue(noPassword.err().contains("--rest-user ops needs a password"), noPassword.err());

        Result noValue = run("status", "--connect");
        assertEquals(64, noValue.exit());
        assertEquals("bq2k: --connect needs a value", noValue.err().strip());
    }

    @Test
    void anUnreachableWorkerExits2WithAHint() throws Exception {
        int port = closedPort();
        Result r = run("--connect", "http://127.0.0.1:" + port, "status");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("The Connect REST API at http://127.0.0.1:" + port + " is unreachable"), r.err());

        Result json = run("--connect", "http://127.0.0.1:" + port, "status", "--json");
        assertEquals(2, json.exit());
        assertTrue(new ObjectMapper().readTree(json.out()).path("error").asText().contains("unreachable"), json.out());
    }

    @Test
    void deployExits1WhenAnyFileFailsAndNamesTheFileAndField() throws Exception {
        try (FakeConnect fake = new FakeConnect()) {
            List<Path> files = new ArrayList<>();
            for (String pw : List.of("${env:MYSQL_PASSWORD}", "${MYSQL_PASSWORD}")) {
                Path f = tmp.resolve("sink-" + files.size() + ".json");
                Files.writeString(f, "{\"name\": \"sink-" + files.size() + "\", \"config\": {\"connector.class\": \"X\", \"connection.password\": \"" + pw + "\"}}");
                files.add(f);
            }
            Result r = run(Map.of("MYSQL_PASSWORD", "plain"), "--connect", fake.url(), "deploy", files.get(0).toString(), files.get(1).toString());
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.out().contains("deploy: created sink-0 (X)"), r.out());
            assertTrue(r.err().contains("bq2k deploy: " + files.get(1) + ": sink-1: [connection.password] would be sent as plain text"), r.err());
            assertTrue(!r.err().contains("plain\"") && !r.out().contains("plain\""), "no secret printed");
            assertEquals(List.of("/connectors/sink-0/config"), fake.puts().stream().map(FakeConnect.Request::path).toList());

            Result ok = run(Map.of(), "--connect", fake.url(), "deploy", files.get(0).toString());
            assertEquals(0, ok.exit(), ok.err());
        }
    }

    @Test
    void restCredentialsAreSentWithEveryDeployRequest() throws Exception {
        try (FakeConnect fake = new FakeConnect()) {
            Path f = tmp.resolve("s.json");
            Files.writeString(f, "{\"name\": \"s\", \"config\": {\"connector.class\": \"X\"}}");
            Path pw = tmp.resolve("pw");
            Files.writeString(pw, "p4ss\n");
            Result r = run("--connect", fake.url(), "--rest-user", "ops", "--rest-password-file", pw.toString(), "deploy", f.toString());
            assertEquals(0, r.exit(), r.err());
            assertEquals(2, fake.requests.size(), "validate and put");
            assertTrue(fake.requests.stream().allMatch(q -> ClientOptionsTest.basic("ops", "p4ss").equals(q.authorization())), fake.requests.toString());
        }
    }
}
