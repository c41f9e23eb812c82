/* test_oe_crash.c — kill -9 of plus7d while logistics events are being
 * taken and applied (suite 'orders_e2e').
 *
 * Purpose: "nothing is lost, nothing is doubled" for the logistics path.
 * 1,000 events over 100 postings (each posting has one Telegram
 * subscriber, so every applied change queues one notify_outbox row) are
 * sent signed to the real plus7d; plus7d is killed with SIGKILL while the
 * order actors are applying them and started again on the same database.
 * Afterwards every accepted event must be processed exactly once:
 * logistics_inbox all processed, order_history holding each event id once
 * with `applied` exactly as the `at` order dictates, the final statuses
 * right, and notify_outbox holding one row per (posting, event, person,
 * channel) — no more, no fewer.
 *
 *   kill9_during_requests   10 requests of 100 events, one after the
 *       other as a logistics system sends them; the kill comes after the
 *       4th answer; a request that got no answer is sent again (its events
 *       may already be stored: they come back as "duplicate").
 *   kill9_after_accept      one request of 1,000 events; the kill comes
 *       once its 200 has arrived while the test holds a lock that keeps
 *       every application waiting (so all 1,000 are certainly unapplied;
 *       the dead service's backends are terminated before the lock goes);
 *       nothing is sent after the restart, so the restarted service must
 *       find the stored, unapplied events by itself ("a crash after the
 *       200 replays from the inbox").
 *
 * Tags: "e2e slow". Threads: main thread and one sender thread (joined).
 */
#include "t.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "e2e_harness.h"
#include "oe_util.h"

#define T_START() T_CHECK(e2e_p7_ensure() == 0)

enum { NP = 100, NE = 10 };
static int64_t t0;

/* Event e of every posting, in `at` order: its status and whether it moves
 * the status (odd postings end "returned", even ones repeat "delivered"). */
static const struct {
    const char *status;
    bool applied;
} plan[NE] = {
    {"created", true},         {"accepted", true},   {"accepted", false},
    {"in_transit", true},      {"created", false},   {"at_pickup_point", true},
    {"out_for_delivery", true}, {"in_transit", false}, {"delivered", true},
    {"delivered", false},
};

static const char *plan_status(int k, int e) { return e == 9 && (k & 1) ? "returned" : plan[e].status; }
static bool plan_applied(int k, int e) { return plan[e].applied || (e == 9 && (k & 1)); }
static int applied_per_posting(int k)
{
    int n = 0;
    for (int e = 0; e < NE; e++) n += plan_applied(k, e);
    return n;
}

/* Postings "<series>-KKKK-1"; event ids "<tag>-KKK-E". */
static void posting_of(const char *series, int k, char *out, size_t n) { snprintf(out, n, "%s-%04d-1", series, k + 1); }

static void add_event(oe_batch_t *b, const char *series, const char *tag, int k, int e)
{
    char id[40], p[40];
    snprintf(id, sizeof id, "%s-%03d-%d", tag, k, e);
    posting_of(series, k, p, sizeof p);
    oe_batch_add(b, id, p, plan_status(k, e), t0 + k + e * 600, e == 5 ? "ПВЗ Макеевка, пр. Ленина, 7" : NULL, NULL);
}

/* One subscriber chat per posting (chat ids base + k). */
static void subscribe_all(const char *series, long long chat_base)
{
    char like[32];
    snprintf(like, sizeof like, "%s-%%", series);
    T_CHECK(e2e_sql_exec("INSERT INTO order_subscribers (posting_number, chat_id)"
                         " SELECT $1 || '-' || lpad(k::text, 4, '0') || '-1', $2::bigint + k - 1"
                         "   FROM generate_series(1, $3::int) k",
                         series, e2e_i(chat_base), e2e_i(NP), NULL) == 0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM order_subscribers WHERE posting_number LIKE $1", like, NULL), NP);
}

/* Everything the crash must not have lost or doubled. */
static void check_exactly_once(const char *series, const char *tag)
{
    char like_p[32], like_e[32];
    snprintf(like_p, sizeof like_p, "%s-%%", series);
    snprintf(like_e, sizeof like_e, "%s-%%", tag);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM logistics_inbox WHERE event_id LIKE $1", like_e, NULL), NP * NE);
    T_CHECK(e2e_sql_until(OE_WAIT_S, "0",
                          "SELECT count(*) FROM logistics_inbox WHERE event_id LIKE $1 AND processed_at IS NULL",
                          like_e, NULL));
    /* order_history: each event once, applied per the `at` order */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM order_history WHERE event_id LIKE $1", like_e, NULL), NP * NE);
    T_EQ_INT(e2e_sql_int("SELECT count(DISTINCT event_id) FROM order_history WHERE event_id LIKE $1", like_e, NULL),
             NP * NE);
    long long want_applied = 0;
    for (int k = 0; k < NP; k++) want_applied += applied_per_posting(k);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM order_history WHERE event_id LIKE $1 AND applied", like_e, NULL),
             want_applied);
    int bad = 0;
    for (int k = 0; k < NP; k++) {
        char p[40], want[512];
        posting_of(series, k, p, sizeof p);
        size_t n = 0;
        for (int e = 0; e < NE; e++)
            n += (size_t)snprintf(want + n, sizeof want - n, "%s%d:%s:%c", e ? "," : "", e, plan_status(k, e),
                                  plan_applied(k, e) ? 't' : 'f');
        const char *got = e2e_sqls("SELECT string_agg(split_part(event_id, '-', 3) || ':' || status || ':' ||"
                                   "                  left(applied::text, 1), ',' ORDER BY at, id)"
                                   "  FROM order_history WHERE posting_number = $1", p, NULL);
        if ((!got || strcmp(got, want) != 0) && bad++ < 5)
            printf("# posting %s: history %s, expected %s\n", p, got ? got : "(none)", want);
    }
    T_EQ_INT(bad, 0);
    /* final statuses */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number LIKE $1 AND status = 'delivered'", like_p,
                         NULL), NP / 2);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number LIKE $1 AND status = 'returned'", like_p,
                         NULL), NP / 2);
    /* notify_outbox: one row per (posting, event, person, channel), for every applied change */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM (SELECT posting_number, event, chat_id, phone, channel"
                         "  FROM notify_outbox WHERE posting_number LIKE $1 GROUP BY 1, 2, 3, 4, 5"
                         "  HAVING count(*) > 1) d", like_p, NULL), 0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE posting_number LIKE $1 AND channel = 'telegram'",
                         like_p, NULL), want_applied);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox n WHERE posting_number LIKE $1 AND NOT EXISTS"
                         " (SELECT 1 FROM order_history h WHERE h.posting_number = n.posting_number"
                         "     AND h.status = n.event AND h.applied)", like_p, NULL), 0);
}

/* ---- kill during a stream of requests ------------------------------------------------ */

typedef struct sender {
    atomic_int answered;      /* requests with a 200 so far; release/acquire pairs with the main thread's read */
    atomic_int failed;        /* requests that never got a 200 (relaxed: read after join) */
    int retries, duplicates;  /* written by the sender, read after join */
} sender_t;

static void *sender_main(void *arg)
{
    sender_t *s = arg;
    for (int e = 0; e < NE; e++) {
        oe_batch_t b;
        oe_batch_init(&b);
        for (int k = 0; k < NP; k++) add_event(&b, "20000011", "kd", k, e);
        const char *body = oe_batch_finish(&b);
        double deadline = e2e_now() + 120;
        for (;;) {
            oe_resp_t r = oe_post_signed(body);
            bool ok = r.status == 200;
            if (ok) s->duplicates += (int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "duplicates"));
            else if (r.status != 0 && r.status != 503)
                printf("# request %d: HTTP %ld %s\n", e, r.status, r.body);
            oe_resp_free(&r);
            if (ok) break;
            if (e2e_now() > deadline) {
                atomic_fetch_add_explicit(&s->failed, 1, memory_order_relaxed);
                break;
            }
            s->retries++;
            e2e_sleep_ms(100);
        }
        oe_batch_free(&b);
        atomic_fetch_add_explicit(&s->answered, 1, memory_order_release);
    }
    return NULL;
}

T_CASE_TAGGED(kill9_during_requests, "e2e slow")
{
    T_START();
    subscribe_all("20000011", 9110001);
    sender_t s = {0};
    pthread_t th;
    T_CHECK(pthread_create(&th, NULL, sender_main, &s) == 0);
    while (atomic_load_explicit(&s.answered, memory_order_acquire) < 4) e2e_sleep_ms(2);
    e2e_p7_kill();
    long long stored = e2e_sql_int("SELECT count(*) FROM logistics_inbox WHERE event_id LIKE 'kd-%'", NULL);
    long long pending = e2e_sql_int("SELECT count(*) FROM logistics_inbox WHERE event_id LIKE 'kd-%'"
                                    " AND processed_at IS NULL", NULL);
    printf("# killed after %d answers: %lld events stored, %lld not applied yet\n",
           atomic_load_explicit(&s.answered, memory_order_acquire), stored, pending);
    e2e_sleep_ms(300);              /* the sender meets the dead service */
    int started = e2e_p7_start();
    pthread_join(th, NULL);
    T_EQ_INT(started, 0);
    printf("# sender: %d retries, %d duplicates reported\n", s.retries, s.duplicates);
    T_EQ_INT(atomic_load_explicit(&s.failed, memory_order_relaxed), 0);
    check_exactly_once("20000011", "kd");
}

/* ---- kill right after the answer -------------------------------------------------------- */

/* Poll `sql` (over pg_stat_activity) until it gives `expect`. Inside a
 * transaction PostgreSQL keeps the activity view it read first, so each
 * round clears that snapshot. */
static bool activity_until(const char *sql, const char *expect)
{
    double deadline = e2e_now() + OE_WAIT_S;
    while (e2e_now() < deadline) {
        T_EQ_INT(e2e_sql_exec("SELECT pg_stat_clear_snapshot()", NULL), 0);
        const char *v = e2e_sqls(sql, NULL);
        if (v && strcmp(v, expect) == 0) return true;
        e2e_sleep_ms(50);
    }
    return false;
}

T_CASE_TAGGED(kill9_after_accept, "e2e slow")
{
    T_START();
    subscribe_all("20000012", 9120001);
    /* Force the condition under test: hold back every application (each
     * writes order_history, which this transaction locks against writes)
     * so that the kill certainly finds accepted events not yet applied. */
    T_EQ_INT(e2e_sql_exec("BEGIN", NULL), 0);
    T_EQ_INT(e2e_sql_exec("LOCK TABLE order_history IN SHARE MODE", NULL), 0);
    oe_batch_t b;
    oe_batch_init(&b);
    for (int e = 0; e < NE; e++)
        for (int k = 0; k < NP; k++) add_event(&b, "20000012", "ka", k, e);
    oe_resp_t r = oe_post_signed(oe_batch_finish(&b));
    /* the order actors are at work: at least one waits for the lock */
    bool blocked = activity_until("SELECT count(*) > 0 FROM pg_stat_activity"
                                  " WHERE datname = current_database() AND wait_event_type = 'Lock'", "t");
    e2e_p7_kill();
    /* the dead service's backends must not finish its transactions once the
     * lock goes: end them, and wait until they are gone */
    T_EQ_INT(e2e_sql_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                          " AND pid <> pg_backend_pid() AND backend_type = 'client backend'", NULL), 0);
    bool gone = activity_until("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                               " AND pid <> pg_backend_pid() AND backend_type = 'client backend'", "0");
    T_EQ_INT(e2e_sql_exec("ROLLBACK", NULL), 0);
    oe_batch_free(&b);
    T_CHECK(blocked);
    T_CHECK(gone);
    T_EQ_INT(r.status, 200);
    T_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "accepted")), NP * NE);
    oe_resp_free(&r);
    long long pending = e2e_sql_int("SELECT count(*) FROM logistics_inbox WHERE event_id LIKE 'ka-%'"
                                    " AND processed_at IS NULL", NULL);
    printf("# killed at the 200: %lld of %d events not applied yet\n", pending, NP * NE);
    T_EQ_INT(pending, NP * NE);   /* every one of them is left to the replay */
    T_EQ_INT(e2e_p7_start(), 0);
    check_exactly_once("20000012", "ka");
}

int main(void)
{
    t0 = (int64_t)time(NULL) - 86400;
    int rc = oe_init("oe_crash");
    if (rc == 0) rc = e2e_p7_start();
    int failed = t_run_all();
    return e2e_finish(failed);
}
