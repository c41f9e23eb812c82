/* rt_testutil.h — small helpers shared by the runtime tests.
 *
 * Exports: T_WAIT (poll a condition up to a generous deadline, failing the
 * case if it never holds), rt_test_new (a started runtime), rt_test_msg
 * (a message with corr and an optional 64-bit value in the payload),
 * rt_test_val.
 * Threads: the test's main thread (T_WAIT may also poll from helpers).
 */
#ifndef PLUS7_RT_TESTUTIL_H
#define PLUS7_RT_TESTUTIL_H

#include "rt.h"
#include "t.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

/* Wait until `cond` holds, polling every millisecond, for at most `ms`;
 * fail the case otherwise. The bound only guards against a hang: it is
 * never what the test asserts. */
#define T_WAIT(cond, ms) do {                                                  \
        uint64_t t_w_end_ = rt_now_ms() + (uint64_t)(ms);                      \
        while (!(cond)) {                                                      \
            if (rt_now_ms() > t_w_end_) { T_FAIL("timed out waiting for " #cond); break; } \
            usleep(1000);                                                      \
        }                                                                      \
    } while (0)

/* The runtime of the running case, for a debugger attached to a hung test. */
static rt_runtime_t *volatile rt_test_current;

static inline rt_runtime_t *rt_test_new(int threads)
{
    rt_config_t cfg = {.threads = threads, .mailbox_high_water = 0};
    rt_test_current = rt_runtime_new(&cfg);
    return rt_test_current;
}

static inline rt_msg_t *rt_test_msg(uint16_t type, uint32_t corr, uint64_t val)
{
    rt_msg_t *m = rt_msg_new(type, sizeof val);
    if (!m) return NULL;
    m->corr = corr;
    memcpy(m->payload, &val, sizeof val);
    m->len = sizeof val;
    return m;
}

static inline uint64_t rt_test_val(const rt_msg_t *m)
{
    uint64_t v = 0;
    if (m->len >= sizeof v) memcpy(&v, m->payload, sizeof v);
    return v;
}

#endif
