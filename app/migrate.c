/* migrate.c — apply and check the embedded SQL migrations (migrations.h).
 *
 * Purpose: `plus7d migrate` applies every sql/NNN_name.sql compiled into the
 * binary that the database has not seen, each in its own transaction with
 * its schema_migrations row, under a session advisory lock so two
 * concurrent runs serialise (the second finds nothing left to do).
 * `plus7d serve` calls app_migrate_check to refuse a schema that is behind
 * or ahead of the binary.
 *
 * Rules for migration files: plain SQL run by the simple query protocol in
 * one transaction, so no BEGIN/COMMIT inside and nothing that cannot run in
 * a transaction block (CREATE INDEX CONCURRENTLY, VACUUM).
 *
 * Exports: app_migrate_run, app_migrate_check.
 * Threads: main thread only, before the runtime starts (blocking libpq is
 * allowed there; never on a runtime worker).
 */
#include "migrations.h"

#include "commands.h"
#include "web_pq.h"

#include "rt.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pg_advisory_lock key shared by every plus7d migrate run ("plus7" + 1). */
#define APP_MIGRATE_LOCK_KEY "7073637573370001"

static void mig_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void mig_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    /* one line: control characters become spaces, runs of spaces collapse */
    size_t j = 0;
    for (size_t i = 0; err[i]; i++) {
        char c = (err[i] == '\n' || err[i] == '\r' || err[i] == '\t') ? ' ' : err[i];
        if (c == ' ' && (j == 0 || err[j - 1] == ' ')) continue;
        err[j++] = c;
    }
    while (j > 0 && err[j - 1] == ' ') j--;
    err[j] = '\0';
}

static void mig_quiet(void *arg, const char *message) { (void)arg; (void)message; }

static PGconn *mig_connect(const char *conninfo, char *err, size_t errlen)
{
    char why[512];
    PGconn *c = web_pq_connect(conninfo, "plus7d-migrate", APP_DB_CONNECT_MS, why, sizeof why);
    if (!c) {
        mig_err(err, errlen, "database: %s", why);
        return NULL;
    }
    PQsetNoticeProcessor(c, mig_quiet, NULL);
    return c;
}

/* Run a command; on failure fill err with "what: message". */
static bool mig_exec(PGconn *c, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) mig_err(err, errlen, "%s: %s", what, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

static int mig_max_known(void)
{
    return app_migrations_count > 0 ? app_migrations[app_migrations_count - 1].version : 0;
}

/* Read applied versions into a bitmap-like array indexed by position in
 * app_migrations (applied[i]) and report the highest version in the
 * database. Returns false with err set on query failure. */
static bool mig_read_applied(PGconn *c, bool *applied, int *db_max, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, "SELECT version FROM schema_migrations ORDER BY version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        mig_err(err, errlen, "schema_migrations: %s", PQerrorMessage(c));
        PQclear(r);
        return false;
    }
    *db_max = 0;
    for (int row = 0; row < PQntuples(r); row++) {
        int v = atoi(PQgetvalue(r, row, 0));
        if (v > *db_max) *db_max = v;
        for (int i = 0; i < app_migrations_count; i++)
            if (app_migrations[i].version == v) applied[i] = true;
    }
    PQclear(r);
    return true;
}

/* Contract: see migrations.h. */
/* Read the applied versions; RT_EIO when they cannot be read, RT_EINVAL
 * when the database is newer than this binary knows. */
static int mig_read_known(PGconn *c, bool *applied, char *err, size_t errlen)
{
    int db_max = 0;
    if (!mig_read_applied(c, applied, &db_max, err, errlen)) return RT_EIO;
    if (db_max > mig_max_known()) {
        mig_err(err, errlen, "database schema version %d is newer than this plus7d knows (%d); "
                "upgrade plus7d", db_max, mig_max_known());
        return RT_EINVAL;
    }
    return RT_OK;
}

int app_migrate_run(const char *conninfo, FILE *out, char *err, size_t errlen)
{
    PGconn *c = mig_connect(conninfo, err, errlen);
    if (!c) return RT_EIO;
    int rc = RT_OK;
    bool *applied = calloc((size_t)app_migrations_count + 1, sizeof *applied);
    if (!applied) {
        mig_err(err, errlen, "out of memory");
        PQfinish(c);
        return RT_ENOMEM;
    }
    if (!mig_exec(c, "SELECT pg_advisory_lock(" APP_MIGRATE_LOCK_KEY ")", "advisory lock", err, errlen) ||
        !mig_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version int PRIMARY KEY,"
                     " name text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now())",
                  "schema_migrations", err, errlen)) {
        rc = RT_EIO;
        goto done;
    }
    if ((rc = mig_read_known(c, applied, err, errlen)) != RT_OK) goto done;
    int n_applied = 0;
    for (int i = 0; i < app_migrations_count; i++) {
        const app_migration_t *m = &app_migrations[i];
        if (applied[i]) continue;
        char ver[16];
        snprintf(ver, sizeof ver, "%d", m->version);
        const char *params[2] = {ver, m->name};
        if (!mig_exec(c, "BEGIN", m->name, err, errlen) ||
            !mig_exec(c, m->sql, m->name, err, errlen)) {
            PQclear(PQexec(c, "ROLLBACK"));
            rc = RT_EIO;
            goto done;
        }
        PGresult *r = PQexecParams(c, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)",
                                   2, NULL, params, NULL, NULL, 0);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) mig_err(err, errlen, "%s: %s", m->name, PQerrorMessage(c));
        PQclear(r);
        if (!ok || !mig_exec(c, "COMMIT", m->name, err, errlen)) {
            PQclear(PQexec(c, "ROLLBACK"));
            rc = RT_EIO;
            goto done;
        }
        n_applied++;
        if (out) fprintf(out, "applied %s\n", m->name);
    }
    if (out) {
        if (n_applied) fprintf(out, "schema at version %d (%d applied)\n", mig_max_known(), n_applied);
        else fprintf(out, "schema at version %d (up to date)\n", mig_max_known());
    }
done:
    PQclear(PQexec(c, "SELECT pg_advisory_unlock(" APP_MIGRATE_LOCK_KEY ")"));
    PQfinish(c);
    free(applied);
    return rc;
}

/* Contract: see migrations.h. */
int app_migrate_check(const char *conninfo, char *err, size_t errlen)
{
    PGconn *c = mig_connect(conninfo, err, errlen);
    if (!c) return RT_EIO;
    int rc = RT_OK;
    bool *applied = calloc((size_t)app_migrations_count + 1, sizeof *applied);
    if (!applied) {
        mig_err(err, errlen, "out of memory");
        PQfinish(c);
        return RT_ENOMEM;
    }
    PGresult *r = PQexec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        mig_err(err, errlen, "database: %s", PQerrorMessage(c));
        PQclear(r);
        rc = RT_EIO;
        goto done;
    }
    bool has_table = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!has_table) {
        mig_err(err, errlen, "database is not migrated (no schema_migrations): run `plus7d migrate`");
        rc = RT_EINVAL;
        goto done;
    }
    if ((rc = mig_read_known(c, applied, err, errlen)) != RT_OK) goto done;
    for (int i = 0; i < app_migrations_count; i++) {
        if (!applied[i]) {
            mig_err(err, errlen, "database schema is behind: %s not applied; run `plus7d migrate`",
                    app_migrations[i].name);
            rc = RT_EINVAL;
            goto done;
        }
    }
done:
    PQfinish(c);
    free(applied);
    return rc;
}
