/* config.c — load and validate plus7d's configuration (see config.h).
 *
 * Purpose: one table lists every setting (name, default, help, parser);
 * loading fills raw strings from defaults, then the --config file, then the
 * environment, then parses each into app_config_t and finally checks the
 * settings that depend on each other (webhook mode needs a URL and a secret,
 * smsru needs a key, bitrix24 needs a webhook URL, Ozon needs both ids).
 * Secrets are never echoed back in error messages.
 *
 * Exports: app_config_load, app_config_free, app_config_help.
 * Threads: main thread only, before other threads start (uses getenv).
 */
#include "config.h"

#include "rt.h"
#include "rt_log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
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

typedef enum {
    CFG_STR,       /* any non-empty string */
    CFG_SECRET,    /* any non-empty string, never echoed */
    CFG_URL,       /* http:// or https:// URL; trailing '/' removed */
    CFG_SECRET_URL,/* URL holding a secret: never echoed */
    CFG_INT,       /* integer in [min, max] */
    CFG_LISTEN,    /* HOST:PORT */
    CFG_CONNINFO,  /* libpq conninfo */
    CFG_LEVEL,     /* log level name */
    CFG_TG_MODE,
    CFG_SMS,
    CFG_CRM,
    CFG_DIR,       /* existing directory */
    CFG_TG_TOKEN,  /* no whitespace, no '/', <= 256 */
    CFG_TG_SECRET, /* 1..256 of A-Za-z0-9_- (Bot API secret_token) */
    CFG_DIGITS,    /* 1..20 decimal digits */
} cfg_type_t;

typedef struct cfg_def {
    const char *name;
    cfg_type_t type;
    const char *dflt;    /* NULL = unset by default; "" = computed */
    const char *help;
    size_t off;          /* offset of the field in app_config_t */
    int min, max;        /* CFG_INT bounds */
} cfg_def_t;

#define F(field) offsetof(app_config_t, field)

static const cfg_def_t cfg_defs[] = {
    {"PLUS7_DB", CFG_CONNINFO, "dbname=plus7",
     "libpq connection string (./dev exports its own cluster's)", F(db), 0, 0},
    {"PLUS7_LISTEN", CFG_LISTEN, "127.0.0.1:8080",
     "HTTP address HOST:PORT (IPv4, [IPv6] or localhost)", F(listen), 0, 0},
    {"PLUS7_THREADS", CFG_INT, "", "runtime worker threads (default: number of cores)",
     F(threads), 1, 256},
    {"PLUS7_WEB_THREADS", CFG_INT, "128",
     "civetweb threads; must exceed Telegram max_connections + dashboard sockets",
     F(web_threads), 4, 1024},
    {"PLUS7_WEB_DB_CONNS", CFG_INT, "4",
     "synchronous PostgreSQL connections of the web layer", F(web_db_conns), 1, 64},
    {"PLUS7_PG_CONNS", CFG_INT, "1",
     "asynchronous PostgreSQL connections per runtime worker", F(pg_conns), 1, 8},
    {"PLUS7_LOG_LEVEL", CFG_LEVEL, "info", "debug, info, warn or error", F(log_level), 0, 0},
    {"PLUS7_STATIC_DIR", CFG_DIR, "",
     "dashboard files (default: web/static of the source tree, else the installed copy)",
     F(static_dir), 0, 0},
    {"PLUS7_TG_TOKEN", CFG_TG_TOKEN, NULL, "bot token (unset: Telegram off)", F(tg_token), 0, 0},
    {"PLUS7_TG_API", CFG_URL, "https://api.telegram.org",
     "Bot API base; requests go to {base}/bot{token}/{method}", F(tg_api), 0, 0},
    {"PLUS7_TG_MODE", CFG_TG_MODE, "polling", "polling or webhook", F(tg_mode), 0, 0},
    {"PLUS7_TG_WEBHOOK_URL", CFG_URL, NULL, "URL given to setWebhook (webhook mode)",
     F(tg_webhook_url), 0, 0},
    {"PLUS7_TG_SECRET", CFG_TG_SECRET, NULL,
     "X-Telegram-Bot-Api-Secret-Token checked on every webhook request (webhook mode)",
     F(tg_secret), 0, 0},
    {"PLUS7_TG_RATE", CFG_INT, "30", "overall outgoing Telegram messages per second",
     F(tg_rate), 1, 1000},
    {"PLUS7_STORAGE_EXTEND_DAYS", CFG_INT, "7",
     "days the pickup reminder's button «Продлить хранение» adds to the storage (once per parcel)",
     F(storage_extend_days), 1, 60},
    {"PLUS7_OZON_API", CFG_URL, "https://api-seller.ozon.ru", "Ozon Seller API base",
     F(ozon_api), 0, 0},
    {"PLUS7_OZON_CLIENT_ID", CFG_DIGITS, NULL, "Ozon Client-Id (unset: Ozon off)",
     F(ozon_client_id), 0, 0},
    {"PLUS7_OZON_API_KEY", CFG_SECRET, NULL, "Ozon Api-Key", F(ozon_api_key), 0, 0},
    {"PLUS7_OZON_IMPORT_STATUSES", CFG_STR, "awaiting_deliver,delivering,driver_pickup,delivered,cancelled",
     "Ozon statuses the periodic import asks for (comma-separated)", F(ozon_import_statuses), 0, 0},
    {"PLUS7_OZON_DELIVERY_METHODS", CFG_STR, NULL,
     "delivery_method ids the periodic import asks for (comma-separated; unset: all)",
     F(ozon_delivery_methods), 0, 0},
    {"PLUS7_OZON_IMPORT_INTERVAL_S", CFG_INT, "300",
     "seconds between periodic imports of Ozon postings (0: off)", F(ozon_import_interval_s), 0, 86400},
    {"PLUS7_OZON_RPS", CFG_INT, "20", "requests per second to the Ozon Seller API (Ozon allows 50)",
     F(ozon_rps), 1, 50},
    {"PLUS7_LOGISTICS_SECRET", CFG_SECRET, NULL,
     "HMAC-SHA256 key of the logistics webhook (unset: endpoint off)", F(logistics_secret), 0, 0},
    {"PLUS7_LOGISTICS_OUT_URL", CFG_URL, NULL,
     "where outbound logistics events are POSTed, signed with PLUS7_LOGISTICS_SECRET (unset: kept in the outbox)",
     F(logistics_out_url), 0, 0},
    {"PLUS7_BOOKING_CUTOFF_MIN", CFG_INT, "120",
     "minutes before its window until which a client may cancel or move a courier delivery",
     F(booking_cutoff_min), 1, 10080},
    {"PLUS7_SMS_PROVIDER", CFG_SMS, "none", "none or smsru", F(sms_provider), 0, 0},
    {"PLUS7_SMS_API", CFG_URL, "https://sms.ru", "SMS gateway base", F(sms_api), 0, 0},
    {"PLUS7_SMS_KEY", CFG_SECRET, NULL, "SMS gateway api_id (smsru)", F(sms_key), 0, 0},
    {"PLUS7_SMS_SENDER", CFG_STR, NULL, "SMS sender name approved by SMS.ru (unset: the account's default)",
     F(sms_sender), 0, 0},
    {"PLUS7_CRM", CFG_CRM, "builtin", "builtin or bitrix24", F(crm), 0, 0},
    {"PLUS7_BITRIX24_WEBHOOK", CFG_SECRET_URL, NULL,
     "Bitrix24 incoming webhook URL https://<portal>/rest/<user>/<code> (bitrix24)",
     F(bitrix24_webhook), 0, 0},
};

#define CFG_N (sizeof cfg_defs / sizeof cfg_defs[0])

static void cfg_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int cfg_find(const char *name)
{
    for (size_t i = 0; i < CFG_N; i++)
        if (strcmp(cfg_defs[i].name, name) == 0) return (int)i;
    return -1;
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
        const char *dflt = cfg_defs[idx].dflt;
        free(raw[idx]);
        raw[idx] = NULL;
        if (*val) raw[idx] = strdup(val);
        else if (dflt && *dflt) raw[idx] = strdup(dflt);
        if ((*val || (dflt && *dflt)) && !raw[idx]) {
            rc = RT_ENOMEM;
            cfg_err(err, errlen, "out of memory");
            break;
        }
    }
    fclose(f);
    return rc;
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

static int cfg_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > 256) n = 256;
    return (int)n;
}

static bool cfg_is_dir(const char *p)
{
    struct stat st;
    return p && *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Parse raw value v of setting d into cfg. */
static int cfg_parse_one(const cfg_def_t *d, const char *v, app_config_t *cfg,
                         char *err, size_t errlen)
{
    char shown[120];
    void *field = (char *)cfg + d->off;
    char **sp = (char **)field;
    int *ip = (int *)field;

    switch (d->type) {
    case CFG_STR:
    case CFG_SECRET:
        *sp = strdup(v);
        break;
    case CFG_URL:
    case CFG_SECRET_URL:
        if (!cfg_is_url(v)) {
            if (d->type == CFG_SECRET_URL)
                cfg_err(err, errlen, "%s: expected an http:// or https:// URL", d->name);
            else
                cfg_err(err, errlen, "%s: expected an http:// or https:// URL, got \"%s\"",
                        d->name, cfg_show(v, shown, sizeof shown));
            return RT_EINVAL;
        }
        *sp = strdup(v);
        if (*sp) {
            size_t n = strlen(*sp);
            while (n > 0 && (*sp)[n - 1] == '/') (*sp)[--n] = '\0';
        }
        break;
    case CFG_INT: {
        char *end = NULL;
        errno = 0;
        long x = strtol(v, &end, 10);
        if (!*v || errno || !end || *end || x < d->min || x > d->max) {
            cfg_err(err, errlen, "%s: expected an integer %d..%d, got \"%s\"", d->name,
                    d->min, d->max, cfg_show(v, shown, sizeof shown));
            return RT_EINVAL;
        }
        *ip = (int)x;
        break;
    }
    case CFG_LISTEN:
        cfg->listen_civetweb = cfg_parse_listen(v);
        if (!cfg->listen_civetweb) {
            cfg_err(err, errlen,
                    "%s: expected HOST:PORT (IPv4, [IPv6] or localhost; port 1..65535), got \"%s\"",
                    d->name, cfg_show(v, shown, sizeof shown));
            return RT_EINVAL;
        }
        *sp = strdup(v);
        break;
    case CFG_CONNINFO: {
        char *perr = NULL;
        PQconninfoOption *opts = PQconninfoParse(v, &perr);
        if (!opts) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s", perr ? perr : "cannot parse");
            for (char *p = msg; *p; p++) if (*p == '\n') *p = ' ';
            cfg_err(err, errlen, "%s: malformed libpq connection string: %s", d->name,
                    cfg_trim(msg));
            PQfreemem(perr);
            return RT_EINVAL;
        }
        PQconninfoFree(opts);
        *sp = strdup(v);
        break;
    }
    case CFG_LEVEL: {
        int lv = rt_log_level_parse(v);
        if (lv < 0) {
            cfg_err(err, errlen, "%s: expected one of debug, info, warn, error, got \"%s\"",
                    d->name, cfg_show(v, shown, sizeof shown));
            return RT_EINVAL;
        }
        *ip = lv;
        break;
    }
    case CFG_TG_MODE:
        if (strcmp(v, "polling") == 0) cfg->tg_mode = APP_TG_POLLING;
        else if (strcmp(v, "webhook") == 0) cfg->tg_mode = APP_TG_WEBHOOK;
        else {
            cfg_err(err, errlen, "%s: expected one of polling, webhook, got \"%s\"", d->name,
                    cfg_show(v, shown, sizeof shown));
            return RT_EINVAL;
        }
        break;
    case CFG_SMS:
        if (strcmp(v, "none") == 0) cfg->sms_provider = APP_SMS_NONE;
        else if (strcmp(v, "smsru") == 0) cfg->sms_provider = APP_SMS_SMSRU;
        else {
            cfg_err(err, errlen, "%s: expected one of none, smsru, got \"%s\"", d->name,
                    cfg_show(v, shown, sizeof shown));
            return RT_EINVAL;
        }
        break;
    case CFG_CRM:
        if (strcmp(v, "builtin") == 0) cfg->crm = APP_CRM_BUILTIN;
        else if (strcmp(v, "bitrix24") == 0) cfg->crm = APP_CRM_BITRIX24;
        else {
            cfg_err(err, errlen, "%s: expected one of builtin, bitrix24, got \"%s\"", d->name,
                    cfg_show(v, shown, sizeof shown));
            return RT_EINVAL;
        }
        break;
    case CFG_DIR:
        if (!cfg_is_dir(v)) {
            cfg_err(err, errlen, "%s: not a directory: \"%s\"", d->name,
                    cfg_show(v, shown, sizeof shown));
            return RT_EINVAL;
        }
        *sp = strdup(v);
        break;
    case CFG_TG_TOKEN:
        if (strlen(v) > 256 || strpbrk(v, "/?#% \t")) {
            cfg_err(err, errlen, "%s: malformed bot token (expected like 123456:ABC-DEF)", d->name);
            return RT_EINVAL;
        }
        *sp = strdup(v);
        break;
    case CFG_TG_SECRET:
        if (!cfg_charset(v, "_-", 256)) {
            cfg_err(err, errlen, "%s: expected 1..256 characters from A-Z a-z 0-9 _ -", d->name);
            return RT_EINVAL;
        }
        *sp = strdup(v);
        break;
    case CFG_DIGITS:
        if (!cfg_charset(v, "", 20) || strspn(v, "0123456789") != strlen(v)) {
            cfg_err(err, errlen, "%s: expected a number, got \"%s\"", d->name,
                    cfg_show(v, shown, sizeof shown));
            return RT_EINVAL;
        }
        *sp = strdup(v);
        break;
    }
    if ((d->type == CFG_STR || d->type == CFG_SECRET || d->type == CFG_URL ||
         d->type == CFG_SECRET_URL || d->type == CFG_LISTEN || d->type == CFG_CONNINFO ||
         d->type == CFG_DIR || d->type == CFG_TG_TOKEN || d->type == CFG_TG_SECRET ||
         d->type == CFG_DIGITS) && !*sp) {
        cfg_err(err, errlen, "out of memory");
        return RT_ENOMEM;
    }
    return RT_OK;
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
    return RT_OK;
}

/* Contract: see config.h. */
int app_config_load(app_config_t *cfg, const char *file, char *err, size_t errlen)
{
    char *raw[CFG_N] = {0};
    int rc = RT_OK;
    memset(cfg, 0, sizeof *cfg);
    if (errlen) err[0] = '\0';

    for (size_t i = 0; i < CFG_N && rc == RT_OK; i++)
        if (cfg_defs[i].dflt && *cfg_defs[i].dflt) {
            raw[i] = strdup(cfg_defs[i].dflt);
            if (!raw[i]) rc = RT_ENOMEM;
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
    for (size_t i = 0; i < CFG_N && rc == RT_OK; i++) {
        const cfg_def_t *d = &cfg_defs[i];
        if (raw[i]) {
            rc = cfg_parse_one(d, raw[i], cfg, err, errlen);
        } else if (d->dflt && !*d->dflt) {       /* computed defaults */
            if (d->off == F(threads)) cfg->threads = cfg_default_threads();
            else if (d->off == F(static_dir)) {
                const char *p = cfg_is_dir(PLUS7_STATIC_DEFAULT) ? PLUS7_STATIC_DEFAULT
                              : cfg_is_dir(PLUS7_STATIC_INSTALLED) ? PLUS7_STATIC_INSTALLED
                              : NULL;
                if (p && !(cfg->static_dir = strdup(p))) rc = RT_ENOMEM;
            }
        }
    }
    if (rc == RT_OK) rc = cfg_check_features(cfg, err, errlen);
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
                     &cfg->bitrix24_webhook, &cfg->config_file};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) free(*strs[i]);
    memset(cfg, 0, sizeof *cfg);
}

/* Contract: see config.h. */
void app_config_help(FILE *out)
{
    for (size_t i = 0; i < CFG_N; i++) {
        const cfg_def_t *d = &cfg_defs[i];
        char computed[PATH_MAX + 32];
        const char *dflt = !d->dflt ? "unset" : d->dflt;
        if (d->dflt && !*d->dflt) {
            if (d->off == F(threads))
                snprintf(computed, sizeof computed, "%d (cores)", cfg_default_threads());
            else
                snprintf(computed, sizeof computed, "%s",
                         cfg_is_dir(PLUS7_STATIC_DEFAULT) ? PLUS7_STATIC_DEFAULT
                         : cfg_is_dir(PLUS7_STATIC_INSTALLED) ? PLUS7_STATIC_INSTALLED
                         : "none found (dashboard off)");
            dflt = computed;
        }
        fprintf(out, "  %-24s %s\n  %-24s   default: %s\n", d->name, d->help, "", dflt);
    }
}
