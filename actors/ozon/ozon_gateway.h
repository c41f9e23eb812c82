/* ozon_gateway.h — the Ozon Seller API gateway actor.
 *
 * Purpose: the one place plus7 talks to Ozon (kind "ozon_gateway", key
 * "main"; registered only when PLUS7_OZON_CLIENT_ID is set). Every request
 * goes through one queue and one rate limiter (ozon_rate.h: never more
 * than PLUS7_OZON_RPS ≤ 50 requests per second, at most OZON_GW_INFLIGHT
 * in flight):
 *   ozon_fetch{posting}  → POST /v3/posting/fbs/get → order_ozon to the
 *                          order actor (RT_OK + the posting, RT_ENOTFOUND,
 *                          or RT_EIO: configuration error / gave up);
 *   ozon_push (a wake-up: the rows are in ozon_push_outbox, sql/014,
 *                          written by the order actor with the transition)
 *                          → POST /v2/fbs/posting/<action>, the row marked
 *                          done; on success the posting is fetched again so
 *                          the order keeps Ozon's new available_actions;
 *   the periodic import  → POST /v4/posting/fbs/list (cursor paging),
 *                          every posting → order_ozon; the last successful
 *                          run is kept in ozon_import_state (sql/005_ozon.sql)
 *                          so a restart continues from there.
 * Errors: 401/403 are configuration errors (logged once per distinct
 * message as event=ozon_config_error, counted, never retried); 429 pauses
 * the whole queue (Retry-After, else exponential); 5xx, transport errors
 * and unreadable replies are retried with exponential back-off, bounded in
 * attempts and time. Counters: ozon_stats.h.
 *
 * Exports: ozon_gateway_kind, OZON_GW_INFLIGHT.
 * Threads: the actor's home worker.
 */
#ifndef PLUS7_OZON_GATEWAY_H
#define PLUS7_OZON_GATEWAY_H

#include "rt.h"

#define OZON_GW_INFLIGHT 4   /* requests in flight at most */

extern const rt_kind_t ozon_gateway_kind;   /* name PLUS7_KIND_OZON, key "main" */

#endif
