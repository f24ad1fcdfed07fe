package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The staging dataset against a fake BigQuery endpoint: a creation race, and a side-effect-free check. */
class StagingDatasetTest {

    private static final String DATASET_JSON = "{\"kind\":\"bigquery#dataset\",\"id\":\"proj-1:stage\","
        + "\"datasetReference\":{\"projectId\":\"proj-1\",\"datasetId\":\"stage\"}}";

    /** GET dataset: 404 until created; POST datasets: always 409 (another sync won the race). */
    private static FakeBigQueryServer racingServer() throws IOException {
        boolean[] exists = new boolean[1];
        return new FakeBigQueryServer(call -> {
            if (call.startsWith("POST")) {
                exists[0] = true;
                return FakeBigQueryServer.error(409, "duplicate", "Already Exists: Dataset proj-1:stage");
            }
            return exists[0] ? new FakeBigQueryServer.Reply(200, DATASET_JSON) : FakeBigQueryServer.error(404, "notFound", "Not found: Dataset");
        });
    }

    @Test
    void twoSyncsCreatingTheDatasetAtOnceBothProceed() throws IOException {
        try (FakeBigQueryServer server = racingServer(); BigQueryGateway gateway = new BigQueryGateway(server.config(), () -> false)) {
            gateway.ensureDataset(new DatasetRef("proj-1", "stage"), true); // 409 on create: the other sync's dataset is used
            assertEquals(List.of("GET", "POST", "GET"), server.methods());
        }
    }

    @Test
    void checkingTheDatasetCreatesNothing() throws IOException {
        try (FakeBigQueryServer server = racingServer(); BigQueryGateway gateway = new BigQueryGateway(server.config(), () -> false)) {
            assertFalse(gateway.datasetExists(new DatasetRef("proj-1", "stage")));
            assertEquals(List.of("GET"), server.methods());
        }
    }
}
