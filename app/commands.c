/* commands.c — the table of plus7d commands (see commands.h for how to add one).
 *
 * Exports: app_commands, app_command_find, app_fail.
 * Threads: main thread.
 */
#include "commands.h"

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
