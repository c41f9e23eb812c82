/* ozon_gateway.c — the Ozon Seller API gateway actor (see ozon_gateway.h).
 *
 * Inside: two FIFO queues of jobs — `fg` for fetches someone waits for
 * (a person tracking a posting), `bg` for everything else (import pages,
 * pushes, refreshes after a push) — so interactive work overtakes bulk
 * work. oz_pump starts jobs while fewer than OZON_GW_INFLIGHT are in
 * flight, the queue is not paused by a 429 and the rate limiter allows;
 * otherwise it arms one timer for the earliest moment something may go.
 * Each finished exchange is classified (ozon_api.h) and either completes
 * the job, or puts it back with a back-off, or gives up (bounded attempts
 * and a per-job deadline, so a waiting person always gets an answer).
 * Pushes come from the durable ozon_push_outbox (claimed on ozon_push and
 * at activation, marked done with their outcome), so none is lost with
 * the process (DESIGN.md, "Push-back").
 *
 * Exports: ozon_gateway_kind.
 * Threads: the actor's home worker.
 */
#include "ozon_gateway.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg_types.h"
#include "ozon_api.h"
#include "ozon_rate.h"
#include "ozon_stats.h"
#include "plus7_actors.h"
#include "posting.h"
#include "rt_http.h"
#include "rt_log.h"
#include "rt_pg.h"

enum { OZ_CORR_SAVE = 1, OZ_CORR_PUSH_CLAIM, OZ_CORR_PUSH_DONE, OZ_CORR_HTTP0 = 16 };

#define OZ_QUEUE_MAX 20000
#define OZ_TIMEOUT_MS 15000
#define OZ_CONNECT_TIMEOUT_MS 5000
#define OZ_MAX_BODY (8u * 1024 * 1024)
#define OZ_BACKOFF_MIN_MS 500
#define OZ_BACKOFF_MAX_MS 30000
#define OZ_PAUSE_MIN_MS 1000          /* first pause after a 429 without Retry-After */
#define OZ_RETRY_AFTER_MAX_S 60
#define OZ_DEADLINE_FETCH_MS 25000    /* a person waits for it */
#define OZ_DEADLINE_BG_MS (10 * 60 * 1000)
#define OZ_ATTEMPTS_FETCH 5           /* answers with a transient error before giving up */
#define OZ_ATTEMPTS_BG 8
#define OZ_IMPORT_FIRST_DAYS 14       /* the first import looks this far back */
#define OZ_IMPORT_SINCE_DAYS 30       /* later imports: postings of this period ... */
#define OZ_IMPORT_OVERLAP_MS (10 * 60 * 1000) /* ... whose status changed since the last run minus this */
#define OZ_IMPORT_MAX_PAGES 2000
#define OZ_IMPORT_RETRY_MS (60 * 1000) /* next attempt after a failed import (at most the interval) */
#define OZ_DAY_MS (24LL * 3600 * 1000)
#define OZ_SEEN_MAX 8

typedef struct oz_job {
    struct oz_job *next;
    ozon_method_t method;
    bool interactive;          /* fg: someone waits for this fetch */
    char posting[32];
    char action[16];           /* push: delivering | last-mile | delivered */
    int64_t push_id;           /* push: its ozon_push_outbox row */
    char *cursor;              /* list: the page's cursor ("" = first) */
    int attempts;              /* transient failures so far */
    int64_t not_before;        /* monotonic ms; 0 = at once */
    int64_t deadline;          /* monotonic ms: give up rather than retry after this */
    uint32_t corr;             /* while in flight */
} oz_job_t;

typedef struct oz_queue {
    oz_job_t *head, *tail;
    int n;
} oz_queue_t;

typedef struct oz_state {
    ozon_rate_t rate;
    oz_queue_t fg, bg;
    oz_job_t *inflight[OZON_GW_INFLIGHT];
    int ninflight;
    uint32_t next_corr;
    int64_t paused_until;      /* monotonic ms: nothing starts before (429) */
    int rate_streak;           /* consecutive 429 answers */
    uint32_t pump_timer;
    int64_t pump_due;
    uint32_t import_timer;
    /* the import run */
    bool importing;
    int64_t run_to_ms;         /* wall clock: the window's end = the run's start */
    int64_t run_since_ms, run_changed_from_ms;
    int run_pages;
    int64_t run_postings;
    int64_t last_success_ms;   /* wall clock of the last complete run, 0 = never */
    /* configuration errors already logged (hashes of status|code|message) */
    uint64_t seen[OZ_SEEN_MAX];
    int nseen;
} oz_state_t;

/* ---- small helpers ---------------------------------------------------------------- */

static int64_t oz_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *oz_method_name(ozon_method_t m)
{
    return m == OZON_M_FETCH ? "fetch" : m == OZON_M_LIST ? "list" : "push";
}

static void oz_job_free(oz_job_t *j)
{
    if (!j) return;
    free(j->cursor);
    free(j);
}

static void oz_queue_push(oz_queue_t *q, oz_job_t *j, bool front)
{
    j->next = NULL;
    if (!q->head) {
        q->head = q->tail = j;
    } else if (front) {
        j->next = q->head;
        q->head = j;
    } else {
        q->tail->next = j;
        q->tail = j;
    }
    q->n++;
}

/* The first job of q that may start at `now` (unlinked), or NULL; *earliest
 * is lowered to the earliest not_before seen. */
static oz_job_t *oz_queue_take_ready(oz_queue_t *q, int64_t now, int64_t *earliest)
{
    oz_job_t *prev = NULL;
    for (oz_job_t *j = q->head; j; prev = j, j = j->next) {
        if (j->not_before > now) {
            if (j->not_before < *earliest) *earliest = j->not_before;
            continue;
        }
        if (prev) prev->next = j->next;
        else q->head = j->next;
        if (q->tail == j) q->tail = prev;
        q->n--;
        j->next = NULL;
        return j;
    }
    return NULL;
}

static void oz_queue_clear(oz_queue_t *q)
{
    while (q->head) {
        oz_job_t *j = q->head;
        q->head = j->next;
        oz_job_free(j);
    }
    q->tail = NULL;
    q->n = 0;
}

static void oz_gauges(const oz_state_t *st)
{
    ozon_stats_gauges(st->fg.n + st->bg.n, st->ninflight);
}

/* FNV-1a of the parts that make a configuration error distinct. */
static uint64_t oz_hash(const ozon_error_t *e)
{
    uint64_t h = 1469598103934665603ULL;
    char s[OZON_MSG_MAX + 64];
    snprintf(s, sizeof s, "%ld|%s|%s", e->status, e->code, e->message);
    for (const char *p = s; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Never let the key reach the log, even if a server echoes it. */
static void oz_scrub_key(char *msg)
{
    const char *key = plus7_actors_cfg()->ozon_api_key;
    size_t kl = key ? strlen(key) : 0;
    if (kl < 4) return;
    for (char *p; (p = strstr(msg, key));) {
        memset(p, '*', 3);
        memmove(p + 3, p + kl, strlen(p + kl) + 1);
    }
}

/* 401/403: Client-Id/Api-Key are wrong. Logged once per distinct answer. */
static void oz_config_error(oz_state_t *st, const oz_job_t *j, ozon_error_t *e)
{
    ozon_stats_config_error();
    oz_scrub_key(e->message);
    uint64_t h = oz_hash(e);
    for (int i = 0; i < st->nseen; i++)
        if (st->seen[i] == h) return;
    if (st->nseen < OZ_SEEN_MAX) st->seen[st->nseen++] = h;
    else {
        memmove(st->seen, st->seen + 1, (OZ_SEEN_MAX - 1) * sizeof st->seen[0]);
        st->seen[OZ_SEEN_MAX - 1] = h;
    }
    LOG_ERROR("ozon_config_error",
              "status=%ld code=\"%s\" message=\"%s\" method=%s"
              " hint=\"Ozon refused the credentials: check PLUS7_OZON_CLIENT_ID and PLUS7_OZON_API_KEY"
              " (key valid, not deactivated, with the Posting FBS role)\"",
              e->status, e->code, e->message, oz_method_name(j->method));
}

/* ---- starting requests ---------------------------------------------------------------- */

static void oz_arm(rt_actor_t *self, oz_state_t *st, int64_t wake, int64_t now)
{
    if (wake == INT64_MAX) return;
    if (st->pump_timer && st->pump_due <= wake) return;
    if (st->pump_timer) rt_timer_cancel(self, st->pump_timer);
    int64_t ms = wake - now;
    if (ms < 1) ms = 1;
    st->pump_timer = rt_timer_after(self, (uint32_t)ms);
    st->pump_due = wake;
}

static void oz_finish(rt_actor_t *self, oz_state_t *st, oz_job_t *j, const rt_http_result_t *res);

/* Issue the HTTP request of job j (j is in st->inflight). RT_OK or an error
 * (nothing started). */
static int oz_issue(rt_actor_t *self, oz_state_t *st, oz_job_t *j)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    char url[512], cid[160], key[600];
    char *body = NULL;
    if (j->method == OZON_M_FETCH) {
        snprintf(url, sizeof url, "%s/v3/posting/fbs/get", cfg->ozon_api);
        body = ozon_body_fetch(j->posting);
    } else if (j->method == OZON_M_PUSH) {
        snprintf(url, sizeof url, "%s/v2/fbs/posting/%s", cfg->ozon_api, j->action);
        body = ozon_body_push(j->posting);
    } else {
        snprintf(url, sizeof url, "%s/v4/posting/fbs/list", cfg->ozon_api);
        ozon_list_req_t q = {
            .since_ms = st->run_since_ms,
            .to_ms = st->run_to_ms,
            .changed_from_ms = st->run_changed_from_ms,
            .changed_to_ms = st->run_to_ms,
            .statuses = cfg->ozon_statuses,
            .delivery_methods = cfg->ozon_delivery_methods,
            .cursor = j->cursor,
            .limit = 100,
        };
        body = ozon_body_list(&q);
    }
    if (!body) return RT_ENOMEM;
    snprintf(cid, sizeof cid, "Client-Id: %s", cfg->ozon_client_id);
    snprintf(key, sizeof key, "Api-Key: %s", cfg->ozon_api_key);
    const char *headers[] = {cid, key, "Accept: application/json"};
    rt_http_req_t req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .nheaders = 3,
        .content_type = "application/json",
        .body = body,
        .body_len = strlen(body),
        .timeout_ms = OZ_TIMEOUT_MS,
        .connect_timeout_ms = OZ_CONNECT_TIMEOUT_MS,
        .max_body = OZ_MAX_BODY,
    };
    j->corr = OZ_CORR_HTTP0 + (st->next_corr++ % 0x7FFFFFF0u);
    int rc = rt_http_request(self, j->corr, &req);
    /* the key lived in `key` on this stack only; rt_http copied it */
    memset(key, 0, sizeof key);
    free(body);
    if (rc == RT_OK) ozon_stats_request(j->method);
    return rc;
}

/* Start what may start now; arm the timer for what must wait. */
static void oz_pump(rt_actor_t *self, oz_state_t *st)
{
    int64_t now = (int64_t)rt_now_ms();
    int64_t wake = INT64_MAX;
    while (st->ninflight < OZON_GW_INFLIGHT && (st->fg.head || st->bg.head)) {
        if (now < st->paused_until) {
            wake = st->paused_until;
            break;
        }
        int64_t w = ozon_rate_wait_ms(&st->rate, now);
        if (w > 0) {
            wake = now + w;
            break;
        }
        int64_t earliest = INT64_MAX;
        oz_job_t *j = oz_queue_take_ready(&st->fg, now, &earliest);
        if (!j) j = oz_queue_take_ready(&st->bg, now, &earliest);
        if (!j) {
            wake = earliest;
            break;
        }
        ozon_rate_take(&st->rate, now);
        st->inflight[st->ninflight++] = j;
        int rc = oz_issue(self, st, j);
        if (rc != RT_OK) {
            /* nothing was sent: finish it as a transport failure */
            st->ninflight--;
            rt_http_result_t fake;
            memset(&fake, 0, sizeof fake);
            fake.rc = rc == RT_ENOMEM ? RT_ENOMEM : RT_EIO;
            fake.body = (char *)"";
            fake.retry_after_s = -1;
            snprintf(fake.error, sizeof fake.error, "request not started: %s", rt_strerror(rc));
            oz_finish(self, st, j, &fake);
        }
    }
    oz_arm(self, st, wake, now);
    oz_gauges(st);
}

/* ---- giving answers ------------------------------------------------------------------------ */

static void oz_answer_order(rt_actor_t *self, const char *posting, int status, const char *json)
{
    msg_order_ozon_t v = {.status = status, .json = RT_STR(json)};
    rt_msg_t *m = msg_order_ozon_new(&v);
    if (!m) return;
    rt_send_key(rt_self_runtime(self), &order_kind, posting, m);
}

static void oz_enqueue(rt_actor_t *self, oz_state_t *st, oz_job_t *j)
{
    oz_queue_push(j->interactive ? &st->fg : &st->bg, j, false);
    (void)self;
}

static oz_job_t *oz_job_new(ozon_method_t method, bool interactive, const char *posting)
{
    oz_job_t *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->method = method;
    j->interactive = interactive;
    if (posting) snprintf(j->posting, sizeof j->posting, "%s", posting);
    j->deadline = (int64_t)rt_now_ms() + (interactive ? OZ_DEADLINE_FETCH_MS : OZ_DEADLINE_BG_MS);
    return j;
}

/* ---- the periodic import --------------------------------------------------------------------- */

static void oz_import_schedule(rt_actor_t *self, oz_state_t *st, int64_t in_ms)
{
    int interval = plus7_actors_cfg()->ozon_import_interval_s;
    if (interval <= 0) return;
    if (st->import_timer) rt_timer_cancel(self, st->import_timer);
    if (in_ms < 1) in_ms = 1;
    if (in_ms > (int64_t)interval * 1000) in_ms = (int64_t)interval * 1000;
    st->import_timer = rt_timer_after(self, (uint32_t)in_ms);
}

static void oz_import_start(rt_actor_t *self, oz_state_t *st)
{
    if (st->importing) return;
    oz_job_t *j = oz_job_new(OZON_M_LIST, false, NULL);
    if (j) j->cursor = strdup("");
    if (!j || !j->cursor) {
        oz_job_free(j);
        oz_import_schedule(self, st, OZ_IMPORT_RETRY_MS);
        return;
    }
    int64_t now = oz_wall_ms();
    st->importing = true;
    st->run_to_ms = now;
    st->run_pages = 0;
    st->run_postings = 0;
    if (st->last_success_ms > 0) {
        st->run_since_ms = now - OZ_IMPORT_SINCE_DAYS * OZ_DAY_MS;
        st->run_changed_from_ms = st->last_success_ms - OZ_IMPORT_OVERLAP_MS;
    } else {
        st->run_since_ms = now - OZ_IMPORT_FIRST_DAYS * OZ_DAY_MS;
        st->run_changed_from_ms = 0;
    }
    LOG_INFO("ozon_import_started", "incremental=%s", st->run_changed_from_ms ? "true" : "false");
    oz_enqueue(self, st, j);
}

/* The run ended: remember it (SQL), schedule the next one. */
static void oz_import_end(rt_actor_t *self, oz_state_t *st, bool ok, const char *why)
{
    st->importing = false;
    ozon_stats_import(ok, st->run_postings);
    int interval = plus7_actors_cfg()->ozon_import_interval_s;
    char to_s[24], n_s[24];
    snprintf(to_s, sizeof to_s, "%lld", (long long)st->run_to_ms);
    snprintf(n_s, sizeof n_s, "%lld", (long long)st->run_postings);
    const char *params[] = {ok ? to_s : NULL, ok ? "ok" : why, n_s};
    if (ok) {
        st->last_success_ms = st->run_to_ms;
        LOG_INFO("ozon_import_done", "pages=%d postings=%lld", st->run_pages, (long long)st->run_postings);
    } else {
        LOG_WARN("ozon_import_failed", "pages=%d postings=%lld reason=\"%s\"", st->run_pages,
                 (long long)st->run_postings, why);
    }
    rt_pg_query_ex(self, OZ_CORR_SAVE,
                   "INSERT INTO ozon_import_state (id, last_success_at, last_run_at, last_result, last_postings)"
                   " VALUES (1, to_timestamp($1::bigint / 1000.0), now(), $2, $3::integer)"
                   " ON CONFLICT (id) DO UPDATE SET"
                   "   last_success_at = coalesce(EXCLUDED.last_success_at, ozon_import_state.last_success_at),"
                   "   last_run_at = now(), last_result = EXCLUDED.last_result,"
                   "   last_postings = EXCLUDED.last_postings, updated_at = now()",
                   3, params, RT_PG_IDEMPOTENT, 30000);
    int64_t next = (int64_t)interval * 1000;
    if (!ok && next > OZ_IMPORT_RETRY_MS) next = OZ_IMPORT_RETRY_MS;
    oz_import_schedule(self, st, next);
}

/* ---- finishing exchanges ----------------------------------------------------------------------- */

/* Put j back for another try after a transient failure of class c. Returns
 * false when it must give up instead (attempts or deadline exhausted). */
static bool oz_retry(oz_state_t *st, oz_job_t *j, ozon_class_t c, const rt_http_result_t *res)
{
    int64_t now = (int64_t)rt_now_ms();
    int64_t at;
    if (c == OZON_RATE) {
        /* the limit is per Client-Id: the whole queue pauses. Retry-After
         * wins; without it the pause doubles per 429 — counted once per
         * pause, not once per request that was already in flight. */
        if (res->retry_after_s >= 0) {
            int64_t s = res->retry_after_s > OZ_RETRY_AFTER_MAX_S ? OZ_RETRY_AFTER_MAX_S : res->retry_after_s;
            int64_t pause = s * 1000 < 100 ? 100 : s * 1000;
            if (now + pause > st->paused_until) st->paused_until = now + pause;
        } else if (now >= st->paused_until) {
            int shift = st->rate_streak < 6 ? st->rate_streak : 6;
            int64_t pause = (int64_t)OZ_PAUSE_MIN_MS << shift;
            if (pause > OZ_BACKOFF_MAX_MS) pause = OZ_BACKOFF_MAX_MS;
            st->rate_streak++;
            st->paused_until = now + pause;
        }
        at = st->paused_until > now ? st->paused_until : now;
        j->not_before = 0;
    } else {
        int shift = j->attempts < 6 ? j->attempts : 6;
        int64_t delay = (int64_t)OZ_BACKOFF_MIN_MS << shift;
        if (delay > OZ_BACKOFF_MAX_MS) delay = OZ_BACKOFF_MAX_MS;
        at = now + delay;
        j->not_before = at;
    }
    j->attempts++;
    int max = j->interactive ? OZ_ATTEMPTS_FETCH : OZ_ATTEMPTS_BG;
    if (c == OZON_RATE) max *= 2;    /* a 429 says "later", not "broken" */
    if (j->attempts >= max || at > j->deadline) return false;
    ozon_stats_retry();
    oz_queue_push(j->interactive ? &st->fg : &st->bg, j, true);
    return true;
}

static void oz_log_failure(const oz_job_t *j, const ozon_error_t *e, const char *what)
{
    LOG_WARN(what, "method=%s posting=%s action=%s class=%s status=%ld code=\"%s\" message=\"%s\" attempts=%d",
             oz_method_name(j->method), j->posting[0] ? j->posting : "-", j->action[0] ? j->action : "-",
             ozon_class_name(e->cls), e->status, e->code, e->message, j->attempts);
}

/* A fetch finished: answer the order actor, or retry. Consumes j. */
static void oz_fetch_done(rt_actor_t *self, oz_state_t *st, oz_job_t *j, const rt_http_result_t *res,
                          ozon_error_t *e)
{
    if (e->cls == OZON_OK) {
        char *json = NULL;
        int rc = ozon_fetch_result(res->body, res->body_len, &json);
        if (rc == RT_OK) {
            ozon_stats_fetch(0);
            oz_answer_order(self, j->posting, RT_OK, json);
            free(json);
            oz_job_free(j);
            return;
        }
        e->cls = OZON_BAD_REPLY;
        snprintf(e->message, sizeof e->message, "no result object with a posting_number");
        ozon_stats_answer(OZON_BAD_REPLY);
    }
    if (e->cls == OZON_NOT_FOUND) {
        ozon_stats_fetch(1);
        LOG_INFO("ozon_posting_not_found", "posting=%s", j->posting);
        oz_answer_order(self, j->posting, RT_ENOTFOUND, NULL);
        oz_job_free(j);
        return;
    }
    if (e->cls == OZON_AUTH) oz_config_error(st, j, e);
    else if (ozon_class_retryable(e->cls) && oz_retry(st, j, e->cls, res)) {
        oz_log_failure(j, e, "ozon_retry");
        return;
    } else oz_log_failure(j, e, "ozon_fetch_failed");
    ozon_stats_fetch(2);
    oz_answer_order(self, j->posting, RT_EIO, NULL);   /* also for refreshes: harmless, no waiter */
    oz_job_free(j);
}

/* A push is over (pushed, refused or given up): its outbox row is done. */
static void oz_push_settle(rt_actor_t *self, const oz_job_t *j, const char *outcome)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)j->push_id);
    const char *params[] = {id, outcome};
    rt_pg_query(self, OZ_CORR_PUSH_DONE,
                "UPDATE ozon_push_outbox SET done_at = now(), outcome = $2 WHERE id = $1::bigint", 2, params);
}

static void oz_push_done(rt_actor_t *self, oz_state_t *st, oz_job_t *j, const rt_http_result_t *res,
                         ozon_error_t *e)
{
    if (e->cls == OZON_OK) {
        ozon_push_result_t pr;
        if (ozon_push_parse(res->body, res->body_len, j->posting, &pr) == RT_OK) {
            if (pr.found && pr.ok) {
                ozon_stats_push(0);
                LOG_INFO("ozon_pushed", "posting=%s action=%s", j->posting, j->action);
                oz_push_settle(self, j, "pushed");
                /* Ozon moved the posting: read it again for its new available_actions */
                oz_job_t *f = oz_job_new(OZON_M_FETCH, false, j->posting);
                if (f) oz_enqueue(self, st, f);
            } else {
                ozon_stats_push(1);
                LOG_WARN("ozon_push_refused", "posting=%s action=%s error=\"%s\"", j->posting, j->action,
                         pr.found ? pr.error : "no result for this posting");
                oz_push_settle(self, j, "refused");
            }
            oz_job_free(j);
            return;
        }
        e->cls = OZON_BAD_REPLY;
        snprintf(e->message, sizeof e->message, "no result list");
        ozon_stats_answer(OZON_BAD_REPLY);
    }
    if (e->cls == OZON_AUTH) oz_config_error(st, j, e);
    else if (ozon_class_retryable(e->cls) && oz_retry(st, j, e->cls, res)) {
        oz_log_failure(j, e, "ozon_retry");
        return;
    }
    ozon_stats_push(2);
    oz_log_failure(j, e, "ozon_push_failed");
    oz_push_settle(self, j, "failed");
    oz_job_free(j);
}

static void oz_list_done(rt_actor_t *self, oz_state_t *st, oz_job_t *j, const rt_http_result_t *res,
                         ozon_error_t *e)
{
    if (e->cls == OZON_OK) {
        ozon_list_page_t page;
        if (ozon_list_parse(res->body, res->body_len, &page) == RT_OK) {
            st->run_pages++;
            for (int i = 0; i < page.n; i++) oz_answer_order(self, page.number[i], RT_OK, page.json[i]);
            st->run_postings += page.n;
            if (page.skipped) LOG_WARN("ozon_import_skipped", "postings=%d reason=\"no valid posting_number\"", page.skipped);
            bool more = page.has_next && page.cursor[0] && strcmp(page.cursor, j->cursor ? j->cursor : "") != 0;
            if (page.has_next && !more)
                LOG_WARN("ozon_import_cursor_stuck", "pages=%d reason=\"has_next without a new cursor\"", st->run_pages);
            if (more && st->run_pages >= OZ_IMPORT_MAX_PAGES) {
                LOG_WARN("ozon_import_truncated", "pages=%d", st->run_pages);
                more = false;
            }
            if (more) {
                oz_job_t *n = oz_job_new(OZON_M_LIST, false, NULL);
                if (n) {
                    n->cursor = page.cursor;
                    page.cursor = NULL;
                    oz_queue_push(&st->bg, n, true);   /* finish the run before other bulk work */
                } else {
                    ozon_list_page_free(&page);
                    oz_job_free(j);
                    oz_import_end(self, st, false, "out of memory");
                    return;
                }
            }
            ozon_list_page_free(&page);
            oz_job_free(j);
            if (!more) oz_import_end(self, st, true, NULL);
            return;
        }
        e->cls = OZON_BAD_REPLY;
        snprintf(e->message, sizeof e->message, "no postings array");
        ozon_stats_answer(OZON_BAD_REPLY);
    }
    if (e->cls == OZON_AUTH) oz_config_error(st, j, e);
    else if (ozon_class_retryable(e->cls) && oz_retry(st, j, e->cls, res)) {
        oz_log_failure(j, e, "ozon_retry");
        return;
    }
    oz_log_failure(j, e, "ozon_list_failed");
    oz_job_free(j);
    oz_import_end(self, st, false, ozon_class_name(e->cls));
}

/* Classify a finished exchange of j (already out of st->inflight) and act. */
static void oz_finish(rt_actor_t *self, oz_state_t *st, oz_job_t *j, const rt_http_result_t *res)
{
    ozon_error_t e;
    ozon_classify(res->rc, res->status, res->body, res->body_len, res->error, &e);
    ozon_stats_answer(e.cls);
    if (e.cls == OZON_OK) st->rate_streak = 0;
    if (j->method == OZON_M_FETCH) oz_fetch_done(self, st, j, res, &e);
    else if (j->method == OZON_M_PUSH) oz_push_done(self, st, j, res, &e);
    else oz_list_done(self, st, j, res, &e);
}

static void oz_on_http(rt_actor_t *self, oz_state_t *st, const rt_msg_t *m)
{
    const rt_http_result_t *res = m->ptr;
    oz_job_t *j = NULL;
    for (int i = 0; i < st->ninflight; i++) {
        if (st->inflight[i]->corr != m->corr) continue;
        j = st->inflight[i];
        st->inflight[i] = st->inflight[--st->ninflight];
        break;
    }
    if (!j || !res) return;
    oz_finish(self, st, j, res);
}

/* ---- messages ------------------------------------------------------------------------------------ */

static void oz_on_fetch(rt_actor_t *self, oz_state_t *st, const rt_msg_t *m)
{
    msg_ozon_fetch_t v;
    if (msg_ozon_fetch_decode(m, &v) != RT_OK || !v.posting.p) return;
    char posting[32];
    if (v.posting.n >= sizeof posting) return;   /* not a posting number: no order actor has that key */
    memcpy(posting, v.posting.p, v.posting.n);
    posting[v.posting.n] = '\0';
    if (!posting_is_valid(posting)) {
        ozon_stats_fetch(1);
        oz_answer_order(self, posting, RT_ENOTFOUND, NULL);
        return;
    }
    oz_job_t *j = st->fg.n + st->bg.n < OZ_QUEUE_MAX ? oz_job_new(OZON_M_FETCH, true, posting) : NULL;
    if (!j) {
        LOG_WARN("ozon_queue_full", "posting=%s queued=%d", posting, st->fg.n + st->bg.n);
        ozon_stats_fetch(2);
        oz_answer_order(self, posting, RT_EIO, NULL);
        return;
    }
    oz_enqueue(self, st, j);
}

/* Pushes live in ozon_push_outbox (sql/014), written by the order actor in
 * the transaction of the status change: claim the pending ones (a claim
 * older than OZ_PUSH_CLAIM_S — a job lost with a crashed process — is taken
 * again; at start every claim is released) and queue them. */
#define OZ_PUSH_CLAIM_S "900"
static void oz_push_claim(rt_actor_t *self)
{
    rt_pg_query(self, OZ_CORR_PUSH_CLAIM,
                "UPDATE ozon_push_outbox SET claimed_at = now()"
                " WHERE id IN (SELECT id FROM ozon_push_outbox WHERE done_at IS NULL"
                "               AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => " OZ_PUSH_CLAIM_S "))"
                "              ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED)"
                " RETURNING id, posting_number, action", 0, NULL);
}

static void oz_on_push_claimed(rt_actor_t *self, oz_state_t *st, const rt_pg_result_t *r)
{
    if (!r || r->status != RT_OK) {
        LOG_WARN("ozon_push_claim_failed", "error=\"%s\"", r && r->error ? r->error : "");
        return;
    }
    for (int i = 0; i < r->nrows; i++) {
        const char *posting = rt_pg_value(r, i, 1), *action = rt_pg_value(r, i, 2);
        oz_job_t *j = posting_is_valid(posting) && st->fg.n + st->bg.n < OZ_QUEUE_MAX
                          ? oz_job_new(OZON_M_PUSH, false, posting) : NULL;
        if (!j) {   /* stays claimed: taken again after the claim expires or at the next start */
            LOG_WARN("ozon_queue_full", "posting=%s action=%s queued=%d", posting, action, st->fg.n + st->bg.n);
            continue;
        }
        rt_pg_get_i64(r, i, 0, &j->push_id);
        snprintf(j->action, sizeof j->action, "%s", action);
        oz_enqueue(self, st, j);
    }
    if (r->nrows == 100) oz_push_claim(self);   /* more are waiting */
}

/* ---- life cycle ------------------------------------------------------------------------------------ */

static int oz_load(rt_actor_t *self)
{
    oz_state_t *st = rt_self_state(self);
    int rps = plus7_actors_cfg()->ozon_rps;
    ozon_rate_init(&st->rate, rps > 0 ? rps : 20);
    int rc = rt_pg_query_ex(self, RT_CORR_ACTIVATE,
                            "SELECT (extract(epoch FROM last_success_at) * 1000)::bigint"
                            "  FROM ozon_import_state WHERE id = 1",
                            0, NULL, RT_PG_IDEMPOTENT, 10000);
    return rc == RT_OK ? RT_PENDING : RT_OK;   /* without the state: import from scratch */
}

static int oz_on_activate(rt_actor_t *self, const rt_msg_t *m)
{
    oz_state_t *st = rt_self_state(self);
    const rt_pg_result_t *r = m ? rt_pg_msg_result(m) : NULL;
    if (r && r->status == RT_OK && r->nrows == 1) rt_pg_get_i64(r, 0, 0, &st->last_success_ms);
    else if (!r || r->status != RT_OK)
        LOG_WARN("ozon_state_unreadable", "error=\"%s\"", r && r->error ? r->error : "query not started");
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    LOG_INFO("ozon_gateway_started", "api=%s rps=%d import_interval_s=%d statuses=\"%s\" delivery_methods=\"%s\"",
             cfg->ozon_api, st->rate.rps, cfg->ozon_import_interval_s,
             cfg->ozon_statuses ? cfg->ozon_statuses : "", cfg->ozon_delivery_methods ? cfg->ozon_delivery_methods : "");
    if (cfg->ozon_import_interval_s > 0) {
        int64_t due = st->last_success_ms > 0
                          ? st->last_success_ms + (int64_t)cfg->ozon_import_interval_s * 1000 - oz_wall_ms()
                          : 0;
        oz_import_schedule(self, st, due);
    }
    /* pushes a previous process claimed and never finished: release, then take them */
    rt_pg_query(self, OZ_CORR_PUSH_DONE, "UPDATE ozon_push_outbox SET claimed_at = NULL"
                                         " WHERE done_at IS NULL AND claimed_at IS NOT NULL", 0, NULL);
    oz_push_claim(self);
    return RT_OK;   /* never fail: senders of ozon_fetch wait for an answer */
}

static int oz_handle(rt_actor_t *self, const rt_msg_t *m)
{
    oz_state_t *st = rt_self_state(self);
    switch (m->type) {
    case MSG_ozon_fetch:
        oz_on_fetch(self, st, m);
        break;
    case MSG_ozon_push:   /* a new row in ozon_push_outbox */
        oz_push_claim(self);
        break;
    case MSG_ozon_kick: {
        msg_ozon_kick_t v;
        if (msg_ozon_kick_decode(m, &v) == RT_OK && v.import_now) oz_import_start(self, st);
        break;
    }
    case RT_MSG_HTTP_RESULT:
        oz_on_http(self, st, m);
        break;
    case RT_MSG_TIMER:
        if (m->corr == st->pump_timer) st->pump_timer = 0;
        else if (m->corr == st->import_timer) {
            st->import_timer = 0;
            oz_import_start(self, st);
        }
        break;
    case RT_MSG_PG_RESULT: {
        const rt_pg_result_t *r = rt_pg_msg_result(m);
        if (m->corr == OZ_CORR_SAVE && r && r->status != RT_OK)
            LOG_WARN("ozon_state_save_failed", "error=\"%s\"", r->error ? r->error : "");
        if (m->corr == OZ_CORR_PUSH_CLAIM) oz_on_push_claimed(self, st, r);
        if (m->corr == OZ_CORR_PUSH_DONE && r && r->status != RT_OK)
            LOG_WARN("ozon_push_mark_failed", "error=\"%s\"", r->error ? r->error : "");
        break;
    }
    default:
        break;
    }
    oz_pump(self, st);
    return RT_OK;
}

static void oz_state_free(void *p)
{
    oz_state_t *st = p;
    oz_queue_clear(&st->fg);
    oz_queue_clear(&st->bg);
    for (int i = 0; i < st->ninflight; i++) oz_job_free(st->inflight[i]);
    st->ninflight = 0;
    ozon_stats_gauges(0, 0);
}

const rt_kind_t ozon_gateway_kind = {
    .name = PLUS7_KIND_OZON,
    .state_size = sizeof(oz_state_t),
    .idle_age_ms = 0,   /* never passivates: it owns the queue and the import timer */
    .load = oz_load,
    .on_activate = oz_on_activate,
    .handle = oz_handle,
    .state_free = oz_state_free,
};
