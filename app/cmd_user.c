/* cmd_user.c — `plus7d user add|passwd|list|disable`: dashboard staff.
 *
 * Purpose: staff accounts of the dashboard (table staff_users, see
 * sql/020_dash_staff.sql):
 *   plus7d user add LOGIN ROLE     ROLE: operator, manager or admin
 *   plus7d user passwd LOGIN       new password; the account's sessions end
 *   plus7d user list               login, role, state, created
 *   plus7d user disable LOGIN      no more sign-ins; its sessions end
 * The password is ONE line read from standard input (never argv): the
 * trailing newline is stripped, at least 12 characters (UTF-8 characters,
 * not bytes), at most 1024 bytes. On a terminal it is asked for without
 * echo; when standard input is not a terminal nothing is printed before
 * reading. It is stored as an argon2id string (crypto_pwhash_str,
 * interactive limits). Logins: 1..64 of A-Z a-z 0-9 _ . @ - (no ':' —
 * 'tg:<id>' accounts are made by signing in from the bot).
 *
 * Exports: app_cmd_user.
 * Threads: main thread; no runtime is started (blocking libpq is fine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "commands.h"
#include "rt.h"

#define USER_PW_MIN 12
#define USER_PW_MAX 1024

/* A new account and its audit row. */
static const char user_sql_add[] =
    "WITH u AS (INSERT INTO staff_users (login, role, password_hash) VALUES ($1, $2, $3) RETURNING id)"
    " INSERT INTO audit_log (actor, action, object_type, object_id, details)"
    " SELECT 'system', 'staff_user_added', 'staff_user', u.id::text,"
    "        jsonb_build_object('login', $1::text, 'role', $2::text) FROM u";

/* A new password ($2) or, with $2 NULL, disabling; either ends the
 * account's sessions; audited as $3. */
static const char user_sql_change[] =
    "WITH u AS (UPDATE staff_users SET password_hash = coalesce($2, password_hash),"
    " disabled_at = CASE WHEN $2 IS NULL THEN coalesce(disabled_at, now()) ELSE disabled_at END,"
    " updated_at = now() WHERE login = $1 RETURNING id),"
    " s AS (DELETE FROM staff_sessions WHERE user_id IN (SELECT id FROM u))"
    " INSERT INTO audit_log (actor, action, object_type, object_id, details)"
    " SELECT 'system', $3, 'staff_user', u.id::text, jsonb_build_object('login', $1::text) FROM u RETURNING id";

static const char user_sql_list[] =
    "SELECT login, role, CASE WHEN disabled_at IS NOT NULL THEN 'disabled' WHEN password_hash IS NULL THEN 'bot-only'"
    " ELSE 'active' END, to_char(created_at AT TIME ZONE 'Europe/Moscow', 'YYYY-MM-DD HH24:MI')"
    " FROM staff_users ORDER BY login";

static bool user_login_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

static size_t user_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* One line from stdin into pw (USER_PW_MAX + 2 bytes); RT_OK or an exit code. */
static int user_read_password(char *pw, size_t cap)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "Password (at least %d characters): ", USER_PW_MIN);
        fflush(stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool got = fgets(pw, (int)cap, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got) return app_fail(APP_EXIT_USAGE, "user: no password on standard input");
    size_t n = strlen(pw);
    if (n && pw[n - 1] == '\n') pw[--n] = '\0';
    else if (n >= cap - 1) return app_fail(APP_EXIT_USAGE, "user: password longer than %d bytes", USER_PW_MAX);
    if (n && pw[n - 1] == '\r') pw[--n] = '\0';
    if (user_utf8_chars(pw) < USER_PW_MIN)
        return app_fail(APP_EXIT_USAGE, "user: password shorter than %d characters", USER_PW_MIN);
    return RT_OK;
}

static int user_hash(char *out)
{
    char pw[USER_PW_MAX + 2];
    int rc = user_read_password(pw, sizeof pw);
    if (rc != RT_OK) return rc;
    if (sodium_init() < 0) return app_fail(APP_EXIT_RUNTIME, "user: libsodium failed to start");
    rc = crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sodium_memzero(pw, sizeof pw);
    return rc == 0 ? RT_OK : app_fail(APP_EXIT_RUNTIME, "user: out of memory hashing the password");
}

/* Run one statement; print the error and return an exit code on failure.
 * *rows gets the number of affected / returned rows. */
static int user_exec(PGconn *db, const char *sql, int n, const char *const *p, PGresult **out)
{
    PGresult *r = PQexecParams(db, sql, n, NULL, p, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        int rc = state && strcmp(state, "23505") == 0
                     ? app_fail(APP_EXIT_USAGE, "user: login \"%s\" already exists", p[0])
                     : app_fail(APP_EXIT_RUNTIME, "user: %s", PQresultErrorMessage(r));
        PQclear(r);
        return rc;
    }
    *out = r;
    return RT_OK;
}

static int user_run_db(PGconn *db, const char *verb, int argc, char **argv)
{
    char hash[crypto_pwhash_STRBYTES];
    PGresult *r = NULL;
    int rc;
    if (strcmp(verb, "add") == 0) {
        if (argc != 2) return app_fail(APP_EXIT_USAGE, "user: usage: plus7d user add LOGIN ROLE");
        if (!user_login_ok(argv[0]))
            return app_fail(APP_EXIT_USAGE, "user: login must be 1..64 of A-Z a-z 0-9 _ . @ -");
        if (strcmp(argv[1], "operator") != 0 && strcmp(argv[1], "manager") != 0 && strcmp(argv[1], "admin") != 0)
            return app_fail(APP_EXIT_USAGE, "user: unknown role \"%s\" (operator, manager, admin)", argv[1]);
        if ((rc = user_hash(hash)) != RT_OK) return rc;
        const char *p[] = {argv[0], argv[1], hash};
        rc = user_exec(db, user_sql_add, 3, p, &r);
        if (rc != RT_OK) return rc;
        printf("user %s (%s) added\n", argv[0], argv[1]);
    } else if (strcmp(verb, "passwd") == 0 || strcmp(verb, "disable") == 0) {
        bool pw = verb[0] == 'p';
        if (argc != 1) return app_fail(APP_EXIT_USAGE, "user: usage: plus7d user %s LOGIN", verb);
        if (pw && (rc = user_hash(hash)) != RT_OK) return rc;
        const char *p[] = {argv[0], pw ? hash : NULL, pw ? "staff_password_set" : "staff_user_disabled"};
        rc = user_exec(db, user_sql_change, 3, p, &r);
        if (rc != RT_OK) return rc;
        if (PQntuples(r) != 1) {
            PQclear(r);
            return app_fail(APP_EXIT_USAGE, "user: no such login \"%s\"", argv[0]);
        }
        printf(pw ? "password of %s changed; its sessions ended\n" : "user %s disabled; its sessions ended\n",
               argv[0]);
    } else if (strcmp(verb, "list") == 0) {
        if (argc != 0) return app_fail(APP_EXIT_USAGE, "user: usage: plus7d user list");
        rc = user_exec(db, user_sql_list, 0, NULL, &r);
        if (rc != RT_OK) return rc;
        printf("%-32s %-9s %-9s %s\n", "LOGIN", "ROLE", "STATE", "CREATED (MSK)");
        for (int i = 0; i < PQntuples(r); i++)
            printf("%-32s %-9s %-9s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                   PQgetvalue(r, i, 3));
    } else {
        return app_fail(APP_EXIT_USAGE, "user: unknown subcommand \"%s\" (add, passwd, list, disable)", verb);
    }
    PQclear(r);
    return APP_EXIT_OK;
}

static int cmd_user_run(const app_config_t *cfg, int argc, char **argv)
{
    if (argc < 1)
        return app_fail(APP_EXIT_USAGE, "user: usage: plus7d user add LOGIN ROLE | passwd LOGIN | list | disable LOGIN");
    int rc = APP_EXIT_RUNTIME;
    PGconn *db = app_db_connect(cfg->db, "user", &rc);
    if (!db) return rc;
    rc = user_run_db(db, argv[0], argc - 1, argv + 1);
    PQfinish(db);
    return rc;
}

const app_command_t app_cmd_user = {
    "user", "add LOGIN ROLE | passwd LOGIN | list | disable LOGIN",
    "dashboard staff accounts (roles operator, manager, admin); the password is one line on stdin",
    cmd_user_run,
};
