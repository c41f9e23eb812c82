/* rt_dir.c — the directory: (kind, key) -> live actor, and quarantine.
 *
 * Purpose: a hash sharded RT_DIR_SHARDS ways, one mutex per shard, chains
 * threaded through the actors themselves (rt_actor.dir_next), so a keyed
 * actor's directory entry costs one pointer. Each shard also keeps the
 * failure records of its keys (supervision: RT_QUARANTINE_MAX failures
 * within RT_QUARANTINE_WINDOW_MS quarantine a key for RT_QUARANTINE_MS).
 *
 * Exports: rt_dir_init, rt_dir_fini, rt_dir_hash, rt_dir_find,
 * rt_dir_insert, rt_dir_remove, rt_dir_quarantined, rt_dir_record_failure.
 *
 * Threads: any; every function but init/fini/hash requires the shard's
 * mutex held by the caller.
 */
#include "rt_internal.h"

#include <stdlib.h>
#include <string.h>

int rt_dir_init(rt_runtime_t *rt)
{
    for (int i = 0; i < RT_DIR_SHARDS; i++) {
        rt_dir_shard_t *sh = &rt->dir[i];
        if (pthread_mutex_init(&sh->mu, NULL) != 0) return RT_ENOMEM;
        sh->nbuckets = 64;
        sh->count = 0;
        sh->fails = NULL;
        sh->buckets = calloc(sh->nbuckets, sizeof *sh->buckets);
        if (!sh->buckets) return RT_ENOMEM;
    }
    return RT_OK;
}

void rt_dir_fini(rt_runtime_t *rt)
{
    for (int i = 0; i < RT_DIR_SHARDS; i++) {
        rt_dir_shard_t *sh = &rt->dir[i];
        free(sh->buckets);
        sh->buckets = NULL;
        for (rt_fail_rec_t *f = sh->fails, *n; f; f = n) {
            n = f->next;
            free(f);
        }
        sh->fails = NULL;
        pthread_mutex_destroy(&sh->mu);
    }
}

/* FNV-1a over the key, seeded with the kind pointer, then a final mix so
 * both the low bits (shard) and high bits (bucket) are well spread. */
uint32_t rt_dir_hash(const rt_kind_t *kind, const char *key, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)kind;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (uint32_t)h;
}

static inline uint32_t rt_dir_bucket(const rt_dir_shard_t *sh, uint32_t h)
{
    return (h >> 6) & (sh->nbuckets - 1);
}

rt_actor_t *rt_dir_find(rt_dir_shard_t *sh, const rt_kind_t *kind, const char *key, uint32_t h)
{
    for (rt_actor_t *a = sh->buckets[rt_dir_bucket(sh, h)]; a; a = a->dir_next)
        if (a->hash == h && a->kind == kind && strcmp(rt_actor_key(a), key) == 0) return a;
    return NULL;
}

static void rt_dir_grow(rt_dir_shard_t *sh)
{
    uint32_t nb = sh->nbuckets * 2;
    rt_actor_t **b = calloc(nb, sizeof *b);
    if (!b) return;  /* keep the longer chains; still correct */
    uint32_t old = sh->nbuckets;
    rt_actor_t **ob = sh->buckets;
    sh->buckets = b;
    sh->nbuckets = nb;
    for (uint32_t i = 0; i < old; i++) {
        for (rt_actor_t *a = ob[i], *n; a; a = n) {
            n = a->dir_next;
            uint32_t j = rt_dir_bucket(sh, a->hash);
            a->dir_next = b[j];
            b[j] = a;
        }
    }
    free(ob);
}

int rt_dir_insert(rt_dir_shard_t *sh, rt_actor_t *a)
{
    if (sh->count >= sh->nbuckets) rt_dir_grow(sh);
    uint32_t j = rt_dir_bucket(sh, a->hash);
    a->dir_next = sh->buckets[j];
    sh->buckets[j] = a;
    sh->count++;
    return RT_OK;
}

void rt_dir_remove(rt_dir_shard_t *sh, rt_actor_t *a)
{
    rt_actor_t **pp = &sh->buckets[rt_dir_bucket(sh, a->hash)];
    for (; *pp; pp = &(*pp)->dir_next) {
        if (*pp == a) {
            *pp = a->dir_next;
            a->dir_next = NULL;
            sh->count--;
            return;
        }
    }
}

static rt_fail_rec_t *rt_dir_fail_find(rt_dir_shard_t *sh, const rt_kind_t *kind, const char *key,
                                       uint32_t h, uint64_t now, bool prune)
{
    for (rt_fail_rec_t **pp = &sh->fails, *f; (f = *pp);) {
        /* a record with no quarantine and no failure inside the window is
         * forgotten */
        uint64_t last = f->nfail ? f->times[(f->nfail - 1) % RT_QUARANTINE_MAX] : 0;
        if (prune && f->until <= now && now - last > RT_QUARANTINE_WINDOW_MS) {
            *pp = f->next;
            free(f);
            continue;
        }
        if (f->hash == h && f->kind == kind && strcmp(f->key, key) == 0) return f;
        pp = &f->next;
    }
    return NULL;
}

bool rt_dir_quarantined(rt_dir_shard_t *sh, const rt_kind_t *kind, const char *key, uint32_t h,
                        uint64_t now)
{
    if (!sh->fails) return false;
    rt_fail_rec_t *f = rt_dir_fail_find(sh, kind, key, h, now, true);
    return f && f->until > now;
}

bool rt_dir_record_failure(rt_dir_shard_t *sh, const rt_kind_t *kind, const char *key, uint32_t h,
                           uint64_t now)
{
    rt_fail_rec_t *f = rt_dir_fail_find(sh, kind, key, h, now, true);
    if (!f) {
        size_t n = strlen(key);
        f = calloc(1, sizeof *f + n + 1);
        if (!f) return false;
        memcpy(f->key, key, n + 1);
        f->kind = kind;
        f->hash = h;
        f->next = sh->fails;
        sh->fails = f;
    }
    f->times[f->nfail % RT_QUARANTINE_MAX] = now;
    f->nfail++;
    if (f->nfail < RT_QUARANTINE_MAX) return false;
    /* the oldest of the last RT_QUARANTINE_MAX failures */
    uint64_t oldest = f->times[f->nfail % RT_QUARANTINE_MAX];
    if (now - oldest > RT_QUARANTINE_WINDOW_MS) return false;
    f->until = now + RT_QUARANTINE_MS;
    f->nfail = 0;
    memset(f->times, 0, sizeof f->times);
    return true;
}
