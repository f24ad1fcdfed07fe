package io.bq2k.connect.bigquery;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code plan CONFIG.json [--offsets OFFSETS.json] [--samples N] [--json]}: a {@link DryRun} of a sync's next run,
 * printed for a person or as JSON. CONFIG.json is a connector config as Connect takes it ({@code {"name": ..., "config":
 * {...}}}, or the flat config with {@code name}); OFFSETS.json is the answer of {@code GET /connectors/{name}/offsets}
 * (or the bare offset object). Exit status: 0 the run would go ahead (or there is nothing to do), 3 the task would fail
 * or hold the run, 1 the dry run could not finish or left a table, 2 wrong usage.
 */
public final class DryRunCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    private DryRunCommand() { }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        String config = null;
        String offsets = null;
        int samples = DryRun.DEFAULT_SAMPLES;
        boolean json = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--offsets" -> offsets = args[++i];
                    case "--samples" -> samples = Integer.parseInt(args[++i]);
                    case "--json" -> json = true;
                    default -> {
                        if (config != null || args[i].startsWith("--")) {
                            throw new IllegalArgumentException("unexpected argument " + args[i]);
                        }
                        config = args[i];
                    }
                }
            }
            if (config == null || samples < 0) {
                throw new IllegalArgumentException("no config file");
            }
        } catch (RuntimeException e) {
            err.println("usage: plan CONFIG.json [--offsets OFFSETS.json] [--samples N] [--json]  (" + e.getMessage() + ")");
            return 2;
        }
        try {
            return plan(connectorConfig(Files.readString(Path.of(config))), offsets == null ? null : Files.readString(Path.of(offsets)),
                    samples, json, out, err);
        } catch (IOException | RuntimeException e) {
            err.println("plan: " + e.getMessage());
            return 1;
        }
    }

    /**
     * Plans {@code connector}'s next run against the committed offset in {@code offsetsJson} (the answer of
     * {@code GET /connectors/{name}/offsets}, or null for none), prints the report and returns the exit status. The
     * operator CLI ({@code bin/bq2k plan}) calls this with the answer it fetched from Connect.
     */
    public static int plan(Map<String, String> connector, String offsetsJson, int samples, boolean json, PrintStream out,
                           PrintStream err) {
        DryRunReport report;
        try {
            Map<String, Object> offset = offsetsJson == null ? null : committedOffset(offsetsJson, connector);
            report = DryRun.plan(connector, offset, samples);
        } catch (IOException | RuntimeException e) {
            err.println("plan: " + e.getMessage());
            return 1;
        }
        out.print(json ? report.toJson() + "\n" : report.text());
        return report.error() != null || !report.nothingLeft() ? 1 : report.failure() != null ? 3 : 0;
    }

    /** A connector config from Connect's create format ({@code {"name", "config"}}) or a flat config; values as text. */
    public static Map<String, String> connectorConfig(String json) throws IOException {
        JsonNode root = JSON.readTree(json);
        JsonNode config = root.has("config") && root.get("config").isObject() ? root.get("config") : root;
        Map<String, String> m = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = config.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            m.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
        }
        if (root.has("name") && root.get("name").isTextual()) {
            m.putIfAbsent("name", root.get("name").asText());
        }
        return m;
    }

    /**
     * The sync's committed offset from the answer of {@code GET /connectors/{name}/offsets}
     * ({@code {"offsets": [{"partition": {"sync": <sync>}, "offset": {...}}]}}), or from a bare offset object; null when
     * the answer has no offset for the sync's partition.
     *
     * @param connectorConfig the connector's config (the sync name defaults to a form of the connector name)
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> committedOffset(String json, Map<String, String> connectorConfig) throws IOException {
        JsonNode root = JSON.readTree(json);
        if (!root.has("offsets")) {
            return root.isNull() ? null : JSON.convertValue(root, Map.class);
        }
        String sync = BigQuerySourceConnector.withSyncName(connectorConfig).get(SyncConfig.SYNC_NAME);
        for (JsonNode entry : root.get("offsets")) {
            JsonNode partition = entry.get("partition");
            if (partition != null && sync.equals(partition.path(SyncOffset.SYNC).asText(null))) {
                JsonNode offset = entry.get("offset");
                return offset == null || offset.isNull() ? null : JSON.convertValue(offset, Map.class);
            }
        }
        return null;
    }
}
