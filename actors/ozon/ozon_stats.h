/* ozon_stats.h — the Ozon gateway's counters and their Prometheus text.
 *
 * Purpose: process-wide counters bumped by the gateway actor (requests by
 * method, errors by class, configuration errors, 429s, retries, fetch and
 * push outcomes, import runs) and read by /metrics through
 * ozon_metrics_render, which app/wire.c hands to the web layer — so web/
 * never includes actors/.
 *
 * Exports: ozon_method_t, ozon_stats_t, ozon_stats_get, ozon_stats_*
 * bumpers, ozon_metrics_render.
 * Threads: the bumpers on the gateway's worker; ozon_stats_get and
 * ozon_metrics_render from any thread (civetweb's).
 */
#ifndef PLUS7_OZON_STATS_H
#define PLUS7_OZON_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "ozon_api.h"

typedef enum ozon_method { OZON_M_FETCH = 0, OZON_M_LIST, OZON_M_PUSH, OZON_M_N } ozon_method_t;

typedef struct ozon_stats {
    uint64_t requests[OZON_M_N];       /* HTTP requests started, by method */
    uint64_t errors[OZON_CLASS_N];     /* answers by class (errors[OZON_OK] = successes) */
    uint64_t config_errors;            /* 401/403 answers */
    uint64_t rate_limited;             /* 429 answers */
    uint64_t retries;                  /* requests repeated after a transient error */
    uint64_t fetch_ok, fetch_not_found, fetch_failed;
    uint64_t push_ok, push_refused, push_failed;
    uint64_t import_ok, import_failed, imported_postings;
    int64_t queued, inflight;          /* gauges */
} ozon_stats_t;

/* A snapshot of every counter. Any thread. */
void ozon_stats_get(ozon_stats_t *out);

/* Bumpers (gateway worker). */
void ozon_stats_request(ozon_method_t m);
void ozon_stats_answer(ozon_class_t c);
void ozon_stats_config_error(void);
void ozon_stats_retry(void);
void ozon_stats_fetch(int outcome);     /* 0 ok, 1 not found, 2 failed */
void ozon_stats_push(int outcome);      /* 0 ok, 1 refused by Ozon, 2 failed */
void ozon_stats_import(int ok, int64_t postings);
void ozon_stats_gauges(int64_t queued, int64_t inflight);

/* Render the plus7_ozon_* families in Prometheus text format into buf.
 * Returns the length the full text needs (excluding the terminator), like
 * snprintf: when it is >= cap the text was cut and the caller may retry
 * with a larger buffer. Any thread. */
size_t ozon_metrics_render(char *buf, size_t cap);

#endif
