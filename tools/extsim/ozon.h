/* ozon.h — the emulated Ozon Seller API (api-facts Part A).
 *
 * Purpose: serves the FBS/rFBS posting methods and the returns methods
 * plus.7 uses, with Ozon's authentication (Client-Id + Api-Key), its
 * 50 rps per Client-Id limit, its error envelopes, and a per-posting state
 * machine. The control API seeds postings and returns, moves statuses and
 * flips switches through ozon_control.
 *
 * Exports: ozon_service (es_service_t), ozon_control, ozon_reset,
 * ozon_free, ozon_error, ozon_demo_seed.
 *
 * Threads: handlers run on civetweb workers; they take es_lock themselves.
 */
#ifndef EXTSIM_OZON_H
#define EXTSIM_OZON_H

#include "es_server.h"

extern const es_service_t ozon_service;

/* Handle /control/ozon/<sub> (sub without the leading slash). */
void ozon_control(es_req_t *req, const char *sub);

/* Forget every posting, return, limiter and switch; reseed the demo data
 * when es_cfg.seed_demo is set. Call with es_lock held. */
void ozon_reset(void);

/* Free everything at exit (es_lock held or the server stopped). */
void ozon_free(void);

/* Reply with an Ozon error: rpcStatus {"code","message","details":[]} or,
 * when the legacy switch is on, {"error":{"code","message","data":[]}}.
 * Takes es_lock briefly to read the switch. */
void ozon_error(es_req_t *req, int http, int code, const char *message);

/* Seed the demo postings and returns (ozon_demo.c). Call with es_lock held.
 * Returns the number of postings seeded. */
int ozon_demo_seed(void);

#endif
