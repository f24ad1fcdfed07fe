package io.bq2k.connect.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** The worker's read pool and gRPC scheduler: bounded, shared, gone with the last lease. */
class WorkerThreadsTest {

    /** Waits until every thread ended (they end asynchronously after a shutdown). */
    static void awaitEnded(Set<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            t.join(10_000);
            assertFalse(t.isAlive(), t.getName() + " is still alive");
        }
    }

    @Test
    void controlWorkRunsOnItsOwnBoundedPoolBesideStalledReads() throws Exception {
        WorkerThreads threads = new WorkerThreads(2);
        WorkerThreads.Lease lease = threads.acquire();
        java.util.concurrent.CountDownLatch stall = new java.util.concurrent.CountDownLatch(1);
        for (int i = 0; i < 2; i++) {
            lease.reads().execute(() -> {
                try {
                    stall.await(); // every read thread stalls
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        CompletableFuture<?>[] steps = new CompletableFuture<?>[10];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = CompletableFuture.runAsync(() -> seen.add(Thread.currentThread()), lease.controls());
        }
        CompletableFuture.allOf(steps).get(10, TimeUnit.SECONDS); // not held up by the stalled reads
        assertTrue(seen.size() <= 2 && seen.stream().allMatch(t -> t.getName().matches("bq2k-control-\\d+") && t.isDaemon()), seen::toString);
        lease.close(); // interrupts the stalled reads
        awaitEnded(seen);
        stall.countDown();
    }

    @Test
    void readsOfManyUsersRunOnAtMostSizeThreads() throws Exception {
        WorkerThreads threads = new WorkerThreads(2);
        WorkerThreads.Lease a = threads.acquire();
        WorkerThreads.Lease b = threads.acquire();
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        CompletableFuture<?>[] reads = new CompletableFuture<?>[20];
        for (int i = 0; i < reads.length; i++) {
            reads[i] = CompletableFuture.runAsync(() -> {
                seen.add(Thread.currentThread());
                most.accumulateAndGet(running.incrementAndGet(), Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                running.decrementAndGet();
            }, (i % 2 == 0 ? a : b).reads());
        }
        CompletableFuture.allOf(reads).get(30, TimeUnit.SECONDS);
        assertTrue(most.get() <= 2, "at most 2 reads at once, saw " + most.get());
        assertTrue(seen.size() <= 2, "at most 2 threads, saw " + seen);
        for (Thread t : seen) {
            assertTrue(t.getName().matches("bq2k-read-\\d+"), t.getName());
            assertTrue(t.isDaemon(), t.getName());
        }
        Thread grpc = a.scheduler().submit(Thread::currentThread).get(10, TimeUnit.SECONDS);
        assertTrue(grpc.getName().matches("bq2k-grpc-\\d+") && grpc.isDaemon(), grpc.getName());

        a.close();
        assertEquals(1, threads.users());
        CompletableFuture.runAsync(() -> { }, b.reads()).get(10, TimeUnit.SECONDS); // still serving the other user

        b.close();
        b.close(); // harmless
        assertEquals(0, threads.users());
        seen.add(grpc);
        awaitEnded(seen);
        assertThrows(RejectedExecutionException.class, () -> b.reads().execute(() -> { }), "the pool is shut down with the last lease");
        assertTrue(b.scheduler().isShutdown());

        WorkerThreads.Lease again = threads.acquire();
        assertFalse(again.scheduler().isShutdown(), "the next first user gets new pools");
        CompletableFuture.runAsync(() -> { }, again.reads()).get(10, TimeUnit.SECONDS);
        again.close();
    }

    @Test
    void closingALeaseInterruptsItsOwnRunningReadOnly() throws Exception {
        WorkerThreads threads = new WorkerThreads(2);
        WorkerThreads.Lease stopping = threads.acquire();
        WorkerThreads.Lease other = threads.acquire();
        CountDownLatch bothRunning = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> stoppingRead = CompletableFuture.supplyAsync(() -> blockUntil(bothRunning, release), stopping.reads());
        CompletableFuture<Boolean> otherRead = CompletableFuture.supplyAsync(() -> blockUntil(bothRunning, release), other.reads());
        assertTrue(bothRunning.await(10, TimeUnit.SECONDS));

        stopping.close();
        assertEquals(Boolean.TRUE, stoppingRead.get(10, TimeUnit.SECONDS), "the closed lease's read was interrupted");
        assertFalse(otherRead.isDone(), "another user's read goes on");
        // A read submitted through the closed lease starts interrupted, so whoever waits for it is answered at once.
        assertEquals(Boolean.TRUE, CompletableFuture.supplyAsync(() -> Thread.currentThread().isInterrupted(), stopping.reads())
            .get(10, TimeUnit.SECONDS));
        release.countDown();
        assertEquals(Boolean.FALSE, otherRead.get(10, TimeUnit.SECONDS));
        // No interrupt leaks into the next read of a shared thread.
        for (int i = 0; i < 4; i++) {
            assertFalse(CompletableFuture.supplyAsync(() -> Thread.currentThread().isInterrupted(), other.reads()).get(10, TimeUnit.SECONDS));
        }
        other.close();
        assertEquals(0, threads.users());
    }

    /** @return whether it was interrupted */
    private static boolean blockUntil(CountDownLatch started, CountDownLatch release) {
        started.countDown();
        try {
            return !release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            return true;
        }
    }

    @Test
    void theWorkerInstanceIsBoundedByTheProcessors() {
        assertEquals(Math.max(2, Runtime.getRuntime().availableProcessors()), WorkerThreads.SHARED.size());
    }

    @Test
    void executionExceptionsReachTheWaiter() throws Exception {
        WorkerThreads threads = new WorkerThreads(1);
        try (WorkerThreads.Lease l = threads.acquire()) {
            CompletableFuture<Object> f = CompletableFuture.supplyAsync(() -> {
                throw new IllegalStateException("read failed");
            }, l.reads());
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            assertEquals("read failed", e.getCause().getMessage());
        }
    }
}
