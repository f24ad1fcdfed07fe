package io.bq2k.connect.bigquery;

import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;

import com.google.api.gax.core.FixedCredentialsProvider;
import com.google.api.gax.core.FixedExecutorProvider;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.InstantiatingGrpcChannelProvider;
import com.google.auth.Credentials;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.cloud.NoCredentials;
import com.google.cloud.ServiceOptions;
import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryException;
import com.google.cloud.bigquery.BigQueryOptions;
import com.google.cloud.bigquery.Dataset;
import com.google.cloud.bigquery.FieldValueList;
import com.google.cloud.bigquery.DatasetId;
import com.google.cloud.bigquery.DatasetInfo;
import com.google.cloud.bigquery.Job;
import com.google.cloud.bigquery.JobInfo;
import com.google.cloud.bigquery.JobStatistics.QueryStatistics;
import com.google.cloud.bigquery.QueryJobConfiguration;
import com.google.cloud.bigquery.Schema;
import com.google.cloud.bigquery.Table;
import com.google.cloud.bigquery.TableId;
import com.google.cloud.bigquery.storage.v1.BigQueryReadClient;
import com.google.cloud.bigquery.storage.v1.BigQueryReadSettings;

/**
 * The one door to BigQuery: builds the clients from the config (endpoint overrides,
 * credentials) and runs every call through the {@link Retrier}.
 */
public final class BigQueryGateway implements AutoCloseable {

    private static final List<String> SCOPES = List.of("https://www.googleapis.com/auth/bigquery");

    private final SyncConfig config;
    private final BigQuery bigQuery;
    /** The REST API's own client, for the one call the BigQuery client cannot make everywhere ({@link #label}). */
    private final com.google.api.services.bigquery.Bigquery rest;
    private final Retrier retrier;
    private final Credentials credentials;
    private final BooleanSupplier stopping;
    private final SharedReadClients readClients;
    /** This gateway's reference to the worker's shared Storage Read client, taken on first use. */
    private SharedReadClients.Lease readLease;
    /** Set by {@link #close()}: no client is taken afterwards (a read still running on another thread fails). */
    private boolean closed;

    public BigQueryGateway(SyncConfig config, BooleanSupplier stopping) {
        this(config, stopping, SharedReadClients.SHARED);
    }

    /** @param readClients where the Storage Read client comes from (the worker's registry, or a test's) */
    BigQueryGateway(SyncConfig config, BooleanSupplier stopping, SharedReadClients readClients) {
        this.config = config;
        this.readClients = readClients;
        this.credentials = credentials(config);
        BigQueryOptions.Builder options = BigQueryOptions.newBuilder()
            .setProjectId(config.project())
            .setCredentials(credentials)
            // One retry policy, ours, so that an outage surfaces as one clear transient error.
            .setRetrySettings(ServiceOptions.getNoRetrySettings());
        if (!config.endpoint().isEmpty()) {
            options.setHost(config.endpoint());
        }
        if (!config.location().isEmpty()) {
            options.setLocation(config.location());
        }
        this.bigQuery = options.build().getService();
        this.rest = new com.google.api.services.bigquery.Bigquery.Builder(new com.google.api.client.http.javanet.NetHttpTransport(),
            com.google.api.client.json.gson.GsonFactory.getDefaultInstance(),
            credentials instanceof NoCredentials ? null : new com.google.auth.http.HttpCredentialsAdapter(credentials))
            .setRootUrl((config.endpoint().isEmpty() ? "https://bigquery.googleapis.com" : config.endpoint().replaceAll("/+$", "")) + "/")
            .setApplicationName("bq2k").build();
        this.retrier = new Retrier(config.retryMaxAttempts(), config.retryInitialBackoffMs(), config.retryMaxBackoffMs(), stopping);
        this.stopping = stopping;
    }

    /**
     * Parses the configured credentials; the exception message never contains the secret.
     *
     * @throws IllegalArgumentException when they do not parse
     */
    static Credentials credentials(SyncConfig config) {
        try {
            return switch (config.credentialsType()) {
                case NONE -> NoCredentials.getInstance();
                case APPLICATION_DEFAULT -> GoogleCredentials.getApplicationDefault().createScoped(SCOPES);
                case SERVICE_ACCOUNT_JSON -> fromStream(new ByteArrayInputStream(
                    config.credentialsJson().value().getBytes(StandardCharsets.UTF_8)));
                case KEY_FILE -> {
                    try (InputStream in = new FileInputStream(config.credentialsFile())) {
                        yield fromStream(in);
                    }
                }
            };
        } catch (IOException | RuntimeException e) {
            // Deliberately not the parser's message: it may quote the key material.
            throw new IllegalArgumentException("the " + config.credentialsType().name().toLowerCase() + " credentials could not be loaded ("
                + e.getClass().getSimpleName() + ")" + (config.credentialsType() == SyncConfig.CredentialsType.KEY_FILE
                ? ": check that " + config.credentialsFile() + " exists on every worker and holds a service-account key" : ""));
        }
    }

    private static Credentials fromStream(InputStream in) throws IOException {
        return GoogleCredentials.fromStream(in).createScoped(SCOPES);
    }

    /** BigQuery's job API for {@link QueryJobs}: each call one request (retried by the caller). */
    public QueryJobs.JobService jobService() {
        return new BigQueryJobService(bigQuery, rest, config);
    }

    /**
     * Runs a query and reads every page of its result inside one retried call, so a transient error on
     * any page retries the whole read (a lazily paged result would fail outside the retrier).
     */
    public <T> List<T> queryAllRows(String what, String sql, Map<String, String> labels, java.util.function.Function<FieldValueList, T> row) {
        return retrier.call(what, () -> {
            QueryJobConfiguration cfg = QueryJobConfiguration.newBuilder(sql).setUseLegacySql(false).setLabels(labels).build();
            try {
                List<T> out = new ArrayList<>();
                for (FieldValueList r : bigQuery.query(cfg).iterateAll()) {
                    out.add(row.apply(r));
                }
                return out;
            } catch (BigQueryException e) {
                throw classified(e);
            }
        });
    }

    /**
     * Cancels every running or pending job carrying label {@code key=value} and waits until each is done
     * (a cancelled job may still finish), so that no statement of an earlier task instance completes
     * after this point.
     *
     * @return the ids of the jobs that were running
     */
    public List<String> cancelAndAwaitJobs(String key, String value, long timeoutMs) {
        List<Job> running = retrier.call("list running jobs", () -> {
            List<Job> jobs = new ArrayList<>();
            for (Job j : bigQuery.listJobs(BigQuery.JobListOption.stateFilter(com.google.cloud.bigquery.JobStatus.State.RUNNING,
                com.google.cloud.bigquery.JobStatus.State.PENDING)).iterateAll()) {
                if (j.getConfiguration() instanceof QueryJobConfiguration q && q.getLabels() != null && value.equals(q.getLabels().get(key))) {
                    jobs.add(j);
                }
            }
            return jobs;
        });
        long deadline = System.currentTimeMillis() + timeoutMs;
        List<String> ids = new ArrayList<>();
        for (Job j : running) {
            ids.add(j.getJobId().getJob());
            retrier.call("cancel job " + j.getJobId().getJob(), () -> bigQuery.cancel(j.getJobId()));
            while (true) {
                Job now = retrier.call("check job " + j.getJobId().getJob(), () -> bigQuery.getJob(j.getJobId()));
                if (now == null || now.isDone()) {
                    break;
                }
                if (System.currentTimeMillis() > deadline || stopping.getAsBoolean()) {
                    throw new Retrier.TransientException("job " + j.getJobId().getJob() + " of an earlier task is still running after cancel", null);
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Retrier.TransientException("interrupted while waiting for job " + j.getJobId().getJob(), e);
                }
            }
        }
        return ids;
    }

    /** A statement BigQuery rejected with its own error is not retried unless the error's reason is transient. */
    static RuntimeException classified(BigQueryException e) {
        return e.getError() != null && !Retrier.isTransient(e) ? new Retrier.BigQueryJobFailure(e.getError()) : e;
    }

    /** What a dry run (no cost) tells about a query: the tables it reads and its result schema, each empty when BigQuery does not say. */
    public record DryRun(List<TableId> referencedTables, Optional<Schema> schema) { }

    public DryRun dryRun(String sql) {
        return retrier.call("dry run", () -> {
            QueryJobConfiguration cfg = QueryJobConfiguration.newBuilder(sql).setUseLegacySql(false).setDryRun(true).build();
            Job job;
            try {
                job = bigQuery.create(JobInfo.of(cfg));
            } catch (BigQueryException e) {
                throw classified(e);
            }
            QueryStatistics stats = job.getStatistics();
            List<TableId> refs = stats == null || stats.getReferencedTables() == null ? List.of() : stats.getReferencedTables();
            return new DryRun(refs, Optional.ofNullable(stats == null ? null : stats.getSchema()));
        });
    }

    public Optional<Table> table(TableRef ref) {
        return retrier.call("get table " + ref, () -> Optional.ofNullable(bigQuery.getTable(tableId(ref))));
    }

    public Optional<Table> table(TableId id) {
        return retrier.call("get table " + id, () -> Optional.ofNullable(bigQuery.getTable(id)));
    }

    /** Names of the tables in a dataset that start with a prefix. */
    public List<String> tableNames(DatasetRef dataset, String prefix) {
        return retrier.call("list tables of " + dataset, () -> {
            List<String> names = new ArrayList<>();
            for (Table t : bigQuery.listTables(DatasetId.of(dataset.project(), dataset.dataset()), BigQuery.TableListOption.pageSize(1000)).iterateAll()) {
                String name = t.getTableId().getTable();
                if (name.startsWith(prefix)) {
                    names.add(name);
                }
            }
            return names;
        });
    }

    /**
     * Sets labels and the description of a table (a metadata update, no query cost). A read-modify-write
     * with tables.update (PUT): the Java client's update sends PATCH as a method override, which not every
     * endpoint honours (the emulator answers 405).
     */
    public void label(TableRef ref, Map<String, String> labels, String description) {
        retrier.call("label table " + ref, () -> {
            try {
                com.google.api.services.bigquery.model.Table t = rest.tables().get(ref.project(), ref.dataset(), ref.table()).execute();
                t.setLabels(labels).setDescription(description);
                return rest.tables().update(ref.project(), ref.dataset(), ref.table(), t).execute();
            } catch (com.google.api.client.googleapis.json.GoogleJsonResponseException e) {
                throw classified(new BigQueryException(e));
            }
        });
    }

    public void dropTable(TableRef ref) {
        retrier.call("drop table " + ref, () -> bigQuery.delete(tableId(ref)));
    }

    /** Makes sure the dataset exists; creates it when allowed. */
    public void ensureDataset(DatasetRef ref, boolean create) {
        retrier.call("check dataset " + ref, () -> {
            DatasetId id = DatasetId.of(ref.project(), ref.dataset());
            Dataset ds = bigQuery.getDataset(id);
            if (ds != null) {
                return ds;
            }
            if (!create) {
                throw new Retrier.PermanentException("staging dataset " + ref + " does not exist and "
                    + SyncConfig.STAGING_DATASET_CREATE + "=false: create it, or allow the connector to", null);
            }
            DatasetInfo.Builder info = DatasetInfo.newBuilder(id).setDescription("Staging tables of bq2k syncs (snapshots and diffs)");
            if (!config.location().isEmpty()) {
                info.setLocation(config.location());
            }
            try {
                return bigQuery.create(info.build());
            } catch (BigQueryException e) {
                if (e.getCode() == 409) {
                    return bigQuery.getDataset(id); // another sync created it at the same moment
                }
                throw e;
            }
        });
    }

    /** Whether a dataset exists (no side effect). */
    public boolean datasetExists(DatasetRef ref) {
        return retrier.call("check dataset " + ref, () -> bigQuery.getDataset(DatasetId.of(ref.project(), ref.dataset())) != null);
    }

    /**
     * The Storage Read API client: the worker's client for this config's endpoint and credentials
     * ({@link SharedReadClients}), referenced by this gateway from first use until {@link #close()}.
     *
     * @throws Retrier.TransientException once the gateway is closed (the task is stopping)
     */
    public synchronized BigQueryReadClient readClient() {
        if (closed) {
            throw new Retrier.TransientException("the task is stopping: its Storage Read client is released", null);
        }
        if (readLease == null) {
            SharedReadClients.Key key = SharedReadClients.Key.of(config);
            readLease = retrier.call("create Storage Read client",
                () -> readClients.acquire(key, scheduler -> newReadClient(config, credentials, scheduler)));
        }
        return readLease.client();
    }

    /**
     * A client whose background work runs on {@code scheduler} (which it does not shut down) and whose calls run
     * on gRPC's shared executor: a client adds no threads of its own.
     */
    static BigQueryReadClient newReadClient(SyncConfig config, Credentials credentials, ScheduledExecutorService scheduler) throws IOException {
        BigQueryReadSettings.Builder settings = BigQueryReadSettings.newBuilder()
            .setBackgroundExecutorProvider(FixedExecutorProvider.create(scheduler));
        // A chunk is a few MB: a read silent for a minute is stalled. The defaults (10 min for a session, a day for a
        // stream) would hold a thread of the worker's shared read pool that long; our retry takes over instead.
        settings.createReadSessionSettings().setRetrySettings(settings.createReadSessionSettings().getRetrySettings().toBuilder()
            .setTotalTimeoutDuration(java.time.Duration.ofMinutes(2)).build());
        settings.readRowsSettings().setIdleTimeoutDuration(java.time.Duration.ofMinutes(1)).setRetrySettings(
            settings.readRowsSettings().getRetrySettings().toBuilder().setTotalTimeoutDuration(java.time.Duration.ofMinutes(10)).build());
        if (config.credentialsType() == SyncConfig.CredentialsType.NONE) {
            settings.setCredentialsProvider(NoCredentialsProvider.create());
        } else {
            settings.setCredentialsProvider(FixedCredentialsProvider.create(credentials));
        }
        if (!config.storageEndpoint().isEmpty()) {
            settings.setEndpoint(config.storageEndpoint());
            InstantiatingGrpcChannelProvider.Builder channel = BigQueryReadSettings.defaultGrpcTransportProviderBuilder()
                .setEndpoint(config.storageEndpoint())
                .setMaxInboundMessageSize(Integer.MAX_VALUE);
            if (config.credentialsType() == SyncConfig.CredentialsType.NONE) {
                channel.setChannelConfigurator(b -> b.usePlaintext());
            }
            settings.setTransportChannelProvider(channel.build());
        }
        return BigQueryReadClient.create(settings.build());
    }

    public Retrier retrier() {
        return retrier;
    }

    static TableId tableId(TableRef ref) {
        return TableId.of(ref.project(), ref.dataset(), ref.table());
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (readLease != null) {
            readLease.close(); // the client itself closes with the worker's last reference
            readLease = null;
        }
    }
}
