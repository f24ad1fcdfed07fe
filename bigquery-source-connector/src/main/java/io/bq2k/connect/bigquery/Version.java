package io.bq2k.connect.bigquery;

/** The connector's version, from the jar manifest (set by Maven). */
final class Version {
    private Version() { }

    static String get() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
