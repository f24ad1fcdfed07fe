package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** How the plan command reads a connector config and the answer of Connect's offsets API. */
class DryRunCommandTest {

    private static final Map<String, String> CONFIG = Map.of("name", "users-sync", "query", "SELECT 1 AS id");

    @Test
    void theSyncsOffsetFromConnectsOffsetsAnswer() throws Exception {
        String sync = BigQuerySourceConnector.withSyncName(CONFIG).get(SyncConfig.SYNC_NAME);
        String answer = "{\"offsets\":[{\"partition\":{\"sync\":\"other\"},\"offset\":{\"run\":9,\"done\":true}},"
            + "{\"partition\":{\"sync\":\"" + sync + "\"},\"offset\":{\"run\":3,\"done\":true,\"diff\":1767225600123,\"contract\":\"abc\",\"keys\":\"id\"}}]}";
        Map<String, Object> offset = DryRunCommand.committedOffset(answer, CONFIG);
        SyncOffset parsed = SyncOffset.fromMap(offset);
        assertEquals(3, parsed.run());
        assertEquals(SyncOffset.Kind.DONE, parsed.kind());
        assertEquals(1767225600123L, parsed.diff());
        assertNull(DryRunCommand.committedOffset("{\"offsets\":[]}", CONFIG), "no offset: a new sync, or reset");
        assertEquals(Map.of("run", 4, "bucket", 0, "seq", 17, "base", 3),
            DryRunCommand.committedOffset("{\"run\":4,\"bucket\":0,\"seq\":17,\"base\":3}", CONFIG), "a bare offset");
    }

    @Test
    void connectorConfigInConnectsCreateFormOrFlat() throws Exception {
        assertEquals(Map.of("name", "s", "query", "SELECT 1", "tasks.max", "1"),
            DryRunCommand.connectorConfig("{\"name\":\"s\",\"config\":{\"query\":\"SELECT 1\",\"tasks.max\":1}}"));
        assertEquals(Map.of("name", "s", "query", "SELECT 1"), DryRunCommand.connectorConfig("{\"name\":\"s\",\"query\":\"SELECT 1\"}"));
    }

    @Test
    void wrongUsageExitsWith2() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, DryRunCommand.run(new String[] {"--json"}, System.out, errStream));
        assertEquals(2, DryRunCommand.run(new String[] {"a.json", "b.json"}, System.out, errStream));
    }
}
