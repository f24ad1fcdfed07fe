package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.google.cloud.NoCredentials;
import com.google.cloud.bigquery.TableId;

class BigQueryGatewayTest {

    private static final String SECRET = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-TOP-SECRET";

    private static SyncConfig config(String... kv) {
        Map<String, String> m = SyncConfigTest.with(kv);
        return new SyncConfig(m);
    }

    private static String fullTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    private static void assertNoSecret(SyncConfig c) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BigQueryGateway.credentials(c));
        assertTrue(e.getMessage().contains("service_account_json credentials could not be loaded"), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());
        assertFalse(e.getMessage().contains("TOP-SECRET"), e.getMessage());
        assertFalse(fullTrace(e).contains("TOP-SECRET"), "the secret leaks through the exception's causes");
    }

    @Test
    void malformedJsonDoesNotLeakTheSecret() {
        assertNoSecret(config(SyncConfig.CREDENTIALS_TYPE, "service_account_json",
            SyncConfig.CREDENTIALS_JSON, "{\"type\": \"service_account\", \"private_key\": \"" + SECRET + "\""));
    }

    @Test
    void notJsonAtAllDoesNotLeakTheSecret() {
        assertNoSecret(config(SyncConfig.CREDENTIALS_TYPE, "service_account_json", SyncConfig.CREDENTIALS_JSON, SECRET));
    }

    @Test
    void serviceAccountWithUnparsableKeyDoesNotLeakTheSecret() {
        String json = "{\"type\": \"service_account\", \"project_id\": \"p\", \"private_key_id\": \"abc\","
            + " \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n" + SECRET + "\\n-----END PRIVATE KEY-----\\n\","
            + " \"client_email\": \"x@p.iam.gserviceaccount.com\", \"client_id\": \"1\"}";
        assertNoSecret(config(SyncConfig.CREDENTIALS_TYPE, "service_account_json", SyncConfig.CREDENTIALS_JSON, json));
    }

    @Test
    void unknownCredentialTypeInJsonDoesNotLeakTheSecret() {
        assertNoSecret(config(SyncConfig.CREDENTIALS_TYPE, "service_account_json",
            SyncConfig.CREDENTIALS_JSON, "{\"type\": \"" + SECRET + "\"}"));
    }

    @Test
    void missingKeyFileNamesThePath() {
        SyncConfig c = config(SyncConfig.CREDENTIALS_TYPE, "key_file", SyncConfig.CREDENTIALS_FILE, "/nonexistent/dir/key.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BigQueryGateway.credentials(c));
        assertTrue(e.getMessage().contains("key_file credentials could not be loaded"), e.getMessage());
        assertTrue(e.getMessage().contains("/nonexistent/dir/key.json"), e.getMessage());
    }

    @Test
    void noneMeansNoCredentials() {
        assertSame(NoCredentials.getInstance(), BigQueryGateway.credentials(config()));
    }

    @Test
    void tableIdOfRef() {
        assertEquals(TableId.of("p-1", "ds", "t"), BigQueryGateway.tableId(new TableRef("p-1", "ds", "t")));
    }

    @Test
    void gatewayBuildsOfflineAndCloses() {
        // Building the clients does not connect; nothing is called here.
        try (BigQueryGateway g = new BigQueryGateway(config(SyncConfig.ENDPOINT, "http://127.0.0.1:1"), () -> false)) {
            assertTrue(g.retrier() != null);
        }
        assertEquals(List.of(), List.of());
    }
}
