package io.bq2k.connect.bigquery;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The connector's threads of one worker (one plugin class loader), bounded whatever the number of syncs:
 * <ul>
 *   <li>the <b>read pool</b> ({@code bq2k-read-N}): chunk reads ahead of emission for every {@link SyncRunner};</li>
 *   <li>the <b>control pool</b> ({@code bq2k-control-N}): every runner's planning and preparation (BigQuery calls;
 *       jobs themselves are followed across polls, so a thread waits for one call at a time). Apart from the
 *       reads, so that a stalled read never holds up another sync's next step;</li>
 *   <li>the <b>gRPC scheduler</b> ({@code bq2k-grpc-N}): the background executor of every Storage Read client
 *       ({@link SharedReadClients}), instead of the pool gax would create per client.</li>
 * </ul>
 * Each has {@code max(2, availableProcessors)} daemon threads at most, which end when idle. They are
 * reference-counted: created by the first {@link #acquire()}, shut down when the last {@link Lease} is closed.
 * Thread-safe.
 */
public final class WorkerThreads {

    /** The worker's instance. */
    static final WorkerThreads SHARED = new WorkerThreads(Math.max(2, Runtime.getRuntime().availableProcessors()));

    private static final long IDLE_MS = 60_000;

    private final int size;
    private int users;
    private ThreadPoolExecutor reads;
    private ThreadPoolExecutor controls;
    private ScheduledThreadPoolExecutor scheduler;

    WorkerThreads(int size) {
        this.size = size;
    }

    /** A reference to the worker's threads: close it exactly when done (closing twice is harmless). */
    public synchronized Lease acquire() {
        if (users == 0) {
            reads = new ThreadPoolExecutor(size, size, IDLE_MS, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), daemon("bq2k-read-"));
            reads.allowCoreThreadTimeOut(true);
            controls = new ThreadPoolExecutor(size, size, IDLE_MS, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), daemon("bq2k-control-"));
            controls.allowCoreThreadTimeOut(true);
            scheduler = new ScheduledThreadPoolExecutor(size, daemon("bq2k-grpc-"));
            scheduler.setKeepAliveTime(IDLE_MS, TimeUnit.MILLISECONDS);
            scheduler.allowCoreThreadTimeOut(true);
            scheduler.setRemoveOnCancelPolicy(true);
        }
        users++;
        return new Lease(reads, controls, scheduler);
    }

    private synchronized void release() {
        if (--users == 0) {
            reads.shutdownNow();
            controls.shutdownNow();
            scheduler.shutdownNow();
            reads = null;
            controls = null;
            scheduler = null;
        }
    }

    /** Number of open leases (for tests and diagnostics). */
    synchronized int users() {
        return users;
    }

    /** Upper bound of each pool's threads. */
    int size() {
        return size;
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * One user's reference (a task, or a shared read client). Its {@link #reads()} executor runs on the shared
     * read pool; closing the lease interrupts the reads of this lease that are running, so a stopping task does
     * not keep a shared thread busy, and reads submitted afterwards start interrupted (they fail at once, and
     * whoever waits for them is answered).
     */
    public final class Lease implements Executor, AutoCloseable {
        private final ThreadPoolExecutor pool;
        private final ThreadPoolExecutor controlPool;
        private final ScheduledExecutorService scheduler;
        private final Set<Thread> running = new HashSet<>();
        private boolean closed;

        private Lease(ThreadPoolExecutor pool, ThreadPoolExecutor controlPool, ScheduledExecutorService scheduler) {
            this.pool = pool;
            this.controlPool = controlPool;
            this.scheduler = scheduler;
        }

        /** Runs a read on the worker's read pool. */
        public Executor reads() {
            return this;
        }

        /** Runs a runner's planning and preparation on the worker's control pool (same lease semantics as reads). */
        public Executor controls() {
            return task -> run(controlPool, task);
        }

        /** The worker's scheduler for gRPC clients' background work (owned by the lease holders: never shut it down). */
        public ScheduledExecutorService scheduler() {
            return scheduler;
        }

        /**
         * @throws RejectedExecutionException when every lease of the worker is closed
         */
        @Override
        public void execute(Runnable task) {
            run(pool, task);
        }

        private void run(ThreadPoolExecutor on, Runnable task) {
            on.execute(() -> {
                Thread self = Thread.currentThread();
                synchronized (this) {
                    if (closed) {
                        self.interrupt();
                    } else {
                        running.add(self);
                    }
                }
                try {
                    task.run();
                } finally {
                    synchronized (this) {
                        running.remove(self);
                    }
                    Thread.interrupted(); // no interrupt of this lease reaches the next task of the thread
                }
            });
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                running.forEach(Thread::interrupt);
            }
            release();
        }
    }
}
