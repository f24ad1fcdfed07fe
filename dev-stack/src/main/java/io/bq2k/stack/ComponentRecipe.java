package io.bq2k.stack;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How one component of the stack is launched and known to be ready: its ports, its command line
 * (preparing its files on the way), its readiness probe and how its process is recognised.
 * {@link ProcessSupervisor} does the rest (pid file, log, start, stop) the same way for every one.
 */
interface ComponentRecipe {

    Component component();

    /** The ports the component listens on; each must be free before it starts. */
    List<Integer> ports();

    /** The command that runs the component in the foreground; writes whatever files it needs first. */
    List<String> command();

    /** Extra environment of the process. */
    default Map<String, String> environment() {
        return Map.of();
    }

    /** A short description when the component is ready, null when not (yet). */
    String probe() throws Exception;

    /** Whether a live process with this command line is this stack's component (pid reuse guard). */
    boolean isOwnProcess(String cmdline);

    /** How long a graceful stop may take before SIGKILL. */
    default Duration stopTimeout() {
        return Duration.ofSeconds(45);
    }

    /** Clean-up of what a killed process may leave behind (e.g. an orphaned mysqld); runs before start and after stop. */
    default void reapOrphans() {
    }

    /** Where it can be reached, for status lines. */
    String address();
}
