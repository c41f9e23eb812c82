/* test_pg_restart_actors.c — rt_pg through the actor runtime survives a
 * PostgreSQL restart (PLUS7_TEST_PG_RESTART).
 *
 * An actor has a long query in flight (not idempotent) and an idempotent one
 * behind it when the cluster restarts: the first comes back as RT_EIO, the
 * second is re-sent and succeeds; queries from many actors issued after the
 * restart all succeed; nothing hangs; graceful stop still completes.
 * Registered with is_parallel: false (it restarts the shared cluster).
 *
 * Threads: cases on the main thread; handlers on workers report through
 * seq_cst atomics.
 */
#include "rt_pg.h"

#include <stdatomic.h>

#include "pg_test_util.h"

enum { MSG_INFLIGHT = RT_MSG_USER + 1, MSG_AFTER = RT_MSG_USER + 2 };
#define PENDING (-100)
#define NAFTER 20

static atomic_int st_sleep = PENDING, st_idem = PENDING, after_ok, after_bad;

static int r_handle(rt_actor_t *self, const rt_msg_t *m)
{
    if (m->type == MSG_INFLIGHT) {
        rt_pg_query(self, 1, "SELECT pg_sleep(30)", 0, NULL);
        rt_pg_query_ex(self, 2, "SELECT 'idem'", 0, NULL, RT_PG_IDEMPOTENT, 60000);
        return RT_OK;
    }
    if (m->type == MSG_AFTER) {
        const char *p[1] = {rt_self_key(self)};
        if (rt_pg_query(self, 3, "SELECT $1::text", 1, p) != RT_OK) atomic_fetch_add(&after_bad, 1);
        return RT_OK;
    }
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    if (!r) return RT_OK;
    if (m->corr == 1) atomic_store(&st_sleep, r->status);
    if (m->corr == 2)
        atomic_store(&st_idem, r->status == RT_OK && strcmp(rt_pg_value(r, 0, 0), "idem") == 0
                                   ? RT_OK : RT_EFAIL);
    if (m->corr == 3) {
        bool ok = r->status == RT_OK && strcmp(rt_pg_value(r, 0, 0), rt_self_key(self)) == 0;
        atomic_fetch_add(ok ? &after_ok : &after_bad, 1);
    }
    return RT_OK;
}

static const rt_kind_t r_kind = {.name = "pgt_restart", .state_size = 8, .handle = r_handle};

static bool two_inflight(void *arg) { return rt_pg_stats_inflight() >= 2; }
static bool both_back(void *arg)
{
    return atomic_load(&st_sleep) != PENDING && atomic_load(&st_idem) != PENDING;
}
static bool after_all(void *arg) { return atomic_load(&after_ok) + atomic_load(&after_bad) >= NAFTER; }

T_CASE_TAGGED(actors_survive_postgres_restart, "db slow")
{
    const char *restart = PGT_RESTART_CMD();
    rt_config_t cfg = {.threads = 2, .mailbox_high_water = 100000};
    rt_runtime_t *rt = rt_runtime_new(&cfg);
    T_EQ_INT(rt_kind_register(rt, &r_kind), RT_OK);
    T_EQ_INT(rt_pg_init(rt, PGT_DB(), 1), RT_OK);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);

    T_EQ_INT(rt_send_key(rt, &r_kind, "victim", rt_msg_new(MSG_INFLIGHT, 0)), RT_OK);
    T_CHECK(pgt_wait(two_inflight, NULL, 10000));
    usleep(300000);                               /* both sent, the sleep running */
    printf("# restarting PostgreSQL\n");
    T_EQ_INT(system(restart), 0);
    for (int i = 0; i < NAFTER; i++) {
        char key[16];
        snprintf(key, sizeof key, "after%d", i);
        T_EQ_INT(rt_send_key(rt, &r_kind, key, rt_msg_new(MSG_AFTER, 0)), RT_OK);
    }
    T_CHECK(pgt_wait(both_back, NULL, 60000));
    T_EQ_INT(atomic_load(&st_sleep), RT_EIO);
    T_EQ_INT(atomic_load(&st_idem), RT_OK);
    T_CHECK(pgt_wait(after_all, NULL, 60000));
    T_EQ_INT(atomic_load(&after_bad), 0);
    T_EQ_INT(atomic_load(&after_ok), NAFTER);
    T_EQ_INT(rt_pg_stats_inflight(), 0);
    T_EQ_INT(rt_runtime_stop(rt, 10000), RT_OK);
    rt_runtime_free(rt);
}

T_MAIN()
