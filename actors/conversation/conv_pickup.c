/* conv_pickup.c — the buttons under a pickup reminder.
 *
 * Purpose: a parcel waits at the pickup point; the reminder (queued by the
 * order actor, sent by the notifier) carries three buttons:
 *   «Продлить хранение» pk:ext:<posting> — once per posting: moves
 *       orders.storage_until by conv_pickup_extend_days() days
 *       (PLUS7_STORAGE_EXTEND_DAYS) and, in the same statement, moves the
 *       posting's pending pickup reminders (runtime_reminders kind 'order',
 *       key posting, names pickup_*) by as much, so they follow the new
 *       date; an audit_log row records who extended it, and the outbound
 *       logistics event storage.extended is queued (logistics_outbox,
 *       sql/014; sent by actors/logistics_out). The statement's
 *       condition (storage_extended = false) makes a second press — or two
 *       owners pressing at once — change nothing; the dialog says
 *       "already extended" when its lookup saw the flag set.
 *   «Доставить курьером» pk:cur:<posting> — starts the delivery form with
 *       the posting chosen (conv_form_start).
 *   «Оформить возврат» pk:ret:<posting> — records a return request
 *       (return_requests, one per posting, reason 'not_collected'), queues
 *       the outbound event return.requested, and
 *       cancels the posting's remaining pickup reminders; an operator
 *       contacts the person (returns proper are a later module).
 * Every press is answered. Each first checks, with the CONV_NEED_ORDER
 * lookup, that the posting is still at the pickup point and that the
 * sender is its owner (phone = the Ozon customer or addressee phone, or
 * they ordered its delivery — as in tracking), and with CONV_NEED_PICKUP
 * whether it was extended / a return requested.
 *
 * Steps: none. Callbacks: "pk:ext:", "pk:cur:", "pk:ret:" + posting.
 * Exports: conv_feature_pickup, conv_pickup_set_extend_days,
 * conv_pickup_extend_days.
 * Threads: any (pure); the setter on the main thread before workers start.
 */
#include "conv_pickup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_form.h"
#include "conv_watch.h"
#include "order_status.h"
#include "posting.h"
#include "rt.h"
#include "tg_markup.h"
#include "timefmt.h"

#define PK_DAY_MS 86400000LL

/* Written once by the main thread before the workers start (thread
 * creation orders it before every read); read-only afterwards. */
static int pk_extend_days = 7;

void conv_pickup_set_extend_days(int days)
{
    if (days >= 1 && days <= 60) pk_extend_days = days;
}

int conv_pickup_extend_days(void) { return pk_extend_days; }

static const char pk_sql_extend[] =
    "WITH e AS (UPDATE orders SET storage_until = coalesce(storage_until, now()) + make_interval(days => $2::int),"
    "                  storage_extended = true, updated_at = now()"
    "            WHERE posting_number = $1 AND status = 'at_pickup_point' AND NOT storage_extended"
    "            RETURNING posting_number, storage_until),"
    "     a AS (INSERT INTO audit_log (actor, action, object_type, object_id, details)"
    "           SELECT 'tg:' || $3, 'storage_extended', 'order', e.posting_number,"
    "                  jsonb_build_object('days', $2::int, 'storage_until', e.storage_until) FROM e),"
    "     l AS (INSERT INTO logistics_outbox (event_id, posting_number, type, payload)"
    "           SELECT 'storage.extended:' || e.posting_number, e.posting_number, 'storage.extended',"
    "                  lo_event('storage.extended:' || e.posting_number, 'storage.extended', e.posting_number,"
    "                           jsonb_build_object('storage_until', to_char(e.storage_until AT TIME ZONE 'UTC',"
    "                                                  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'days', $2::int))"
    "             FROM e ON CONFLICT (event_id) DO NOTHING)"
    " UPDATE runtime_reminders r SET due_at = r.due_at + make_interval(days => $2::int), gen = r.gen + 1,"
    "        fired_at = NULL, attempts = 0"
    "   FROM e WHERE r.kind = 'order' AND r.key = e.posting_number AND r.name LIKE 'pickup\\_%'";

static const char pk_sql_return[] =
    "WITH i AS (INSERT INTO return_requests (posting_number, tg_user_id, reason)"
    "           VALUES ($1, $2::bigint, 'not_collected')"
    "           ON CONFLICT (posting_number) DO NOTHING RETURNING id, posting_number),"
    "     l AS (INSERT INTO logistics_outbox (event_id, posting_number, type, payload)"
    "           SELECT 'return.requested:' || i.posting_number, i.posting_number, 'return.requested',"
    "                  lo_event('return.requested:' || i.posting_number, 'return.requested', i.posting_number,"
    "                           jsonb_build_object('return_request_id', i.id, 'reason', 'not_collected',"
    "                                              'phone', u.phone, 'name', u.first_name))"
    "             FROM i LEFT JOIN users u ON u.tg_user_id = $2::bigint"
    "           ON CONFLICT (event_id) DO NOTHING)"
    " DELETE FROM runtime_reminders r USING i"
    "  WHERE r.kind = 'order' AND r.key = i.posting_number AND r.name LIKE 'pickup\\_%'";


static bool pk_true(const conv_rows_t *r, const char *col)
{
    const char *v = conv_rows_value(r, 0, col);
    return v && (strcmp(v, "t") == 0 || strcmp(v, "true") == 0);
}

/* The storage date as Moscow time, "" when unknown. */
static void pk_date(const char *ms, int64_t plus_ms, char *out, size_t outsz)
{
    out[0] = '\0';
    if (ms && *ms) timefmt_msk(strtoll(ms, NULL, 10) + plus_ms, out, outsz);
}

static int pk_extend(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting,
                     const conv_rows_t *p)
{
    char when[40], msg[512];
    const char *until = conv_rows_value(p, 0, "storage_until_ms");
    if (pk_true(p, "storage_extended")) {
        conv_answer_callback(out, u, NULL);
        int n = snprintf(msg, sizeof msg, text_get(T_PK_ALREADY_EXTENDED), posting);
        pk_date(until, 0, when, sizeof when);
        if (when[0] && n > 0 && (size_t)n < sizeof msg) {
            msg[n++] = ' ';
            snprintf(msg + n, sizeof msg - (size_t)n, text_get(T_PK_STORAGE_UNTIL), when);
        }
        conv_say(out, u->chat_id, msg, NULL);
        return RT_OK;
    }
    int days = conv_pickup_extend_days();
    char days_s[16], uid[24];
    snprintf(days_s, sizeof days_s, "%d", days);
    snprintf(uid, sizeof uid, "%lld", (long long)ctx->tg_user_id);
    const char *params[] = {posting, days_s, uid};
    conv_sql(out, pk_sql_extend, 3, params);
    out->kick_logistics = true;   /* the statement queued storage.extended */
    conv_answer_callback(out, u, text_get(T_PK_CB_EXTENDED));
    pk_date(until, days * PK_DAY_MS, when, sizeof when);
    if (when[0]) snprintf(msg, sizeof msg, text_get(T_PK_EXTENDED), posting, when);
    else snprintf(msg, sizeof msg, text_get(T_PK_EXTENDED_DAYS), posting, days);
    conv_say(out, u->chat_id, msg, NULL);
    return RT_OK;
}

static int pk_return(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting,
                     const conv_rows_t *p)
{
    if (pk_true(p, "return_requested")) {
        conv_answer_callback(out, u, NULL);
        conv_sayf(out, u->chat_id, T_PK_RETURN_EXISTS, posting, NULL);
        return RT_OK;
    }
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)ctx->tg_user_id);
    const char *params[] = {posting, uid};
    conv_sql(out, pk_sql_return, 2, params);
    out->kick_logistics = true;   /* the statement queued return.requested */
    conv_answer_callback(out, u, text_get(T_PK_CB_RETURN));
    conv_sayf(out, u->chat_id, T_PK_RETURN_DONE, posting, NULL);
    return RT_OK;
}

static int pk_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (u->kind != TG_UPD_CALLBACK) return RT_OK;   /* no steps of its own */
    const char *d = u->callback_data;
    const char *posting = strlen(d) > 7 ? d + 7 : "";
    bool ext = strncmp(d, "pk:ext:", 7) == 0, cur = strncmp(d, "pk:cur:", 7) == 0,
         ret = strncmp(d, "pk:ret:", 7) == 0;
    if (!(ext || cur || ret) || !posting_is_valid(posting)) {
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    const conv_rows_t *o = conv_lookup_find(ctx, CONV_NEED_ORDER, posting);
    const conv_rows_t *p = conv_lookup_find(ctx, CONV_NEED_PICKUP, posting);
    if (!o || !p) {
        if (!o) conv_need(out, CONV_NEED_ORDER, posting);
        if (!p) conv_need(out, CONV_NEED_PICKUP, posting);
        return RT_PENDING;
    }
    if (o->status == RT_ENOTFOUND || (o->status == RT_OK && o->nrows == 0)) {
        conv_answer_callback(out, u, NULL);
        conv_sayf(out, u->chat_id, T_TRACK_NOT_FOUND, posting, NULL);
        return RT_OK;
    }
    if (o->status != RT_OK || p->status != RT_OK || p->nrows == 0) {
        conv_answer_callback(out, u, NULL);
        conv_sayf(out, u->chat_id, T_PK_UNAVAILABLE, posting, NULL);
        return RT_OK;
    }
    if (conv_order_owner(ctx, o) != CONV_OWNER_YES) {
        conv_answer_callback(out, u, text_get(T_PK_NOT_OWNER));
        return RT_OK;
    }
    order_status_t st = ORDER_NONE;
    order_status_parse(conv_rows_value(o, 0, "status"), &st);
    if (st != ORDER_AT_PICKUP_POINT) {
        conv_answer_callback(out, u, NULL);
        conv_sayf(out, u->chat_id, T_PK_NOT_AT_PICKUP, posting, NULL);
        return RT_OK;
    }
    if (ext) return pk_extend(ctx, u, out, posting, p);
    if (ret) return pk_return(ctx, u, out, posting, p);
    return conv_form_start(ctx, u, out, posting);   /* answers the callback itself */
}

const conv_feature_t conv_feature_pickup = {
    .name = "pickup",
    .step_prefix = NULL,
    .callback_prefix = "pk:",
    .on_update = pk_on_update,
    .claims_button = NULL,
};
