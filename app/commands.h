/* commands.h — the plus7d command table.
 *
 * Purpose: `plus7d [--config FILE] [COMMAND [ARGS...]]` runs one command
 * from app_commands[] (commands.c); "serve" is the default. Each command
 * lives in its own file app/cmd_<name>.c and exports one app_command_t.
 *
 * To add a command (e.g. `plus7d role PHONE ROLE`):
 *   1. write app/cmd_role.c defining
 *        const app_command_t app_cmd_role = {"role", "PHONE ROLE",
 *            "set a user's role (client, courier, operator, admin)", cmd_role_run};
 *   2. add `extern const app_command_t app_cmd_role;` below and one line
 *      `&app_cmd_role,` to app_commands[] in commands.c;
 *   3. add 'cmd_role.c' to app_sources in app/meson.build.
 * run() gets the loaded configuration and the arguments after the command
 * name; it returns the process exit status: APP_EXIT_OK (0),
 * APP_EXIT_RUNTIME (1) or APP_EXIT_USAGE (2, usage/config error, after
 * printing one line with app_fail). Commands never call exit().
 *
 * Exports: app_command_t, app_commands, app_command_find, app_fail,
 * app_db_connect, APP_EXIT_*, APP_DB_CONNECT_MS.
 * Threads: main thread.
 */
#ifndef PLUS7_APP_COMMANDS_H
#define PLUS7_APP_COMMANDS_H

#include <libpq-fe.h>

#include "config.h"

enum { APP_EXIT_OK = 0, APP_EXIT_RUNTIME = 1, APP_EXIT_USAGE = 2 };

#define APP_DB_CONNECT_MS 10000   /* a command's database connection, at most */

typedef struct app_command {
    const char *name;     /* "migrate" */
    const char *args;     /* argument synopsis for --help, "" if none */
    const char *summary;  /* one line for --help */
    int (*run)(const app_config_t *cfg, int argc, char **argv);
} app_command_t;

extern const app_command_t app_cmd_serve;    /* cmd_serve.c */
extern const app_command_t app_cmd_migrate;  /* cmd_migrate.c */
extern const app_command_t app_cmd_role;     /* cmd_role.c */
extern const app_command_t app_cmd_seed;     /* cmd_seed.c */
extern const app_command_t app_cmd_template; /* cmd_template.c */
extern const app_command_t app_cmd_refund;   /* cmd_pay.c */
extern const app_command_t app_cmd_paid;     /* cmd_pay.c */
extern const app_command_t app_cmd_user;     /* cmd_user.c */

/* NULL-terminated, in --help order. */
extern const app_command_t *const app_commands[];

/* The command called `name`, or NULL. */
const app_command_t *app_command_find(const char *name);

/* Print "plus7d: <message>\n" to stderr and return `code` (for
 * `return app_fail(APP_EXIT_USAGE, "role: unknown role \"%s\"", r);`). */
int app_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Connect a command to `conninfo` within APP_DB_CONNECT_MS (web_pq_connect:
 * a bounded connect, TCP keepalives), as application_name "plus7d-<who>",
 * notices silenced. NULL after printing "plus7d: <who>: database: <why>"
 * with *exit_code = APP_EXIT_RUNTIME. The caller PQfinishes the result. */
PGconn *app_db_connect(const char *conninfo, const char *who, int *exit_code);

#endif
