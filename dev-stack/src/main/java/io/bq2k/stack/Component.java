package io.bq2k.stack;

import java.util.Arrays;
import java.util.Locale;

/**
 * The stack's processes, in start order. Each has one {@link ComponentRecipe}. {@link #REGISTRY} (Apicurio
 * Registry, for Avro) is started only when asked for: the demo and most tests use JSON and need no registry.
 */
public enum Component {
    EMULATOR, MARIADB, KAFKA, CONNECT, REGISTRY;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether {@code bin/stack up} and {@link LocalStack#up()} start it without being named. */
    public boolean byDefault() {
        return this != REGISTRY;
    }

    /** The components {@link LocalStack#up()} starts: every one but the schema registry. */
    public static Component[] defaults() {
        return Arrays.stream(values()).filter(Component::byDefault).toArray(Component[]::new);
    }

    public static Component parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "bq": case "bigquery": case "emulator": return EMULATOR;
            case "mysql": case "mariadb": case "db": return MARIADB;
            case "kafka": case "broker": return KAFKA;
            case "connect": case "worker": return CONNECT;
            case "registry": case "schema-registry": case "apicurio": return REGISTRY;
            default: throw new IllegalArgumentException("unknown component '" + s + "' (emulator, mariadb, kafka, connect, registry)");
        }
    }
}
