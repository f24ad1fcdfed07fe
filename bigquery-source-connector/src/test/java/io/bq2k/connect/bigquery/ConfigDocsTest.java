package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {

    /** The module directory, whether Maven runs from the root or the module. */
    private static Path docFile() {
        Path here = Path.of("").toAbsolutePath();
        Path inModule = here.resolve("doc/configuration.md");
        return here.endsWith("bigquery-source-connector") ? inModule : here.resolve(ConfigDocs.RELATIVE_PATH);
    }

    @Test
    void committedReferenceMatchesTheConfigDef() throws Exception {
        Path file = docFile();
        String generated = ConfigDocs.markdown();
        if (Boolean.getBoolean("config.docs.update")) {
            Files.createDirectories(file.getParent());
            Files.writeString(file, generated, StandardCharsets.UTF_8);
        }
        assertTrue(Files.exists(file), "missing " + file + ": run mvn -pl bigquery-source-connector test -Dtest=ConfigDocsTest -Dconfig.docs.update=true");
        assertEquals(generated, Files.readString(file), file + " is stale: regenerate with -Dconfig.docs.update=true");
    }

    @Test
    void everyKeyIsDocumented() {
        for (ConfigDef.ConfigKey k : SyncConfig.CONFIG_DEF.configKeys().values()) {
            assertTrue(k.documentation != null && k.documentation.length() > 20, k.name + " has documentation");
            assertTrue(k.group != null, k.name + " has a group");
            assertTrue(ConfigDocs.markdown().contains("| `" + k.name + "` |"), k.name + " in the reference");
        }
    }
}
