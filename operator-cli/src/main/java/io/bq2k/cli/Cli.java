package io.bq2k.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code bin/bq2k}: the operator's tool for any Connect cluster.
 * <pre>
 *   bq2k [CONNECTION] deploy [--wait] CONFIG.json...   validate, refuse plain-text secrets, create or update
 *   bq2k [CONNECTION] status [--json]                   every sync: state, last run, sink lag, MySQL freshness
 *   bq2k [CONNECTION] plan CONFIG.json [--json]         dry run: what the next run would change (nothing emitted)
 * </pre>
 * CONNECTION: {@code --connect URL --bootstrap HOSTS --command-config CLIENT.properties --rest-user USER
 * --rest-password-file FILE} (see {@link ClientOptions}); without them, the local stack's addresses.
 */
public final class Cli {

    static final String USAGE = String.join("\n",
            "usage: bin/bq2k [CONNECTION] COMMAND",
            "  deploy [--wait] CONFIG.json...   validate and create/update connectors (${NAME} placeholders from the",
            "                                   environment; a PASSWORD field must be a ${env:...}/${file:...} reference)",
            "  status [--json]                  every sync: connector and tasks, last run, sink lag, MySQL freshness",
            "  plan CONFIG.json [--json] [--samples N]",
            "                                   dry run of the sync's next run in BigQuery: rows, to add/change/remove,",
            "                                   sample keys, the mass-delete guard's verdict; emits nothing, keeps no table",
            "CONNECTION (defaults: the local stack, env CONNECT_PORT / KAFKA_PORT):",
            "  --connect URL                    the Connect REST API (http or https)",
            "  --bootstrap HOST:PORT[,...]      Kafka's bootstrap servers",
            "  --command-config FILE            Kafka client properties (security.protocol, ssl.*, sasl.*); its trust",
            "                                   store also verifies an https Connect URL",
            "  --rest-user USER                 REST basic auth; the password from --rest-password-file FILE or env "
                    + ClientOptions.REST_PASSWORD_ENV,
            "exit: 0 ok, 1 a command failed, 2 Connect or Kafka unreachable, 3 plan: the run would fail or be held, 64 usage");

    private static final ObjectMapper JSON = new ObjectMapper();

    private Cli() {}

    public static void main(String[] args) {
        System.exit(run(List.of(args), System.getenv(), System.out, System.err));
    }

    static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        ClientOptions.Parsed parsed;
        try {
            parsed = ClientOptions.parse(args, env);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            err.println("bq2k: " + e.getMessage());
            return 64;
        }
        List<String> rest = parsed.rest();
        if (rest.isEmpty() || rest.contains("-h") || rest.contains("--help")) {
            (rest.isEmpty() ? err : out).println(USAGE);
            return rest.isEmpty() ? 64 : 0;
        }
        List<String> operands = rest.subList(1, rest.size());
        try {
            switch (rest.get(0)) {
                case "deploy":
                    return deploy(parsed.options(), operands, env, out, err);
                case "status":
                    return status(parsed.options(), operands, out, err);
                case "plan":
                    return PlanCommand.run(parsed.options(), operands, env, out, err);
                default:
                    err.println("bq2k: unknown command '" + rest.get(0) + "'\n" + USAGE);
                    return 64;
            }
        } catch (SyncStatus.Unreachable e) {
            err.println("bq2k: " + e.getMessage());
            return 2;
        } catch (ConnectorDeployer.DeployException | IllegalArgumentException | IllegalStateException e) {
            err.println("bq2k: " + e.getMessage());
            return 1;
        }
    }

    private static int deploy(ClientOptions options, List<String> operands, Map<String, String> env, PrintStream out, PrintStream err) {
        boolean wait = operands.contains("--wait");
        List<Path> files = new ArrayList<>();
        operands.stream().filter(a -> !a.equals("--wait")).forEach(a -> files.add(Path.of(a)));
        if (files.isEmpty()) {
            err.println("bq2k deploy: no config files\n" + USAGE);
            return 64;
        }
        ConnectorDeployer deployer = new ConnectorDeployer(options.connectRest(), env, out);
        int failed = 0;
        for (Path f : files) {
            try {
                ConnectorDeployer.Deployment d = deployer.deploy(f);
                if (wait) {
                    deployer.awaitRunning(d.name(), Duration.ofSeconds(60));
                }
            } catch (ConnectorDeployer.DeployException e) {
                err.println("bq2k deploy: " + f + ": " + e.getMessage());
                failed++;
            }
        }
        return failed == 0 ? 0 : 1;
    }

    private static int status(ClientOptions options, List<String> operands, PrintStream out, PrintStream err) throws SyncStatus.Unreachable {
        boolean json = operands.contains("--json");
        try {
            ObjectNode status = new SyncStatus(options).collect();
            if (json) {
                out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(status));
            } else {
                SyncStatus.print(status, out);
            }
            return 0;
        } catch (SyncStatus.Unreachable e) {
            if (json) {
                out.println(JSON.createObjectNode().put("error", e.getMessage()));
            }
            throw e;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
