/* rt_pg_resolve.h — host-name resolution for rt_pg connections, off the
 * event-loop threads.
 *
 * Purpose: libpq resolves a `host` name with a blocking getaddrinfo inside
 * PQconnectStartParams, which would stall a runtime worker (and every actor
 * on it) for as long as DNS takes. rt_pg_conn therefore resolves names
 * first, here, on one process-wide resolver thread (the system resolver:
 * /etc/hosts, nsswitch and resolv.conf exactly as libpq would use them),
 * and connects with `hostaddr` set, so libpq does no lookup of its own.
 * A finished lookup is announced by writing 1 to the caller's eventfd; the
 * caller's event loop then collects the addresses. See runtime/pg/DESIGN.md.
 *
 * Exports: rt_pg_resolve_t, rt_pg_resolve_start, rt_pg_resolve_result,
 * rt_pg_resolve_drop, rt_pg_resolve_set_fn (test seam), RT_PG_RESOLVE_MAX.
 *
 * Threads: start/result/drop on the thread that owns the request (an
 * event-loop thread); the lookup itself runs on the resolver thread.
 */
#ifndef PLUS7_RT_PG_RESOLVE_H
#define PLUS7_RT_PG_RESOLVE_H

#include <netdb.h>

#define RT_PG_RESOLVE_MAX 16   /* addresses kept per request */

typedef struct rt_pg_resolve rt_pg_resolve_t;

/* Resolve the comma-separated host names `hosts` (numeric addresses pass
 * through) for TCP. When the lookup ends, 1 is written to `notify_fd` (an
 * eventfd the caller watches) unless the request was dropped first. NULL on
 * ENOMEM (nothing will be written). */
rt_pg_resolve_t *rt_pg_resolve_start(const char *hosts, int notify_fd);

/* The outcome of a finished request: RT_OK with n addresses (numeric
 * strings in addr[i], and host_idx[i] = which entry of `hosts` each came
 * from), or RT_ENOTFOUND / RT_ENOMEM with a message in *err. RT_PENDING
 * while the lookup still runs. The strings live as long as the request. */
int rt_pg_resolve_result(rt_pg_resolve_t *r, int *n, const char *const **addr,
                         const int **host_idx, const char **err);

/* Give the request up (finished or not). After this returns nothing is
 * written to its notify_fd any more; the memory goes when the resolver is
 * done with it. NULL is a no-op. */
void rt_pg_resolve_drop(rt_pg_resolve_t *r);

/* Test seam: resolve with `fn` instead of getaddrinfo (NULL restores
 * getaddrinfo). Its results are released with freeaddrinfo. Call while no
 * lookup runs. */
typedef int (*rt_pg_getaddrinfo_fn)(const char *node, const char *service,
                                    const struct addrinfo *hints, struct addrinfo **res);
void rt_pg_resolve_set_fn(rt_pg_getaddrinfo_fn fn);

#endif
