package io.bq2k.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Apicurio Registry 2.6 (the Quarkus app {@code io.apicurio:apicurio-registry-app}, unpacked into
 * {@code dev-stack/target/registry/} at {@code package}): the schema registry of the Avro record format. Bound to
 * 127.0.0.1, its H2 database a file in the component's data dir, so schema ids survive a restart as the topics that
 * reference them do (in memory, a restarted registry would hand out the same ids for other schemas).
 * Ready once {@code /health/ready} answers 200. Started only when asked for ({@link Component#byDefault()}).
 */
final class RegistryRecipe implements ComponentRecipe {

    private final StackSettings s;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    RegistryRecipe(StackSettings s) {
        this.s = s;
    }

    @Override public Component component() { return Component.REGISTRY; }

    @Override public List<Integer> ports() { return List.of(s.registryPort); }

    @Override
    public List<String> command() {
        Path dir = s.dataDir(Component.REGISTRY);
        Path jar = runnerJar();
        try {
            Files.createDirectories(dir.resolve("db"));
            Files.createDirectories(dir.resolve("tmp"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> jvm = new ArrayList<>(JavaLaunch.splitOpts(s.registryHeap));
        jvm.add("-Dquarkus.http.host=127.0.0.1");
        jvm.add("-Dquarkus.http.port=" + s.registryPort);
        jvm.add("-Dquarkus.datasource.jdbc.url=jdbc:h2:file:" + dir.resolve("db").resolve("registry"));
        // Vert.x's file cache and Quarkus's temp files in the data dir, not in the machine's /tmp.
        jvm.add("-Djava.io.tmpdir=" + dir.resolve("tmp"));
        List<String> cmd = JavaLaunch.command(s, Component.REGISTRY, jvm, List.of(jar.toString()));
        cmd.addAll(List.of("-jar", jar.toString())); // -jar wins over -cp: the runner's manifest names its lib/
        return cmd;
    }

    /** {@code target/registry/apicurio-registry-app-<version>-runner.jar}, which {@code mvn package} unpacks. */
    Path runnerJar() {
        Path dir = Path.of(JavaLaunch.libDir(s, "registry"));
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().matches("apicurio-registry-app-.*-runner\\.jar")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no apicurio-registry-app-*-runner.jar in " + dir
                            + ": run `mvn -q -B -pl " + StackSettings.MODULE + " -am package -DskipTests`"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final Pattern VERSION = Pattern.compile("\"version\"\\s*:\\s*\"([^\"]+)\"");

    @Override
    public String probe() throws Exception {
        HttpResponse<Void> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.registryPort + "/health/ready"))
                .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.discarding());
        if (ready.statusCode() != 200) {
            return null;
        }
        HttpResponse<String> info = http.send(HttpRequest.newBuilder(URI.create(s.registryUrl() + "/system/info"))
                .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (info.statusCode() != 200) {
            return null;
        }
        Matcher m = VERSION.matcher(info.body());
        return "Apicurio Registry " + (m.find() ? m.group(1) : "?") + ", GET /health/ready -> 200";
    }

    @Override
    public boolean isOwnProcess(String cmdline) {
        return JavaLaunch.isOwnJvm(s, Component.REGISTRY, cmdline);
    }

    @Override public Duration stopTimeout() { return Duration.ofSeconds(20); }

    @Override
    public String address() {
        return s.registryUrl() + " (Confluent-compatible: " + s.registryConfluentCompatUrl() + ")";
    }
}
