package io.bq2k.connect.bigquery;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keys of a connector config that neither this connector nor Connect itself knows: almost always a
 * typo, which would otherwise be silently ignored (e.g. "key.column" leaves key.columns unset).
 */
final class UnknownKeys {

    private static final Set<String> CONNECT_KEYS = Set.of("name", "connector.class", "tasks.max", "tasks.max.enforce",
        "key.converter", "value.converter", "header.converter", "transforms", "predicates", "config.action.reload",
        "exactly.once.support", "transaction.boundary", "transaction.boundary.interval.ms", "offsets.storage.topic");
    private static final List<String> CONNECT_PREFIXES = List.of("key.converter.", "value.converter.", "header.converter.",
        "transforms.", "predicates.", "errors.", "topic.creation.", "producer.override.", "consumer.override.",
        "admin.override.");

    private UnknownKeys() { }

    /** One warning per unknown key, with the closest known key when it looks like a typo. */
    static List<String> warnings(Map<String, String> config) {
        List<String> out = new ArrayList<>();
        for (String key : config.keySet()) {
            if (SyncConfig.CONFIG_DEF.names().contains(key) || CONNECT_KEYS.contains(key)
                || CONNECT_PREFIXES.stream().anyMatch(key::startsWith)) {
                continue;
            }
            String closest = null;
            int best = Integer.MAX_VALUE;
            for (String known : SyncConfig.CONFIG_DEF.names()) {
                int d = distance(key, known);
                if (d < best) {
                    best = d;
                    closest = known;
                }
            }
            out.add("Unknown config key '" + key + "' is ignored" + (best <= 3 ? "; did you mean '" + closest + "'?" : "."));
        }
        return out;
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
