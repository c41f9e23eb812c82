/* cmd_template.c — `plus7d template list [EVENT]` and
 * `plus7d template set EVENT CHANNEL TEXT`: the notification templates.
 *
 * Purpose: read and edit notify_templates (sql/006_notify.sql). `set`
 * checks the text before saving: every {placeholder} must be a known name
 * (tpl_check; an unknown one is refused naming it, exit 2), braces must
 * balance, a Telegram text must be HTML Telegram accepts (tpl_check_html),
 * and an SMS text longer than two SMS parts with typical values gets a
 * warning. "\n" in TEXT stands for a line break. The notifier reads the
 * templates with every notification, so a change applies to the next one.
 *
 * Exports: app_cmd_template.
 * Threads: main thread; no runtime is started (blocking libpq is fine).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "commands.h"
#include "notify_render.h"
#include "rt.h"
#include "smsru.h"
#include "template.h"

#define TPLCMD_USAGE "template: usage: plus7d template list [EVENT] | plus7d template set EVENT CHANNEL TEXT"

static const char *const tplcmd_events[] = {"created", "accepted", "in_transit", "at_pickup_point",
                                            "out_for_delivery", "delivered", "returned", "cancelled",
                                            "pickup_reminder"};

static bool tplcmd_event_ok(const char *e)
{
    size_t n = strlen(e);
    if (n == 0 || n > 64 || !islower((unsigned char)e[0])) return false;
    for (const char *p = e; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_') return false;
    return true;
}

static bool tplcmd_event_sent(const char *e)
{
    for (size_t i = 0; i < sizeof tplcmd_events / sizeof tplcmd_events[0]; i++)
        if (strcmp(tplcmd_events[i], e) == 0) return true;
    return notify_reminder_days(e) > 0;
}

static PGconn *tplcmd_connect(const app_config_t *cfg, int *rc)
{
    return app_db_connect(cfg->db, "template", rc);
}

static int tplcmd_list(const app_config_t *cfg, int argc, char **argv)
{
    if (argc > 1) return app_fail(APP_EXIT_USAGE, TPLCMD_USAGE);
    int rc = APP_EXIT_OK;
    PGconn *db = tplcmd_connect(cfg, &rc);
    if (!db) return rc;
    const char *params[] = {argc == 1 ? argv[0] : NULL};
    PGresult *r = PQexecParams(db,
                               "SELECT event, channel, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS TZH'), body"
                               "  FROM notify_templates WHERE $1::text IS NULL OR event = $1"
                               " ORDER BY event, channel",
                               1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = app_fail(APP_EXIT_RUNTIME, "template: %s", PQresultErrorMessage(r));
    } else {
        for (int i = 0; i < PQntuples(r); i++) {
            printf("%s %s (updated %s)\n  ", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
            for (const char *p = PQgetvalue(r, i, 3); *p; p++) {
                putchar(*p);
                if (*p == '\n') fputs("  ", stdout);
            }
            putchar('\n');
        }
        if (PQntuples(r) == 0 && argc == 1) printf("no templates for event %s\n", argv[0]);
    }
    PQclear(r);
    PQfinish(db);
    return rc;
}

/* TEXT with "\n" turned into line breaks (malloc'd). */
static char *tplcmd_unescape(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    if (!out) return NULL;
    size_t j = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '\\' && s[i + 1] == 'n') { out[j++] = '\n'; i++; }
        else out[j++] = s[i];
    }
    out[j] = '\0';
    return out;
}

/* Parts of an SMS text rendered with typical (long-ish) values. */
static int tplcmd_sms_parts(const char *body)
{
    static const tpl_var_t sample[] = {
        {"posting", "12345678-0001-1"}, {"status", "Прибыл в пункт выдачи"},
        {"pickup_point", "ПВЗ Донецк, ул. Артёма, 120"}, {"storage_deadline", "26.11.2026 14:14"},
        {"name", "Мария"}, {"slot", "27.11 10:00–12:00"}, {"address", "Донецк, ул. Артёма, д. 120, кв. 45"},
        {"price", "350 ₽"}, {"comment", ""}, {"days", "3"}};
    char *text = tpl_render(body, sample, (int)(sizeof sample / sizeof sample[0]), false);
    if (!text) return 0;
    tpl_tidy(text);
    int parts = smsru_parts(text);
    free(text);
    return parts;
}

static int tplcmd_set(const app_config_t *cfg, int argc, char **argv)
{
    if (argc != 3) return app_fail(APP_EXIT_USAGE, TPLCMD_USAGE);
    const char *event = argv[0], *channel = argv[1];
    if (!tplcmd_event_ok(event))
        return app_fail(APP_EXIT_USAGE, "template: bad event \"%s\" (lower-case letters, digits, _; e.g. in_transit)",
                        event);
    if (strcmp(channel, "telegram") != 0 && strcmp(channel, "sms") != 0)
        return app_fail(APP_EXIT_USAGE, "template: unknown channel \"%s\" (telegram or sms)", channel);
    char *body = tplcmd_unescape(argv[2]);
    if (!body) return app_fail(APP_EXIT_RUNTIME, "template: out of memory");
    char bad[128];
    tpl_problem_t problem = TPL_OK;
    int rc = APP_EXIT_OK;
    if (!*body) {
        rc = app_fail(APP_EXIT_USAGE, "template: empty text");
    } else if (tpl_check_ex(body, bad, sizeof bad, &problem) != RT_OK) {
        if (problem == TPL_UNKNOWN_NAME)
            rc = app_fail(APP_EXIT_USAGE, "template: unknown placeholder {%s} (known: %s)", bad, tpl_known_list());
        else
            rc = app_fail(APP_EXIT_USAGE, "template: %s", bad);
    } else if (strcmp(channel, "telegram") == 0 && tpl_check_html(body, bad, sizeof bad) != RT_OK) {
        rc = app_fail(APP_EXIT_USAGE, "template: Telegram HTML: %s", bad);
    }
    if (rc != APP_EXIT_OK) {
        free(body);
        return rc;
    }
    if (strcmp(channel, "sms") == 0) {
        int parts = tplcmd_sms_parts(body);
        if (parts > 2)
            fprintf(stderr, "plus7d: template: note: with typical values this SMS takes %d parts (keep it to 2)\n",
                    parts);
    }
    if (!tplcmd_event_sent(event))
        fprintf(stderr, "plus7d: template: note: notifications never use event \"%s\" (mass messages may)\n", event);
    PGconn *db = tplcmd_connect(cfg, &rc);
    if (!db) {
        free(body);
        return rc;
    }
    const char *params[] = {event, channel, body};
    PGresult *r = PQexecParams(db,
                               "INSERT INTO notify_templates (event, channel, body) VALUES ($1, $2, $3)"
                               " ON CONFLICT (event, channel) DO UPDATE SET body = EXCLUDED.body, updated_at = now()",
                               3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) rc = app_fail(APP_EXIT_RUNTIME, "template: %s", PQresultErrorMessage(r));
    else printf("template %s/%s saved\n", event, channel);
    PQclear(r);
    PQfinish(db);
    free(body);
    return rc;
}

static int cmd_template_run(const app_config_t *cfg, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "list") == 0) return tplcmd_list(cfg, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "set") == 0) return tplcmd_set(cfg, argc - 1, argv + 1);
    return app_fail(APP_EXIT_USAGE, TPLCMD_USAGE);
}

const app_command_t app_cmd_template = {
    "template", "list [EVENT] | set EVENT CHANNEL TEXT",
    "show or change a notification template (channels telegram, sms; {placeholders} checked)",
    cmd_template_run,
};
