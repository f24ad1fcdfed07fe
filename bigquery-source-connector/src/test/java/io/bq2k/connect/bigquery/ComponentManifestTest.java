package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The root manifest.json is a valid Confluent Hub component manifest for this connector. */
class ComponentManifestTest {

    private static Path root() {
        Path here = Path.of("").toAbsolutePath();
        return here.endsWith("bigquery-source-connector") ? here.getParent() : here;
    }

    @Test
    void manifestHasTheFieldsConfluentHubRequires() throws Exception {
        JsonNode m = new ObjectMapper().readTree(Files.readString(root().resolve("manifest.json")));
        for (String field : List.of("name", "version", "title", "description", "owner", "support", "tags", "features",
                "component_types", "license", "release_date", "documentation_url")) {
            assertTrue(m.hasNonNull(field), "manifest.json lacks " + field);
        }
        assertEquals("source", m.get("component_types").get(0).asText());
        assertFalse(m.get("owner").get("username").asText().isBlank());
        assertTrue(m.get("features").get("kafka_connect_api").asBoolean());
        assertTrue(m.get("release_date").asText().matches("\\d{4}-\\d{2}-\\d{2}"));
        String pom = Files.readString(root().resolve("pom.xml"));
        String version = pom.replaceAll("(?s).*?<artifactId>bq2k-parent</artifactId>\\s*<version>([^<]+)</version>.*", "$1");
        assertEquals(version, m.get("version").asText(), "manifest.json version equals the project version");
    }
}
