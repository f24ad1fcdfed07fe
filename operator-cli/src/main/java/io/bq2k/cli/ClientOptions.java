package io.bq2k.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * How the CLI reaches a cluster: the Connect REST URL, Kafka's bootstrap servers, a Kafka client
 * properties file (TLS / SASL settings, as for Kafka's own tools' {@code --command-config}) and
 * optional REST basic authentication. The REST password is read from a file or the environment,
 * never from the command line (where {@code ps} would show it).
 *
 * <p>An {@code https} Connect URL is reached with the trust store (and key store, for mutual TLS)
 * named in the client properties file: one file describes how this client trusts the cluster.
 */
public final class ClientOptions {

    public static final String REST_PASSWORD_ENV = "CONNECT_REST_PASSWORD";

    private final String connectUrl;
    private final String bootstrap;
    private final Properties clientProperties;
    private final String restUser;
    private final String restPassword;

    public ClientOptions(String connectUrl, String bootstrap, Properties clientProperties, String restUser, String restPassword) {
        this.connectUrl = connectUrl.replaceAll("/+$", "");
        this.bootstrap = bootstrap;
        this.clientProperties = clientProperties == null ? new Properties() : clientProperties;
        this.restUser = restUser;
        this.restPassword = restPassword;
    }

    /** The local stack's addresses (env CONNECT_PORT, KAFKA_PORT), plain and unauthenticated. */
    public static ClientOptions localDefaults(Map<String, String> env) {
        return new ClientOptions("http://127.0.0.1:" + env.getOrDefault("CONNECT_PORT", "8083"),
                "127.0.0.1:" + env.getOrDefault("KAFKA_PORT", "9092"), new Properties(), null, null);
    }

    /**
     * Consumes the connection flags of {@code args} ({@code --connect URL}, {@code --bootstrap HOSTS},
     * {@code --command-config FILE}, {@code --rest-user USER}, {@code --rest-password-file FILE}) and
     * returns the options and the remaining arguments.
     */
    public static Parsed parse(List<String> args, Map<String, String> env) {
        ClientOptions d = localDefaults(env);
        String connect = d.connectUrl;
        String bootstrap = d.bootstrap;
        Properties props = new Properties();
        String user = null;
        String password = env.get(REST_PASSWORD_ENV);
        List<String> rest = new java.util.ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--connect" -> connect = value(args, ++i, a);
                case "--bootstrap", "--bootstrap-server" -> bootstrap = value(args, ++i, a);
                case "--command-config" -> props = load(Path.of(value(args, ++i, a)));
                case "--rest-user" -> user = value(args, ++i, a);
                case "--rest-password-file" -> password = read(Path.of(value(args, ++i, a))).strip();
                default -> rest.add(a);
            }
        }
        if (user != null && password == null) {
            throw new IllegalArgumentException("--rest-user " + user + " needs a password: --rest-password-file FILE or env " + REST_PASSWORD_ENV);
        }
        return new Parsed(new ClientOptions(connect, bootstrap, props, user, password), rest);
    }

    public record Parsed(ClientOptions options, List<String> rest) {}

    public String connectUrl() { return connectUrl; }

    public String bootstrap() { return bootstrap; }

    /** The Connect REST client: basic auth if given, the client properties' TLS stores for https. */
    public ConnectRest connectRest() {
        SSLContext tls = connectUrl.startsWith("https:") && clientProperties.containsKey("ssl.truststore.location") ? tls() : null;
        return new ConnectRest(connectUrl, restUser, restPassword, tls);
    }

    /** Kafka client properties: the file's settings (security.protocol, ssl.*, sasl.*) and the bootstrap servers. */
    public Properties kafkaProperties() {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    private SSLContext tls() {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store("ssl.truststore"));
            KeyManagerFactory kmf = null;
            if (clientProperties.containsKey("ssl.keystore.location")) {
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                String keyPw = clientProperties.getProperty("ssl.key.password", clientProperties.getProperty("ssl.keystore.password", ""));
                kmf.init(store("ssl.keystore"), keyPw.toCharArray());
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("the TLS settings of the client properties file do not load: " + e.getMessage(), e);
        }
    }

    private KeyStore store(String prefix) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance(clientProperties.getProperty(prefix + ".type", "PKCS12"));
        String pw = clientProperties.getProperty(prefix + ".password", "");
        try (InputStream in = Files.newInputStream(Path.of(clientProperties.getProperty(prefix + ".location")))) {
            ks.load(in, pw.toCharArray());
        }
        return ks;
    }

    private static String value(List<String> args, int i, String flag) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args.get(i);
    }

    private static Properties load(Path file) {
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the client properties file " + file + ": " + e.getMessage(), e);
        }
        return p;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
