package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** A REST read of several pages is one retried call: a 503 on page 2 is retried, not a failed read. */
class PagedReadRetryTest {

    private static String rows(int from, int to) {
        StringBuilder b = new StringBuilder("[");
        for (int i = from; i <= to; i++) {
            b.append(i == from ? "" : ",").append("{\"f\":[{\"v\":\"").append(i).append("\"}]}");
        }
        return b.append("]").toString();
    }

    @Test
    void aTransientErrorOnTheSecondPageRetriesTheRead() throws IOException {
        String schema = "\"schema\":{\"fields\":[{\"name\":\"id\",\"type\":\"INTEGER\",\"mode\":\"NULLABLE\"}]}";
        String job = "\"jobReference\":{\"projectId\":\"proj-1\",\"jobId\":\"j1\",\"location\":\"US\"}";
        AtomicInteger secondPages = new AtomicInteger();
        try (FakeBigQueryServer server = new FakeBigQueryServer(call -> {
            if (call.equals("POST /bigquery/v2/projects/proj-1/queries")) {
                return new FakeBigQueryServer.Reply(200, "{\"kind\":\"bigquery#queryResponse\"," + job + ",\"jobComplete\":true,\"totalRows\":\"4\","
                    + "\"pageToken\":\"p2\"," + schema + ",\"rows\":" + rows(1, 2) + "}");
            }
            if (call.equals("GET /bigquery/v2/projects/proj-1/jobs/j1")) {
                return new FakeBigQueryServer.Reply(200, "{\"kind\":\"bigquery#job\"," + job + ",\"status\":{\"state\":\"DONE\"},"
                    + "\"configuration\":{\"query\":{\"query\":\"q\",\"destinationTable\":{\"projectId\":\"proj-1\",\"datasetId\":\"_anon\",\"tableId\":\"r1\"}}}}");
            }
            if (call.startsWith("GET /bigquery/v2/projects/proj-1/queries/j1") || call.startsWith("GET /bigquery/v2/projects/proj-1/datasets/_anon/tables/r1/data")) {
                if (secondPages.incrementAndGet() == 1) {
                    return FakeBigQueryServer.error(503, "backendError", "The service is currently unavailable");
                }
                boolean tableData = call.contains("/data");
                return new FakeBigQueryServer.Reply(200, "{\"kind\":\"" + (tableData ? "bigquery#tableDataList" : "bigquery#getQueryResultsResponse")
                    + "\"," + (tableData ? "" : job + ",\"jobComplete\":true," + schema + ",") + "\"totalRows\":\"4\",\"rows\":" + rows(3, 4) + "}");
            }
            return FakeBigQueryServer.error(400, "invalid", "unexpected " + call);
        }); BigQueryGateway gateway = new BigQueryGateway(server.config(Map.of(SyncConfig.RETRY_MAX_ATTEMPTS, "3")), () -> false)) {
            List<Long> ids = gateway.queryAllRows("read changes", "SELECT id FROM t", Map.of(), r -> r.get("id").getLongValue());
            assertEquals(List.of(1L, 2L, 3L, 4L), ids, "every row once: the whole read was retried, " + server.calls);
            assertEquals(2, secondPages.get(), "page 2 failed once, then was read");
            assertTrue(server.calls.stream().filter(c -> c.equals("POST /bigquery/v2/projects/proj-1/queries")).count() == 2,
                "the read started over from page 1: " + server.calls);
        }
    }
}
