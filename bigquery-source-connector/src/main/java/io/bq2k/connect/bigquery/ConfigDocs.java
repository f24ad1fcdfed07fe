package io.bq2k.connect.bigquery;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.types.Password;

/**
 * Generates the configuration reference from {@link SyncConfig#CONFIG_DEF}, so docs and code
 * cannot drift: {@code ConfigDocsTest} fails when the committed file differs from the output.
 * Regenerate with {@code java -cp ... io.bq2k.connect.bigquery.ConfigDocs <file>} or by running
 * the test with {@code -Dconfig.docs.update=true}.
 */
public final class ConfigDocs {

    public static final String RELATIVE_PATH = "bigquery-source-connector/doc/configuration.md";

    private ConfigDocs() { }

    public static String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("# Configuration reference: BigQuerySourceConnector\n\n")
            .append("<!-- Generated from SyncConfig.CONFIG_DEF by io.bq2k.connect.bigquery.ConfigDocs; do not edit by hand. -->\n\n")
            .append("Connector class: `").append(BigQuerySourceConnector.class.getName()).append("`. ")
            .append("Besides these keys, the usual Connect keys apply (`name`, `tasks.max` — one task per sync is used —, converters, ")
            .append("`topic.creation.*`, `exactly.once.support`, `transaction.boundary`, `offsets.storage.topic`).\n");
        List<ConfigDef.ConfigKey> keys = SyncConfig.CONFIG_DEF.configKeys().values().stream().toList();
        for (String group : SyncConfig.CONFIG_DEF.groups()) {
            out.append("\n## ").append(group).append("\n\n")
                .append("| Key | Type | Default | Valid values | Importance | Description |\n")
                .append("|---|---|---|---|---|---|\n");
            keys.stream().filter(k -> group.equals(k.group)).sorted((a, b) -> Integer.compare(a.orderInGroup, b.orderInGroup))
                .forEach(k -> out.append("| `").append(k.name).append("` | ").append(k.type.name().toLowerCase())
                    .append(" | ").append(defaultOf(k)).append(" | ").append(k.validator == null ? "" : cell(k.validator.toString()))
                    .append(" | ").append(k.importance.name().toLowerCase()).append(" | ").append(cell(k.documentation)).append(" |\n"));
        }
        return out.toString();
    }

    private static String defaultOf(ConfigDef.ConfigKey k) {
        if (!k.hasDefault()) {
            return "(required)";
        }
        Object v = k.defaultValue;
        if (v == null || v instanceof Password) {
            return "null";
        }
        if (v instanceof List<?> l) {
            v = String.join(",", l.stream().map(Objects::toString).toList());
        }
        String s = v.toString();
        return s.isEmpty() ? "\"\"" : "`" + s + "`";
    }

    private static String cell(String text) {
        return text.replace("|", "\\|").replace("\n", " ");
    }

    public static void main(String[] args) throws IOException {
        Path target = Path.of(args.length > 0 ? args[0] : RELATIVE_PATH);
        Files.createDirectories(target.toAbsolutePath().getParent());
        Files.writeString(target, markdown(), StandardCharsets.UTF_8);
    }
}
