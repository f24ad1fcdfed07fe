package io.bq2k.bench;

import io.bq2k.cli.ConnectorDeployer;

/**
 * The sync the initial sync case leaves deployed (source {@code name}, sink {@code sink-<name>}, its
 * topic and MySQL table) for the no-change and incremental cases; {@link #run} counts its runs.
 */
final class KeptSync {

    final String source;
    final String topic;
    final String table;
    long run;

    KeptSync(String source, String topic, String table, long run) {
        this.source = source;
        this.topic = topic;
        this.table = table;
        this.run = run;
    }

    String runsTopic() {
        return topic + ".runs";
    }

    /** Deletes its sink and source (a no-op for one already deleted), so that nothing else runs in the worker. */
    void remove(ConnectorDeployer deployer) {
        deployer.delete("sink-" + source);
        deployer.delete(source);
    }
}
