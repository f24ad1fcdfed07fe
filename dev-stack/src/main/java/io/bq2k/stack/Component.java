package io.bq2k.stack;

import java.util.Locale;

/** The stack's processes, in start order. Each has one {@link ComponentRecipe}. */
public enum Component {
    EMULATOR, MARIADB, KAFKA, CONNECT;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Component parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "bq": case "bigquery": case "emulator": return EMULATOR;
            case "mysql": case "mariadb": case "db": return MARIADB;
            case "kafka": case "broker": return KAFKA;
            case "connect": case "worker": return CONNECT;
            default: throw new IllegalArgumentException("unknown component '" + s + "' (emulator, mariadb, kafka, connect)");
        }
    }
}
