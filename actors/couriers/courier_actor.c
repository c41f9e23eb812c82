/* courier_actor.c — one actor per courier (key: the courier's Telegram id).
 *
 * Purpose: what follows a courier's movement for the people waiting. After
 * every stored point or step of theirs (poked by the conversation once its
 * transaction committed) it looks at the courier's deliveries on the way
 * (stage en_route) and, for each client,
 *   - «📍 Курьер подъезжает» once, when the courier is within ROUTE_NEAR_M,
 *   - a new ETA when the estimate drifted by more than ETA_DRIFT_MS from
 *     the one the client was told («Курьер выехал» told the first),
 * each an outbox row queued in the same transaction that records it
 * (near_sent, eta_at), guarded so that a repeated poke sends nothing twice.
 * Pokes that arrive while a round runs fold into one more round. The
 * actor keeps no state the database does not have; it passivates when idle.
 *
 * Exports: courier_kind.
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
#include "route.h"
#include "rt_log.h"
#include "rt_pg.h"
#include "texts.h"
#include "tg_markup.h"

#define ROUTE_NEAR_M 500.0
#define ETA_DRIFT_MS (10 * 60 * 1000LL)
#define COURIER_BATCH 16             /* deliveries on the way handled per round */

enum { CA_CORR_READ = 1, CA_CORR_WRITE };

typedef struct courier_state {
    bool busy, again;
    courier_strs_t strs;    /* what the in-flight transaction's parameters point into */
} courier_state_t;

static void courier_state_free(void *p) { courier_strs_free(&((courier_state_t *)p)->strs); }

static const char ca_sql_on_the_way[] =
    "SELECT d.id, d.posting_number, d.card_gen, u.chat_id, d.lat, d.lon, c.lat, c.lon,"
    "       (extract(epoch FROM d.eta_at) * 1000)::bigint, d.near_sent, (extract(epoch FROM now()) * 1000)::bigint"
    "  FROM deliveries d JOIN couriers c ON c.id = d.courier_id JOIN users u ON u.tg_user_id = d.tg_user_id"
    " WHERE c.tg_user_id = $1::bigint AND c.on_shift AND d.status = 'ordered' AND d.stage = 'en_route'"
    "   AND d.lat IS NOT NULL AND c.lat IS NOT NULL"
    " ORDER BY d.id LIMIT 16";
static const char ca_sql_near[] =
    "WITH d AS (UPDATE deliveries SET near_sent = true WHERE id = $1::bigint AND NOT near_sent AND stage = 'en_route'"
    "           RETURNING id)"
    " INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
    " SELECT $2::bigint, 'sendMessage', $3, 0, 'near:' || $1 FROM d ON CONFLICT (dedupe_key) DO NOTHING";
static const char ca_sql_eta[] =
    "WITH d AS (UPDATE deliveries SET eta_at = to_timestamp($4::bigint / 1000.0)"
    "            WHERE id = $1::bigint AND stage = 'en_route'"
    "              AND (eta_at IS NULL OR abs(extract(epoch FROM eta_at) * 1000 - $4::bigint) > $5::bigint)"
    "           RETURNING id)"
    " INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
    " SELECT $2::bigint, 'sendMessage', $3, 0, 'eta:' || $1 || ':' || ($4::bigint / 60000) FROM d"
    " ON CONFLICT (dedupe_key) DO NOTHING";

static void courier_read(rt_actor_t *self, courier_state_t *st)
{
    if (st->busy) { st->again = true; return; }
    st->busy = true;
    st->again = false;
    const char *params[] = {rt_self_key(self)};
    if (rt_pg_query(self, CA_CORR_READ, ca_sql_on_the_way, 1, params) != RT_OK) st->busy = false;
}

/* Decide per delivery; queue the statements as one transaction. */
static void courier_on_way(rt_actor_t *self, courier_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK || r->nrows == 0) {
        st->busy = false;
        if (st->again) courier_read(self, st);
        return;
    }
    rt_pg_stmt_t stmts[COURIER_BATCH];
    const char *params[COURIER_BATCH][5];
    int n = 0;
    for (int i = 0; i < r->nrows && n < COURIER_BATCH; i++) {
        int64_t chat = 0, eta_told = 0, now_ms = 0;
        rt_pg_get_i64(r, i, 3, &chat);
        bool has_eta = !rt_pg_is_null(r, i, 8);
        if (has_eta) rt_pg_get_i64(r, i, 8, &eta_told);
        rt_pg_get_i64(r, i, 10, &now_ms);
        const char *near_sent = rt_pg_value(r, i, 9);
        const char *posting = rt_pg_value(r, i, 1);
        double m = route_distance_m(atof(rt_pg_value(r, i, 6)), atof(rt_pg_value(r, i, 7)),
                                    atof(rt_pg_value(r, i, 4)), atof(rt_pg_value(r, i, 5)));
        char html[512];
        if (m <= ROUTE_NEAR_M) {
            if (near_sent && near_sent[0] == 't') continue;
            snprintf(html, sizeof html, text_get(T_CL_NEAR), posting);
            params[n][0] = rt_pg_value(r, i, 0);
            params[n][1] = courier_strs_i64(&st->strs, (long long)chat);
            params[n][2] = courier_strs_keep(&st->strs, tg_params_send_message(chat, html, NULL));
            stmts[n] = (rt_pg_stmt_t){ca_sql_near, 3, params[n]};
            n++;
            continue;
        }
        int64_t eta = now_ms + (int64_t)route_eta_s(m, 0) * 1000;
        if (has_eta && llabs(eta - eta_told) <= ETA_DRIFT_MS) continue;
        char hhmm[8];
        cc_hhmm(eta, hhmm, sizeof hhmm);
        snprintf(html, sizeof html, text_get(T_CL_ETA_UPDATE), posting, hhmm);
        params[n][0] = rt_pg_value(r, i, 0);
        params[n][1] = courier_strs_i64(&st->strs, (long long)chat);
        params[n][2] = courier_strs_keep(&st->strs, tg_params_send_message(chat, html, NULL));
        params[n][3] = courier_strs_i64(&st->strs, (long long)eta);
        params[n][4] = courier_strs_i64(&st->strs, ETA_DRIFT_MS);
        stmts[n] = (rt_pg_stmt_t){ca_sql_eta, 5, params[n]};
        n++;
    }
    for (int k = 0; k < n; k++)
        for (int j = 0; j < stmts[k].nparams; j++)
            if (!stmts[k].params[j]) n = 0;   /* out of memory: try at the next poke */
    if (n == 0 || rt_pg_tx(self, CA_CORR_WRITE, n, stmts) != RT_OK) {
        courier_strs_free(&st->strs);
        st->busy = false;
        if (st->again) courier_read(self, st);
    }
}

static int courier_handle(rt_actor_t *self, const rt_msg_t *m)
{
    courier_state_t *st = rt_self_state(self);
    switch (m->type) {
    case MSG_courier_poke:
        courier_read(self, st);
        return RT_OK;
    case RT_MSG_PG_RESULT: {
        const rt_pg_result_t *r = rt_pg_msg_result(m);
        if (m->corr == CA_CORR_READ) {
            courier_on_way(self, st, r);
            return RT_OK;
        }
        courier_strs_free(&st->strs);
        if (r && r->status == RT_OK) courier_kick_gateway(rt_self_runtime(self));
        else LOG_WARN("courier_notify_failed", "courier=%s", rt_self_key(self));
        st->busy = false;
        if (st->again) courier_read(self, st);
        return RT_OK;
    }
    default:
        return RT_OK;
    }
}

const rt_kind_t courier_kind = {
    .name = "courier",
    .state_size = sizeof(courier_state_t),
    .idle_age_ms = 60000,
    .handle = courier_handle,
    .state_free = courier_state_free,
};
