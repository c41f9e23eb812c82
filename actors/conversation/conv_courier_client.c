/* conv_courier_client.c — the client's side of a courier delivery.
 *
 * Purpose: one tap to a new delivery time. After a failed attempt the
 * client gets the free windows of their zone as buttons; «Будете дома?»
 * (sent by the dispatcher 1–2 hours before the window) offers «✅ Да» and
 * «📅 Перенести». Callbacks:
 *   cl:rs:<id>:<slot>:<YYYYMMDD>  move the delivery to that window
 *                                 (delivery_reschedule(): capacity checked)
 *   cl:hy:<id>                    «Да, буду»: thanked, nothing changes
 *   cl:hm:<id>                    «Перенести»: the free windows as buttons
 * Only the person who ordered the delivery may press them; a delivery the
 * courier already took on the way cannot be moved.
 *
 * Callbacks: "cl:". Exports: conv_feature_courier_client.
 * Threads: any (pure).
 */
#include "conv_courier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "tg_markup.h"

static const char cl_sql_reschedule[] =
    "SELECT delivery_reschedule($1::bigint, $2::int, to_date($3, 'YYYYMMDD'))";
/* The courier who had it learns it left their route. */
static const char cl_sql_tell_courier[] =
    "INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
    " SELECT c.tg_user_id, 'sendMessage',"
    "        json_build_object('chat_id', c.tg_user_id, 'text', $2::text, 'parse_mode', 'HTML')::text, 0,"
    "        'moved:' || $1 || ':' || d.card_gen"
    "   FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
    "  WHERE d.id = $1::bigint AND d.stage = 'assigned'"
    " ON CONFLICT (dedupe_key) DO NOTHING";

/* The lookup of the delivery's free windows, or RT_PENDING. */
static const conv_rows_t *cl_slots(const conv_ctx_t *ctx, conv_out_t *out, int64_t id)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)id);
    const conv_rows_t *s = conv_lookup_find(ctx, CONV_NEED_DELIVERY_SLOTS, key);
    if (!s) conv_need(out, CONV_NEED_DELIVERY_SLOTS, key);
    return s;
}

static bool cl_movable(const cc_delivery_t *d)
{
    return d->ordered && (strcmp(d->stage, "new") == 0 || strcmp(d->stage, "assigned") == 0 ||
                          strcmp(d->stage, "failed") == 0);
}

static int cl_reschedule(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const cc_delivery_t *d,
                         const char *rest)
{
    /* rest: "<slot>:<YYYYMMDD>" */
    char slot[16] = "", day[16] = "";
    const char *colon = strchr(rest, ':');
    if (!colon || colon - rest >= (long)sizeof slot || strlen(colon + 1) != 8) {
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    memcpy(slot, rest, (size_t)(colon - rest));
    snprintf(day, sizeof day, "%s", colon + 1);
    for (const char *p = slot; *p; p++)
        if (*p < '0' || *p > '9') { conv_answer_callback(out, u, text_get(T_CALLBACK_STALE)); return RT_OK; }
    for (const char *p = day; *p; p++)
        if (*p < '0' || *p > '9') { conv_answer_callback(out, u, text_get(T_CALLBACK_STALE)); return RT_OK; }
    const conv_rows_t *slots = cl_slots(ctx, out, d->id);
    if (!slots) return RT_PENDING;
    /* the window must be among the free ones the lookup sees now */
    const char *t_start = NULL, *t_end = NULL;
    for (int i = 0; slots->status == RT_OK && i < slots->nrows; i++) {
        const char *s = conv_rows_value(slots, i, "slot_id"), *dd = conv_rows_value(slots, i, "day");
        const char *cap = conv_rows_value(slots, i, "capacity"), *taken = conv_rows_value(slots, i, "taken");
        if (s && dd && strcmp(s, slot) == 0 && strcmp(dd, day) == 0 && cap && taken && atoi(taken) < atoi(cap)) {
            t_start = conv_rows_value(slots, i, "t_start");
            t_end = conv_rows_value(slots, i, "t_end");
        }
    }
    conv_answer_callback(out, u, NULL);
    if (!t_start) {
        cJSON *kb = cc_slot_keyboard(slots, d->id);
        conv_say(out, u->chat_id, text_get(kb ? T_CL_SLOT_FULL : T_CL_NO_SLOTS), kb);
        return RT_OK;
    }
    char id[24], msg[512], when[16];
    snprintf(id, sizeof id, "%lld", (long long)d->id);
    snprintf(msg, sizeof msg, text_get(T_CR_MOVED), d->posting);
    const char *tell[] = {id, msg};
    conv_sql(out, cl_sql_tell_courier, 2, tell);   /* before the move clears the courier */
    const char *params[] = {id, slot, day};
    conv_sql(out, cl_sql_reschedule, 3, params);
    if (d->courier_tg) cc_poke_courier(out, d->courier_tg);
    snprintf(when, sizeof when, "%.2s.%.2s.%.4s", day + 6, day + 4, day);
    snprintf(msg, sizeof msg, text_get(T_CL_RESCHEDULED), d->posting, when, t_start, t_end ? t_end : "");
    conv_say(out, u->chat_id, msg, NULL);
    return RT_OK;
}

static int cl_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out)
{
    if (u->kind != TG_UPD_CALLBACK) return RT_OK;   /* no steps of its own */
    const char *data = u->callback_data;
    bool rs = strncmp(data, "cl:rs:", 6) == 0, hy = strncmp(data, "cl:hy:", 6) == 0,
         hm = strncmp(data, "cl:hm:", 6) == 0;
    char *end = NULL;
    long long id = (rs || hy || hm) ? strtoll(data + 6, &end, 10) : 0;
    if (id <= 0 || !end || (rs ? *end != ':' : *end != '\0')) {
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    cc_delivery_t d;
    int rc = cc_delivery_get(ctx, out, id, &d);
    if (rc == RT_PENDING) return rc;
    if (rc != RT_OK || !d.ordered) {
        conv_answer_callback(out, u, text_get(T_CALLBACK_STALE));
        return RT_OK;
    }
    if (d.client_chat != u->chat_id) {   /* only the person who ordered it */
        conv_answer_callback(out, u, text_get(T_PK_NOT_OWNER));
        return RT_OK;
    }
    if (hy) {
        conv_answer_callback(out, u, text_get(T_CL_CB_DONE));
        conv_say(out, u->chat_id, text_get(T_CL_HOME_THANKS), NULL);
        return RT_OK;
    }
    if (!cl_movable(&d)) {
        conv_answer_callback(out, u, NULL);
        conv_say(out, u->chat_id, text_get(T_CL_MOVE_TOO_LATE), NULL);
        return RT_OK;
    }
    if (rs) return cl_reschedule(ctx, u, out, &d, end + 1);
    const conv_rows_t *slots = cl_slots(ctx, out, d.id);
    if (!slots) return RT_PENDING;
    conv_answer_callback(out, u, NULL);
    cJSON *kb = cc_slot_keyboard(slots, d.id);
    if (kb) conv_sayf(out, u->chat_id, T_CL_MOVE_PICK, d.posting, kb);
    else conv_say(out, u->chat_id, text_get(T_CL_NO_SLOTS), NULL);
    return RT_OK;
}

const conv_feature_t conv_feature_courier_client = {
    .name = "courier_client",
    .step_prefix = NULL,
    .callback_prefix = "cl:",
    .on_update = cl_on_update,
    .claims_button = NULL,
};
