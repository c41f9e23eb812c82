/* web_dash_export.h — the rows of an export and the XLSX builder, shared by
 * the export routes and the daily report.
 *
 * Exports: web_dash_row_t, web_dash_row_fn, web_dash_export_rows,
 * web_dash_xlsx_build.
 * Threads: any thread that is not a runtime worker (blocking libpq).
 */
#ifndef PLUS7_WEB_DASH_EXPORT_H
#define PLUS7_WEB_DASH_EXPORT_H

#include <libpq-fe.h>

#include "web_dash_params.h"

/* One order of an export. f[]: 0 posting, 1 status code, 2 zone name,
 * 3 client name, 4 phone, 5 address, 6 slot text ("" without a delivery),
 * 7 price in kopecks as text (NULL without a delivery). */
typedef struct web_dash_row {
    const char *f[8];
    const char *status_text;   /* «Выдан» */
    long long price_kop;       /* -1 without a delivery */
    long long created, updated;   /* Unix seconds */
} web_dash_row_t;

/* Called once per row; a non-RT_OK result stops the export with it. */
typedef int (*web_dash_row_fn)(const web_dash_row_t *row, void *arg);

/* Stream the orders created in q's period (and zone), oldest first, with
 * COPY (...) TO STDOUT in a read-only REPEATABLE READ transaction, one row
 * in memory at a time. When fn fails the COPY is cancelled. *nrows = rows
 * handed to fn. RT_OK, fn's error, or RT_EIO (database; logged). */
int web_dash_export_rows(PGconn *db, const web_dash_query_t *q, web_dash_row_fn fn, void *arg, long *nrows);

/* Build the XLSX of q (sheets «Заказы» and «Показатели») in constant memory
 * into an unlinked scratch file; on RT_OK *fd is its open descriptor
 * (caller closes; the offset is at the end) and *nrows the orders written. */
int web_dash_xlsx_build(PGconn *db, const web_dash_query_t *q, int *fd, long *nrows);

#endif
