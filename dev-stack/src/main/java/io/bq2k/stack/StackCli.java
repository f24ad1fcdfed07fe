package io.bq2k.stack;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.bq2k.cli.ConnectorDeployer;

/**
 * The command line behind {@code bin/stack}; every action is a {@link LocalStack} call (the e2e tests
 * call the same methods). Deploying is the operator CLI's job ({@code bin/deploy} = {@code bin/bq2k deploy}).
 */
public final class StackCli {

    static final String USAGE = String.join("\n",
            "usage: bin/stack COMMAND",
            "  up [COMPONENT...]          start what is not running (all but the registry by default), wait until ready;",
            "                             `up registry` adds Apicurio Registry (for the Avro configs in config/avro/)",
            "  down [--wipe]              stop everything; --wipe also deletes the data dir",
            "  status                     running/ready state, addresses, data dirs (exit 3 if not all ready)",
            "  start|stop COMPONENT       one component: emulator, mariadb, kafka, connect, registry",
            "  kill-worker                kill -9 the Connect worker",
            "  restart-worker             stop (gracefully, if running) and start the worker",
            "  topic NAME [--partitions N] [--compact] [--config k=v]...   create a topic unless it exists",
            "  topics                     list topics",
            "  env                        print the stack's addresses as shell variables",
            "env: STACK_DIR BQ_REST_PORT BQ_GRPC_PORT MYSQL_PORT KAFKA_PORT KAFKA_CONTROLLER_PORT CONNECT_PORT",
            "     REGISTRY_PORT CONNECT_HEAP CONNECT_JMX_PORT KAFKA_HEAP REGISTRY_HEAP BQ_LOG_LEVEL STACK_START_TIMEOUT");

    public static void main(String[] args) {
        int code;
        try {
            code = run(args);
        } catch (ConnectorDeployer.DeployException | IllegalStateException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            code = 1;
        }
        System.exit(code);
    }

    static int run(String[] args) {
        if (args.length == 0) {
            System.err.println(USAGE);
            return 2;
        }
        LocalStack stack = LocalStack.fromEnv();
        String cmd = args[0];
        List<String> rest = List.of(args).subList(1, args.length);
        switch (cmd) {
            case "up": {
                long t0 = System.nanoTime();
                stack.pluginWarnings().forEach(w -> System.out.println("stack: WARNING: " + w));
                Component[] cs = rest.isEmpty() ? Component.defaults() : rest.stream().map(Component::parse).toArray(Component[]::new);
                stack.up(cs);
                System.out.printf("stack: up in %.1fs%n", (System.nanoTime() - t0) / 1e9);
                return printStatus(stack);
            }
            case "down":
                stack.down(!rest.contains("--wipe"));
                return 0;
            case "status":
                return printStatus(stack);
            case "start":
                requireArg(rest, "start COMPONENT");
                stack.start(Component.parse(rest.get(0)));
                return 0;
            case "stop":
                requireArg(rest, "stop COMPONENT");
                stack.stop(Component.parse(rest.get(0)));
                return 0;
            case "kill-worker":
                stack.killWorker();
                return 0;
            case "restart-worker":
                stack.pluginWarnings().forEach(w -> System.out.println("stack: WARNING: " + w));
                stack.restartWorker();
                return 0;
            case "topic": {
                requireArg(rest, "topic NAME [--partitions N] [--compact] [--config k=v]...");
                String name = rest.get(0);
                int partitions = 1;
                Map<String, String> configs = new LinkedHashMap<>();
                for (int i = 1; i < rest.size(); i++) {
                    switch (rest.get(i)) {
                        case "--partitions": partitions = Integer.parseInt(rest.get(++i)); break;
                        case "--compact": configs.put("cleanup.policy", "compact"); break;
                        case "--config": {
                            String[] kv = rest.get(++i).split("=", 2);
                            configs.put(kv[0], kv.length > 1 ? kv[1] : "");
                            break;
                        }
                        default: throw new IllegalArgumentException("unknown option " + rest.get(i));
                    }
                }
                boolean created = stack.createTopic(name, partitions, configs);
                System.out.println("stack: topic " + name + (created ? " created " + configs : " already exists"));
                return 0;
            }
            case "topics":
                stack.listTopics().forEach(System.out::println);
                return 0;
            case "env": {
                Map<String, String> p = stack.placeholders();
                for (String k : List.of("STACK_DIR", "BQ_REST_PORT", "BQ_GRPC_PORT", "BQ_PROJECT", "MYSQL_PORT", "MYSQL_DATABASE",
                        "MYSQL_USER", "KAFKA_PORT", "KAFKA_BOOTSTRAP", "CONNECT_PORT", "REGISTRY_PORT", "REGISTRY_URL")) {
                    System.out.println(k + "=" + p.get(k));
                }
                return 0;
            }
            case "-h": case "--help": case "help":
                System.out.println(USAGE);
                return 0;
            default:
                System.err.println("unknown command '" + cmd + "'\n" + USAGE);
                return 2;
        }
    }

    private static int printStatus(LocalStack stack) {
        System.out.println("stack dir: " + stack.stackDir());
        boolean allReady = true;
        for (LocalStack.ComponentStatus s : stack.status()) {
            System.out.println(s);
            allReady &= s.ready();
        }
        stack.pluginWarnings().forEach(w -> System.out.println("WARNING: " + w));
        return allReady ? 0 : 3;
    }

    private static void requireArg(List<String> rest, String usage) {
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("usage: bin/stack " + usage);
        }
    }

    private StackCli() {}
}
