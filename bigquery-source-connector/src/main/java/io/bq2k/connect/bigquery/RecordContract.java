package io.bq2k.connect.bigquery;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What consumers of the topic were told rows look like: the topic, the key columns, and the value
 * representation (temporal precision, JSON mode). A run published under another contract cannot be
 * the base of an incremental run: a changed topic or representation is resynced (every row again),
 * changed key columns are re-keyed (every old key tombstoned, every row again under the new key).
 */
public record RecordContract(String topic, List<String> keys, SyncConfig.TemporalPrecision precision, SyncConfig.JsonColumns json) {

    public static RecordContract of(SyncConfig config) {
        return new RecordContract(config.topic(), config.keyColumns(), config.temporalPrecision(), config.jsonColumns());
    }

    /** Topic and representation, hashed to keep offsets small (key columns travel as they are). */
    public String fingerprint() {
        return shortHash(topic + "\n" + precision + "\n" + json);
    }

    /** What changed from a contract with {@code fingerprint}, in words; null when nothing did (or it is unknown). */
    public String changeFrom(String fingerprint) {
        return fingerprint == null || fingerprint.equals(fingerprint()) ? null
            : "the topic or the value representation (" + SyncConfig.TOPIC + ", " + SyncConfig.TEMPORAL_PRECISION + ", "
                + SyncConfig.JSON_COLUMNS + ") changed since the last run";
    }

    /** Whether a contract with {@code fingerprint} differed from this one in the temporal precision (only). */
    public boolean precisionChangedFrom(String fingerprint) {
        if (fingerprint == null) {
            return false;
        }
        for (SyncConfig.TemporalPrecision p : SyncConfig.TemporalPrecision.values()) {
            if (p != precision && new RecordContract(topic, keys, p, json).fingerprint().equals(fingerprint)) {
                return true;
            }
        }
        return false;
    }

    static String shortHash(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
