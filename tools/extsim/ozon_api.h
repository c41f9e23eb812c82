/* ozon_api.h — internal interface between ozon.c (the HTTP front) and the
 * files that implement Ozon methods (ozon_postings.c, ozon_returns.c).
 *
 * Purpose: a method handler runs with es_lock held, reads the parsed JSON
 * body, and either fills *out with the reply document and returns 200, or
 * fills *e (rpcStatus code and message) and returns the HTTP status. The
 * front unlocks, then writes the reply, so no socket I/O happens under the
 * lock and the error envelope switch is applied in one place.
 *
 * Exports: ozon_err_t, ozon_method_fn, ozon_fail, the posting methods
 * (ozon_m_get, ozon_m_list_v3, ozon_m_list_v4, ozon_m_delivering,
 * ozon_m_last_mile, ozon_m_delivered, ozon_m_tracking_set) and the returns
 * methods and store (ozon_m_returns_list, ozon_m_rfbs_list, ozon_m_rfbs_get,
 * ozon_m_rfbs_action_set, ozon_returns_seed, ozon_returns_dump,
 * ozon_returns_clear).
 *
 * Threads: every function must be called with es_lock held.
 */
#ifndef EXTSIM_OZON_API_H
#define EXTSIM_OZON_API_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct ozon_err {
    int code;            /* rpcStatus code: 3 invalid, 5 not found, … */
    char message[256];
} ozon_err_t;

typedef int (*ozon_method_fn)(const cJSON *body, cJSON **out, ozon_err_t *e);

/* Fill *e and return the HTTP status for rpcStatus `code` (3→400, 5→404,
 * 7→403, 8→429, 13→500, 16→401). */
int ozon_fail(ozon_err_t *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int ozon_m_get(const cJSON *body, cJSON **out, ozon_err_t *e);
int ozon_m_list_v3(const cJSON *body, cJSON **out, ozon_err_t *e);
int ozon_m_list_v4(const cJSON *body, cJSON **out, ozon_err_t *e);
int ozon_m_delivering(const cJSON *body, cJSON **out, ozon_err_t *e);
int ozon_m_last_mile(const cJSON *body, cJSON **out, ozon_err_t *e);
int ozon_m_delivered(const cJSON *body, cJSON **out, ozon_err_t *e);
int ozon_m_tracking_set(const cJSON *body, cJSON **out, ozon_err_t *e);

int ozon_m_returns_list(const cJSON *body, cJSON **out, ozon_err_t *e);
int ozon_m_rfbs_list(const cJSON *body, cJSON **out, ozon_err_t *e);
int ozon_m_rfbs_get(const cJSON *body, cJSON **out, ozon_err_t *e);
int ozon_m_rfbs_action_set(const cJSON *body, cJSON **out, ozon_err_t *e);

/* Add or replace one return (compact form, docs/extsim.md). Returns the
 * return id (> 0), or -1 with err. */
long long ozon_returns_seed(const cJSON *in, char *err, size_t errlen);
/* {"returns":[{"id","posting_number","rfbs","list_item","rfbs_item"}]} */
cJSON *ozon_returns_dump(void);
void ozon_returns_clear(void);

#endif
