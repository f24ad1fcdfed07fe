package io.bq2k.connect.bigquery;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.cloud.bigquery.storage.v1.BigQueryReadClient;

/**
 * The Storage Read API clients of one worker: one client (one gRPC channel) per {@link Key}, shared by every
 * sync with that key and reference-counted: created by the first {@link #acquire}, closed when the last
 * {@link Lease} is closed. Every client's background work runs on the {@link WorkerThreads} scheduler (the
 * registry holds a lease on it while a client is open), and its calls on gRPC's shared executor, so no client
 * brings threads of its own. Thread-safe: a client is never closed while a lease on it is open.
 */
final class SharedReadClients {

    private static final Logger log = LoggerFactory.getLogger(SharedReadClients.class);

    /** The worker's registry. */
    static final SharedReadClients SHARED = new SharedReadClients(WorkerThreads.SHARED);

    /**
     * Everything that determines a client: the Storage Read endpoint ("" = Google's) and the credentials'
     * identity, their type and a SHA-256 of what they are loaded from — never the secret itself. The
     * project is not part of it: the client carries none (every request names its parent project).
     */
    record Key(String endpoint, String credentialsType, String credentialsHash) {
        static Key of(SyncConfig config) {
            String hash = switch (config.credentialsType()) {
                case NONE, APPLICATION_DEFAULT -> ""; // one per worker process
                case SERVICE_ACCOUNT_JSON -> sha256((config.credentialsJson() == null ? "" : config.credentialsJson().value())
                    .getBytes(StandardCharsets.UTF_8));
                case KEY_FILE -> keyFileHash(config.credentialsFile() == null ? "" : config.credentialsFile());
            };
            return new Key(config.storageEndpoint(), config.credentialsType().name().toLowerCase(), hash);
        }

        /** The path and what the file holds now, so that a rotated key file gets a new client. */
        private static String keyFileHash(String path) {
            byte[] content;
            try {
                content = Files.readAllBytes(Path.of(path));
            } catch (IOException | RuntimeException e) {
                content = new byte[0]; // the credentials themselves fail to load with a clear message
            }
            byte[] name = path.getBytes(StandardCharsets.UTF_8);
            byte[] all = new byte[name.length + 1 + content.length];
            System.arraycopy(name, 0, all, 0, name.length);
            System.arraycopy(content, 0, all, name.length + 1, content.length);
            return sha256(all);
        }

        @Override
        public String toString() {
            return "endpoint=" + (endpoint.isEmpty() ? "(default)" : endpoint) + ", credentials=" + credentialsType
                + (credentialsHash.isEmpty() ? "" : "#" + credentialsHash.substring(0, 12));
        }
    }

    /** Builds a client whose background executor is the given scheduler (and must not shut it down). */
    interface Factory {
        BigQueryReadClient create(ScheduledExecutorService scheduler) throws IOException;
    }

    private static final class Entry {
        final BigQueryReadClient client;
        final WorkerThreads.Lease threads;
        int users;

        Entry(BigQueryReadClient client, WorkerThreads.Lease threads) {
            this.client = client;
            this.threads = threads;
        }
    }

    private final WorkerThreads threads;
    private final Map<Key, Entry> entries = new HashMap<>();

    SharedReadClients(WorkerThreads threads) {
        this.threads = threads;
    }

    /** The client of a key, created with {@code factory} when no lease on it is open. */
    synchronized Lease acquire(Key key, Factory factory) throws IOException {
        Entry e = entries.get(key);
        if (e == null) {
            WorkerThreads.Lease t = threads.acquire();
            try {
                e = new Entry(factory.create(t.scheduler()), t);
            } catch (IOException | RuntimeException ex) {
                t.close();
                throw ex;
            }
            entries.put(key, e);
            log.info("Storage Read client created ({})", key);
        }
        e.users++;
        return new Lease(key, e);
    }

    private void release(Key key, Entry e) {
        synchronized (this) {
            if (--e.users > 0) {
                return;
            }
            entries.remove(key);
        }
        // No lease on it is left, and a new acquire creates a new client: close this one outside the lock.
        try {
            e.client.close();
            log.info("Storage Read client closed ({})", key);
        } finally {
            e.threads.close();
        }
    }

    /** Open leases on a key's client (0 when none is open). */
    synchronized int users(Key key) {
        Entry e = entries.get(key);
        return e == null ? 0 : e.users;
    }

    /** Number of open clients. */
    synchronized int clients() {
        return entries.size();
    }

    /** A reference to a shared client: close it exactly when done (closing twice is harmless). */
    final class Lease implements AutoCloseable {
        private final Key key;
        private final Entry entry;
        private boolean closed;

        private Lease(Key key, Entry entry) {
            this.key = key;
            this.entry = entry;
        }

        BigQueryReadClient client() {
            return entry.client;
        }

        Key key() {
            return key;
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            release(key, entry);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
