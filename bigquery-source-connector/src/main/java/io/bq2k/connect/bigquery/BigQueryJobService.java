package io.bq2k.connect.bigquery;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryException;
import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldList;
import com.google.cloud.bigquery.FieldValue;
import com.google.cloud.bigquery.FieldValueList;
import com.google.cloud.bigquery.Job;
import com.google.cloud.bigquery.JobInfo;
import com.google.cloud.bigquery.JobStatistics.QueryStatistics;
import com.google.cloud.bigquery.LegacySQLTypeName;
import com.google.cloud.bigquery.QueryJobConfiguration;

/**
 * BigQuery's job API as {@link QueryJobs} uses it: insert a query job under a deterministic id (a 409 means it was
 * submitted before: follow that job), get its state, cancel it, read its result rows. Each call is one request; the
 * caller retries.
 */
final class BigQueryJobService implements QueryJobs.JobService {

    private final BigQuery bigQuery;
    private final com.google.api.services.bigquery.Bigquery rest;
    private final SyncConfig config;

    BigQueryJobService(BigQuery bigQuery, com.google.api.services.bigquery.Bigquery rest, SyncConfig config) {
        this.bigQuery = bigQuery;
        this.rest = rest;
        this.config = config;
    }

    @Override
    public QueryJobs.JobState insert(String jobId, String sql, Map<String, String> labels, long timeoutMs) {
        QueryJobConfiguration cfg = QueryJobConfiguration.newBuilder(sql).setUseLegacySql(false).setLabels(labels)
            .setJobTimeoutMs(timeoutMs).build();
        try {
            return state(bigQuery.create(JobInfo.newBuilder(cfg).setJobId(jobId(jobId)).build()));
        } catch (BigQueryException e) {
            if (e.getCode() == 409) {
                return get(jobId); // submitted before (a request that timed out): follow that job
            }
            throw BigQueryGateway.classified(e);
        }
    }

    @Override
    public QueryJobs.JobState get(String jobId) {
        Job job = bigQuery.getJob(jobId(jobId));
        return job == null ? null : state(job);
    }

    @Override
    public void cancel(String jobId) {
        bigQuery.cancel(jobId(jobId));
    }

    /**
     * Through jobs.getQueryResults, page by page: the rows come with the response (the client's
     * Job.getQueryResults lists the anonymous result table instead, which not every endpoint serves).
     * The steps' results are flat rows of scalars.
     */
    @Override
    public List<FieldValueList> rows(String jobId) {
        List<FieldValueList> rows = new ArrayList<>();
        String page = null;
        try {
            do {
                com.google.api.services.bigquery.Bigquery.Jobs.GetQueryResults call = rest.jobs().getQueryResults(config.project(), jobId);
                if (!config.location().isEmpty()) {
                    call.setLocation(config.location());
                }
                com.google.api.services.bigquery.model.GetQueryResultsResponse r = call.setPageToken(page).execute();
                if (!Boolean.TRUE.equals(r.getJobComplete())) {
                    throw new Retrier.TransientException("the result of job " + jobId + " is not complete yet", null);
                }
                // Names are what the steps look values up by; every value is read from its text form.
                FieldList schema = FieldList.of(r.getSchema().getFields().stream()
                    .map(f -> Field.of(f.getName(), LegacySQLTypeName.STRING)).toList());
                for (com.google.api.services.bigquery.model.TableRow row : r.getRows() == null
                    ? List.<com.google.api.services.bigquery.model.TableRow>of() : r.getRows()) {
                    List<FieldValue> values = new ArrayList<>();
                    for (com.google.api.services.bigquery.model.TableCell cell : row.getF()) {
                        Object v = cell.getV();
                        values.add(FieldValue.of(FieldValue.Attribute.PRIMITIVE, v == null || com.google.api.client.util.Data.isNull(v) ? null : v.toString()));
                    }
                    rows.add(FieldValueList.of(values, schema));
                }
                page = r.getPageToken();
            } while (page != null);
        } catch (com.google.api.client.googleapis.json.GoogleJsonResponseException e) {
            throw BigQueryGateway.classified(new BigQueryException(e));
        } catch (IOException e) {
            throw new BigQueryException(e);
        }
        return rows;
    }


    private com.google.cloud.bigquery.JobId jobId(String id) {
        com.google.cloud.bigquery.JobId.Builder b = com.google.cloud.bigquery.JobId.newBuilder().setProject(config.project()).setJob(id);
        if (!config.location().isEmpty()) {
            b.setLocation(config.location());
        }
        return b.build();
    }

    private static QueryJobs.JobState state(Job job) {
        com.google.cloud.bigquery.JobStatus status = job.getStatus();
        boolean done = status != null && status.getState() == com.google.cloud.bigquery.JobStatus.State.DONE;
        Long bytes = job.getStatistics() instanceof QueryStatistics q ? q.getTotalBytesProcessed() : null;
        return new QueryJobs.JobState(done, done ? status.getError() : null, bytes == null ? 0 : bytes);
    }
}
