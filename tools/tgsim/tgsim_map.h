/* tgsim_map.h — a small hash map from 64-bit keys to pointers.
 *
 * Purpose: users, chats, callback queries, payments, files and rate buckets
 * are looked up by id. Separate chaining, power-of-two table, grows at load
 * factor 1. Values are owned by the caller.
 *
 * Exports: tgsim_map_t, tgsim_map_get, tgsim_map_put, tgsim_map_del,
 * tgsim_map_next, tgsim_map_clear, tgsim_str_key.
 * Threads: none of its own; callers hold the world lock.
 */
#ifndef TGSIM_MAP_H
#define TGSIM_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct tgsim_map_ent {
    uint64_t key;
    void *val;
    struct tgsim_map_ent *next;
} tgsim_map_ent_t;

typedef struct tgsim_map {
    tgsim_map_ent_t **tab;
    size_t cap;      /* 0 or a power of two */
    size_t n;
} tgsim_map_t;

/* The value stored under key, or NULL. */
void *tgsim_map_get(const tgsim_map_t *m, uint64_t key);
/* Store val under key (replacing any previous value, which is returned). */
void *tgsim_map_put(tgsim_map_t *m, uint64_t key, void *val);
/* Remove key; returns the removed value or NULL. */
void *tgsim_map_del(tgsim_map_t *m, uint64_t key);
/* Iterate: start with *pos = 0 and *ent = NULL; returns the next value or
 * NULL at the end. Do not modify the map while iterating. */
void *tgsim_map_next(const tgsim_map_t *m, size_t *pos, tgsim_map_ent_t **ent);
/* Remove every entry (values are not freed) and release the table. */
void tgsim_map_clear(tgsim_map_t *m);
/* 64-bit FNV-1a of a string, for string-keyed lookups. */
uint64_t tgsim_str_key(const char *s);

#endif
