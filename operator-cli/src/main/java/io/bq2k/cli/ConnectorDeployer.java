package io.bq2k.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Deploys connector config files ({@code {"name": "...", "config": {...}}}) to a Connect worker:
 * substitutes {@code ${NAME}} / {@code ${NAME:-default}} placeholders, validates with
 * {@code PUT /connector-plugins/{class}/config/validate} (any error: every field's errors, and no
 * deploy), then {@code PUT /connectors/{name}/config} (idempotent: create or update).
 * Used by {@code bin/bq2k deploy}, by the dev stack (its {@code deployer()}) and so by the demo and the e2e tests.
 */
public final class ConnectorDeployer {

    /** A failed validation or REST call; the message is complete (every field's errors). */
    public static final class DeployException extends RuntimeException {
        public DeployException(String message) {
            super(message);
        }
    }

    /** The outcome of one deploy. */
    public record Deployment(String name, String connectorClass, boolean created) {}

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ConnectRest rest;
    private final Map<String, String> placeholders;
    private final PrintStream out;

    /** {@code out} may be null (silent). */
    public ConnectorDeployer(String connectUrl, Map<String, String> placeholders, PrintStream out) {
        this(new ConnectRest(connectUrl), placeholders, out);
    }

    /** A deployer reaching Connect through {@code rest} (TLS, REST auth); {@code out} may be null (silent). */
    public ConnectorDeployer(ConnectRest rest, Map<String, String> placeholders, PrintStream out) {
        this.rest = rest;
        this.placeholders = Map.copyOf(placeholders);
        this.out = out;
    }

    /** Replaces {@code ${NAME}} and {@code ${NAME:-default}}; an unset NAME without default is an error. */
    public static String substitute(String text, Map<String, String> vars) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder sb = new StringBuilder();
        List<String> missing = new ArrayList<>();
        while (m.find()) {
            String v = vars.get(m.group(1));
            if (v == null) {
                v = m.group(3);
            }
            if (v == null) {
                missing.add(m.group(1));
                v = m.group();
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        if (!missing.isEmpty()) {
            throw new DeployException("unset placeholder(s) " + new TreeSet<>(missing) + " (set them in the environment or use ${NAME:-default})");
        }
        return sb.toString();
    }

    /** A connector config read from a file: which keys had a {@code ${NAME}} placeholder substituted here. */
    public record ConfigFile(String name, Map<String, String> config, Set<String> substitutedKeys) {}

    /** Reads a config file: name and config (placeholders substituted, every value as a string). */
    public ConfigFile read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new DeployException(file + ": not readable JSON: " + e.getMessage());
        }
        JsonNode cfg = root.get("config");
        if (root.get("name") == null || cfg == null || !cfg.isObject()) {
            throw new DeployException(file + ": expected {\"name\": \"...\", \"config\": {...}}");
        }
        Map<String, String> config = new LinkedHashMap<>();
        Set<String> substituted = new TreeSet<>();
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = cfg.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String raw = e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString();
                String value = substitute(raw, placeholders);
                if (!value.equals(raw)) {
                    substituted.add(e.getKey());
                }
                config.put(e.getKey(), value);
            }
            return new ConfigFile(substitute(root.get("name").asText(), placeholders), config, substituted);
        } catch (DeployException e) {
            throw new DeployException(file + ": " + e.getMessage());
        }
    }

    /** Validates and deploys one file; a secret filled in from a placeholder here is refused (see {@link #deploy(ConfigFile)}). */
    public Deployment deploy(Path file) {
        return deploy(read(file));
    }

    /**
     * Validates and deploys a config read from a file. A field Connect declares as a PASSWORD may not
     * be filled in by a client-side placeholder: Connect would store the secret in plain text in its
     * config topic and show it to anyone who can read it. Such a field must be a config provider
     * reference the worker resolves ({@code ${env:NAME}}, {@code ${file:/path:key}}).
     */
    public Deployment deploy(ConfigFile file) {
        Map<String, String> body = withName(file.name(), file.config());
        JsonNode validation = validation(connectorClass(body), body);
        List<String> secrets = new ArrayList<>();
        for (JsonNode c : validation.path("configs")) {
            String key = c.path("definition").path("name").asText();
            if ("PASSWORD".equals(c.path("definition").path("type").asText()) && file.substitutedKeys().contains(key)) {
                secrets.add(key);
            }
        }
        if (!secrets.isEmpty()) {
            throw new DeployException(file.name() + ": " + secrets + " would be sent as plain text (filled in from a ${NAME} placeholder by"
                    + " this tool), and Connect would store them readable in its config topic. Reference the secret through a worker"
                    + " config provider instead, e.g. \"${env:MYSQL_PASSWORD}\" or \"${file:/etc/bq2k/secrets.properties:mysql.password}\".");
        }
        return put(file.name(), body, validation);
    }

    /** Validates and deploys one connector (create or update). */
    public Deployment deploy(String name, Map<String, String> config) {
        Map<String, String> body = withName(name, config);
        return put(name, body, validation(connectorClass(body), body));
    }

    private Deployment put(String name, Map<String, String> body, JsonNode validation) {
        String cls = connectorClass(body);
        List<String> errors = errors(validation);
        if (!errors.isEmpty()) {
            throw new DeployException(name + ": validation of " + cls + " failed with " + errors.size() + " error(s):\n  "
                    + String.join("\n  ", errors));
        }
        HttpResponse<String> r = send("PUT", "/connectors/" + enc(name) + "/config", toJson(body));
        if (r.statusCode() != 200 && r.statusCode() != 201) {
            throw new DeployException(name + ": PUT /connectors/" + name + "/config -> HTTP " + r.statusCode() + ": " + r.body());
        }
        boolean created = r.statusCode() == 201;
        print("%s %s (%s)", created ? "created" : "updated", name, cls);
        return new Deployment(name, cls, created);
    }

    private static Map<String, String> withName(String name, Map<String, String> config) {
        Map<String, String> body = new LinkedHashMap<>(config);
        body.put("name", name);
        return body;
    }

    private static String connectorClass(Map<String, String> body) {
        String cls = body.get("connector.class");
        if (cls == null) {
            throw new DeployException(body.get("name") + ": config has no connector.class");
        }
        return cls;
    }

    /** Every field's errors as "field: error" lines (empty = valid). */
    public List<String> validate(String connectorClass, Map<String, String> config) {
        return errors(validation(connectorClass, config));
    }

    private JsonNode validation(String connectorClass, Map<String, String> config) {
        HttpResponse<String> r = send("PUT", "/connector-plugins/" + enc(connectorClass) + "/config/validate", toJson(config));
        if (r.statusCode() != 200) {
            throw new DeployException("validate " + connectorClass + " -> HTTP " + r.statusCode() + ": " + r.body()
                    + (r.statusCode() == 404 || r.statusCode() == 500
                    ? "\n(is the plugin on the worker's plugin.path? GET " + rest.baseUrl() + "/connector-plugins lists what it has)" : ""));
        }
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new DeployException("validate: unreadable response: " + r.body());
        }
    }

    private static List<String> errors(JsonNode root) {
        List<String> errors = new ArrayList<>();
        if (root.path("error_count").asInt(0) > 0) {
            for (JsonNode c : root.path("configs")) {
                JsonNode v = c.path("value");
                for (JsonNode err : v.path("errors")) {
                    errors.add(v.path("name").asText() + " = " + v.path("value").asText("null") + " : " + err.asText());
                }
            }
            if (errors.isEmpty()) {
                errors.add("error_count=" + root.path("error_count").asInt() + " but no field errors: " + root);
            }
        }
        return errors;
    }

    /** DELETE /connectors/{name}; false if it did not exist. */
    public boolean delete(String name) {
        HttpResponse<String> r = send("DELETE", "/connectors/" + enc(name), null);
        if (r.statusCode() == 404) {
            return false;
        }
        if (r.statusCode() / 100 != 2) {
            throw new DeployException("DELETE " + name + " -> HTTP " + r.statusCode() + ": " + r.body());
        }
        print("deleted %s", name);
        return true;
    }

    /** GET /connectors/{name}/status as a JSON tree, or null when the connector does not exist. */
    public JsonNode status(String name) {
        HttpResponse<String> r = send("GET", "/connectors/" + enc(name) + "/status", null);
        if (r.statusCode() == 404) {
            return null;
        }
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new DeployException("status " + name + ": unreadable response: " + r.body());
        }
    }

    /**
     * Waits until task 0 of the connector is FAILED with a trace other than {@code previousTrace} (null: any);
     * returns the trace. The timeout fails, with the last status.
     */
    public String awaitTaskFailed(String name, String previousTrace, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode task = null;
        while (System.nanoTime() < deadline) {
            JsonNode s = status(name);
            task = s == null ? null : s.path("tasks").path(0);
            if (task != null && "FAILED".equals(task.path("state").asText()) && !task.path("trace").asText().equals(previousTrace)) {
                return task.path("trace").asText();
            }
            Thread.sleep(300);
        }
        throw new IllegalStateException("task 0 of " + name + " did not fail within " + timeout.toSeconds() + "s: " + task);
    }

    /**
     * Waits until the connector and at least one task (all of them) are RUNNING; a FAILED state
     * fails at once with the trace.
     */
    public void awaitRunning(String name, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = status(name);
            if (last != null) {
                String cs = last.path("connector").path("state").asText();
                if ("FAILED".equals(cs)) {
                    throw new DeployException(name + " FAILED: " + last.path("connector").path("trace").asText());
                }
                boolean allRunning = "RUNNING".equals(cs) && last.path("tasks").size() > 0;
                for (JsonNode t : last.path("tasks")) {
                    String ts = t.path("state").asText();
                    if ("FAILED".equals(ts)) {
                        throw new DeployException(name + " task " + t.path("id").asText() + " FAILED: " + t.path("trace").asText());
                    }
                    allRunning &= "RUNNING".equals(ts);
                }
                if (allRunning) {
                    print("%s is RUNNING (%d task(s))", name, last.path("tasks").size());
                    return;
                }
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DeployException("interrupted");
            }
        }
        throw new DeployException(name + " not RUNNING after " + timeout.toSeconds() + "s; last status: " + last);
    }

    private HttpResponse<String> send(String method, String path, String body) {
        HttpResponse<String> r;
        try {
            r = rest.send(method, path, body);
        } catch (UncheckedIOException e) {
            throw new DeployException(e.getMessage() + " (is the worker up, and is the URL's scheme and trust store right?)");
        }
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw new DeployException(method + " " + rest.baseUrl() + path + " -> HTTP " + r.statusCode()
                    + ": the worker refused the REST credentials (--rest-user with --rest-password-file or env "
                    + ClientOptions.REST_PASSWORD_ENV + ")");
        }
        return r;
    }

    private static String toJson(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private void print(String fmt, Object... args) {
        if (out != null) {
            out.println("deploy: " + String.format(fmt, args));
        }
    }
}
