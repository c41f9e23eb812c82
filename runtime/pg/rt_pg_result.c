/* rt_pg_result.c — decoded PostgreSQL results.
 *
 * Purpose: turn a PGresult into an rt_pg_result_t that owns plain copies of
 * the column names and text values (one allocation for all of them), so a
 * result can travel in a message to another thread and outlive the
 * connection; plus the accessors actors use.
 *
 * Exports: rt_pg_result_from_pg, rt_pg_result_error, rt_pg_result_set_error,
 * rt_pg_result_clear, rt_pg_result_free, rt_pg_value, rt_pg_is_null,
 * rt_pg_col, rt_pg_get_i64, rt_pg_stmt, rt_pg_msg_result.
 *
 * Threads: any; functions touch only their arguments.
 */
#include "rt_pg_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *dup_trimmed(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ')) n--;
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void rt_pg_result_set_error(rt_pg_result_t *r, int status, const char *sqlstate,
                            const char *msg)
{
    r->status = status;
    r->sqlstate[0] = '\0';
    if (sqlstate) {
        strncpy(r->sqlstate, sqlstate, sizeof r->sqlstate - 1);
        r->sqlstate[sizeof r->sqlstate - 1] = '\0';
    }
    free(r->error);
    r->error = dup_trimmed(msg ? msg : "");
}

rt_pg_result_t *rt_pg_result_error(int status, const char *sqlstate, const char *msg)
{
    rt_pg_result_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->affected = -1;
    r->failed_stmt = -1;
    rt_pg_result_set_error(r, status, sqlstate, msg);
    return r;
}

/* Copy the row set of `pg` into one block: [cols ptrs][value ptrs][text]. */
static int copy_rows(rt_pg_result_t *r, const PGresult *pg)
{
    int ncols = PQnfields(pg), nrows = PQntuples(pg);
    if (ncols <= 0) return RT_OK;
    size_t ncells = (size_t)ncols * (size_t)nrows;
    size_t bytes = ((size_t)ncols + ncells) * sizeof(char *);
    for (int c = 0; c < ncols; c++) bytes += strlen(PQfname(pg, c)) + 1;
    for (int i = 0; i < nrows; i++)
        for (int c = 0; c < ncols; c++)
            if (!PQgetisnull(pg, i, c)) bytes += (size_t)PQgetlength(pg, i, c) + 1;
    char *mem = malloc(bytes);
    if (!mem) return RT_ENOMEM;
    char **cols = (char **)mem;
    char **vals = cols + ncols;
    char *text = (char *)(vals + ncells);
    for (int c = 0; c < ncols; c++) {
        size_t n = strlen(PQfname(pg, c));
        memcpy(text, PQfname(pg, c), n + 1);
        cols[c] = text;
        text += n + 1;
    }
    for (int i = 0; i < nrows; i++)
        for (int c = 0; c < ncols; c++) {
            char **cell = &vals[(size_t)i * (size_t)ncols + (size_t)c];
            if (PQgetisnull(pg, i, c)) { *cell = NULL; continue; }
            size_t n = (size_t)PQgetlength(pg, i, c);
            memcpy(text, PQgetvalue(pg, i, c), n);
            text[n] = '\0';
            *cell = text;
            text += n + 1;
        }
    r->mem_ = mem;
    r->cols = cols;
    r->values = vals;
    r->ncols = ncols;
    r->nrows = nrows;
    return RT_OK;
}

rt_pg_result_t *rt_pg_result_from_pg(const PGresult *pg)
{
    rt_pg_result_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->affected = -1;
    r->failed_stmt = -1;
    switch (PQresultStatus(pg)) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY: {
        const char *t = PQcmdTuples((PGresult *)pg);
        if (t && *t) r->affected = strtoll(t, NULL, 10);
        if (copy_rows(r, pg) != RT_OK) { free(r); return NULL; }
        r->status = RT_OK;
        break;
    }
    case PGRES_PIPELINE_ABORTED:
        rt_pg_result_set_error(r, RT_EINVAL, NULL,
                               "not executed: an earlier statement of the transaction failed");
        break;
    default: {
        const char *st = PQresultErrorField(pg, PG_DIAG_SQLSTATE);
        const char *msg = PQresultErrorMessage(pg);
        rt_pg_result_set_error(r, RT_EINVAL, st,
                               msg && *msg ? msg : PQresStatus(PQresultStatus(pg)));
        break;
    }
    }
    return r;
}

void rt_pg_result_clear(rt_pg_result_t *r)
{
    if (!r) return;
    free(r->error);
    free(r->mem_);
    for (int i = 0; i < r->nstmts && r->stmts; i++) rt_pg_result_clear(&r->stmts[i]);
    free(r->stmts);
    r->error = NULL;
    r->mem_ = NULL;
    r->stmts = NULL;
    r->cols = r->values = NULL;
    r->ncols = r->nrows = r->nstmts = 0;
}

void rt_pg_result_free(void *result)
{
    rt_pg_result_t *r = result;
    if (!r) return;
    rt_pg_result_clear(r);
    free(r);
}

const char *rt_pg_value(const rt_pg_result_t *r, int row, int col)
{
    if (!r || row < 0 || col < 0 || row >= r->nrows || col >= r->ncols) return NULL;
    return r->values[(size_t)row * (size_t)r->ncols + (size_t)col];
}

bool rt_pg_is_null(const rt_pg_result_t *r, int row, int col)
{
    return rt_pg_value(r, row, col) == NULL;
}

int rt_pg_col(const rt_pg_result_t *r, const char *name)
{
    if (!r || !name) return -1;
    for (int c = 0; c < r->ncols; c++)
        if (strcmp(r->cols[c], name) == 0) return c;
    return -1;
}

int rt_pg_get_i64(const rt_pg_result_t *r, int row, int col, int64_t *out)
{
    const char *v = rt_pg_value(r, row, col);
    if (!v) return RT_ENOTFOUND;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0') return RT_EINVAL;
    *out = (int64_t)x;
    return RT_OK;
}

const rt_pg_result_t *rt_pg_stmt(const rt_pg_result_t *r, int i)
{
    if (!r || i < 0) return NULL;
    if (r->stmts) return i < r->nstmts ? &r->stmts[i] : NULL;
    return i == 0 ? r : NULL;
}

const rt_pg_result_t *rt_pg_msg_result(const rt_msg_t *m)
{
    if (!m || m->type != RT_MSG_PG_RESULT) return NULL;
    return m->ptr;
}
