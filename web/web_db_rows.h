/* web_db_rows.h — "arrays → one unnest statement on a pooled connection".
 *
 * Purpose: the webhook handlers store a whole batch in ONE statement:
 * every column travels as a text[] literal ($1..$n) and the SQL reads the
 * rows back with unnest, e.g.
 *   INSERT INTO t (a, b) SELECT * FROM unnest($1::text[], $2::text[])
 *   ON CONFLICT DO NOTHING
 * This helper owns the arrays, borrows a web_db connection, runs the
 * statement against the caller's deadline and gives the connection back
 * (closed when the statement did not complete).
 *
 *   web_db_rows_t rows;
 *   web_db_rows_init(&rows, 2);
 *   web_db_rows_add(&rows, (const char *[]){"1", "x"});
 *   PGresult *r;
 *   if (web_db_rows_exec(&rows, SQL, deadline, "tg_webhook_store", &r) == RT_OK) ...
 *   PQclear(r);
 *
 * Exports: web_db_rows_t, web_db_rows_init, web_db_rows_add,
 * web_db_rows_exec.
 * Threads: civetweb threads (never a runtime worker); a web_db_rows_t
 * belongs to one thread.
 */
#ifndef PLUS7_WEB_DB_ROWS_H
#define PLUS7_WEB_DB_ROWS_H

#include <libpq-fe.h>
#include <stdint.h>

#include "pg_array.h"

#define WEB_DB_ROWS_MAX_COLS 8

typedef struct web_db_rows {
    int ncols;
    pg_array_t cols[WEB_DB_ROWS_MAX_COLS];
} web_db_rows_t;

/* Start an empty batch of `ncols` (1..WEB_DB_ROWS_MAX_COLS) columns. */
void web_db_rows_init(web_db_rows_t *rows, int ncols);

/* Append one row: `values` holds ncols strings (NULL is SQL NULL), copied. */
void web_db_rows_add(web_db_rows_t *rows, const char *const *values);

/* Run `sql` with the columns as parameters $1..$ncols on a pooled
 * connection, waiting for a connection and for the statement until
 * `deadline_ms` (rt_now_ms() time). Frees the batch's arrays whatever it
 * returns. RT_OK with a successful result in *out (COMMAND_OK or
 * TUPLES_OK; the caller PQclears it); otherwise *out is NULL and the
 * failure is logged as event `what`: RT_ENOMEM, RT_ETIMEDOUT, or RT_EIO
 * (no connection, or the statement failed). */
int web_db_rows_exec(web_db_rows_t *rows, const char *sql, uint64_t deadline_ms,
                     const char *what, PGresult **out);

#endif
