/* wire.c — connect the modules (see wire.h).
 *
 * Purpose: translates the validated app_config_t into each module's own
 * configuration struct and registers kinds, routes and service actors.
 * Add a module's calls to the matching hook below.
 *
 * Exports: app_wire_runtime, app_wire_web, app_wire_started, app_wire_stopping.
 * Threads: main thread.
 */
#include "wire.h"

#include "conv_dashlink.h"
#include "conv_stats.h"
#include "lo_stats.h"
#include "msg_types.h"
#include "notify_stats.h"
#include "ozon_stats.h"
#include "plus7_actors.h"
#include "rt_log.h"
#include "rt_reminder.h"
#include "pay.h"
#include "pay_stats.h"
#include "web_dash.h"
#include "web_dash_live.h"
#include "web_dash_report.h"
#include "tg_gateway.h"
#include "web_builtin.h"
#include "web_logistics.h"
#include "web_pay_yookassa.h"
#include "web_tg_webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *g_bitrix_base;   /* "<webhook>/": plus7_actors wants the trailing '/' */

/* Contract: see wire.h. */
int app_wire_runtime(rt_runtime_t *rt, const app_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->bitrix24_webhook) {
        size_t n = strlen(cfg->bitrix24_webhook);
        g_bitrix_base = malloc(n + 2);
        if (!g_bitrix_base) {
            snprintf(err, errlen, "out of memory");
            return RT_ENOMEM;
        }
        memcpy(g_bitrix_base, cfg->bitrix24_webhook, n);
        memcpy(g_bitrix_base + n, "/", 2);
    }
    plus7_actors_cfg_t ac = {
        .tg_api = cfg->tg_api,
        .tg_token = cfg->tg_token,
        .tg_webhook = cfg->tg_mode == APP_TG_WEBHOOK,
        .tg_webhook_url = cfg->tg_webhook_url,
        .tg_secret = cfg->tg_secret,
        .tg_rate = cfg->tg_rate,
        .storage_extend_days = cfg->storage_extend_days,
        .courier_auto = cfg->courier_auto != 0,
        .courier_capacity = cfg->courier_capacity,
        .courier_tick_s = cfg->courier_tick_s,
        .courier_stale_s = cfg->courier_stale_s,
        .logistics_out_url = cfg->logistics_out_url,
        .logistics_secret = cfg->logistics_secret,
        .booking_cutoff_min = cfg->booking_cutoff_min,
        .crm = cfg->crm == APP_CRM_BITRIX24 ? PLUS7_CRM_BITRIX24 : PLUS7_CRM_BUILTIN,
        .bitrix24_webhook = g_bitrix_base,
        .poll_timeout_s = 25,
        .ozon_api = cfg->ozon_api,
        .ozon_client_id = cfg->ozon_client_id,
        .ozon_api_key = cfg->ozon_api_key,
        .ozon_statuses = cfg->ozon_import_statuses,
        .ozon_delivery_methods = cfg->ozon_delivery_methods,
        .ozon_import_interval_s = cfg->ozon_import_interval_s,
        .ozon_rps = cfg->ozon_rps,
        .sms_provider = cfg->sms_provider == APP_SMS_SMSRU ? PLUS7_SMS_SMSRU : PLUS7_SMS_NONE,
        .sms_api = cfg->sms_api,
        .sms_key = cfg->sms_key,
        .sms_sender = cfg->sms_sender,
        .storage_days = cfg->storage_days,
        .pickup_remind_days = {cfg->remind_days[0], cfg->remind_days[1], cfg->remind_days[2], cfg->remind_days[3]},
        .notify_from_h = cfg->notify_from_h,
        .notify_to_h = cfg->notify_to_h,
        .sms_events = cfg->sms_events,
    };
    conv_dashlink_set_public_url(cfg->public_url);   /* «🖥 Войти в панель» links */
    int rc = plus7_actors_register(rt, &ac);
    if (rc != RT_OK) {
        snprintf(err, errlen, "actors: register failed: %s", rt_strerror(rc));
        return rc;
    }
    pay_cfg_t pc = {   /* payments (actors/payments/pay.h) */
        .provider_token = cfg->pay_provider_token,
        .yk_api = cfg->yk_api,
        .yk_shop_id = cfg->yk_shop_id,
        .yk_secret = cfg->yk_secret,
        .bank = {cfg->bank_name, cfg->bank_account, cfg->bank_bank, cfg->bank_bic, cfg->bank_corr, cfg->bank_inn},
    };
    rc = pay_register(rt, &pc);
    if (rc != RT_OK) snprintf(err, errlen, "payments: register failed: %s", rt_strerror(rc));
    return rc;
}

/* Contract: see wire.h. Module routes go here. */
/* A manual assignment in the dashboard: the dispatcher sends the cards now. */
static void wire_wake_dispatcher(void *arg)
{
    const rt_kind_t *k = rt_kind_find(arg, "courier_dispatcher");
    msg_courier_poke_t p = {.unused = 0};
    if (k) rt_send_key_bounded(arg, k, "main", msg_courier_poke_new(&p));
}

int app_wire_web(rt_runtime_t *rt, const app_config_t *cfg, char *err, size_t errlen)
{
    int rc = RT_OK;
    if (cfg->tg_mode == APP_TG_WEBHOOK) {   /* config.c made sure the secret is set */
        rc = web_tg_webhook_register(rt, cfg->tg_secret);
        if (rc != RT_OK) {
            snprintf(err, errlen, "telegram webhook: %s", rt_strerror(rc));
            return rc;
        }
    }
    if (cfg->ozon_client_id) {              /* the Ozon gateway's plus7_ozon_* counters */
        rc = web_metrics_source_add(ozon_metrics_render);
        if (rc != RT_OK) {
            snprintf(err, errlen, "metrics: ozon: %s", rt_strerror(rc));
            return rc;
        }
    }
    if (cfg->logistics_out_url) {           /* plus7_logistics_out_* */
        rc = web_metrics_source_add(lo_metrics_render);
        if (rc != RT_OK) {
            snprintf(err, errlen, "metrics: logistics out: %s", rt_strerror(rc));
            return rc;
        }
    }
    rc = web_metrics_source_add(tg_gateway_metrics_render);   /* plus7_tg_* */
    if (rc != RT_OK) {
        snprintf(err, errlen, "metrics: telegram: %s", rt_strerror(rc));
        return rc;
    }
    rc = web_metrics_source_add(notify_metrics_render);   /* plus7_notify_* and plus7_sms_* */
    if (rc != RT_OK) {
        snprintf(err, errlen, "metrics: notify: %s", rt_strerror(rc));
        return rc;
    }
    rc = web_metrics_source_add(conv_metrics_render);   /* plus7_conv_* */
    if (rc != RT_OK) {
        snprintf(err, errlen, "metrics: conversation: %s", rt_strerror(rc));
        return rc;
    }
    web_dash_cfg_t dc = {.public_url = cfg->public_url, .report_hour = cfg->report_hour};
    if ((rc = web_dash_register(&dc)) != RT_OK) {   /* the dashboard API */
        snprintf(err, errlen, "dashboard: %s", rt_strerror(rc));
        return rc;
    }
    if (web_static_map_tiles(cfg->map_tiles) != RT_OK) {
        snprintf(err, errlen, "PLUS7_MAP_TILES: not an http(s) URL template with a plain host");
        return RT_EINVAL;
    }
    web_dash_couriers_cfg_t cc = {.tg_api = cfg->tg_api, .tg_token = cfg->tg_token, .map_tiles = cfg->map_tiles,
                                  .on_assigned = wire_wake_dispatcher, .arg = rt};
    if ((rc = web_dash_couriers_register(&cc)) != RT_OK) {   /* the couriers' map, load, assignment */
        snprintf(err, errlen, "dashboard: couriers: %s", rt_strerror(rc));
        return rc;
    }
    if ((rc = web_dash_payments_register()) != RT_OK) {   /* «Оплаты» */
        snprintf(err, errlen, "dashboard: payments: %s", rt_strerror(rc));
        return rc;
    }
    rc = web_metrics_source_add(pay_metrics_render);   /* plus7_pay_* */
    if (rc == RT_OK) rc = web_pay_yookassa_register(rt, cfg->yk_notify_from);   /* POST /payments/yookassa */
    if (rc != RT_OK) {
        snprintf(err, errlen, "payments: callback: %s", rt_strerror(rc));
        return rc;
    }
    if (cfg->logistics_secret) {            /* no secret: the endpoint is off (docs/operations.md) */
        rc = web_logistics_register(rt, cfg->logistics_secret);
        if (rc != RT_OK) {
            snprintf(err, errlen, "logistics webhook: %s", rt_strerror(rc));
            return rc;
        }
    }
    return rc;
}

/* The daily report's outbox rows are committed: wake the Telegram gateway. */
static void wire_kick_telegram(void *arg)
{
    msg_tg_kick_t k = {.max_id = 0};
    rt_send_key(arg, &tg_gateway_kind, "main", msg_tg_kick_new(&k));
}

/* Contract: see wire.h. */
int app_wire_started(rt_runtime_t *rt, const app_config_t *cfg, char *err, size_t errlen)
{
    int rc = rt_reminders_start(rt, 1000);   /* durable reminders (pickup reminders) */
    if (rc != RT_OK) {
        snprintf(err, errlen, "reminders: start failed: %s", rt_strerror(rc));
        return rc;
    }
    rc = plus7_actors_start(rt);
    if (rc == RT_OK) rc = pay_start(rt);   /* the payments' sweeper */
    if (rc != RT_OK) {
        snprintf(err, errlen, "actors: start failed: %s", rt_strerror(rc));
        return rc;
    }
    rc = web_dash_live_start(cfg->db);   /* the dashboard's websocket /api/live */
    if (rc != RT_OK) {
        snprintf(err, errlen, "dashboard live feed: %s", rt_strerror(rc));
        return rc;
    }
    if (cfg->report_hour >= 0) {   /* PLUS7_REPORT_HOUR: the daily XLSX to admins */
        rc = web_dash_report_start(cfg->db, cfg->report_hour, wire_kick_telegram, rt);
        if (rc != RT_OK) snprintf(err, errlen, "daily report: %s", rt_strerror(rc));
    }
    if (!cfg->tg_token) LOG_INFO("telegram_off", "reason=\"PLUS7_TG_TOKEN unset\"");
    return rc;
}

/* Contract: see wire.h. */
void app_wire_stopping(void)
{
    web_dash_report_stop();
    web_dash_live_stop();
}
