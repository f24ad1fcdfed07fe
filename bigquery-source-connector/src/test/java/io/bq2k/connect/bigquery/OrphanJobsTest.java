package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * A task that crashed mid-statement leaves its BigQuery job running; the next task instance cancels it and
 * waits until it is done before planning, so the orphan cannot replace a table afterwards.
 */
class OrphanJobsTest {

    private static String job(String id, String state, String owner) {
        return "{\"kind\":\"bigquery#job\",\"id\":\"proj-1:US." + id + "\",\"jobReference\":{\"projectId\":\"proj-1\",\"jobId\":\"" + id
            + "\",\"location\":\"US\"},\"status\":{\"state\":\"" + state + "\"},\"configuration\":{\"query\":{\"query\":\"CREATE OR REPLACE TABLE x AS SELECT 1\","
            + "\"useLegacySql\":false},\"labels\":{\"bq2k_owner\":\"" + owner + "\"}}}";
    }

    @Test
    void ownJobsStillRunningAreCancelledAndAwaitedOthersAreLeftAlone() throws IOException {
        int[] polls = new int[1];
        try (FakeBigQueryServer server = new FakeBigQueryServer(call -> {
            if (call.equals("GET /bigquery/v2/projects/proj-1/jobs")) {
                return new FakeBigQueryServer.Reply(200, "{\"kind\":\"bigquery#jobList\",\"jobs\":[" + job("mine", "RUNNING", "abc") + ","
                    + job("theirs", "RUNNING", "zzz") + "]}");
            }
            if (call.endsWith("/jobs/mine/cancel")) {
                return new FakeBigQueryServer.Reply(200, "{\"kind\":\"bigquery#jobCancelResponse\",\"job\":" + job("mine", "RUNNING", "abc") + "}");
            }
            if (call.endsWith("/jobs/mine")) {
                return new FakeBigQueryServer.Reply(200, job("mine", ++polls[0] < 2 ? "RUNNING" : "DONE", "abc"));
            }
            return FakeBigQueryServer.error(400, "invalid", "unexpected " + call);
        }); BigQueryGateway gateway = new BigQueryGateway(server.config(), () -> false)) {
            assertEquals(List.of("mine"), gateway.cancelAndAwaitJobs("bq2k_owner", "abc", 30_000));
            assertTrue(server.calls.contains("POST /bigquery/v2/projects/proj-1/jobs/mine/cancel"), server.calls.toString());
            assertTrue(server.calls.stream().noneMatch(c -> c.contains("theirs")), server.calls.toString());
            assertEquals(2, polls[0], "waited until the cancelled job was done");
        }
    }
}
