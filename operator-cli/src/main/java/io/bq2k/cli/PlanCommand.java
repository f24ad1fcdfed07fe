package io.bq2k.cli;

import java.io.PrintStream;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.bq2k.connect.bigquery.DryRun;
import io.bq2k.connect.bigquery.DryRunCommand;

/**
 * {@code bq2k plan CONFIG.json [--json] [--samples N]}: the connector's own dry run of the sync's next
 * run ({@link DryRunCommand}), against the offset the sync has committed in the given Connect cluster
 * (none when the connector does not exist yet: then the plan is that of a new sync). The config file is
 * read as {@code deploy} reads it ({@code ${NAME}} placeholders from the environment); a secret it
 * references through a worker config provider must be given to this process the same way (e.g. the
 * service-account key as {@code bigquery.credentials.file}).
 */
final class PlanCommand {

    private PlanCommand() {}

    static int run(ClientOptions options, List<String> operands, Map<String, String> env, PrintStream out, PrintStream err) {
        boolean json = false;
        int samples = DryRun.DEFAULT_SAMPLES;
        Path file = null;
        for (int i = 0; i < operands.size(); i++) {
            String a = operands.get(i);
            if (a.equals("--json")) {
                json = true;
            } else if (a.equals("--samples") && i + 1 < operands.size()) {
                samples = Integer.parseInt(operands.get(++i));
            } else if (file == null && !a.startsWith("--")) {
                file = Path.of(a);
            } else {
                err.println("bq2k plan: unexpected argument " + a + "\n" + Cli.USAGE);
                return 64;
            }
        }
        if (file == null) {
            err.println("bq2k plan: no config file\n" + Cli.USAGE);
            return 64;
        }
        ConnectorDeployer.ConfigFile config = new ConnectorDeployer(options.connectRest(), env, null).read(file);
        Map<String, String> connector = new LinkedHashMap<>(config.config());
        connector.put("name", config.name());
        return DryRunCommand.plan(connector, committedOffsets(options.connectRest(), config.name()), samples, json, out, err);
    }

    /** The answer of {@code GET /connectors/{name}/offsets}, or null when the connector does not exist. */
    private static String committedOffsets(ConnectRest rest, String name) {
        String path = "/connectors/" + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20") + "/offsets";
        HttpResponse<String> r = rest.send("GET", path, null);
        if (r.statusCode() == 404) {
            return null;
        }
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + rest.baseUrl() + path + " -> HTTP " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }
}
