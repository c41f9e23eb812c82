/* plus7_actors.c — registering the application's kinds and starting the
 * service actors (see plus7_actors.h).
 * Exports: plus7_actors_register, plus7_actors_start, plus7_actors_cfg.
 * Threads: main thread (register/start); plus7_actors_cfg from any thread
 * after registration (the copy is never modified afterwards).
 */
#include "plus7_actors.h"

#include <stdlib.h>
#include <string.h>

#include "conv_dialog.h"
#include "conv_booking.h"
#include "conv_pickup.h"
#include "courier_internal.h"
#include "msg_types.h"
#include "notify_policy.h"
#include "ozon_gateway.h"

static plus7_actors_cfg_t plus7_cfg;

static const char *plus7_dup(const char *s) { return s ? strdup(s) : NULL; }

const plus7_actors_cfg_t *plus7_actors_cfg(void) { return &plus7_cfg; }

int plus7_actors_register(rt_runtime_t *rt, const plus7_actors_cfg_t *cfg)
{
    plus7_cfg = *cfg;
    plus7_cfg.tg_api = plus7_dup(cfg->tg_api ? cfg->tg_api : "https://api.telegram.org");
    plus7_cfg.tg_token = plus7_dup(cfg->tg_token);
    plus7_cfg.tg_webhook_url = plus7_dup(cfg->tg_webhook_url);
    plus7_cfg.tg_secret = plus7_dup(cfg->tg_secret);
    plus7_cfg.bitrix24_webhook = plus7_dup(cfg->bitrix24_webhook);
    plus7_cfg.ozon_api = plus7_dup(cfg->ozon_api ? cfg->ozon_api : "https://api-seller.ozon.ru");
    plus7_cfg.ozon_client_id = plus7_dup(cfg->ozon_client_id);
    plus7_cfg.ozon_api_key = plus7_dup(cfg->ozon_api_key);
    plus7_cfg.ozon_statuses = plus7_dup(cfg->ozon_statuses);
    plus7_cfg.ozon_delivery_methods = plus7_dup(cfg->ozon_delivery_methods);
    if (plus7_cfg.ozon_rps <= 0) plus7_cfg.ozon_rps = 20;
    if (plus7_cfg.ozon_rps > 50) plus7_cfg.ozon_rps = 50;      /* Ozon's limit per Client-Id */
    plus7_cfg.sms_api = plus7_dup(cfg->sms_api ? cfg->sms_api : "https://sms.ru");
    plus7_cfg.sms_key = plus7_dup(cfg->sms_key);
    plus7_cfg.sms_sender = plus7_dup(cfg->sms_sender);
    plus7_cfg.logistics_out_url = plus7_dup(cfg->logistics_out_url);
    plus7_cfg.logistics_secret = plus7_dup(cfg->logistics_secret);
    bool lo_on = plus7_cfg.logistics_out_url && *plus7_cfg.logistics_out_url && plus7_cfg.logistics_secret;
    if (plus7_cfg.tg_rate <= 0) plus7_cfg.tg_rate = 30;
    if (plus7_cfg.storage_days <= 0) plus7_cfg.storage_days = 7;
    if (plus7_cfg.pickup_remind_days[0] <= 0) {
        plus7_cfg.pickup_remind_days[0] = 3;
        plus7_cfg.pickup_remind_days[1] = 6;
        plus7_cfg.pickup_remind_days[2] = 0;
    }
    if (plus7_cfg.notify_to_h <= plus7_cfg.notify_from_h) {
        plus7_cfg.notify_from_h = 10;
        plus7_cfg.notify_to_h = 20;
    }
    plus7_cfg.sms_events = plus7_dup(cfg->sms_events);
    int prc = notify_policy_set(plus7_cfg.notify_from_h, plus7_cfg.notify_to_h, plus7_cfg.sms_events);
    if (prc != RT_OK) return prc;
    if (plus7_cfg.storage_extend_days <= 0) plus7_cfg.storage_extend_days = 7;
    if (plus7_cfg.courier_capacity <= 0) plus7_cfg.courier_capacity = 4;
    if (plus7_cfg.courier_tick_s <= 0) plus7_cfg.courier_tick_s = 10;
    if (plus7_cfg.courier_stale_s <= 0) plus7_cfg.courier_stale_s = 300;
    conv_pickup_set_extend_days(plus7_cfg.storage_extend_days);   /* before any worker runs the dialog */
    conv_set_poker(plus7_conv_poker);                             /* the dialog's after-commit pokes */
    if (cfg->booking_cutoff_min > 0) conv_booking_set_cutoff_min(cfg->booking_cutoff_min);
    int brc = rt_kind_register(rt, &broadcast_kind);              /* mass messages; started by reminders */
    if (brc != RT_OK) return brc;
    const rt_kind_t *kinds[] = {&conv_kind, &tg_gateway_kind, &tg_intake_kind, &crm_kind, &order_kind, &order_recovery_kind, &notifier_kind,
                                &courier_kind, &courier_dispatcher_kind};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        int rc = rt_kind_register(rt, kinds[i]);
        if (rc != RT_OK) return rc;
    }
    if (plus7_cfg.ozon_client_id && *plus7_cfg.ozon_client_id) {   /* Ozon configured */
        int rc = rt_kind_register(rt, &ozon_gateway_kind);
        if (rc != RT_OK) return rc;
    }
    if (lo_on) {                                                   /* outbound logistics events */
        int rc = rt_kind_register(rt, &logistics_out_kind);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

int plus7_actors_start(rt_runtime_t *rt)
{
    msg_crm_link_t l = {0};
    int rc = rt_send_key(rt, &crm_kind, "main", msg_crm_link_new(&l));
    if (rc != RT_OK) return rc;
    msg_order_poke_t op = {0};                                     /* replay stored logistics events */
    rc = rt_send_key(rt, &order_recovery_kind, "main", msg_order_poke_new(&op));
    if (rc != RT_OK) return rc;
    msg_notify_kick_t nk = {.id = 0, .tg_failed = false};         /* replay pending notifications */
    rc = rt_send_key(rt, &notifier_kind, "main", msg_notify_kick_new(&nk));
    if (rc != RT_OK) return rc;
    msg_courier_poke_t cp = {0};                                   /* the dispatcher's rounds */
    rc = rt_send_key(rt, &courier_dispatcher_kind, "main", msg_courier_poke_new(&cp));
    if (rc != RT_OK) return rc;
    if (plus7_cfg.ozon_client_id && *plus7_cfg.ozon_client_id) {   /* load state, schedule the import */
        msg_ozon_kick_t ok = {.import_now = false};
        rc = rt_send_key(rt, &ozon_gateway_kind, "main", msg_ozon_kick_new(&ok));
        if (rc != RT_OK) return rc;
    }
    if (rt_kind_find(rt, PLUS7_KIND_LOGISTICS_OUT)) {              /* send what waits in the outbox */
        msg_lo_kick_t lk = {0};
        rc = rt_send_key(rt, &logistics_out_kind, "main", msg_lo_kick_new(&lk));
        if (rc != RT_OK) return rc;
    }
    if (!plus7_cfg.tg_token || !*plus7_cfg.tg_token) return RT_OK;   /* Telegram off */
    msg_tg_kick_t k = {0};
    rc = rt_send_key(rt, &tg_gateway_kind, "main", msg_tg_kick_new(&k));
    if (rc != RT_OK) return rc;
    msg_conv_poke_t p = {0};
    return rt_send_key(rt, &tg_intake_kind, "main", msg_conv_poke_new(&p));
}
