/* cmd_role.c — `plus7d role PHONE ROLE`: grant a role to a phone number.
 *
 * Purpose: roles belong to phone numbers (table role_grants), so the
 * command works before or after that person registers; the conversation
 * reads the role with every update, so it takes effect on their next
 * message. "client" removes any grant. The phone is accepted in any
 * common form and stored in E.164; output masks it like the logs do.
 *
 * Exports: app_cmd_role.
 * Threads: main thread; no runtime is started (a blocking libpq call is
 * fine here).
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "commands.h"
#include "conv_dialog.h"
#include "phone.h"
#include "rt.h"

static int cmd_role_run(const app_config_t *cfg, int argc, char **argv)
{
    if (argc != 2) return app_fail(APP_EXIT_USAGE, "role: usage: plus7d role PHONE ROLE");
    char phone[PHONE_E164_MAX], masked[PHONE_E164_MAX];
    if (phone_normalize(argv[0], phone) != RT_OK)
        return app_fail(APP_EXIT_USAGE, "role: \"%s\" is not a phone number (e.g. +79491234567)", argv[0]);
    conv_role_t role;
    if (conv_role_parse(argv[1], &role) != RT_OK)
        return app_fail(APP_EXIT_USAGE, "role: unknown role \"%s\" (client, courier, operator, admin)", argv[1]);
    int rc = APP_EXIT_RUNTIME;
    PGconn *db = app_db_connect(cfg->db, "role", &rc);
    if (!db) return rc;
    const char *params[] = {phone, argv[1]};
    PGresult *r = role == CONV_CLIENT
        ? PQexecParams(db, "DELETE FROM role_grants WHERE phone = $1", 1, NULL, params, NULL, NULL, 0)
        : PQexecParams(db, "INSERT INTO role_grants (phone, role) VALUES ($1, $2)"
                           " ON CONFLICT (phone) DO UPDATE SET role = EXCLUDED.role, granted_at = now()",
                       2, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        rc = app_fail(APP_EXIT_RUNTIME, "role: %s", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(db);
        return rc;
    }
    PQclear(r);
    PQfinish(db);
    phone_mask(phone, masked, sizeof masked);
    printf("role of %s is now %s\n", masked, argv[1]);
    return APP_EXIT_OK;
}

const app_command_t app_cmd_role = {
    "role", "PHONE ROLE", "set a person's role: client, courier, operator or admin (works before they register)",
    cmd_role_run,
};
