/* rt_pg_stmts.c — the per-connection prepared-statement cache (rt_pg_stmts.h).
 *
 * Purpose: a chained hash table from SQL text to {id, state}. Ids come from
 * a per-cache counter that is never reset (not even by clear), so a late
 * answer about a statement of an earlier session never matches a new one.
 *
 * Exports: see rt_pg_stmts.h.
 * Threads: the owning connection's event-loop thread.
 */
#include "rt_pg_stmts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMTS_BUCKETS 256   /* power of two */

enum { ST_PENDING = 0, ST_READY = 1 };

typedef struct stmt_ent {
    struct stmt_ent *next;
    uint32_t hash, id;
    int state;
    char sql[];
} stmt_ent_t;

struct rt_pg_stmts {
    stmt_ent_t *b[STMTS_BUCKETS];
    uint32_t count, next_id;
};

/* FNV-1a over the text. */
static uint32_t stmts_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static stmt_ent_t **stmts_find(rt_pg_stmts_t *s, const char *sql, uint32_t h)
{
    stmt_ent_t **pp = &s->b[h & (STMTS_BUCKETS - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && strcmp((*pp)->sql, sql) == 0) return pp;
    return NULL;
}

rt_pg_stmts_t *rt_pg_stmts_new(void)
{
    return calloc(1, sizeof(rt_pg_stmts_t));
}

void rt_pg_stmts_clear(rt_pg_stmts_t *s)
{
    if (!s) return;
    for (int i = 0; i < STMTS_BUCKETS; i++) {
        for (stmt_ent_t *e = s->b[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
        s->b[i] = NULL;
    }
    s->count = 0;
}

void rt_pg_stmts_free(rt_pg_stmts_t *s)
{
    rt_pg_stmts_clear(s);
    free(s);
}

int rt_pg_stmts_plan(rt_pg_stmts_t *s, const char *sql, uint32_t *id)
{
    if (!s) return RT_PG_PLAN_UNNAMED;
    uint32_t h = stmts_hash(sql);
    stmt_ent_t **pp = stmts_find(s, sql, h);
    if (pp) {
        if ((*pp)->state != ST_READY) return RT_PG_PLAN_UNNAMED;
        *id = (*pp)->id;
        return RT_PG_PLAN_NAMED;
    }
    if (s->count >= RT_PG_STMTS_MAX) return RT_PG_PLAN_UNNAMED;
    size_t len = strlen(sql) + 1;
    stmt_ent_t *e = malloc(sizeof *e + len);
    if (!e) return RT_PG_PLAN_UNNAMED;
    memcpy(e->sql, sql, len);
    e->hash = h;
    e->id = ++s->next_id;
    e->state = ST_PENDING;
    e->next = s->b[h & (STMTS_BUCKETS - 1)];
    s->b[h & (STMTS_BUCKETS - 1)] = e;
    s->count++;
    *id = e->id;
    return RT_PG_PLAN_PREPARE;
}

void rt_pg_stmts_settle(rt_pg_stmts_t *s, const char *sql, uint32_t id, bool ok)
{
    if (!s) return;
    stmt_ent_t **pp = stmts_find(s, sql, stmts_hash(sql));
    if (!pp || (*pp)->id != id) return;
    if (ok) {
        (*pp)->state = ST_READY;
        return;
    }
    stmt_ent_t *e = *pp;
    *pp = e->next;
    free(e);
    s->count--;
}

const char *rt_pg_stmts_name(uint32_t id, char buf[16])
{
    snprintf(buf, 16, "p7_%u", id);
    return buf;
}

uint32_t rt_pg_stmts_count(const rt_pg_stmts_t *s)
{
    return s ? s->count : 0;
}
