/* conv_actor.c — the conversation actor: one per Telegram chat.
 *
 * Purpose: apply the chat's stored updates (tg_inbox) strictly in update_id
 * order, one at a time: fetch the next unprocessed update together with the
 * chat's dialog step and the sender's registration and role; run the pure
 * dialog (conv_dialog.c), answering its lookups (conv_lookups.c; for an
 * unknown posting the order actor fetches it from Ozon first) and running
 * it again until it decides; then commit, in ONE transaction, everything
 * it decided — registration, the next dialog step, feature rows, the Bot
 * API calls as tg_outbox rows, and the update's processed_at. A crash before the commit
 * replays the update; after it, nothing is repeated. Only then the gateway
 * is kicked to send the new outbox rows and the CRM linker told about a new
 * registration.
 *
 * The actor keeps no state that the database does not have: its RAM holds
 * only the update in progress, so passivation and supervision are trivial.
 * Database errors do not fail the actor: it retries with backoff. An
 * update whose commit the database itself refuses (a data error, a
 * violated constraint — a bug in what the dialog decided) gets
 * CONV_MAX_ATTEMPTS tries; then it is set aside: in one transaction the
 * person gets a short apology, the dialog returns to its home step and
 * the update is marked processed with set_aside_at and the error (the row
 * is kept), logged and counted (conv_stats.h) — and the chat goes on with
 * the next update. Outages (no connection, the server shutting down,
 * serialisation failures) never count against an update.
 *
 * Exports: conv_kind, plus7_conv_poke, plus7_conv_poker.
 * Threads: the actor's home worker; plus7_conv_poke from any thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_dialog.h"
#include "conv_lookups.h"
#include "conv_stats.h"
#include "msg_types.h"
#include "plus7_actors.h"
#include "rt_log.h"
#include "rt_pg.h"
#include "texts.h"
#include "tg_flood.h"
#include "tg_markup.h"
#include "utf8.h"

enum { CONV_CORR_FETCH = 1, CONV_CORR_COMMIT, CONV_CORR_ASIDE, CONV_CORR_LOOKUP0 = 100 };

#define CONV_MAX_ATTEMPTS 3     /* refused commits of one update before it is set aside */
#define CONV_ERROR_MAX 200      /* bytes of the database's error kept with it */

#define CONV_MAX_ROUNDS 6
#define CONV_LOOKUP_TIMEOUT_MS 45000   /* beyond the Ozon gateway's own give-up time */
#define CONV_LOOKUP_TAGS 1024u

/* One lookup being answered: 0 = query running, 1 = waiting for the order
 * actor, 2 = query running again after it answered, 3 = done. */
typedef struct conv_job {
    int kind;
    char key[CONV_KEY_MAX];
    int stage;
} conv_job_t;

typedef struct conv_state {
    bool busy;              /* a fetch / lookup / commit is in flight */
    bool again;             /* a poke arrived meanwhile */
    bool have_update;
    tg_update_t update;
    int64_t update_id;
    conv_ctx_t ctx;
    conv_out_t out;         /* decided, not yet committed */
    bool have_out;
    conv_job_t jobs[CONV_NEEDS_MAX];
    int njobs, pending, rounds;
    uint32_t lookup_timer;  /* a round that takes longer gives up on what is missing */
    uint32_t lookup_seq;    /* rounds ever started: tags corr ids so late answers are ignored */
    bool announce_registration;  /* after commit: tell the CRM linker */
    bool announce_outbox;        /* after commit: kick the gateway */
    bool announce_logistics;     /* after commit: kick the outbound logistics sender */
    uint32_t backoff_ms;
    uint32_t retry_timer;
    int64_t failing_update;      /* the update whose commits were refused ... */
    int failures;                /* ... this many times */
    char failure[CONV_ERROR_MAX];/* the last refusal: "SQLSTATE: message" */
} conv_state_t;

static const char conv_sql_fetch[] =
    "SELECT i.update_id, i.body, coalesce(c.step, ''), coalesce(c.data, ''),"
    "       coalesce(u.first_name, ''), u.phone, coalesce(g.role, 'client')"
    "  FROM tg_inbox i"
    "  LEFT JOIN conversations c ON c.chat_id = i.chat_id"
    "  LEFT JOIN users u ON u.tg_user_id = i.chat_id"
    "  LEFT JOIN role_grants g ON g.phone = u.phone"
    " WHERE i.chat_id = $1 AND i.processed_at IS NULL"
    " ORDER BY i.update_id LIMIT 1";

/* Copy a query result into a conv_rows_t that owns one block. */
static void conv_rows_from_pg(const rt_pg_result_t *r, conv_rows_t *out)
{
    memset(out, 0, sizeof *out);
    out->status = r->status;
    if (r->status != RT_OK) return;
    size_t cells = (size_t)r->nrows * (size_t)r->ncols, bytes = (cells + (size_t)r->ncols) * sizeof(char *);
    for (int c = 0; c < r->ncols; c++) bytes += strlen(r->cols[c]) + 1;
    for (size_t i = 0; i < cells; i++) bytes += r->values[i] ? strlen(r->values[i]) + 1 : 0;
    char **block = malloc(bytes ? bytes : 1);
    if (!block) { out->status = RT_ENOMEM; return; }
    char **cols = block, **vals = block + r->ncols;
    char *text = (char *)(vals + cells);
    for (int c = 0; c < r->ncols; c++) {
        cols[c] = text;
        text = stpcpy(text, r->cols[c]) + 1;
    }
    for (size_t i = 0; i < cells; i++) {
        vals[i] = r->values[i] ? text : NULL;
        if (r->values[i]) text = stpcpy(text, r->values[i]) + 1;
    }
    out->nrows = r->nrows;
    out->ncols = r->ncols;
    out->cols = (const char *const *)cols;
    out->values = (const char *const *)vals;
}

static void conv_lookups_free(conv_ctx_t *ctx)
{
    for (int i = 0; i < ctx->nlookups; i++) free((void *)ctx->lookups[i].rows.cols);
    ctx->nlookups = 0;
}

static void conv_release(conv_state_t *st)
{
    if (st->have_update) tg_update_free(&st->update);
    if (st->have_out) conv_out_free(&st->out);
    conv_lookups_free(&st->ctx);
    st->have_update = st->have_out = false;
    st->njobs = st->pending = st->rounds = 0;
}

static void conv_state_free(void *p)
{
    conv_release(p);
}

static void conv_fetch(rt_actor_t *self, conv_state_t *st)
{
    const char *params[] = {rt_self_key(self)};
    st->busy = true;
    st->again = false;
    if (rt_pg_query(self, CONV_CORR_FETCH, conv_sql_fetch, 1, params) != RT_OK) {
        st->busy = false;
        st->retry_timer = rt_timer_after(self, st->backoff_ms ? st->backoff_ms : 100);
    }
}

/* A database step failed: drop the update in progress, retry later. */
static void conv_retry_later(rt_actor_t *self, conv_state_t *st, const rt_pg_result_t *r)
{
    LOG_WARN("conv_db_retry", "chat=%s update_id=%lld status=%s error=\"%s\"", rt_self_key(self),
             (long long)st->update_id, rt_strerror(r ? r->status : RT_EIO), r && r->error ? r->error : "");
    conv_release(st);
    st->busy = false;
    st->backoff_ms = st->backoff_ms ? st->backoff_ms * 2 : 100;
    if (st->backoff_ms > 10000) st->backoff_ms = 10000;
    st->retry_timer = rt_timer_after(self, st->backoff_ms);
}

/* ---- committing a decision ----------------------------------------------------- */

/* At most: 2 for a registration, one per action, conversations, tg_inbox,
 * users (reachable again). */
#define CONV_TX_MAX (5 + CONV_ACTS_MAX)
_Static_assert(CONV_TX_MAX <= RT_PG_TX_MAX, "a decision must fit one transaction");

typedef struct conv_tx {
    rt_pg_stmt_t stmts[CONV_TX_MAX];
    const char *params[CONV_TX_MAX][CONV_SQL_PARAMS];
    char keys[CONV_TX_MAX][48];
    char prio[CONV_TX_MAX][4];
    int n;
} conv_tx_t;

static const char **conv_tx_add(conv_tx_t *tx, const char *sql, int nparams)
{
    rt_pg_stmt_t *s = &tx->stmts[tx->n];
    s->sql = sql;
    s->nparams = nparams;
    s->params = tx->params[tx->n];
    return (const char **)tx->params[tx->n++];
}

static void conv_commit(rt_actor_t *self, conv_state_t *st)
{
    conv_tx_t tx;
    tx.n = 0;
    const char *chat = rt_self_key(self);
    char uid[24], from[24];
    snprintf(uid, sizeof uid, "%lld", (long long)st->update_id);
    snprintf(from, sizeof from, "%lld", (long long)st->update.from_id);
    bool registered = false;
    int nreplies = 0;

    for (int i = 0; i < st->out.nacts; i++) {
        conv_act_t *a = &st->out.acts[i];
        if (a->kind == CONV_ACT_REGISTER) {
            const char **p = conv_tx_add(&tx, "UPDATE users SET phone = NULL, updated_at = now()"
                                              " WHERE phone = $1 AND tg_user_id <> $2", 2);
            p[0] = a->phone;
            p[1] = from;
            p = conv_tx_add(&tx,
                "INSERT INTO users (tg_user_id, chat_id, phone, first_name) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (tg_user_id) DO UPDATE SET chat_id = EXCLUDED.chat_id, phone = EXCLUDED.phone,"
                " first_name = EXCLUDED.first_name, tg_unreachable = false, updated_at = now(),"
                " crm_contact_id = CASE WHEN users.phone IS DISTINCT FROM EXCLUDED.phone"
                "                       THEN NULL ELSE users.crm_contact_id END", 4);
            p[0] = from;
            p[1] = chat;
            p[2] = a->phone;
            p[3] = a->name;
            registered = true;
        } else if (a->kind == CONV_ACT_SQL) {
            const char **p = conv_tx_add(&tx, a->sql, a->nsql_params);
            for (int k = 0; k < a->nsql_params; k++) p[k] = a->sql_params[k];
            nreplies++;   /* a statement may queue outbox rows too (payments): kick the gateway */
        } else if (a->kind == CONV_ACT_CALL && a->params) {
            const char **p = conv_tx_add(&tx, "INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
                                              " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING", 5);
            snprintf(tx.keys[tx.n - 1], sizeof tx.keys[0], "u%lld:%d", (long long)st->update_id, i);
            snprintf(tx.prio[tx.n - 1], sizeof tx.prio[0], "%d", a->prio);
            p[0] = chat;
            p[1] = a->method;
            p[2] = a->params;
            p[3] = tx.prio[tx.n - 1];
            p[4] = tx.keys[tx.n - 1];
            nreplies++;
        }
    }
    const char **p = conv_tx_add(&tx, "INSERT INTO conversations (chat_id, step, data) VALUES ($1, $2, $3)"
                                      " ON CONFLICT (chat_id) DO UPDATE SET step = EXCLUDED.step,"
                                      " data = EXCLUDED.data, updated_at = now()", 3);
    p[0] = chat;
    p[1] = st->out.step;
    p[2] = st->out.data;
    p = conv_tx_add(&tx, "UPDATE tg_inbox SET processed_at = now() WHERE update_id = $1", 1);
    p[0] = uid;
    if (st->update.from_id) {
        /* A person who writes can be reached again (they unblocked the bot). */
        p = conv_tx_add(&tx, "UPDATE users SET tg_unreachable = false, updated_at = now()"
                             " WHERE tg_user_id = $1 AND tg_unreachable", 1);
        p[0] = from;
    }

    st->announce_registration = registered;
    st->announce_outbox = nreplies > 0;
    for (int i = 0; i < st->out.nacts; i++)   /* features queue rows for other chats as SQL */
        if (st->out.acts[i].kind == CONV_ACT_SQL) st->announce_outbox = true;
    st->announce_logistics = st->out.kick_logistics;
    if (rt_pg_tx(self, CONV_CORR_COMMIT, tx.n, tx.stmts) != RT_OK) conv_retry_later(self, st, NULL);
}

/* ---- deciding ------------------------------------------------------------------- */

static void conv_lookup_query(rt_actor_t *self, conv_state_t *st, int j);

static void conv_decide(rt_actor_t *self, conv_state_t *st)
{
    if (st->have_out) conv_out_free(&st->out);
    int rc = conv_step(&st->ctx, &st->update, &st->out);
    st->have_out = true;
    if (rc == RT_PENDING && st->out.nneeds > 0 && st->rounds < CONV_MAX_ROUNDS &&
        st->ctx.nlookups + st->out.nneeds <= CONV_LOOKUPS_MAX) {
        st->rounds++;
        st->lookup_seq++;
        st->njobs = st->pending = st->out.nneeds;
        for (int j = 0; j < st->njobs; j++) {
            st->jobs[j].kind = st->out.needs[j].kind;
            memcpy(st->jobs[j].key, st->out.needs[j].key, CONV_KEY_MAX);
            st->jobs[j].stage = 0;
        }
        st->lookup_timer = rt_timer_after(self, CONV_LOOKUP_TIMEOUT_MS);
        for (int j = 0; j < st->njobs; j++) conv_lookup_query(self, st, j);
        return;
    }
    if (rc == RT_PENDING) {
        /* A dialog that keeps asking is a bug: record the update as
         * processed with whatever it decided, rather than loop forever. */
        LOG_ERROR("conv_lookup_loop", "chat=%s update_id=%lld rounds=%d", rt_self_key(self),
                  (long long)st->update_id, st->rounds);
    }
    conv_commit(self, st);
}

/* A lookup finished with `rows`: keep it; when all are in, decide again. */
static void conv_lookup_done(rt_actor_t *self, conv_state_t *st, int j, const rt_pg_result_t *r, int status)
{
    conv_lookup_t *l = &st->ctx.lookups[st->ctx.nlookups++];
    l->kind = st->jobs[j].kind;
    memcpy(l->key, st->jobs[j].key, CONV_KEY_MAX);
    if (r) conv_rows_from_pg(r, &l->rows);
    else memset(&l->rows, 0, sizeof l->rows);
    if (!r || status != RT_OK) l->rows.status = status;
    st->jobs[j].stage = 3;
    if (--st->pending == 0) {
        if (st->lookup_timer) rt_timer_cancel(self, st->lookup_timer);
        st->lookup_timer = 0;
        conv_decide(self, st);
    }
}

static void conv_lookup_query(rt_actor_t *self, conv_state_t *st, int j)
{
    const conv_lookup_def_t *def = conv_lookup_def(st->jobs[j].kind);
    if (!def) {
        conv_lookup_done(self, st, j, NULL, RT_EINVAL);
        return;
    }
    char uid[24], chat[24];
    snprintf(uid, sizeof uid, "%lld", (long long)st->ctx.tg_user_id);
    snprintf(chat, sizeof chat, "%s", rt_self_key(self));
    const char *params[8];
    int n = 0;
    for (const char *p = def->params; *p && n < 8; p++)
        params[n++] = *p == 'k' ? st->jobs[j].key : *p == 'p' ? st->ctx.phone : *p == 'u' ? uid : chat;
    uint32_t corr = CONV_CORR_LOOKUP0 + (st->lookup_seq % CONV_LOOKUP_TAGS) * CONV_NEEDS_MAX + (uint32_t)j;
    if (rt_pg_query(self, corr, def->sql, n, params) != RT_OK)
        conv_lookup_done(self, st, j, NULL, RT_EIO);
}

static void conv_on_lookup(rt_actor_t *self, conv_state_t *st, int j, const rt_pg_result_t *r)
{
    if (j >= st->njobs || st->jobs[j].stage == 3) return;
    const conv_lookup_def_t *def = conv_lookup_def(st->jobs[j].kind);
    if (r->status == RT_OK && r->nrows == 0 && def && def->ensure_order && st->jobs[j].stage == 0) {
        /* Unknown here: the order actor fetches it from Ozon and answers
         * with conv_order_ready. */
        st->jobs[j].stage = 1;
        msg_order_ensure_t e = {.reply_chat = strtoll(rt_self_key(self), NULL, 10)};
        if (rt_send_key(rt_self_runtime(self), &order_kind, st->jobs[j].key, msg_order_ensure_new(&e)) != RT_OK)
            conv_lookup_done(self, st, j, NULL, RT_EIO);
        return;
    }
    conv_lookup_done(self, st, j, r, r->status);
}

static void conv_on_order_ready(rt_actor_t *self, conv_state_t *st, const rt_msg_t *m)
{
    msg_conv_order_ready_t v;
    if (msg_conv_order_ready_decode(m, &v) != RT_OK) return;
    for (int j = 0; j < st->njobs; j++) {
        if (st->jobs[j].stage != 1 || !rt_str_eq(v.posting, st->jobs[j].key)) continue;
        if (v.status == RT_OK) {
            st->jobs[j].stage = 2;
            conv_lookup_query(self, st, j);
        } else {
            conv_lookup_done(self, st, j, NULL, (int)v.status);
        }
    }
}

static void conv_set_aside(rt_actor_t *self, conv_state_t *st);
static void conv_on_committed(rt_actor_t *self, conv_state_t *st, const rt_pg_result_t *r);

static void conv_on_fetched(rt_actor_t *self, conv_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK) { conv_retry_later(self, st, r); return; }
    if (r->nrows == 0) {
        st->busy = false;
        st->backoff_ms = 0;
        if (st->again) conv_fetch(self, st);
        return;
    }
    rt_pg_get_i64(r, 0, 0, &st->update_id);
    const char *body = rt_pg_value(r, 0, 1);
    memset(&st->ctx, 0, sizeof st->ctx);
    utf8_copy(st->ctx.step, sizeof st->ctx.step, rt_pg_value(r, 0, 2));
    utf8_copy(st->ctx.data, sizeof st->ctx.data, rt_pg_value(r, 0, 3));
    utf8_copy(st->ctx.first_name, sizeof st->ctx.first_name, rt_pg_value(r, 0, 4));
    st->ctx.role = CONV_GUEST;
    if (!rt_pg_is_null(r, 0, 5)) {
        st->ctx.role = CONV_CLIENT;
        conv_role_parse(rt_pg_value(r, 0, 6), &st->ctx.role);
        utf8_copy(st->ctx.phone, sizeof st->ctx.phone, rt_pg_value(r, 0, 5));
    }
    if (tg_update_parse(body, strlen(body), &st->update) != RT_OK) {
        /* Stored bodies were parsed at intake; a bad one is skipped, not retried forever. */
        LOG_ERROR("conv_bad_stored_update", "chat=%s update_id=%lld", rt_self_key(self), (long long)st->update_id);
        memset(&st->update, 0, sizeof st->update);
    }
    st->have_update = true;
    st->ctx.tg_user_id = st->update.from_id;
    if (st->update_id == st->failing_update && st->failures >= CONV_MAX_ATTEMPTS) {
        conv_set_aside(self, st);   /* an earlier setting aside did not get through */
        return;
    }
    conv_decide(self, st);
}

/* Did the database refuse what we asked (so trying the same again fails
 * again), rather than fail to answer? Connection loss (no SQLSTATE), class
 * 08 (connection), 40 (serialisation, deadlock), 53 (resources), 57
 * (shutdown, cancel) and 58 (system) are outages and never count. */
static bool conv_refused(const rt_pg_result_t *r)
{
    static const char *const outages[] = {"08", "40", "53", "57", "58"};
    if (strlen(r->sqlstate) != 5) return false;
    for (size_t i = 0; i < sizeof outages / sizeof outages[0]; i++)
        if (strncmp(r->sqlstate, outages[i], 2) == 0) return false;
    return true;
}

/* Give up on the update in progress: apologise, go home, mark it processed
 * and set aside, in one transaction (see the file comment). */
static void conv_set_aside(rt_actor_t *self, conv_state_t *st)
{
    const char *chat = rt_self_key(self);
    char uid[24], key[48];
    snprintf(uid, sizeof uid, "%lld", (long long)st->update_id);
    snprintf(key, sizeof key, "u%lld:aside", (long long)st->update_id);
    int64_t chat_id = strtoll(chat, NULL, 10);
    char *apology = st->update.chat_id == chat_id && st->update.chat_private
                        ? tg_params_send_message(chat_id, text_get(T_CONV_SET_ASIDE), conv_menu_keyboard(st->ctx.role))
                        : NULL;
    char prio[4];
    snprintf(prio, sizeof prio, "%d", TG_PRIO_INTERACTIVE);
    const char *p_out[] = {chat, "sendMessage", apology, prio, key};
    const char *p_conv[] = {chat, conv_home_step(st->ctx.role)};
    const char *p_inbox[] = {uid, st->failure};
    rt_pg_stmt_t tx[3];
    int n = 0;
    if (apology)
        tx[n++] = (rt_pg_stmt_t){.sql = "INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
                                        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING",
                                 .nparams = 5, .params = p_out};
    tx[n++] = (rt_pg_stmt_t){.sql = "INSERT INTO conversations (chat_id, step, data) VALUES ($1, $2, '')"
                                    " ON CONFLICT (chat_id) DO UPDATE SET step = EXCLUDED.step, data = '',"
                                    " updated_at = now()",
                             .nparams = 2, .params = p_conv};
    tx[n++] = (rt_pg_stmt_t){.sql = "UPDATE tg_inbox SET processed_at = now(), set_aside_at = now(), error = $2"
                                    " WHERE update_id = $1",
                             .nparams = 2, .params = p_inbox};
    st->announce_registration = false;
    st->announce_outbox = apology != NULL;
    LOG_ERROR("conv_update_set_aside", "chat=%s update_id=%lld attempts=%d error=\"%.*s\"", chat,
              (long long)st->update_id, st->failures, 5, st->failure);
    int rc = rt_pg_tx(self, CONV_CORR_ASIDE, n, tx);
    free(apology);
    if (rc != RT_OK) conv_retry_later(self, st, NULL);
}

static void conv_on_set_aside(rt_actor_t *self, conv_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK) { conv_retry_later(self, st, r); return; }
    conv_stats_note_set_aside();
    st->failing_update = 0;
    st->failures = 0;
    conv_on_committed(self, st, r);   /* kick the gateway, fetch the next update */
}

static void conv_on_committed(rt_actor_t *self, conv_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK && conv_refused(r)) {
        if (st->failing_update != st->update_id) st->failures = 0;
        st->failing_update = st->update_id;
        st->failures++;
        snprintf(st->failure, sizeof st->failure, "%s: ", r->sqlstate);
        size_t n = strlen(st->failure);
        utf8_copy(st->failure + n, sizeof st->failure - n, r->error);
        conv_stats_note_failure();
        LOG_WARN("conv_commit_refused", "chat=%s update_id=%lld attempt=%d sqlstate=%s", rt_self_key(self),
                 (long long)st->update_id, st->failures, r->sqlstate);
        if (st->failures >= CONV_MAX_ATTEMPTS) {
            if (st->have_out) conv_out_free(&st->out);
            st->have_out = false;
            conv_set_aside(self, st);
            return;
        }
    }
    if (r->status != RT_OK) { conv_retry_later(self, st, r); return; }
    rt_runtime_t *rt = rt_self_runtime(self);
    if (st->announce_outbox) {
        msg_tg_kick_t k = {.max_id = 0};
        rt_send_key(rt, &tg_gateway_kind, "main", msg_tg_kick_new(&k));
    }
    if (st->announce_registration) {
        msg_crm_link_t l = {.tg_user_id = st->update.from_id};
        rt_send_key(rt, &crm_kind, "main", msg_crm_link_new(&l));
    }
    const rt_kind_t *lo = st->announce_logistics ? rt_kind_find(rt, PLUS7_KIND_LOGISTICS_OUT) : NULL;
    if (lo) {
        msg_lo_kick_t k = {0};
        rt_send_key(rt, lo, "main", msg_lo_kick_new(&k));
    }
    for (int i = 0; i < st->out.nacts; i++)   /* e.g. wake a payment actor */
        if (st->out.acts[i].kind == CONV_ACT_AFTER && st->out.acts[i].after)
            st->out.acts[i].after(rt, st->out.acts[i].sql_params[0]);
    conv_release(st);
    st->backoff_ms = 0;
    conv_fetch(self, st);   /* the next unprocessed update, if any */
}

static int conv_handle(rt_actor_t *self, const rt_msg_t *m)
{
    conv_state_t *st = rt_self_state(self);
    switch (m->type) {
    case MSG_conv_poke:
        if (st->busy) st->again = true;
        else conv_fetch(self, st);
        return RT_OK;
    case RT_MSG_TIMER:
        if (m->corr == st->retry_timer && !st->busy) conv_fetch(self, st);
        if (m->corr == st->lookup_timer && st->lookup_timer) {
            st->lookup_timer = 0;
            LOG_WARN("conv_lookup_timeout", "chat=%s update_id=%lld", rt_self_key(self), (long long)st->update_id);
            /* the last give-up decides again and may start a new round: stop there */
            int round = st->rounds;
            for (int j = 0; j < st->njobs && st->pending > 0 && st->rounds == round; j++)
                if (st->jobs[j].stage != 3) conv_lookup_done(self, st, j, NULL, RT_ETIMEDOUT);
        }
        return RT_OK;
    case MSG_conv_order_ready:
        conv_on_order_ready(self, st, m);
        return RT_OK;
    case RT_MSG_PG_RESULT: {
        const rt_pg_result_t *r = rt_pg_msg_result(m);
        if (!r) return RT_OK;
        if (m->corr == CONV_CORR_FETCH) conv_on_fetched(self, st, r);
        else if (m->corr == CONV_CORR_COMMIT) conv_on_committed(self, st, r);
        else if (m->corr == CONV_CORR_ASIDE) conv_on_set_aside(self, st, r);
        else if (m->corr >= CONV_CORR_LOOKUP0 && m->corr < CONV_CORR_LOOKUP0 + CONV_LOOKUP_TAGS * CONV_NEEDS_MAX) {
            uint32_t tag = (m->corr - CONV_CORR_LOOKUP0) / CONV_NEEDS_MAX;
            if (tag == st->lookup_seq % CONV_LOOKUP_TAGS)   /* else: an answer to a round given up */
                conv_on_lookup(self, st, (int)((m->corr - CONV_CORR_LOOKUP0) % CONV_NEEDS_MAX), r);
        }
        return RT_OK;
    }
    default:
        return RT_OK;
    }
}

const rt_kind_t conv_kind = {
    .name = "conversation",
    .state_size = sizeof(conv_state_t),
    .idle_age_ms = 10 * 60 * 1000,
    .handle = conv_handle,
    .state_free = conv_state_free,
};

/* The dialog's after-commit pokes ("kind:key", conv_poke): an order's
 * stored events, a courier's news, the courier dispatcher's round. */
void plus7_conv_poker(void *rt, const char *arg)
{
    const char *colon = strchr(arg, ':');
    if (!colon) return;
    char kind[48];
    snprintf(kind, sizeof kind, "%.*s", (int)(colon - arg), arg);
    if (strcmp(kind, "order") == 0) {
        msg_order_poke_t op = {.unused = 0};
        rt_send_key(rt, &order_kind, colon + 1, msg_order_poke_new(&op));
        return;
    }
    const rt_kind_t *k = rt_kind_find(rt, kind);   /* courier, courier_dispatcher */
    msg_courier_poke_t cp = {.unused = 0};
    if (k) rt_send_key(rt, k, colon + 1, msg_courier_poke_new(&cp));
}

int plus7_conv_poke(rt_runtime_t *rt, long long chat_id, long long update_id)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", chat_id);
    msg_conv_poke_t p = {.update_id = update_id};
    rt_msg_t *m = msg_conv_poke_new(&p);
    if (!m) return RT_ENOMEM;
    return rt_send_key(rt, &conv_kind, key, m);
}
