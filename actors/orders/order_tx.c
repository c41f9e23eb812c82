/* order_tx.c — the statements of one order transaction (see order_tx.h).
 * Exports: ord_tx_init, ord_tx_free, ord_tx_add, ord_tx_i64, ord_tx_change,
 * ord_tx_history, ord_tx_notify, ord_tx_recipient, ord_tx_readback.
 * Threads: the order actor's worker.
 */
#include "order_tx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "notify_policy.h"
#include "plus7_actors.h"
#include "timefmt.h"

void ord_tx_init(ord_tx_t *tx)
{
    tx->n = tx->nowned = 0;
    tx->overflow = false;
}

void ord_tx_free(ord_tx_t *tx)
{
    for (int i = 0; i < tx->nowned; i++) free(tx->owned[i]);
    tx->nowned = 0;
}

const char **ord_tx_add(ord_tx_t *tx, const char *sql, int nparams)
{
    if (tx->n >= RT_PG_TX_MAX || nparams > ORD_TX_PARAMS) {
        tx->overflow = true;
        return NULL;
    }
    tx->stmts[tx->n] = (rt_pg_stmt_t){sql, nparams, tx->params[tx->n]};
    return (const char **)tx->params[tx->n++];
}

static const char *ord_keep(ord_tx_t *tx, char *s)
{
    if (!s) return NULL;
    if (tx->nowned >= (int)(sizeof tx->owned / sizeof tx->owned[0])) {
        free(s);
        tx->overflow = true;
        return NULL;
    }
    tx->owned[tx->nowned++] = s;
    return s;
}

const char *ord_tx_i64(ord_tx_t *tx, int64_t v)
{
    char *s = malloc(24);
    if (s) snprintf(s, 24, "%lld", (long long)v);
    return ord_keep(tx, s);
}

/* Template variables as JSON: posting and status, and for owners the
 * pickup point and the storage deadline (storage_ms > 0). */
static const char *ord_vars(ord_tx_t *tx, const char *posting, order_status_t st, const char *pickup,
                            int64_t storage_ms)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "posting", posting);
    cJSON_AddStringToObject(v, "status", order_status_name_ru(st));
    if (pickup && *pickup) cJSON_AddStringToObject(v, "pickup_point", pickup);
    if (storage_ms > 0) {
        char when[32];
        timefmt_msk(storage_ms, when, sizeof when);
        cJSON_AddStringToObject(v, "storage_deadline", when);
    }
    char *s = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    return ord_keep(tx, s);
}

/* The status is the one announced: every notification row depends on it. */
#define ORD_SQL_STATUS_IS " EXISTS (SELECT 1 FROM orders g WHERE g.posting_number = $1 AND g.status = $5)"

static const char ord_sql_notify_tg[] =
    "INSERT INTO notify_outbox (dedupe_key, posting_number, event, tg_user_id, chat_id, phone, channel, vars, audience)"
    " SELECT $1 || ':' || $2 || ':c' || r.chat_id || ':telegram', $1, $2, r.tg_user_id, r.chat_id, r.phone,"
    "        'telegram', CASE WHEN r.owner THEN $3 ELSE $4 END, CASE WHEN r.owner THEN 'owner' ELSE 'watcher' END"
    "   FROM (SELECT DISTINCT ON (x.chat_id) x.chat_id, x.tg_user_id, x.phone, x.owner FROM ("
    "           SELECT s.chat_id, u.tg_user_id, u.phone, false AS owner FROM order_subscribers s"
    "             LEFT JOIN users u ON u.chat_id = s.chat_id WHERE s.posting_number = $1 AND NOT s.muted"
    "           UNION ALL"
    "           SELECT u.chat_id, u.tg_user_id, u.phone, true FROM users u JOIN orders o ON o.posting_number = $1"
    "            WHERE (u.phone IN (o.customer_phone, o.addressee_phone, o.recipient_phone)"
    "                   OR u.tg_user_id = o.ordered_by)"
    "              AND NOT EXISTS (SELECT 1 FROM order_subscribers m WHERE m.posting_number = $1"
    "                                 AND m.chat_id = u.chat_id AND m.muted)"
    "         ) x ORDER BY x.chat_id, x.owner DESC, x.tg_user_id NULLS LAST) r"
    "  WHERE (r.owner OR NOT $6::boolean) AND" ORD_SQL_STATUS_IS
    " ON CONFLICT (dedupe_key) DO NOTHING";

static const char ord_sql_notify_sms[] =
    "INSERT INTO notify_outbox (dedupe_key, posting_number, event, phone, channel, vars)"
    " SELECT $1 || ':' || $2 || ':p' || x.phone || ':sms', $1, $2, x.phone, 'sms', $3"
    "   FROM orders o CROSS JOIN LATERAL (SELECT DISTINCT p FROM unnest(ARRAY[o.customer_phone, o.recipient_phone]) p"
    "                                      WHERE p IS NOT NULL) x(phone)"
    "  WHERE o.posting_number = $1 AND o.status = $4"
    "    AND NOT EXISTS (SELECT 1 FROM users u WHERE u.phone = x.phone)"
    " ON CONFLICT (dedupe_key) DO NOTHING";

void ord_tx_notify(ord_tx_t *tx, const char *posting, const char *event, order_status_t status,
                   const char *vars, bool owners_only)
{
    const char *code = order_status_code(status);
    const char **p = ord_tx_add(tx, ord_sql_notify_tg, 6);
    if (!p) return;
    p[0] = posting;
    p[1] = event;
    p[2] = vars;
    p[3] = ord_vars(tx, posting, status, NULL, 0);
    p[4] = code;
    p[5] = owners_only ? "true" : "false";
    if (!notify_sms_event_on(event)) return;   /* PLUS7_SMS_EVENTS */
    p = ord_tx_add(tx, ord_sql_notify_sms, 4);
    if (!p) return;
    p[0] = posting;
    p[1] = event;
    p[2] = vars;
    p[3] = code;
}

static void ord_history(ord_tx_t *tx, const char *posting, const char *status, const char *source, const char *at,
                        const char *event_id, const char *comment, bool if_applied)
{
    const char **p = ord_tx_add(tx,
        if_applied ? "INSERT INTO order_history (posting_number, status, source, at, event_id, comment, applied)"
                     " SELECT $1, $2, $3, to_timestamp($4::bigint / 1000.0), $5, $6,"
                     "        EXISTS (SELECT 1 FROM orders g WHERE g.posting_number = $1 AND g.status = $2"
                     "                   AND g.status_at = to_timestamp($4::bigint / 1000.0))"
                   : "INSERT INTO order_history (posting_number, status, source, at, event_id, comment, applied)"
                     " VALUES ($1, $2, $3, to_timestamp($4::bigint / 1000.0), $5, $6, false)", 6);
    if (!p) return;
    p[0] = posting;
    p[1] = status;
    p[2] = source;
    p[3] = at;
    p[4] = event_id;
    p[5] = comment;
}

void ord_tx_history(ord_tx_t *tx, const char *posting, const char *status, const char *source, int64_t at_ms,
                    const char *event_id, const char *comment)
{
    ord_history(tx, posting, status, source, ord_tx_i64(tx, at_ms), event_id, comment, false);
}

/* The upsert moves the status only forward: a late or stale write — an
 * actor whose memory lags the database — changes nothing. */
static const char ord_sql_upsert[] =
    "INSERT INTO orders (posting_number, status, status_at, status_source, pickup_point, pickup_arrived_at, storage_until)"
    " VALUES ($1, $2, to_timestamp($3::bigint / 1000.0), $4, $5,"
    "         CASE WHEN $2 = 'at_pickup_point' THEN to_timestamp($3::bigint / 1000.0) END,"
    "         to_timestamp($6::bigint / 1000.0))"
    " ON CONFLICT (posting_number) DO UPDATE SET status = EXCLUDED.status, status_at = EXCLUDED.status_at,"
    "   status_source = EXCLUDED.status_source, pickup_point = coalesce(EXCLUDED.pickup_point, orders.pickup_point),"
    "   pickup_arrived_at = coalesce(EXCLUDED.pickup_arrived_at, orders.pickup_arrived_at),"
    "   storage_until = CASE WHEN orders.storage_extended THEN orders.storage_until"
    "                        ELSE coalesce(EXCLUDED.storage_until, orders.storage_until) END,"
    "   updated_at = now()"
    " WHERE order_status_advances(orders.status, EXCLUDED.status)";

void ord_tx_change(ord_tx_t *tx, ord_change_t *ch, const char *posting, int64_t now_ms)
{
    int days = plus7_actors_cfg()->storage_days;
    ch->storage_ms = 0;
    if (ch->to == ORDER_AT_PICKUP_POINT) ch->storage_ms = notify_pickup_start(ch->at_ms, now_ms, days) + days * ORD_DAY_MS;
    ch->at_s = ord_tx_i64(tx, ch->at_ms);
    const char **p = ord_tx_add(tx, ord_sql_upsert, 6);
    if (!p) return;
    p[0] = posting;
    p[1] = order_status_code(ch->to);
    p[2] = ch->at_s;
    p[3] = ch->source;
    p[4] = ch->pickup;
    p[5] = ch->storage_ms ? ord_tx_i64(tx, ch->storage_ms) : NULL;
}

void ord_tx_announce(ord_tx_t *tx, const ord_change_t *ch, const char *posting, bool notify)
{
    const char *code = order_status_code(ch->to);
    ord_history(tx, posting, code, ch->source, ch->at_s, ch->event_id, ch->comment, true);
    /* the dashboard's live feed (web/web_dash_live.c): an applied change only, seen once committed */
    const char **p = ord_tx_add(tx,
        "SELECT pg_notify('plus7_live', json_build_object('type', 'order', 'order', json_build_object("
        "'posting', $1::text, 'status', $2::text, 'status_text', $3::text))::text) FROM orders g"
        " WHERE g.posting_number = $1 AND g.status = $2 AND g.status_at = to_timestamp($4::bigint / 1000.0)", 4);
    if (p) p[0] = posting, p[1] = code, p[2] = order_status_name_ru(ch->to), p[3] = ch->at_s;
    if (notify) ord_tx_notify(tx, posting, code, ch->to, ord_vars(tx, posting, ch->to, ch->pickup, ch->storage_ms), false);
}

void ord_tx_recipient(ord_tx_t *tx, const char *posting, const char *phone, const char *name)
{
    if (!phone && !name) return;
    const char **p = ord_tx_add(tx,
        "UPDATE orders SET recipient_phone = coalesce($2, recipient_phone), recipient_name = coalesce($3, recipient_name),"
        "       updated_at = now() WHERE posting_number = $1", 3);
    if (!p) return;
    p[0] = posting;
    p[1] = phone;
    p[2] = name;
}

void ord_tx_readback(ord_tx_t *tx, const char *posting)
{
    const char **p = ord_tx_add(tx,
        "SELECT status, (extract(epoch FROM status_at) * 1000)::bigint,"
        "       (extract(epoch FROM storage_until) * 1000)::bigint, storage_extended::text"
        "  FROM orders WHERE posting_number = $1", 1);
    if (p) p[0] = posting;
}
