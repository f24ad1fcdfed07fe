package io.bq2k.stack;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The BigQuery emulator ({@code bqemulator} from PyPI, through {@code bin/emulator}), persistent in its data dir. */
final class EmulatorRecipe implements ComponentRecipe {

    private final StackSettings s;
    private final ProcessSupervisor supervisor;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    EmulatorRecipe(StackSettings s, ProcessSupervisor supervisor) {
        this.s = s;
        this.supervisor = supervisor;
    }

    @Override public Component component() { return Component.EMULATOR; }

    @Override public List<Integer> ports() { return List.of(s.bqRestPort, s.bqGrpcPort); }

    @Override
    public List<String> command() {
        String script = s.projectRoot.resolve("bin/emulator").toString();
        // Install the virtualenv first (idempotent, instant when done) so a slow pip install is not
        // mistaken for a slow start.
        supervisor.runToCompletion(List.of(script, "install"), Component.EMULATOR, Duration.ofMinutes(10));
        return List.of(script, "run", "--rest-port", String.valueOf(s.bqRestPort), "--grpc-port",
                String.valueOf(s.bqGrpcPort), "--project", s.bqProject, "--persistent", "--data-dir",
                s.dataDir(Component.EMULATOR).toString(), "--log-level", s.bqLogLevel);
    }

    @Override public Map<String, String> environment() { return Map.of("PYTHONUNBUFFERED", "1"); }

    @Override
    public String probe() throws Exception {
        String path = "/bigquery/v2/projects/" + s.bqProject + "/datasets";
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(s.bqRestUrl() + path))
                .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.discarding());
        return r.statusCode() == 200 ? "GET " + path + " -> 200" : null;
    }

    @Override
    public boolean isOwnProcess(String cmdline) {
        return cmdline.contains("bqemulator") && cmdline.contains(s.dataDir(Component.EMULATOR).toString());
    }

    /** Short: a stopped emulator flushes nothing it needs (persistent mode writes as it goes). */
    @Override public Duration stopTimeout() { return Duration.ofSeconds(15); }

    @Override public String address() { return s.bqRestUrl() + " grpc=" + s.bqGrpcEndpoint(); }
}
