/* config.c — load and validate plus7d's configuration (see config.h).
 *
 * Purpose: one table lists every setting with its own parse function and
 * its default (a string, or a function computing it); loading fills raw
 * strings from the defaults, then the --config file, then the
 * environment, then runs each setting's parser on its raw string, and
 * finally checks the settings that depend on each other (webhook mode
 * needs a URL and a secret, smsru needs a key, bitrix24 needs a webhook
 * URL, Ozon needs both ids). Adding a setting is one table row (and a
 * field in config.h). Secrets are never echoed back in error messages;
 * the two webhook secrets must be at least 32 characters.
 *
 * Exports: app_config_load, app_config_free, app_config_help.
 * Threads: main thread only, before other threads start (uses getenv).
 */
#include "config.h"

#include "rt.h"
#include "rt_log.h"
#include "pay_qr.h"
#include "web_cidr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PLUS7_STATIC_DEFAULT
#define PLUS7_STATIC_DEFAULT ""
#endif
#ifndef PLUS7_STATIC_INSTALLED
#define PLUS7_STATIC_INSTALLED "/usr/local/share/plus7/static"
#endif

/* One setting. `parse` turns the raw text into the field at `off`
 * (writing a one-line error naming the setting on failure); `dflt` is the
 * raw default (NULL: unset), or `dflt_fn` computes it (NULL result:
 * unset); `arg` is the parser's parameter: bounds, the choices of an
 * enumeration, a minimum length. */
typedef struct cfg_def cfg_def_t;
typedef int (*cfg_parse_fn)(const cfg_def_t *d, const char *v, app_config_t *cfg,
                            char *err, size_t errlen);
typedef const char *(*cfg_default_fn)(char *buf, size_t cap);

typedef struct cfg_choice {
    const char *name;
    int value;
} cfg_choice_t;

struct cfg_def {
    const char *name;
    cfg_parse_fn parse;
    const char *dflt;
    cfg_default_fn dflt_fn;
    const char *help;
    size_t off;                   /* the field in app_config_t */
    int min, max;                 /* cfg_int bounds; cfg_secret/cfg_tg_secret minimum length */
    const cfg_choice_t *choices;  /* cfg_choice: NULL-terminated */
};

#define F(field) offsetof(app_config_t, field)
#define CFG_SECRET_MIN 32   /* PLUS7_TG_SECRET, PLUS7_LOGISTICS_SECRET */

/* ---- helpers and the parsers the table names ------------------------------- */

static void cfg_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static char *cfg_trim(char *s)
{
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

/* Quote a value for an error message, shortened, control bytes replaced. */
static const char *cfg_show(const char *v, char *buf, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; v[i] && j + 4 < cap; i++)
        buf[j++] = (unsigned char)v[i] < 0x20 ? '?' : v[i];
    if (strlen(v) > j) { buf[j++] = '.'; buf[j++] = '.'; buf[j++] = '.'; }
    buf[j] = '\0';
    return buf;
}

static bool cfg_is_url(const char *v)
{
    const char *rest = NULL;
    if (strncmp(v, "http://", 7) == 0) rest = v + 7;
    else if (strncmp(v, "https://", 8) == 0) rest = v + 8;
    if (!rest || !*rest || *rest == '/') return false;
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) return false;
    return true;
}

/* "HOST:PORT" -> civetweb listening_ports syntax; NULL when malformed. */
static char *cfg_parse_listen(const char *v)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v) return NULL;
    char host[64];
    size_t hl = (size_t)(colon - v);
    if (hl >= sizeof host) return NULL;
    memcpy(host, v, hl);
    host[hl] = '\0';
    const char *ps = colon + 1;
    if (!*ps || strlen(ps) > 5) return NULL;
    for (const char *p = ps; *p; p++) if (!isdigit((unsigned char)*p)) return NULL;
    long port = strtol(ps, NULL, 10);
    if (port < 1 || port > 65535) return NULL;

    char out[96];
    unsigned char addr[16];
    if (strcmp(host, "localhost") == 0) {
        snprintf(out, sizeof out, "127.0.0.1:%ld", port);
    } else if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, addr) != 1) return NULL;
        snprintf(out, sizeof out, "[%s]:%ld", host + 1, port);
    } else {
        if (inet_pton(AF_INET, host, addr) != 1) return NULL;
        snprintf(out, sizeof out, "%s:%ld", host, port);
    }
    return strdup(out);
}

static bool cfg_charset(const char *v, const char *extra, size_t maxlen)
{
    size_t n = strlen(v);
    if (n == 0 || n > maxlen) return false;
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(extra, *p)) return false;
    return true;
}

static const char *cfg_default_threads(char *buf, size_t cap)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(buf, cap, "%ld", n < 1 ? 1 : n > 256 ? 256 : n);
    return buf;
}

static bool cfg_is_dir(const char *p)
{
    struct stat st;
    return p && *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* web/static of the source tree for a build-tree binary, else the
 * installed copy, else none (dashboard off). */
static const char *cfg_default_static_dir(char *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return cfg_is_dir(PLUS7_STATIC_DEFAULT) ? PLUS7_STATIC_DEFAULT
         : cfg_is_dir(PLUS7_STATIC_INSTALLED) ? PLUS7_STATIC_INSTALLED
         : NULL;
}

/* Store a copy of v in the string field of d. */
static int cfg_set_str(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    char **sp = (char **)(void *)((char *)cfg + d->off);
    if (!(*sp = strdup(v))) {
        cfg_err(err, errlen, "out of memory");
        return RT_ENOMEM;
    }
    return RT_OK;
}

static void cfg_set_int(const cfg_def_t *d, app_config_t *cfg, int x)
{
    *(int *)(void *)((char *)cfg + d->off) = x;
}

/* Any non-empty string. */
static int cfg_str(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    return cfg_set_str(d, v, cfg, err, errlen);
}

/* A secret of at least d->min characters; never echoed. */
static int cfg_secret(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    if (strlen(v) < (size_t)d->min) {
        cfg_err(err, errlen, "%s: too short, expected at least %d characters", d->name, d->min);
        return RT_EINVAL;
    }
    return cfg_set_str(d, v, cfg, err, errlen);
}

/* An http:// or https:// URL, trailing '/' removed; `shown` echoes it. */
static int cfg_url_common(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err,
                          size_t errlen, bool shown)
{
    if (!cfg_is_url(v)) {
        char buf[120];
        if (shown)
            cfg_err(err, errlen, "%s: expected an http:// or https:// URL, got \"%s\"", d->name,
                    cfg_show(v, buf, sizeof buf));
        else
            cfg_err(err, errlen, "%s: expected an http:// or https:// URL", d->name);
        return RT_EINVAL;
    }
    int rc = cfg_set_str(d, v, cfg, err, errlen);
    if (rc == RT_OK) {
        char *u = *(char **)(void *)((char *)cfg + d->off);
        size_t n = strlen(u);
        while (n > 0 && u[n - 1] == '/') u[--n] = '\0';
    }
    return rc;
}

static int cfg_url(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    return cfg_url_common(d, v, cfg, err, errlen, true);
}

/* A URL holding a secret: never echoed. */
static int cfg_secret_url(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    return cfg_url_common(d, v, cfg, err, errlen, false);
}

/* An integer in [d->min, d->max]. */
static int cfg_int(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    char *end = NULL, shown[120];
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || errno || !end || *end || x < d->min || x > d->max) {
        cfg_err(err, errlen, "%s: expected an integer %d..%d, got \"%s\"", d->name, d->min, d->max,
                cfg_show(v, shown, sizeof shown));
        return RT_EINVAL;
    }
    cfg_set_int(d, cfg, (int)x);
    return RT_OK;
}

/* HOST:PORT; also fills listen_civetweb. */
static int cfg_listen(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    char shown[120];
    cfg->listen_civetweb = cfg_parse_listen(v);
    if (!cfg->listen_civetweb) {
        cfg_err(err, errlen, "%s: expected HOST:PORT (IPv4, [IPv6] or localhost; port 1..65535), got \"%s\"",
                d->name, cfg_show(v, shown, sizeof shown));
        return RT_EINVAL;
    }
    return cfg_set_str(d, v, cfg, err, errlen);
}

/* A libpq connection string. */
static int cfg_conninfo(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(v, &perr);
    if (!opts) {
        char msg[200];
        rt_log_value(msg, sizeof msg, perr ? perr : "cannot parse");
        cfg_err(err, errlen, "%s: malformed libpq connection string: %s", d->name, cfg_trim(msg));
        PQfreemem(perr);
        return RT_EINVAL;
    }
    PQconninfoFree(opts);
    return cfg_set_str(d, v, cfg, err, errlen);
}

/* A log level name. */
static int cfg_level(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    char shown[120];
    int lv = rt_log_level_parse(v);
    if (lv < 0) {
        cfg_err(err, errlen, "%s: expected one of debug, info, warn, error, got \"%s\"", d->name,
                cfg_show(v, shown, sizeof shown));
        return RT_EINVAL;
    }
    cfg_set_int(d, cfg, lv);
    return RT_OK;
}

/* One of d->choices, stored as its value. */
static int cfg_choice(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    char names[160] = "", shown[120];
    size_t n = 0;
    for (const cfg_choice_t *c = d->choices; c->name; c++) {
        if (strcmp(v, c->name) == 0) {
            cfg_set_int(d, cfg, c->value);
            return RT_OK;
        }
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", c->name);
        if (n >= sizeof names) n = sizeof names - 1;
    }
    cfg_err(err, errlen, "%s: expected one of %s, got \"%s\"", d->name, names,
            cfg_show(v, shown, sizeof shown));
    return RT_EINVAL;
}

/* An existing directory. */
static int cfg_dir(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    char shown[120];
    if (!cfg_is_dir(v)) {
        cfg_err(err, errlen, "%s: not a directory: \"%s\"", d->name, cfg_show(v, shown, sizeof shown));
        return RT_EINVAL;
    }
    return cfg_set_str(d, v, cfg, err, errlen);
}

/* A bot token: no whitespace, no URL syntax, at most 256 characters. */
static int cfg_tg_token(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    if (strlen(v) > 256 || strpbrk(v, "/?#% \t")) {
        cfg_err(err, errlen, "%s: malformed bot token (expected like 123456:ABC-DEF)", d->name);
        return RT_EINVAL;
    }
    return cfg_set_str(d, v, cfg, err, errlen);
}

/* The Bot API's secret_token alphabet, d->min..d->max characters; never echoed. */
static int cfg_tg_secret(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg_charset(v, "_-", (size_t)d->max) || strlen(v) < (size_t)d->min) {
        cfg_err(err, errlen, "%s: expected %d..%d characters from A-Z a-z 0-9 _ -", d->name,
                d->min, d->max);
        return RT_EINVAL;
    }
    return cfg_set_str(d, v, cfg, err, errlen);
}

/* 1..20 decimal digits. */
static int cfg_digits(const cfg_def_t *d, const char *v, app_config_t *cfg, char *err, size_t errlen)
{
    char shown[120];
    if (!cfg_charset(v, "", 20) || strspn(v, "0123456789") != strlen(v)) {
        cfg_err(err, errlen, "%s: expected a number, got \"%s\"", d->name, cfg_show(v, shown, sizeof shown));
        return RT_EINVAL;
    }
    return cfg_set_str(d, v, cfg, err, errlen);
}

/* ---- the settings ------------------------------------------------------------ */

static const cfg_choice_t cfg_tg_modes[] = {
    {"polling", APP_TG_POLLING}, {"webhook", APP_TG_WEBHOOK}, {NULL, 0}};
static const cfg_choice_t cfg_sms_providers[] = {
    {"none", APP_SMS_NONE}, {"smsru", APP_SMS_SMSRU}, {NULL, 0}};
static const cfg_choice_t cfg_crms[] = {
    {"builtin", APP_CRM_BUILTIN}, {"bitrix24", APP_CRM_BITRIX24}, {NULL, 0}};

static const cfg_def_t cfg_defs[] = {
    {.name = "PLUS7_DB", cfg_conninfo, "dbname=plus7", NULL,
     "libpq connection string (./dev exports its own cluster's)", F(db)},
    {.name = "PLUS7_LISTEN", cfg_listen, "127.0.0.1:8080", NULL,
     "HTTP address HOST:PORT (IPv4, [IPv6] or localhost)", F(listen)},
    {.name = "PLUS7_THREADS", cfg_int, NULL, cfg_default_threads,
     "runtime worker threads (default: number of cores)", F(threads), 1, 256},
    {.name = "PLUS7_WEB_THREADS", cfg_int, "128", NULL,
     "civetweb threads; must exceed Telegram max_connections + dashboard sockets",
     F(web_threads), 4, 1024},
    {.name = "PLUS7_WEB_CONNS_PER_ADDR", cfg_int, "64", NULL,
     "HTTP connections one client address may hold (keep it below PLUS7_WEB_THREADS)",
     F(web_conns_per_addr), 1, 1024},
    {.name = "PLUS7_WEB_DB_CONNS", cfg_int, "4", NULL,
     "synchronous PostgreSQL connections of the web layer", F(web_db_conns), 1, 64},
    {.name = "PLUS7_PG_CONNS", cfg_int, "1", NULL,
     "asynchronous PostgreSQL connections per runtime worker", F(pg_conns), 1, 8},
    {.name = "PLUS7_LOG_LEVEL", cfg_level, "info", NULL, "debug, info, warn or error", F(log_level)},
    {.name = "PLUS7_STATIC_DIR", cfg_dir, NULL, cfg_default_static_dir,
     "dashboard files (default: web/static of the source tree, else the installed copy)",
     F(static_dir)},
    {.name = "PLUS7_TG_TOKEN", cfg_tg_token, NULL, NULL, "bot token (unset: Telegram off)", F(tg_token)},
    {.name = "PLUS7_TG_API", cfg_url, "https://api.telegram.org", NULL,
     "Bot API base; requests go to {base}/bot{token}/{method}", F(tg_api)},
    {.name = "PLUS7_TG_MODE", cfg_choice, "polling", NULL, "polling or webhook", F(tg_mode),
     .choices = cfg_tg_modes},
    {.name = "PLUS7_TG_WEBHOOK_URL", cfg_url, NULL, NULL, "URL given to setWebhook (webhook mode)",
     F(tg_webhook_url)},
    {.name = "PLUS7_TG_SECRET", cfg_tg_secret, NULL, NULL,
     "X-Telegram-Bot-Api-Secret-Token checked on every webhook request (webhook mode; "
     "32..256 of A-Z a-z 0-9 _ -)", F(tg_secret), CFG_SECRET_MIN, 256},
    {.name = "PLUS7_TG_RATE", cfg_int, "30", NULL, "overall outgoing Telegram messages per second",
     F(tg_rate), 1, 1000},
    {.name = "PLUS7_STORAGE_EXTEND_DAYS", cfg_int, "7", NULL,
     "days the pickup reminder's button «Продлить хранение» adds to the storage (once per parcel)",
     F(storage_extend_days), 1, 60},
    {.name = "PLUS7_OZON_API", cfg_url, "https://api-seller.ozon.ru", NULL, "Ozon Seller API base",
     F(ozon_api)},
    {.name = "PLUS7_OZON_CLIENT_ID", cfg_digits, NULL, NULL, "Ozon Client-Id (unset: Ozon off)",
     F(ozon_client_id)},
    {.name = "PLUS7_OZON_API_KEY", cfg_secret, NULL, NULL, "Ozon Api-Key", F(ozon_api_key), 1},
    {.name = "PLUS7_OZON_IMPORT_STATUSES", cfg_str, "awaiting_deliver,delivering,driver_pickup,delivered,cancelled",
     NULL, "Ozon statuses the periodic import asks for (comma-separated)", F(ozon_import_statuses)},
    {.name = "PLUS7_OZON_DELIVERY_METHODS", cfg_str, NULL, NULL,
     "delivery_method ids the periodic import asks for (comma-separated; unset: all)",
     F(ozon_delivery_methods)},
    {.name = "PLUS7_OZON_IMPORT_INTERVAL_S", cfg_int, "300", NULL,
     "seconds between periodic imports of Ozon postings (0: off)", F(ozon_import_interval_s), 0, 86400},
    {.name = "PLUS7_OZON_RPS", cfg_int, "20", NULL,
     "requests per second to the Ozon Seller API (Ozon allows 50)", F(ozon_rps), 1, 50},
    {.name = "PLUS7_LOGISTICS_SECRET", cfg_secret, NULL, NULL,
     "HMAC-SHA256 key of the logistics webhook, at least 32 characters (unset: endpoint off)",
     F(logistics_secret), CFG_SECRET_MIN},
    {.name = "PLUS7_LOGISTICS_OUT_URL", cfg_url, NULL, NULL,
     "where outbound logistics events are POSTed, signed with PLUS7_LOGISTICS_SECRET (unset: kept in the outbox)",
     F(logistics_out_url)},
    {.name = "PLUS7_BOOKING_CUTOFF_MIN", cfg_int, "120", NULL,
     "minutes before its window until which a client may cancel or move a courier delivery",
     F(booking_cutoff_min), 1, 10080},
    {.name = "PLUS7_SMS_PROVIDER", cfg_choice, "none", NULL, "none or smsru", F(sms_provider),
     .choices = cfg_sms_providers},
    {.name = "PLUS7_SMS_API", cfg_url, "https://sms.ru", NULL, "SMS gateway base", F(sms_api)},
    {.name = "PLUS7_SMS_KEY", cfg_secret, NULL, NULL, "SMS gateway api_id (smsru)", F(sms_key), 1},
    {.name = "PLUS7_SMS_SENDER", cfg_str, NULL, NULL,
     "SMS sender name approved by SMS.ru (unset: the account's default)", F(sms_sender)},
    /* pickup reminders and SMS (issue 7 item 8), checked by cfg_check_notify */
    {.name = "PLUS7_STORAGE_DAYS", cfg_int, "7", NULL, "days a parcel waits at the pickup point",
     F(storage_days), 1, 60},
    {.name = "PLUS7_REMIND_DAYS", cfg_str, "3,6", NULL,
     "days after arrival at the pickup point when reminders go out (comma-separated, up to 4,"
     " each before the storage ends)", F(remind_days_s)},
    {.name = "PLUS7_NOTIFY_HOURS", cfg_str, "10-20", NULL,
     "Moscow hours FROM-TO in which pickup reminders and SMS go out (others wait for FROM)",
     F(notify_hours_s)},
    {.name = "PLUS7_SMS_EVENTS", cfg_str, "at_pickup_point,out_for_delivery,pickup_reminder", NULL,
     "events that may be sent by SMS: status codes, pickup_reminder, or all", F(sms_events)},
    {.name = "PLUS7_PUBLIC_URL", cfg_url, "http://127.0.0.1:8080", NULL,
     "the service's public base URL (dashboard sign-in links; https makes cookies Secure)", F(public_url)},
    {.name = "PLUS7_REPORT_HOUR", cfg_int, "-1", NULL,
     "hour (0..23, Europe/Moscow) of the daily XLSX report to admins in Telegram (-1: off)", F(report_hour), -1, 23},
    {.name = "PLUS7_MAP_TILES", cfg_url, "https://tile.openstreetmap.org/{z}/{x}/{y}.png", NULL,
     "tile URL template of the dashboard map ({z}, {x}, {y}; {s} subdomains allowed)", F(map_tiles)},
    {.name = "PLUS7_COURIER_AUTO", cfg_int, "1", NULL,
     "1: assign today's deliveries to couriers on shift automatically; 0: operators assign", F(courier_auto), 0, 1},
    {.name = "PLUS7_COURIER_CAPACITY", cfg_int, "4", NULL,
     "deliveries one courier takes per time slot (automatic assignment)", F(courier_capacity), 1, 100},
    {.name = "PLUS7_COURIER_TICK_S", cfg_int, "10", NULL, "seconds between rounds of the courier dispatcher",
     F(courier_tick_s), 1, 3600},
    {.name = "PLUS7_COURIER_STALE_S", cfg_int, "300", NULL,
     "seconds without a live-location point before a courier on shift is stale", F(courier_stale_s), 5, 3600},
    {.name = "PLUS7_CRM", cfg_choice, "builtin", NULL, "builtin or bitrix24", F(crm), .choices = cfg_crms},
    {.name = "PLUS7_BITRIX24_WEBHOOK", cfg_secret_url, NULL, NULL,
     "Bitrix24 incoming webhook URL https://<portal>/rest/<user>/<code> (bitrix24)",
     F(bitrix24_webhook)},
    /* payments (docs/payments.md); cross-checks in cfg_check_payments */
    {.name = "PLUS7_PAY_PROVIDER_TOKEN", cfg_secret, NULL, NULL,
     "Telegram Payments provider token (YooKassa's, from BotFather): invoices are offered when set",
     F(pay_provider_token), 1},
    {.name = "PLUS7_YOOKASSA_API", cfg_url, "https://api.yookassa.ru/v3", NULL, "YooKassa API base", F(yk_api)},
    {.name = "PLUS7_YOOKASSA_SHOP_ID", cfg_digits, NULL, NULL, "YooKassa shopId: QR / СБП is offered when set",
     F(yk_shop_id)},
    {.name = "PLUS7_YOOKASSA_SECRET", cfg_secret, NULL, NULL, "YooKassa secret key", F(yk_secret), 1},
    {.name = "PLUS7_YOOKASSA_NOTIFY_FROM", cfg_str,
     "185.71.76.0/27,185.71.77.0/27,77.75.153.0/25,77.75.154.128/25,77.75.156.11,77.75.156.35,2a02:5180::/32",
     NULL, "comma-separated CIDRs from which /payments/yookassa accepts notifications", F(yk_notify_from)},
    {.name = "PLUS7_PAY_BANK_NAME", cfg_str, NULL, NULL, "bank QR (GOST R 56042-2014): payee name", F(bank_name)},
    {.name = "PLUS7_PAY_BANK_ACCOUNT", cfg_str, NULL, NULL, "bank QR: payee account (20 characters)",
     F(bank_account)},
    {.name = "PLUS7_PAY_BANK_BANK", cfg_str, NULL, NULL, "bank QR: bank name", F(bank_bank)},
    {.name = "PLUS7_PAY_BANK_BIC", cfg_str, NULL, NULL, "bank QR: BIC (9 digits)", F(bank_bic)},
    {.name = "PLUS7_PAY_BANK_CORR", cfg_str, NULL, NULL, "bank QR: correspondent account (20 characters)",
     F(bank_corr)},
    {.name = "PLUS7_PAY_BANK_INN", cfg_str, NULL, NULL, "bank QR: payee INN (10 or 12 digits)", F(bank_inn)},
};

#define CFG_N (sizeof cfg_defs / sizeof cfg_defs[0])

static int cfg_find(const char *name)
{
    for (size_t i = 0; i < CFG_N; i++)
        if (strcmp(cfg_defs[i].name, name) == 0) return (int)i;
    return -1;
}

/* The raw default of d (computed by d->dflt_fn into buf if it has one),
 * or NULL when the setting is unset by default. */
static const char *cfg_default(const cfg_def_t *d, char *buf, size_t cap)
{
    return d->dflt_fn ? d->dflt_fn(buf, cap) : d->dflt;
}

/* Read the KEY=value file into raw[] (replacing defaults). */
static int cfg_read_file(const char *path, char **raw, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cfg_err(err, errlen, "--config %s: %s", path, strerror(errno));
        return RT_EINVAL;
    }
    char line[8192];
    int lineno = 0, rc = RT_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f)) {
            cfg_err(err, errlen, "--config %s:%d: line too long", path, lineno);
            rc = RT_EINVAL;
            break;
        }
        char *s = cfg_trim(line);
        if (*s == '\0' || *s == '#') continue;
        if (strncmp(s, "export", 6) == 0 && isspace((unsigned char)s[6])) s = cfg_trim(s + 6);
        char *eq = strchr(s, '=');
        if (!eq) {
            cfg_err(err, errlen, "--config %s:%d: expected KEY=value", path, lineno);
            rc = RT_EINVAL;
            break;
        }
        *eq = '\0';
        char *key = cfg_trim(s), *val = cfg_trim(eq + 1);
        int idx = cfg_find(key);
        if (idx < 0) {
            char shown[80];
            cfg_err(err, errlen, "--config %s:%d: unknown setting \"%s\"", path, lineno,
                    cfg_show(key, shown, sizeof shown));
            rc = RT_EINVAL;
            break;
        }
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        }
        /* KEY= (empty) means "the default", as an empty environment variable does */
        char buf[32];
        const char *dflt = cfg_default(&cfg_defs[idx], buf, sizeof buf);
        free(raw[idx]);
        raw[idx] = NULL;
        if (*val) raw[idx] = strdup(val);
        else if (dflt) raw[idx] = strdup(dflt);
        if ((*val || dflt) && !raw[idx]) {
            rc = RT_ENOMEM;
            cfg_err(err, errlen, "out of memory");
            break;
        }
    }
    fclose(f);
    return rc;
}

/* A comma-separated list of 1..max items, each of 1..64 characters from
 * `charset` (surrounding blanks allowed). */
static bool cfg_list_ok(const char *v, const char *charset, int max)
{
    int n = 0;
    for (const char *p = v;; p++) {
        size_t len = strcspn(p, ","), a = 0, b = len;
        while (a < b && p[a] == ' ') a++;
        while (b > a && p[b - 1] == ' ') b--;
        if (b == a || b - a > 64 || ++n > max) return false;
        for (size_t i = a; i < b; i++)
            if (!strchr(charset, p[i])) return false;
        p += len;
        if (!*p) return true;
    }
}

/* Payments: YooKassa needs both credentials, the allow-list must parse,
 * the bank QR needs all six details and valid ones. */
static int cfg_check_payments(const app_config_t *c, char *err, size_t errlen)
{
    if (!!c->yk_shop_id != !!c->yk_secret) {
        cfg_err(err, errlen, "%s: required when %s is set", c->yk_shop_id ? "PLUS7_YOOKASSA_SECRET" : "PLUS7_YOOKASSA_SHOP_ID",
                c->yk_shop_id ? "PLUS7_YOOKASSA_SHOP_ID" : "PLUS7_YOOKASSA_SECRET");
        return RT_EINVAL;
    }
    web_cidr_list_t l;
    char bad[96];
    if (web_cidr_parse(c->yk_notify_from, &l, bad, sizeof bad) != RT_OK) {
        cfg_err(err, errlen, "PLUS7_YOOKASSA_NOTIFY_FROM: expected CIDRs separated by commas, got \"%s\"", bad);
        return RT_EINVAL;
    }
    web_cidr_free(&l);
    const char *bank[] = {c->bank_name, c->bank_account, c->bank_bank, c->bank_bic, c->bank_corr, c->bank_inn};
    static const char *const names[] = {"NAME", "ACCOUNT", "BANK", "BIC", "CORR", "INN"};
    int set = 0;
    for (int i = 0; i < 6; i++) set += bank[i] != NULL;
    for (int i = 0; set && i < 6; i++)
        if (!bank[i]) {
            cfg_err(err, errlen, "PLUS7_PAY_BANK_%s: required when another PLUS7_PAY_BANK_* is set", names[i]);
            return RT_EINVAL;
        }
    pay_gost_t g = {c->bank_name, c->bank_account, c->bank_bank, c->bank_bic, c->bank_corr, c->bank_inn};
    const char *field = NULL;
    if (set && pay_gost_check(&g, &field) != RT_OK) {
        static const char *const fields[] = {"name", "account", "bank", "bic", "corr", "inn"};
        const char *which = "NAME";
        for (int i = 0; i < 6; i++) if (field && strcmp(field, fields[i]) == 0) which = names[i];
        cfg_err(err, errlen, "PLUS7_PAY_BANK_%s: not valid for a GOST R 56042-2014 QR", which);
        return RT_EINVAL;
    }
    return RT_OK;
}

/* PLUS7_REMIND_DAYS, PLUS7_NOTIFY_HOURS, PLUS7_SMS_EVENTS: parse into c. */
static int cfg_check_notify(app_config_t *c, char *err, size_t errlen)
{
    char shown[120];
    int n = 0, prev = 0;
    for (const char *p = c->remind_days_s; p && *p;) {
        char *end = NULL;
        long d = strtol(p, &end, 10);
        if (end == p || d <= prev || d >= c->storage_days || n == 4 || (*end && *end != ',')) {
            cfg_err(err, errlen, "PLUS7_REMIND_DAYS: expected up to 4 ascending days below PLUS7_STORAGE_DAYS (%d),"
                    " like 3,6, got \"%s\"", c->storage_days, cfg_show(c->remind_days_s, shown, sizeof shown));
            return RT_EINVAL;
        }
        c->remind_days[n++] = prev = (int)d;
        p = *end ? end + 1 : end;
    }
    int from = -1, to = -1, used = 0;
    if (!c->notify_hours_s || sscanf(c->notify_hours_s, "%d-%d%n", &from, &to, &used) != 2 ||
        c->notify_hours_s[used] || from < 0 || to > 24 || from >= to) {
        cfg_err(err, errlen, "PLUS7_NOTIFY_HOURS: expected FROM-TO Moscow hours with 0 <= FROM < TO <= 24,"
                " like 10-20, got \"%s\"", cfg_show(c->notify_hours_s ? c->notify_hours_s : "", shown, sizeof shown));
        return RT_EINVAL;
    }
    c->notify_from_h = from;
    c->notify_to_h = to;
    if (!c->sms_events || !cfg_list_ok(c->sms_events, "abcdefghijklmnopqrstuvwxyz_", 16)) {
        cfg_err(err, errlen, "PLUS7_SMS_EVENTS: expected event names separated by commas"
                " (e.g. at_pickup_point,pickup_reminder) or all, got \"%s\"",
                cfg_show(c->sms_events ? c->sms_events : "", shown, sizeof shown));
        return RT_EINVAL;
    }
    return RT_OK;
}

/* Settings that only make sense together. */
static int cfg_check_features(const app_config_t *c, char *err, size_t errlen)
{
    char shown[120];
    if (c->ozon_import_statuses &&
        !cfg_list_ok(c->ozon_import_statuses, "abcdefghijklmnopqrstuvwxyz_", 32)) {
        cfg_err(err, errlen, "PLUS7_OZON_IMPORT_STATUSES: expected Ozon statuses separated by commas"
                " (e.g. awaiting_deliver,delivering), got \"%s\"",
                cfg_show(c->ozon_import_statuses, shown, sizeof shown));
        return RT_EINVAL;
    }
    if (c->ozon_delivery_methods && !cfg_list_ok(c->ozon_delivery_methods, "0123456789", 256)) {
        cfg_err(err, errlen, "PLUS7_OZON_DELIVERY_METHODS: expected numeric delivery_method ids separated"
                " by commas, got \"%s\"", cfg_show(c->ozon_delivery_methods, shown, sizeof shown));
        return RT_EINVAL;
    }
    if (c->tg_mode == APP_TG_WEBHOOK) {
        if (!c->tg_webhook_url) {
            cfg_err(err, errlen, "PLUS7_TG_WEBHOOK_URL: required when PLUS7_TG_MODE=webhook");
            return RT_EINVAL;
        }
        if (!c->tg_secret) {
            cfg_err(err, errlen, "PLUS7_TG_SECRET: required when PLUS7_TG_MODE=webhook");
            return RT_EINVAL;
        }
    }
    if (c->sms_provider == APP_SMS_SMSRU && !c->sms_key) {
        cfg_err(err, errlen, "PLUS7_SMS_KEY: required when PLUS7_SMS_PROVIDER=smsru");
        return RT_EINVAL;
    }
    if (c->crm == APP_CRM_BITRIX24 && !c->bitrix24_webhook) {
        cfg_err(err, errlen, "PLUS7_BITRIX24_WEBHOOK: required when PLUS7_CRM=bitrix24");
        return RT_EINVAL;
    }
    if (c->logistics_out_url && !c->logistics_secret) {
        cfg_err(err, errlen, "PLUS7_LOGISTICS_SECRET: required when PLUS7_LOGISTICS_OUT_URL is set"
                " (outbound events are signed with it)");
        return RT_EINVAL;
    }
    if (c->ozon_client_id && !c->ozon_api_key) {
        cfg_err(err, errlen, "PLUS7_OZON_API_KEY: required when PLUS7_OZON_CLIENT_ID is set");
        return RT_EINVAL;
    }
    if (c->ozon_api_key && !c->ozon_client_id) {
        cfg_err(err, errlen, "PLUS7_OZON_CLIENT_ID: required when PLUS7_OZON_API_KEY is set");
        return RT_EINVAL;
    }
    return cfg_check_payments(c, err, errlen);
}

/* Contract: see config.h. */
int app_config_load(app_config_t *cfg, const char *file, char *err, size_t errlen)
{
    char *raw[CFG_N] = {0};
    int rc = RT_OK;
    memset(cfg, 0, sizeof *cfg);
    if (errlen) err[0] = '\0';

    for (size_t i = 0; i < CFG_N && rc == RT_OK; i++) {
        char buf[32];
        const char *dflt = cfg_default(&cfg_defs[i], buf, sizeof buf);
        if (dflt && !(raw[i] = strdup(dflt))) rc = RT_ENOMEM;
    }
    if (rc == RT_OK && file) {
        cfg->config_file = strdup(file);
        rc = cfg_read_file(file, raw, err, errlen);
    }
    for (size_t i = 0; i < CFG_N && rc == RT_OK; i++) {
        const char *e = getenv(cfg_defs[i].name);
        if (e && *e) {
            free(raw[i]);
            raw[i] = strdup(e);
            if (!raw[i]) rc = RT_ENOMEM;
        }
    }
    for (size_t i = 0; i < CFG_N && rc == RT_OK; i++)
        if (raw[i]) rc = cfg_defs[i].parse(&cfg_defs[i], raw[i], cfg, err, errlen);
    if (rc == RT_OK) rc = cfg_check_features(cfg, err, errlen);
    if (rc == RT_OK) rc = cfg_check_notify(cfg, err, errlen);
    if (rc == RT_ENOMEM && errlen && !err[0]) cfg_err(err, errlen, "out of memory");
    for (size_t i = 0; i < CFG_N; i++) free(raw[i]);
    if (rc != RT_OK) {
        app_config_free(cfg);
        return RT_EINVAL;
    }
    return RT_OK;
}

/* Contract: see config.h. */
void app_config_free(app_config_t *cfg)
{
    if (!cfg) return;
    char **strs[] = {&cfg->db, &cfg->listen, &cfg->listen_civetweb, &cfg->static_dir,
                     &cfg->tg_token, &cfg->tg_api, &cfg->tg_webhook_url, &cfg->tg_secret,
                     &cfg->ozon_api, &cfg->ozon_client_id, &cfg->ozon_api_key,
                     &cfg->ozon_import_statuses, &cfg->ozon_delivery_methods,
                     &cfg->logistics_secret, &cfg->logistics_out_url, &cfg->sms_api, &cfg->sms_key, &cfg->sms_sender,
                     &cfg->bitrix24_webhook, &cfg->config_file, &cfg->public_url,
                     &cfg->pay_provider_token, &cfg->yk_api, &cfg->yk_shop_id, &cfg->yk_secret,
                     &cfg->yk_notify_from, &cfg->bank_name, &cfg->bank_account, &cfg->bank_bank,
                     &cfg->bank_bic, &cfg->bank_corr, &cfg->bank_inn,
                     &cfg->remind_days_s, &cfg->notify_hours_s, &cfg->sms_events, &cfg->map_tiles};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) free(*strs[i]);
    memset(cfg, 0, sizeof *cfg);
}

/* Contract: see config.h. */
void app_config_help(FILE *out)
{
    for (size_t i = 0; i < CFG_N; i++) {
        const cfg_def_t *d = &cfg_defs[i];
        char buf[32];
        const char *dflt = cfg_default(d, buf, sizeof buf);
        fprintf(out, "  %-24s %s\n  %-24s   default: %s\n", d->name, d->help, "", dflt ? dflt : "unset");
    }
}
