/* rt_clock.h — the one monotonic clock and the deadline arithmetic.
 *
 * Purpose: every timestamp and timeout in the runtime (and whatever above it
 * needs one) comes from here: CLOCK_MONOTONIC in milliseconds or
 * microseconds, the coarse variant for once-per-loop reads, a millisecond
 * count as a struct timeval (libevent timers), and an absolute deadline as a
 * struct timespec on a given clock (pthread_cond_timedwait). Header-only, so
 * the hot paths inline it.
 *
 * Exports: rt_clock_ms, rt_clock_us, rt_clock_coarse_ms, rt_clock_tv,
 * rt_clock_deadline.
 *
 * Threads: any.
 */
#ifndef PLUS7_RT_CLOCK_H
#define PLUS7_RT_CLOCK_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

static inline uint64_t rt_clock_ns_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Monotonic milliseconds (CLOCK_MONOTONIC). */
static inline uint64_t rt_clock_ms(void) { return rt_clock_ns_of(CLOCK_MONOTONIC) / 1000000u; }

/* Monotonic microseconds (CLOCK_MONOTONIC). */
static inline uint64_t rt_clock_us(void) { return rt_clock_ns_of(CLOCK_MONOTONIC) / 1000u; }

/* Monotonic milliseconds from CLOCK_MONOTONIC_COARSE: a few ms of
 * resolution, no syscall; for once-per-loop reads. */
static inline uint64_t rt_clock_coarse_ms(void)
{
    return rt_clock_ns_of(CLOCK_MONOTONIC_COARSE) / 1000000u;
}

/* `ms` milliseconds as a relative struct timeval (libevent timers). */
static inline struct timeval rt_clock_tv(uint64_t ms)
{
    return (struct timeval){.tv_sec = (time_t)(ms / 1000u), .tv_usec = (suseconds_t)(ms % 1000u) * 1000};
}

/* The absolute time `ms` milliseconds from now on clock `id` (the clock a
 * condition variable waits on: CLOCK_MONOTONIC after
 * pthread_condattr_setclock, CLOCK_REALTIME by default). */
static inline struct timespec rt_clock_deadline(clockid_t id, uint64_t ms)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    ts.tv_sec += (time_t)(ms / 1000u);
    ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

#endif
