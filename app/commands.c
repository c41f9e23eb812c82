/* commands.c — the table of plus7d commands (see commands.h for how to add one).
 *
 * Exports: app_commands, app_command_find, app_fail, app_db_connect.
 * Threads: main thread.
 */
#include "commands.h"

#include "web_pq.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One line per command; the first is the default. */
const app_command_t *const app_commands[] = {
    &app_cmd_serve,
    &app_cmd_migrate,
    &app_cmd_role,
    &app_cmd_seed,
    &app_cmd_template,
    &app_cmd_refund,
    &app_cmd_paid,
    &app_cmd_user,
    NULL,
};

/* Contract: see commands.h. */
const app_command_t *app_command_find(const char *name)
{
    for (int i = 0; app_commands[i]; i++)
        if (strcmp(app_commands[i]->name, name) == 0) return app_commands[i];
    return NULL;
}

/* Contract: see commands.h. */
int app_fail(int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "plus7d: %s\n", msg);
    fflush(stderr);
    return code;
}

static void app_db_quiet(void *arg, const char *message) { (void)arg; (void)message; }

/* Contract: see commands.h. */
PGconn *app_db_connect(const char *conninfo, const char *who, int *exit_code)
{
    char err[512];
    char app_name[64];
    snprintf(app_name, sizeof app_name, "plus7d-%s", who);
    PGconn *db = web_pq_connect(conninfo, app_name, APP_DB_CONNECT_MS, err, sizeof err);
    if (!db) {
        *exit_code = app_fail(APP_EXIT_RUNTIME, "%s: database: %s", who, err);
        return NULL;
    }
    PQsetNoticeProcessor(db, app_db_quiet, NULL);
    return db;
}
