/* cmd_migrate.c — `plus7d migrate`: apply the embedded SQL migrations.
 *
 * Purpose: runs app_migrate_run against PLUS7_DB and prints one line per
 * migration applied and a summary. Exit 0 when the schema is current
 * (including when nothing was left to do), 1 when the database cannot be
 * reached or a migration fails, 2 when the database is newer than this
 * binary or arguments were given.
 *
 * Exports: app_cmd_migrate.
 * Threads: main thread; no runtime is started.
 */
#include "commands.h"
#include "migrations.h"

#include "rt.h"

#include <stdio.h>

static int cmd_migrate_run(const app_config_t *cfg, int argc, char **argv)
{
    if (argc > 0) return app_fail(APP_EXIT_USAGE, "migrate: unexpected argument \"%s\"", argv[0]);
    char err[1024];
    int rc = app_migrate_run(cfg->db, stdout, err, sizeof err);
    fflush(stdout);
    if (rc == RT_OK) return APP_EXIT_OK;
    return app_fail(rc == RT_EINVAL ? APP_EXIT_USAGE : APP_EXIT_RUNTIME, "migrate: %s", err);
}

const app_command_t app_cmd_migrate = {
    "migrate", "", "apply the SQL migrations built into this binary (idempotent)",
    cmd_migrate_run,
};
