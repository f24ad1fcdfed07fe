package io.bq2k.connect.bigquery.it;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import com.google.cloud.NoCredentials;
import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryOptions;
import com.google.cloud.bigquery.QueryJobConfiguration;
import com.google.cloud.bigquery.TableResult;

/**
 * The BigQuery emulator for tests: installed from PyPI by bin/emulator on first use, started on
 * free ports with its own data directory, stopped (process tree) on close.
 */
public final class BqEmulator implements AutoCloseable {

    public static final String PROJECT = "demo";

    private final Process process;
    private final int restPort;
    private final int grpcPort;
    private final BigQuery client;

    private BqEmulator(Process process, int restPort, int grpcPort) {
        this.process = process;
        this.restPort = restPort;
        this.grpcPort = grpcPort;
        this.client = BigQueryOptions.newBuilder().setProjectId(PROJECT).setHost(restEndpoint())
            .setCredentials(NoCredentials.getInstance()).build().getService();
    }

    public static Path projectRoot() {
        String root = System.getProperty("project.root");
        Path p = root != null ? Path.of(root) : Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("bin/emulator"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("bin/emulator not found above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    public static BqEmulator start() throws IOException, InterruptedException {
        Path root = projectRoot();
        int rest = freePort();
        int grpc = freePort();
        Path dir = Files.createTempDirectory("bqemu");
        Path log = dir.resolve("emulator.log");
        Process p = new ProcessBuilder(List.of(root.resolve("bin/emulator").toString(), "run", "--rest-port", Integer.toString(rest),
            "--grpc-port", Integer.toString(grpc), "--project", PROJECT, "--log-level", "warning"))
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        BqEmulator emulator = new BqEmulator(p, rest, grpc);
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos(); // first use installs it
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("emulator exited: " + Files.readString(log));
            }
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create(emulator.restEndpoint() + "/bigquery/v2/projects/" + PROJECT + "/datasets").toURL().openConnection();
                c.setConnectTimeout(500);
                if (c.getResponseCode() == 200) {
                    return emulator;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(300);
        }
        emulator.close();
        throw new IllegalStateException("emulator did not start in time: " + log);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public String restEndpoint() {
        return "http://127.0.0.1:" + restPort;
    }

    public String grpcEndpoint() {
        return "127.0.0.1:" + grpcPort;
    }

    public BigQuery client() {
        return client;
    }

    public TableResult sql(String sql) {
        try {
            return client.query(QueryJobConfiguration.newBuilder(sql).setUseLegacySql(false).build());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
