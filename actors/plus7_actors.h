/* plus7_actors.h — the application's actor kinds and how main wires them.
 *
 * Purpose: one entry point for app/ to register every kind with the
 * runtime and start the service actors, and the configuration the actors
 * need (a plain struct filled by app/ from its validated configuration, so
 * actors/ knows nothing of environment variables or civetweb).
 *
 * Exports: plus7_actors_cfg_t, plus7_actors_register, plus7_actors_start,
 * plus7_actors_cfg (read-only access for actors), the kinds.
 * Threads: register/start on the main thread; the kinds run on workers.
 */
#ifndef PLUS7_ACTORS_H
#define PLUS7_ACTORS_H

#include <stdbool.h>

#include "rt.h"

typedef enum plus7_crm_kind { PLUS7_CRM_BUILTIN = 0, PLUS7_CRM_BITRIX24 } plus7_crm_kind_t;
typedef enum plus7_sms_kind { PLUS7_SMS_NONE = 0, PLUS7_SMS_SMSRU } plus7_sms_kind_t;

typedef struct plus7_actors_cfg {
    const char *tg_api;          /* Bot API base, no trailing slash */
    const char *tg_token;        /* NULL/"" = Telegram off */
    bool tg_webhook;             /* webhook mode (else long polling) */
    const char *tg_webhook_url;
    const char *tg_secret;
    int tg_rate;                 /* overall outgoing messages per second */
    plus7_crm_kind_t crm;
    const char *bitrix24_webhook;/* base URL ending in '/' */
    int poll_timeout_s;          /* getUpdates long-poll timeout, default 25 */
    int storage_days;            /* days a parcel waits at the pickup point, default 7 */
    int pickup_remind_days[4];   /* reminder days after arrival, 0-terminated; default 3, 6 */
    int storage_extend_days;     /* «Продлить хранение» adds this many days, default 7 */
    bool courier_auto;           /* automatic assignment of deliveries to couriers */
    int courier_capacity;        /* deliveries per courier per slot, default 4 */
    int courier_tick_s;          /* dispatcher round period, default 10 */
    int courier_stale_s;         /* quiet seconds before a courier is stale, default 300 */
    plus7_sms_kind_t sms_provider; /* SMS fallback of notifications; NONE fails sms rows */
    const char *sms_api;         /* SMS gateway base, no trailing slash (requests go to {api}/sms/send) */
    const char *sms_key;         /* SMS.ru api_id */
    const char *sms_sender;      /* SMS.ru `from` (an approved sender name); NULL = the account's default */
    const char *ozon_api;        /* Seller API base, no trailing slash */
    const char *ozon_client_id;  /* NULL/"" = Ozon off (kind "ozon_gateway" not registered) */
    const char *ozon_api_key;
    const char *ozon_statuses;   /* import filter: comma list of Ozon statuses; NULL/"" = any */
    const char *ozon_delivery_methods; /* import filter: comma list of delivery_method ids; NULL/"" = all */
    int ozon_import_interval_s;  /* periodic import period; 0 = off */
    int ozon_rps;                /* requests/s to Ozon, 1..50; 0 = default 20 */
    const char *logistics_out_url; /* NULL/"" = outbound events wait (kind "logistics_out" not registered) */
    const char *logistics_secret;  /* signs outbound events (required with the URL) */
    int booking_cutoff_min;      /* cancel/move a delivery until this many minutes before its window */
    /* pickup reminders and SMS (actors/notify/notify_policy.h) */
    int notify_from_h, notify_to_h; /* reminders and SMS only in [from, to) Moscow hours; 0,0 = 10-20 */
    const char *sms_events;      /* comma list of events that may go by SMS, "all"; NULL = the default */
} plus7_actors_cfg_t;

/* Register every kind with `rt` (before rt_runtime_start). The config is
 * copied (strings duplicated). RT_OK or an RT_E* code. */
int plus7_actors_register(rt_runtime_t *rt, const plus7_actors_cfg_t *cfg);

/* Start the service actors (Telegram intake and gateway, CRM linker) after
 * rt_runtime_start. RT_OK or an RT_E* code. */
int plus7_actors_start(rt_runtime_t *rt);

/* The configuration given to plus7_actors_register. */
const plus7_actors_cfg_t *plus7_actors_cfg(void);

extern const rt_kind_t conv_kind;        /* key: chat id */
extern const rt_kind_t tg_gateway_kind;  /* key: "main" */
extern const rt_kind_t tg_intake_kind;   /* key: "main" */
extern const rt_kind_t crm_kind;         /* key: "main" */
extern const rt_kind_t order_kind;       /* key: posting number */
extern const rt_kind_t order_recovery_kind; /* key: "main"; runs once at start */
extern const rt_kind_t broadcast_kind;   /* key: broadcasts.id (actors/broadcast/) */
extern const rt_kind_t notifier_kind;    /* key: "main" (name PLUS7_KIND_NOTIFIER) */

/* Kinds other modules provide are found by name, so a module that is not
 * configured (Ozon without credentials) is simply absent: */
#define PLUS7_KIND_OZON "ozon_gateway"   /* key "main": ozon_fetch, ozon_push */
#define PLUS7_KIND_NOTIFIER "notifier"   /* key "main": notify_kick */
#define PLUS7_KIND_LOGISTICS_OUT "logistics_out"   /* key "main": lo_kick (actors/logistics_out) */
extern const rt_kind_t logistics_out_kind;

/* The dialog's after-commit poker (conv_poke), installed by
 * plus7_actors_register: "kind:key" → that actor's poke message. */
void plus7_conv_poker(void *rt, const char *arg);

/* Poke the conversation of chat_id (any thread). */
int plus7_conv_poke(rt_runtime_t *rt, long long chat_id, long long update_id);

#endif
