/* rt_pg_stmts.h — the prepared statements of one rt_pg connection.
 *
 * Purpose: PostgreSQL plans an unnamed statement on every execution; for
 * the short indexed queries actors run, planning is most of the cost. So
 * each connection prepares every distinct SQL text once (named statement
 * "p7_<id>") and executes it by name from then on. This cache remembers,
 * per connection, which texts are prepared (READY), which have a Prepare in
 * the pipeline whose outcome is not known yet (PENDING: executions meanwhile
 * go unnamed, so none depends on a Prepare that may be aborted), and forgets
 * them all when the connection is lost (the server's statements die with
 * the session; they are prepared again on the new one). See
 * runtime/pg/DESIGN.md, "Prepared statements".
 *
 * Exports: rt_pg_stmts_t, rt_pg_stmts_new, rt_pg_stmts_free,
 * rt_pg_stmts_clear, rt_pg_stmts_plan, rt_pg_stmts_settle,
 * rt_pg_stmts_name, RT_PG_PLAN_*, RT_PG_STMTS_MAX.
 *
 * Threads: the connection's event-loop thread.
 */
#ifndef PLUS7_RT_PG_STMTS_H
#define PLUS7_RT_PG_STMTS_H

#include <stdbool.h>
#include <stdint.h>

#define RT_PG_STMTS_MAX 1024   /* distinct texts prepared per connection */

typedef struct rt_pg_stmts rt_pg_stmts_t;

/* How to send a statement (rt_pg_stmts_plan). */
enum {
    RT_PG_PLAN_UNNAMED = 0,   /* PQsendQueryParams: cache full or Prepare pending */
    RT_PG_PLAN_PREPARE = 1,   /* PQsendPrepare(name) first, then execute by name */
    RT_PG_PLAN_NAMED = 2,     /* PQsendQueryPrepared(name) */
};

/* An empty cache; NULL on ENOMEM. */
rt_pg_stmts_t *rt_pg_stmts_new(void);
void rt_pg_stmts_free(rt_pg_stmts_t *s);
/* Forget everything (the session ended). */
void rt_pg_stmts_clear(rt_pg_stmts_t *s);

/* Decide how to send `sql`; *id names the statement for PREPARE/NAMED. A
 * PREPARE answer records the text as PENDING. NULL cache: UNNAMED. */
int rt_pg_stmts_plan(rt_pg_stmts_t *s, const char *sql, uint32_t *id);

/* The server answered about statement `id` of `sql`: ok (its Prepare
 * succeeded) makes it READY; !ok (the Prepare failed or was skipped, or an
 * execution says the statement is gone) forgets it so that the next use
 * prepares it again. An unknown or outdated id is ignored. */
void rt_pg_stmts_settle(rt_pg_stmts_t *s, const char *sql, uint32_t id, bool ok);

/* The statement name of `id` ("p7_<id>") into buf (16 bytes). */
const char *rt_pg_stmts_name(uint32_t id, char buf[16]);

/* Number of texts known (READY or PENDING), for tests and metrics. */
uint32_t rt_pg_stmts_count(const rt_pg_stmts_t *s);

#endif
