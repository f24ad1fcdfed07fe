package io.bq2k.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientOptionsTest {

    @TempDir
    Path tmp;

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** The Authorization header the parsed options' REST client sends (null: none). */
    static String authorizationSent(ClientOptions o, FakeConnect fake) {
        fake.requests.clear();
        o.connectRest().send("GET", "/connectors", null);
        return fake.requests.get(0).authorization();
    }

    @Test
    void connectionFlagsAreConsumedAndTheRestKept() throws Exception {
        Path props = tmp.resolve("client.properties");
        Files.writeString(props, "security.protocol=SSL\nssl.truststore.location=/nowhere/ts.p12\n");
        ClientOptions.Parsed p = ClientOptions.parse(List.of("--connect", "https://connect.example:8443/", "--bootstrap", "k1:9093,k2:9093",
                "--command-config", props.toString(), "status", "--json"), Map.of());
        assertEquals("https://connect.example:8443", p.options().connectUrl(), "a trailing slash is dropped");
        assertEquals("k1:9093,k2:9093", p.options().bootstrap());
        assertEquals(List.of("status", "--json"), p.rest());
        assertEquals("SSL", p.options().kafkaProperties().getProperty("security.protocol"));
        // Kafka's own tools' spelling is accepted too.
        assertEquals("k3:9092", ClientOptions.parse(List.of("--bootstrap-server", "k3:9092"), Map.of()).options().bootstrap());
    }

    @Test
    void withoutFlagsTheLocalStacksAddressesFromTheEnvironment() {
        ClientOptions.Parsed p = ClientOptions.parse(List.of("status"), Map.of("CONNECT_PORT", "18083", "KAFKA_PORT", "19092"));
        assertEquals("http://127.0.0.1:18083", p.options().connectUrl());
        assertEquals("127.0.0.1:19092", p.options().bootstrap());
        ClientOptions d = ClientOptions.parse(List.of(), Map.of()).options();
        assertEquals("http://127.0.0.1:8083", d.connectUrl());
        assertEquals("127.0.0.1:9092", d.bootstrap());
    }

    @Test
    void kafkaPropertiesAreTheFileWithTheBootstrapOfTheFlag() throws Exception {
        Path props = tmp.resolve("client.properties");
        Files.writeString(props, String.join("\n",
                "bootstrap.servers=from-the-file:9092",
                "security.protocol=SASL_SSL",
                "sasl.mechanism=SCRAM-SHA-512",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"p\";",
                "ssl.truststore.location=/etc/ts.p12", ""));
        Properties k = ClientOptions.parse(List.of("--command-config", props.toString(), "--bootstrap", "b:9096"), Map.of())
                .options().kafkaProperties();
        assertEquals("b:9096", k.getProperty("bootstrap.servers"), "the flag (or default) wins over the file");
        assertEquals("SASL_SSL", k.getProperty("security.protocol"));
        assertEquals("SCRAM-SHA-512", k.getProperty("sasl.mechanism"));
        assertTrue(k.getProperty("sasl.jaas.config").startsWith("org.apache.kafka.common.security.scram.ScramLoginModule"));
        assertEquals("/etc/ts.p12", k.getProperty("ssl.truststore.location"));
        assertEquals(5, k.size());

        Properties plain = ClientOptions.parse(List.of(), Map.of("KAFKA_PORT", "9999")).options().kafkaProperties();
        assertEquals(Map.of("bootstrap.servers", "127.0.0.1:9999"), Map.copyOf(plain));
    }

    @Test
    void theRestPasswordComesFromTheFileOrTheEnvironmentNeverFromArgv() throws Exception {
        try (FakeConnect fake = new FakeConnect()) {
            Path pw = tmp.resolve("rest.pw");
            Files.writeString(pw, "s3cret-from-file\n");
            ClientOptions fromFile = ClientOptions.parse(List.of("--connect", fake.url(), "--rest-user", "ops", "--rest-password-file", pw.toString()),
                    Map.of(ClientOptions.REST_PASSWORD_ENV, "from-env")).options();
            assertEquals(basic("ops", "s3cret-from-file"), authorizationSent(fromFile, fake), "the file wins over the env; trailing newline stripped");

            ClientOptions fromEnv = ClientOptions.parse(List.of("--connect", fake.url(), "--rest-user", "ops"),
                    Map.of(ClientOptions.REST_PASSWORD_ENV, "from-env")).options();
            assertEquals(basic("ops", "from-env"), authorizationSent(fromEnv, fake));

            // There is no flag taking the password itself: it stays an operand and is never used as the password.
            ClientOptions.Parsed argv = ClientOptions.parse(List.of("--connect", fake.url(), "--rest-user", "ops", "--rest-password", "on-argv", "status"),
                    Map.of(ClientOptions.REST_PASSWORD_ENV, "from-env"));
            assertEquals(List.of("--rest-password", "on-argv", "status"), argv.rest());
            assertEquals(basic("ops", "from-env"), authorizationSent(argv.options(), fake));

            ClientOptions none = ClientOptions.parse(List.of("--connect", fake.url()), Map.of(ClientOptions.REST_PASSWORD_ENV, "from-env")).options();
            assertNull(authorizationSent(none, fake), "no user: no Authorization header");
        }
    }

    @Test
    void aRestUserWithoutPasswordIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClientOptions.parse(List.of("--rest-user", "ops", "--rest-password", "on-argv", "status"), Map.of()));
        assertTrue(e.getMessage().contains("--rest-user ops needs a password"), e.getMessage());
        assertTrue(e.getMessage().contains("--rest-password-file") && e.getMessage().contains(ClientOptions.REST_PASSWORD_ENV), e.getMessage());
        assertTrue(!e.getMessage().contains("on-argv"), e.getMessage());
    }

    @Test
    void aFlagWithoutValueIsAnError() {
        for (String flag : List.of("--connect", "--bootstrap", "--command-config", "--rest-user", "--rest-password-file")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClientOptions.parse(List.of("status", flag), Map.of()));
            assertEquals(flag + " needs a value", e.getMessage());
        }
    }

    @Test
    void anHttpsUrlWithAnUnloadableTrustStoreIsAClearError() throws Exception {
        Path props = tmp.resolve("client.properties");
        Files.writeString(props, "security.protocol=SSL\nssl.truststore.location=" + tmp.resolve("missing.p12") + "\nssl.truststore.password=x\n");
        ClientOptions o = ClientOptions.parse(List.of("--connect", "https://127.0.0.1:1", "--command-config", props.toString()), Map.of()).options();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, o::connectRest);
        assertTrue(e.getMessage().startsWith("the TLS settings of the client properties file do not load"), e.getMessage());
        // A plain http URL does not touch the trust store.
        ClientOptions.parse(List.of("--connect", "http://127.0.0.1:1", "--command-config", props.toString()), Map.of()).options().connectRest();
    }
}
