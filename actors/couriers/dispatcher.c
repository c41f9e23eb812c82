/* dispatcher.c — the courier dispatcher (kind "courier_dispatcher", key "main").
 *
 * Purpose: every PLUS7_COURIER_TICK_S seconds, and at once when poked
 * (a manual assignment), one round of four steps, each one transaction:
 *   1. stale   couriers on shift whose live location went quiet for
 *              PLUS7_COURIER_STALE_S (or whose live_period ran out) are
 *              marked stale, their unpicked deliveries given back, and they
 *              are asked to share again (courier_stale_sweep());
 *   2. assign  today's unassigned deliveries to couriers on shift
 *              (courier_auto_assign(), when PLUS7_COURIER_AUTO is on);
 *   3. cards   every delivery assigned since (card_pending) gets its card in
 *              the courier's chat: posting, window, address with a map link,
 *              client, phone, what to collect, «✅ Забрал»;
 *   4. home    «Будете дома?» to clients 1–2 hours before today's window.
 * Each outbox row is queued in the transaction that records it was sent
 * (card_pending cleared, home_asked set) with a dedupe key, so a crash
 * between the steps repeats nothing and loses nothing: the next round
 * finds what is left. Several instances may run rounds at once: the SQL
 * functions lock with SKIP LOCKED and the dedupe keys hold.
 *
 * Exports: courier_dispatcher_kind, courier_kick_gateway.
 * Threads: the actor's home worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conv_courier.h"
#include "courier_internal.h"
#include "msg_types.h"
#include "plus7_actors.h"
#include "rt_log.h"
#include "rt_pg.h"
#include "texts.h"
#include "tg_markup.h"

#define DISP_BATCH 24          /* cards or questions per transaction (2 statements each) */

enum { DISP_CORR_STALE = 1, DISP_CORR_ASSIGN, DISP_CORR_CARDS, DISP_CORR_CARDS_DONE, DISP_CORR_HOME,
       DISP_CORR_HOME_DONE };

typedef struct disp_state {
    bool busy, again, queued;
    uint32_t tick_timer;
    courier_strs_t strs;    /* what the in-flight transaction's parameters point into */
} disp_state_t;

static void disp_state_free(void *p) { courier_strs_free(&((disp_state_t *)p)->strs); }

void courier_kick_gateway(rt_runtime_t *rt)
{
    msg_tg_kick_t k = {.max_id = 0};
    rt_send_key(rt, &tg_gateway_kind, "main", msg_tg_kick_new(&k));
}

/* ---- statements ----------------------------------------------------------------- */

/* $2: the text with the number given back (%s, SQL format()), $3: without. */
static const char disp_sql_stale[] =
    "WITH s AS (SELECT * FROM courier_stale_sweep($1::int))"
    " INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
    " SELECT s.tg_user_id, 'sendMessage',"
    "        json_build_object('chat_id', s.tg_user_id, 'parse_mode', 'HTML',"
    "                          'text', CASE WHEN s.released > 0 THEN format($2, s.released) ELSE $3 END)::text,"
    "        0, 'stale:' || s.courier_id || ':' || (extract(epoch FROM now()))::bigint"
    "   FROM s ON CONFLICT (dedupe_key) DO NOTHING";
static const char disp_sql_assign[] = "SELECT courier_auto_assign($1::int, 200)";
static const char disp_sql_cards[] =
    "SELECT d.id, d.card_gen, d.posting_number, c.tg_user_id, d.address, d.lat, d.lon,"
    "       to_char(d.slot_date, 'DD.MM') AS day, to_char(d.slot_start, 'HH24:MI') AS t_start,"
    "       to_char(d.slot_end, 'HH24:MI') AS t_end,"
    "       coalesce(nullif(u.first_name, ''), o.addressee_name, o.customer_name, '') AS client_name,"
    "       coalesce(u.phone, o.addressee_phone, o.customer_phone) AS phone, d.price_kopecks,"
    "       o.paid_attempt IS NOT NULL AS paid"
    "  FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
    "  JOIN orders o ON o.posting_number = d.posting_number"
    "  LEFT JOIN users u ON u.tg_user_id = d.tg_user_id"
    " WHERE d.card_pending AND d.status = 'ordered' ORDER BY d.id LIMIT 24";
static const char disp_sql_card_send[] =
    "WITH d AS (UPDATE deliveries SET card_pending = false"
    "            WHERE id = $1::bigint AND card_gen = $2::int AND card_pending RETURNING id)"
    " INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
    " SELECT $3::bigint, 'sendMessage', $4, 0, 'card:' || $1 || ':' || $2 FROM d"
    " ON CONFLICT (dedupe_key) DO NOTHING";
static const char disp_sql_home[] =
    "SELECT d.id, d.posting_number, u.chat_id, to_char(d.slot_start, 'HH24:MI'), to_char(d.slot_end, 'HH24:MI')"
    "  FROM deliveries d JOIN users u ON u.tg_user_id = d.tg_user_id"
    " WHERE d.status = 'ordered' AND d.stage IN ('new', 'assigned') AND NOT d.home_asked"
    "   AND d.slot_date = msk_today()"
    "   AND d.slot_start - (now() AT TIME ZONE 'Europe/Moscow')::time BETWEEN interval '1 hour' AND interval '2 hours'"
    " ORDER BY d.id LIMIT 24";
static const char disp_sql_home_send[] =
    "WITH d AS (UPDATE deliveries SET home_asked = true WHERE id = $1::bigint AND NOT home_asked RETURNING id)"
    " INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
    " SELECT $2::bigint, 'sendMessage', $3, 0, 'home:' || $1 FROM d ON CONFLICT (dedupe_key) DO NOTHING";

/* ---- the round -------------------------------------------------------------------- */

static void disp_round(rt_actor_t *self, disp_state_t *st)
{
    if (st->busy) { st->again = true; return; }
    st->busy = true;
    st->again = st->queued = false;
    /* the catalogue's %d becomes %s for SQL's format() */
    static char released[512];
    if (!released[0]) {
        snprintf(released, sizeof released, "%s", text_get(T_CR_STALE_RELEASED));
        char *d = strstr(released, "%d");
        if (d) d[1] = 's';
    }
    char quiet[16];
    snprintf(quiet, sizeof quiet, "%d", plus7_actors_cfg()->courier_stale_s);
    const char *params[] = {quiet, released, text_get(T_CR_STALE)};
    if (rt_pg_query(self, DISP_CORR_STALE, disp_sql_stale, 3, params) != RT_OK) st->busy = false;
}

static void disp_step(rt_actor_t *self, disp_state_t *st, uint32_t corr, const char *sql, int n,
                      const char *const *params)
{
    if (rt_pg_query(self, corr, sql, n, params) != RT_OK) st->busy = false;
}

static void disp_after_stale(rt_actor_t *self, disp_state_t *st, const rt_pg_result_t *r)
{
    if (r->status == RT_OK && r->affected > 0) st->queued = true;
    if (!plus7_actors_cfg()->courier_auto) {
        disp_step(self, st, DISP_CORR_CARDS, disp_sql_cards, 0, NULL);
        return;
    }
    char cap[16];
    snprintf(cap, sizeof cap, "%d", plus7_actors_cfg()->courier_capacity);
    const char *params[] = {cap};
    disp_step(self, st, DISP_CORR_ASSIGN, disp_sql_assign, 1, params);
}

/* Kopecks as roubles: "350" or "350,50". */
static void disp_money(const char *kop, char *out, size_t size)
{
    long long k = kop ? strtoll(kop, NULL, 10) : 0;
    if (k % 100) snprintf(out, size, "%lld,%02lld", k / 100, k % 100);
    else snprintf(out, size, "%lld", k / 100);
}

/* A link that opens the address in a map app. */
static void disp_map_link(const char *lat, const char *lon, const char *address, char *out, size_t size)
{
    if (lat && lon) {
        snprintf(out, size, "https://yandex.ru/maps/?pt=%s,%s&z=17&l=map", lon, lat);
        return;
    }
    size_t len = (size_t)snprintf(out, size, "https://yandex.ru/maps/?text=");
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)(address ? address : ""); *p && len + 4 < size; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '.' || *p == '_') {
            out[len++] = (char)*p;
        } else {
            out[len++] = '%';
            out[len++] = hex[*p >> 4];
            out[len++] = hex[*p & 15];
        }
    }
    out[len] = '\0';
}

static char *disp_card(const rt_pg_result_t *r, int i, int64_t courier_chat)
{
    const char *posting = rt_pg_value(r, i, 2);
    char link[1024], money[32], pay[128], html[3072];
    disp_map_link(rt_pg_is_null(r, i, 5) ? NULL : rt_pg_value(r, i, 5),
                  rt_pg_is_null(r, i, 6) ? NULL : rt_pg_value(r, i, 6), rt_pg_value(r, i, 4), link, sizeof link);
    disp_money(rt_pg_value(r, i, 12), money, sizeof money);
    if (rt_pg_value(r, i, 13)[0] == 't') snprintf(pay, sizeof pay, "%s", text_get(T_CR_PAID));
    else snprintf(pay, sizeof pay, text_get(T_CR_TO_PAY), money);
    char *addr = tg_html_escape(rt_pg_value(r, i, 4)), *name = tg_html_escape(rt_pg_value(r, i, 10));
    char *href = tg_html_escape(link);
    const char *phone = rt_pg_is_null(r, i, 11) ? text_get(T_CR_NO_PHONE) : rt_pg_value(r, i, 11);
    snprintf(html, sizeof html, text_get(T_CR_CARD), posting, rt_pg_value(r, i, 7), rt_pg_value(r, i, 8),
             rt_pg_value(r, i, 9), href ? href : "", addr ? addr : "", name ? name : "", phone, pay);
    free(addr);
    free(name);
    free(href);
    cc_utf8_trim(html);
    cJSON *kb = tg_kb_inline_new();
    char data[64];
    snprintf(data, sizeof data, "cr:pk:%s:%s", rt_pg_value(r, i, 0), rt_pg_value(r, i, 1));
    tg_kb_inline_button(tg_kb_inline_row(kb), text_get(T_CR_BTN_PICKED), data);
    return tg_params_send_message(courier_chat, html, kb);
}

static void disp_on_cards(rt_actor_t *self, disp_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK || r->nrows == 0) {
        disp_step(self, st, DISP_CORR_HOME, disp_sql_home, 0, NULL);
        return;
    }
    rt_pg_stmt_t stmts[DISP_BATCH];
    const char *params[DISP_BATCH][4];
    int n = 0;
    for (int i = 0; i < r->nrows && n < DISP_BATCH; i++) {
        int64_t chat = 0;
        rt_pg_get_i64(r, i, 3, &chat);
        params[n][0] = rt_pg_value(r, i, 0);
        params[n][1] = rt_pg_value(r, i, 1);
        params[n][2] = rt_pg_value(r, i, 3);
        params[n][3] = courier_strs_keep(&st->strs, disp_card(r, i, chat));
        if (!params[n][3]) continue;
        stmts[n] = (rt_pg_stmt_t){disp_sql_card_send, 4, params[n]};
        n++;
    }
    if (n == 0 || rt_pg_tx(self, DISP_CORR_CARDS_DONE, n, stmts) != RT_OK) {
        courier_strs_free(&st->strs);
        disp_step(self, st, DISP_CORR_HOME, disp_sql_home, 0, NULL);
    }
}

static void disp_on_home(rt_actor_t *self, disp_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK || r->nrows == 0) {
        st->busy = false;
        return;
    }
    rt_pg_stmt_t stmts[DISP_BATCH];
    const char *params[DISP_BATCH][3];
    int n = 0;
    for (int i = 0; i < r->nrows && n < DISP_BATCH; i++) {
        int64_t chat = 0;
        rt_pg_get_i64(r, i, 2, &chat);
        char html[512], data[64];
        snprintf(html, sizeof html, text_get(T_CL_HOME_ASK), rt_pg_value(r, i, 3), rt_pg_value(r, i, 4),
                 rt_pg_value(r, i, 1));
        cJSON *kb = tg_kb_inline_new();
        cJSON *row = tg_kb_inline_row(kb);
        snprintf(data, sizeof data, "cl:hy:%s", rt_pg_value(r, i, 0));
        tg_kb_inline_button(row, text_get(T_CL_BTN_HOME_YES), data);
        snprintf(data, sizeof data, "cl:hm:%s", rt_pg_value(r, i, 0));
        tg_kb_inline_button(row, text_get(T_CL_BTN_HOME_MOVE), data);
        params[n][0] = rt_pg_value(r, i, 0);
        params[n][1] = rt_pg_value(r, i, 2);
        params[n][2] = courier_strs_keep(&st->strs, tg_params_send_message(chat, html, kb));
        if (!params[n][2]) continue;
        stmts[n] = (rt_pg_stmt_t){disp_sql_home_send, 3, params[n]};
        n++;
    }
    if (n == 0 || rt_pg_tx(self, DISP_CORR_HOME_DONE, n, stmts) != RT_OK) {
        courier_strs_free(&st->strs);
        st->busy = false;
    }
}

static void disp_finish(rt_actor_t *self, disp_state_t *st)
{
    if (st->queued) courier_kick_gateway(rt_self_runtime(self));
    st->queued = false;
    if (st->again) disp_round(self, st);
}

static int disp_on_activate(rt_actor_t *self, const rt_msg_t *m)
{
    (void)m;
    disp_state_t *st = rt_self_state(self);
    st->tick_timer = rt_timer_after(self, (uint32_t)plus7_actors_cfg()->courier_tick_s * 1000u);
    return RT_OK;
}

static int disp_handle(rt_actor_t *self, const rt_msg_t *m)
{
    disp_state_t *st = rt_self_state(self);
    if (m->type == MSG_courier_poke) {
        disp_round(self, st);
        return RT_OK;
    }
    if (m->type == RT_MSG_TIMER) {
        if (m->corr == st->tick_timer) {
            st->tick_timer = rt_timer_after(self, (uint32_t)plus7_actors_cfg()->courier_tick_s * 1000u);
            disp_round(self, st);
        }
        return RT_OK;
    }
    if (m->type != RT_MSG_PG_RESULT) return RT_OK;
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    if (!r) { st->busy = false; return RT_OK; }
    if (r->status != RT_OK)
        LOG_WARN("courier_dispatch_failed", "step=%u error=\"%s\"", (unsigned)m->corr, r->error ? r->error : "");
    switch (m->corr) {
    case DISP_CORR_STALE:
        disp_after_stale(self, st, r);
        break;
    case DISP_CORR_ASSIGN:
        disp_step(self, st, DISP_CORR_CARDS, disp_sql_cards, 0, NULL);
        break;
    case DISP_CORR_CARDS:
        disp_on_cards(self, st, r);
        break;
    case DISP_CORR_CARDS_DONE:
        courier_strs_free(&st->strs);
        if (r->status == RT_OK) st->queued = true;
        disp_step(self, st, DISP_CORR_HOME, disp_sql_home, 0, NULL);
        break;
    case DISP_CORR_HOME:
        disp_on_home(self, st, r);
        break;
    case DISP_CORR_HOME_DONE:
        courier_strs_free(&st->strs);
        if (r->status == RT_OK) st->queued = true;
        st->busy = false;
        break;
    default:
        break;
    }
    if (!st->busy) disp_finish(self, st);
    return RT_OK;
}

const rt_kind_t courier_dispatcher_kind = {
    .name = "courier_dispatcher",
    .state_size = sizeof(disp_state_t),
    .idle_age_ms = 0,
    .on_activate = disp_on_activate,
    .handle = disp_handle,
    .state_free = disp_state_free,
};
