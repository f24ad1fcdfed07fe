package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.cloud.NoCredentials;
import com.google.cloud.bigquery.storage.v1.BigQueryReadClient;

/** One Storage Read client per key and worker, closed with its last user. Clients are built offline (gRPC connects lazily). */
class SharedReadClientsTest {

    private static final String SECRET = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-TOP-SECRET";

    private final WorkerThreads threads = new WorkerThreads(2);
    private final SharedReadClients clients = new SharedReadClients(threads);

    private static SyncConfig config(String... kv) {
        return new SyncConfig(SyncConfigTest.with(kv));
    }

    /** A plaintext client of an unreachable endpoint, as the gateway builds it. */
    private static SharedReadClients.Factory offline(SyncConfig config) {
        return scheduler -> BigQueryGateway.newReadClient(config, NoCredentials.getInstance(), scheduler);
    }

    private SharedReadClients.Lease acquire(SyncConfig config) throws IOException {
        return clients.acquire(SharedReadClients.Key.of(config), offline(config));
    }

    @Test
    void twoUsersShareOneClientWhichClosesWithTheLast() throws IOException {
        SyncConfig c = config(SyncConfig.STORAGE_ENDPOINT, "127.0.0.1:1");
        SharedReadClients.Lease a = acquire(c);
        SharedReadClients.Lease b = acquire(c);
        BigQueryReadClient client = a.client();
        assertSame(client, b.client());
        assertEquals(1, clients.clients());
        assertEquals(2, clients.users(a.key()));
        assertEquals(1, threads.users(), "the registry holds one lease on the worker's threads per client");

        a.close();
        a.close(); // a second close of the same lease releases nothing more
        assertFalse(client.isShutdown(), "released by one user, still used by the other");
        assertEquals(1, clients.users(b.key()));

        b.close();
        assertTrue(client.isShutdown());
        assertEquals(0, clients.clients());
        assertEquals(0, threads.users());

        SharedReadClients.Lease again = acquire(c);
        assertNotSame(client, again.client(), "a closed client is never handed out again");
        again.close();
    }

    @Test
    void differentEndpointsOrCredentialsGetDifferentClients() throws IOException {
        SyncConfig one = config(SyncConfig.STORAGE_ENDPOINT, "127.0.0.1:1");
        SyncConfig other = config(SyncConfig.STORAGE_ENDPOINT, "127.0.0.1:2");
        try (SharedReadClients.Lease a = acquire(one); SharedReadClients.Lease b = acquire(other)) {
            assertNotSame(a.client(), b.client());
            assertEquals(2, clients.clients());
            assertEquals(2, threads.users(), "each client holds a lease on the one set of worker threads");
        }
        assertEquals(0, clients.clients());
    }

    @Test
    void clientsBringNoExecutorOfTheirOwn() throws IOException {
        Set<Thread> gaxBefore = threadsNamed("Gax-");
        List<SharedReadClients.Lease> leases = new ArrayList<>();
        for (int port = 1; port <= 5; port++) {
            leases.add(acquire(config(SyncConfig.STORAGE_ENDPOINT, "127.0.0.1:" + port)));
        }
        assertEquals(5, clients.clients());
        // gax's default would start a "Gax-N" pool per client (its watchdog is scheduled at creation).
        Set<Thread> gaxNew = threadsNamed("Gax-");
        gaxNew.removeAll(gaxBefore);
        assertEquals(Set.of(), gaxNew, "a client started its own executor");
        assertTrue(threadsNamed("bq2k-grpc-").size() <= threads.size() * 2, "the worker's scheduler is bounded");
        leases.forEach(SharedReadClients.Lease::close);
        assertEquals(0, threads.users());
    }

    private static Set<Thread> threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix))
            .collect(java.util.stream.Collectors.toCollection(java.util.HashSet::new));
    }

    @Test
    void keysTellCredentialsApartWithoutHoldingTheSecret(@TempDir Path dir) throws IOException {
        SharedReadClients.Key json1 = SharedReadClients.Key.of(config(SyncConfig.CREDENTIALS_TYPE, "service_account_json",
            SyncConfig.CREDENTIALS_JSON, "{\"private_key\": \"" + SECRET + "\"}"));
        SharedReadClients.Key json1Again = SharedReadClients.Key.of(config(SyncConfig.CREDENTIALS_TYPE, "service_account_json",
            SyncConfig.CREDENTIALS_JSON, "{\"private_key\": \"" + SECRET + "\"}"));
        SharedReadClients.Key json2 = SharedReadClients.Key.of(config(SyncConfig.CREDENTIALS_TYPE, "service_account_json",
            SyncConfig.CREDENTIALS_JSON, "{\"private_key\": \"other\"}"));
        SharedReadClients.Key none = SharedReadClients.Key.of(config());
        SharedReadClients.Key adc = SharedReadClients.Key.of(config(SyncConfig.CREDENTIALS_TYPE, "application_default"));
        assertEquals(json1, json1Again);
        assertNotEquals(json1, json2);
        assertNotEquals(none, adc);
        assertNotEquals(json1, none);
        for (SharedReadClients.Key k : List.of(json1, json2)) {
            assertFalse(k.toString().contains("TOP-SECRET") || k.credentialsHash().contains("TOP-SECRET")
                || k.toString().contains("private_key"), k.toString());
            assertTrue(k.toString().startsWith("endpoint=(default), credentials=service_account_json#"), k.toString());
        }

        Path file = dir.resolve("key.json");
        Files.writeString(file, "{\"private_key\": \"" + SECRET + "\"}", StandardCharsets.UTF_8);
        SyncConfig byFile = config(SyncConfig.CREDENTIALS_TYPE, "key_file", SyncConfig.CREDENTIALS_FILE, file.toString());
        SharedReadClients.Key before = SharedReadClients.Key.of(byFile);
        assertEquals(before, SharedReadClients.Key.of(byFile));
        assertFalse(before.toString().contains("TOP-SECRET"), before.toString());
        Files.writeString(file, "{\"private_key\": \"rotated\"}", StandardCharsets.UTF_8);
        assertNotEquals(before, SharedReadClients.Key.of(byFile), "a rotated key file gets its own client");
    }

    @Test
    void aFailingFactoryLeavesNothingOpen() {
        SharedReadClients.Key key = SharedReadClients.Key.of(config());
        assertThrows(IOException.class, () -> clients.acquire(key, scheduler -> {
            throw new IOException("no client");
        }));
        assertEquals(0, clients.clients());
        assertEquals(0, threads.users());
    }

    @Test
    void concurrentUsersNeverSeeAClosedClient() throws Exception {
        SyncConfig c = config(SyncConfig.STORAGE_ENDPOINT, "127.0.0.1:1");
        SharedReadClients.Lease held = acquire(c);
        BigQueryReadClient heldClient = held.client();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger closedSeen = new AtomicInteger();
        List<Future<?>> done = new ArrayList<>();
        try {
            for (int t = 0; t < 8; t++) {
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < 200; i++) {
                        // Half of the workers use a second key, whose client comes and goes all the time.
                        SyncConfig cfg = i % 2 == 0 ? c : config(SyncConfig.STORAGE_ENDPOINT, "127.0.0.1:2");
                        try (SharedReadClients.Lease l = acquire(cfg)) {
                            if (l.client().isShutdown()) {
                                closedSeen.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, closedSeen.get(), "a lease was handed a closed client");
        assertFalse(heldClient.isShutdown());
        try (SharedReadClients.Lease again = acquire(c)) {
            assertSame(heldClient, again.client());
        }
        assertEquals(1, clients.clients(), "the second key's client is closed with its last user");
        assertEquals(1, clients.users(held.key()));
        held.close();
        assertTrue(heldClient.isShutdown());
        assertEquals(0, threads.users());
    }

    @Test
    void gatewaysOfTheSameConfigShareTheClientAndReleaseItOnClose() {
        SyncConfig c = config(SyncConfig.STORAGE_ENDPOINT, "127.0.0.1:1", SyncConfig.ENDPOINT, "http://127.0.0.1:1");
        BigQueryGateway g1 = new BigQueryGateway(c, () -> false, clients);
        BigQueryGateway g2 = new BigQueryGateway(c, () -> false, clients);
        BigQueryReadClient client = g1.readClient();
        assertSame(client, g2.readClient());
        assertSame(client, g1.readClient(), "one reference per gateway");
        assertEquals(2, clients.users(SharedReadClients.Key.of(c)));

        g1.close();
        assertFalse(client.isShutdown());
        assertThrows(Retrier.TransientException.class, g1::readClient, "a closed gateway takes no new reference");
        assertEquals(1, clients.users(SharedReadClients.Key.of(c)));

        g2.close();
        g2.close();
        assertTrue(client.isShutdown());
        assertEquals(0, clients.clients());
        assertEquals(0, threads.users());
    }
}
