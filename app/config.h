/* config.h — plus7d configuration: one struct, loaded once, passed down.
 *
 * Purpose: every PLUS7_* setting of docs/operations.md ("Configuration") plus the
 * service's own knobs, with defaults, read from an optional `--config FILE`
 * of KEY=value lines and from the environment. Precedence (twelve-factor):
 * built-in default < file < environment; an environment variable set to the
 * empty string counts as unset. Every value is validated at load time; the
 * first problem is reported as one line naming the variable, e.g.
 *   PLUS7_THREADS: expected an integer 1..256, got "abc"
 * and the caller exits with status 2.
 *
 * Exports: app_config_t, app_config_load, app_config_free, app_config_help,
 * enums app_tg_mode_t, app_sms_provider_t, app_crm_t.
 *
 * Threads: app_config_load/free on the main thread before anything starts;
 * the loaded struct is then read-only and may be read from any thread.
 */
#ifndef PLUS7_APP_CONFIG_H
#define PLUS7_APP_CONFIG_H

#include <stddef.h>
#include <stdio.h>

typedef enum { APP_TG_POLLING = 0, APP_TG_WEBHOOK = 1 } app_tg_mode_t;
typedef enum { APP_SMS_NONE = 0, APP_SMS_SMSRU = 1 } app_sms_provider_t;
typedef enum { APP_CRM_BUILTIN = 0, APP_CRM_BITRIX24 = 1 } app_crm_t;

/* All strings are owned by the struct (freed by app_config_free); an unset
 * optional string is NULL, never "". */
typedef struct app_config {
    char *db;                 /* PLUS7_DB: libpq conninfo */
    char *listen;             /* PLUS7_LISTEN as given ("127.0.0.1:8080") */
    char *listen_civetweb;    /* same, in civetweb listening_ports syntax */
    int threads;              /* PLUS7_THREADS: runtime workers */
    int web_threads;          /* PLUS7_WEB_THREADS: civetweb num_threads */
    int web_conns_per_addr;   /* PLUS7_WEB_CONNS_PER_ADDR: HTTP connections per client address */
    int web_db_conns;         /* PLUS7_WEB_DB_CONNS: web layer's sync pool */
    int pg_conns;             /* PLUS7_PG_CONNS: async connections per worker */
    int log_level;            /* PLUS7_LOG_LEVEL as RT_LOG_* */
    char *static_dir;         /* PLUS7_STATIC_DIR; NULL = dashboard files off */

    char *tg_token;           /* PLUS7_TG_TOKEN; NULL = Telegram off */
    char *tg_api;             /* PLUS7_TG_API, no trailing '/' */
    app_tg_mode_t tg_mode;    /* PLUS7_TG_MODE */
    char *tg_webhook_url;     /* PLUS7_TG_WEBHOOK_URL */
    char *tg_secret;          /* PLUS7_TG_SECRET */
    int tg_rate;              /* PLUS7_TG_RATE: messages per second overall */
    char *map_tiles;          /* PLUS7_MAP_TILES: the dashboard map's tile URL template */
    int courier_auto;         /* PLUS7_COURIER_AUTO: 1 = automatic assignment */
    int courier_capacity;     /* PLUS7_COURIER_CAPACITY: deliveries per courier per slot */
    int courier_tick_s;       /* PLUS7_COURIER_TICK_S: dispatcher round period */
    int courier_stale_s;      /* PLUS7_COURIER_STALE_S: quiet seconds before stale */
    int storage_extend_days;  /* PLUS7_STORAGE_EXTEND_DAYS: «Продлить хранение» adds, 1..60 */

    char *ozon_api;           /* PLUS7_OZON_API, no trailing '/' */
    char *ozon_client_id;     /* PLUS7_OZON_CLIENT_ID; NULL = Ozon off */
    char *ozon_api_key;       /* PLUS7_OZON_API_KEY */
    char *ozon_import_statuses;   /* PLUS7_OZON_IMPORT_STATUSES: comma list of Ozon statuses */
    char *ozon_delivery_methods;  /* PLUS7_OZON_DELIVERY_METHODS: comma list of ids; NULL = all */
    int ozon_import_interval_s;   /* PLUS7_OZON_IMPORT_INTERVAL_S: 0 = no periodic import */
    int ozon_rps;                 /* PLUS7_OZON_RPS: requests per second to Ozon, 1..50 */

    char *logistics_secret;   /* PLUS7_LOGISTICS_SECRET; NULL = endpoint off */
    char *logistics_out_url;  /* PLUS7_LOGISTICS_OUT_URL; NULL = outbound events wait in the outbox */
    int booking_cutoff_min;   /* PLUS7_BOOKING_CUTOFF_MIN: cancel/move until this long before the window */

    app_sms_provider_t sms_provider; /* PLUS7_SMS_PROVIDER */
    char *sms_api;            /* PLUS7_SMS_API, no trailing '/' */
    char *sms_key;            /* PLUS7_SMS_KEY */
    char *sms_sender;         /* PLUS7_SMS_SENDER: SMS.ru `from`; NULL = the account's default */

    app_crm_t crm;            /* PLUS7_CRM */
    char *bitrix24_webhook;   /* PLUS7_BITRIX24_WEBHOOK, no trailing '/' */

    /* payments (actors/payments/, docs/payments.md) */
    char *pay_provider_token; /* PLUS7_PAY_PROVIDER_TOKEN; NULL = no Telegram invoices */
    char *yk_api;             /* PLUS7_YOOKASSA_API, no trailing '/' */
    char *yk_shop_id;         /* PLUS7_YOOKASSA_SHOP_ID; NULL = no QR / СБП */
    char *yk_secret;          /* PLUS7_YOOKASSA_SECRET */
    char *yk_notify_from;     /* PLUS7_YOOKASSA_NOTIFY_FROM: comma-separated CIDRs */
    char *bank_name, *bank_account, *bank_bank, *bank_bic, *bank_corr, *bank_inn; /* PLUS7_PAY_BANK_* */
    /* pickup reminders and SMS (issue 7 item 8; parsed by config_notify) */
    int storage_days;         /* PLUS7_STORAGE_DAYS: days a parcel waits at the pickup point */
    char *remind_days_s;      /* PLUS7_REMIND_DAYS as given ("3,6") */
    int remind_days[4];       /* the same, ascending, 0-terminated */
    char *notify_hours_s;     /* PLUS7_NOTIFY_HOURS as given ("10-20") */
    int notify_from_h, notify_to_h; /* reminders and SMS only in [from, to) Moscow hours */
    char *sms_events;         /* PLUS7_SMS_EVENTS: events that may go out by SMS ("all" = every one) */

    char *public_url;         /* PLUS7_PUBLIC_URL, no trailing '/' */
    int report_hour;          /* PLUS7_REPORT_HOUR: daily report hour (Moscow), -1 = off */

    char *config_file;        /* the --config path, or NULL */
} app_config_t;

/* Load the configuration: defaults, then `file` (may be NULL) of KEY=value
 * lines, then the environment; validate everything. On success fills *cfg
 * (caller frees with app_config_free) and returns 0. On failure returns
 * RT_EINVAL with a one-line message naming the variable in err (no
 * "plus7d:" prefix, no newline) and leaves *cfg freed/zeroed.
 *
 * File syntax: one KEY=value per line; blank lines and lines whose first
 * non-blank character is '#' are ignored; an optional "export " prefix is
 * accepted; whitespace around KEY and value is trimmed; a value wrapped in
 * matching double or single quotes is unwrapped (no escapes are
 * interpreted; '#' inside a value is literal). Unknown keys are an error.
 * Main thread, before any other thread starts. */
int app_config_load(app_config_t *cfg, const char *file, char *err, size_t errlen);

/* Free every string owned by cfg and zero it. Idempotent. */
void app_config_free(app_config_t *cfg);

/* Print the settings table (name, default, meaning) for --help. */
void app_config_help(FILE *out);

#endif
