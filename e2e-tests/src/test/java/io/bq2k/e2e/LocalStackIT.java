package io.bq2k.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.bq2k.stack.Component;
import io.bq2k.stack.LocalStack;
import io.bq2k.cli.ConnectorDeployer;

/**
 * Smoke test of the launcher as the e2e tests use it: random ports, a temp stack dir, the real
 * Debezium sink deployed and RUNNING, a worker kill and restart, everything stopped at the end.
 */
class LocalStackIT {

    @TempDir
    Path tmp;

    @Test
    void upDeployKillRestartDown() throws Exception {
        LocalStack stack = LocalStack.builder().randomPorts(false).stackDir(tmp.resolve("stack"))
                .connectHeap("-Xmx512m").bqLogLevel("warning").stopOnJvmExit(true).build();
        try {
            stack.up();
            assertTrue(stack.status().stream().allMatch(LocalStack.ComponentStatus::ready), () -> stack.status().toString());
            try (Connection c = stack.mysqlConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT @@character_set_server, CURRENT_USER()")) {
                rs.next();
                assertEquals("utf8mb4", rs.getString(1));
                assertEquals("sync@%", rs.getString(2));
            }
            assertTrue(stack.createCompactedTopic("demo.user_features", 1));
            assertFalse(stack.createCompactedTopic("demo.user_features", 1), "idempotent");

            ConnectorDeployer d = stack.deployer();
            ConnectorDeployer.Deployment dep = d.deploy(stack.projectRoot().resolve("config/sink-debezium-mysql.json"));
            d.awaitRunning(dep.name(), Duration.ofSeconds(60));

            long pid = stack.pid(Component.CONNECT).orElseThrow();
            stack.killWorker();
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
            stack.restartWorker();
            d.awaitRunning(dep.name(), Duration.ofSeconds(90));
        } finally {
            stack.down(false);
        }
        for (Component c : List.of(Component.values())) {
            assertFalse(stack.isRunning(c), c.id());
        }
    }
}
