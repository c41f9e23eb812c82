/* tgsim_map.c — 64-bit-key hash map (separate chaining).
 *
 * Exports: see tgsim_map.h. Threads: callers serialise access.
 */
#include "tgsim_map.h"
#include "tgsim_util.h"

#include <stdlib.h>

static size_t tgsim_map_slot(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

void *tgsim_map_get(const tgsim_map_t *m, uint64_t key)
{
    if (!m->cap) return NULL;
    for (tgsim_map_ent_t *e = m->tab[tgsim_map_slot(key, m->cap)]; e; e = e->next)
        if (e->key == key) return e->val;
    return NULL;
}

static void tgsim_map_grow(tgsim_map_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    tgsim_map_ent_t **tab = tgsim_xcalloc(cap, sizeof *tab);
    for (size_t i = 0; i < m->cap; i++) {
        tgsim_map_ent_t *e = m->tab[i];
        while (e) {
            tgsim_map_ent_t *next = e->next;
            size_t s = tgsim_map_slot(e->key, cap);
            e->next = tab[s];
            tab[s] = e;
            e = next;
        }
    }
    free(m->tab);
    m->tab = tab;
    m->cap = cap;
}

void *tgsim_map_put(tgsim_map_t *m, uint64_t key, void *val)
{
    if (m->cap) {
        for (tgsim_map_ent_t *e = m->tab[tgsim_map_slot(key, m->cap)]; e; e = e->next) {
            if (e->key == key) {
                void *old = e->val;
                e->val = val;
                return old;
            }
        }
    }
    if (m->n + 1 > m->cap) tgsim_map_grow(m);
    size_t s = tgsim_map_slot(key, m->cap);
    tgsim_map_ent_t *e = tgsim_xmalloc(sizeof *e);
    e->key = key;
    e->val = val;
    e->next = m->tab[s];
    m->tab[s] = e;
    m->n++;
    return NULL;
}

void *tgsim_map_del(tgsim_map_t *m, uint64_t key)
{
    if (!m->cap) return NULL;
    for (tgsim_map_ent_t **pp = &m->tab[tgsim_map_slot(key, m->cap)]; *pp; pp = &(*pp)->next) {
        if ((*pp)->key == key) {
            tgsim_map_ent_t *e = *pp;
            void *val = e->val;
            *pp = e->next;
            free(e);
            m->n--;
            return val;
        }
    }
    return NULL;
}

void *tgsim_map_next(const tgsim_map_t *m, size_t *pos, tgsim_map_ent_t **ent)
{
    if (*ent && (*ent)->next) {
        *ent = (*ent)->next;
        return (*ent)->val;
    }
    if (*ent) (*pos)++;
    for (; *pos < m->cap; (*pos)++) {
        if (m->tab[*pos]) {
            *ent = m->tab[*pos];
            return (*ent)->val;
        }
    }
    *ent = NULL;
    return NULL;
}

void tgsim_map_clear(tgsim_map_t *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        tgsim_map_ent_t *e = m->tab[i];
        while (e) {
            tgsim_map_ent_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->tab);
    m->tab = NULL;
    m->cap = m->n = 0;
}

uint64_t tgsim_str_key(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}
