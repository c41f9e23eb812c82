/* tg_flood.c — Telegram outbound flood control (see tg_flood.h).
 *
 * Structure: a hash of per-chat queues (FIFO of items); chats with a
 * sendable head sit on one of two ready rings (interactive, bulk) by the
 * priority of their head. pop() scans a bounded number of chats on the
 * interactive ring, then the bulk ring; a chat that may not send yet (its
 * own rate or pause) rotates to the ring's tail. Global and group limits are
 * sliding windows over the timestamps of the last N sends; global sends are
 * also paced evenly (1000/rate ms apart).
 *
 * Headroom against jitter: the server counts a send when it ARRIVES, some
 * time between our pop (start) and our done/retry (answer). Every window
 * entry therefore holds the send's COMPLETION time (TG_IN_FLIGHT until then)
 * and a new send starts only TG_WINDOW_MS after the completion of the send
 * N places before it: arrival(i+N) >= start(i+N) > completion(i) + 1000 >=
 * arrival(i) + 1000, so no one-second window at the server ever holds more
 * than N, however the requests are delayed on the way. The private chat's
 * bucket likewise earns nothing while a send is in flight (refilled_at moves
 * to the completion). The price is one round trip per N sends.
 *
 * Exports: see tg_flood.h. Threads: one owner.
 */
#include "tg_flood.h"

#include <stdlib.h>
#include <string.h>

#include "rt.h"

typedef struct tg_item {
    struct tg_item *next;
    void *payload;
    int prio;
} tg_item_t;

typedef struct tg_chatq {
    int64_t chat_id;
    struct tg_chatq *hnext;          /* hash chain */
    struct tg_chatq *rprev, *rnext;  /* ready ring links */
    int ring;                        /* -1 none, else TG_PRIO_* */
    tg_item_t *head, *tail;
    bool in_flight;
    uint64_t paused_until;
    double tokens;                   /* private chats: token bucket */
    uint64_t refilled_at;
    uint64_t *window;                /* groups: last group_per_min completion times */
    int wpos;
    int gslot;                       /* in flight: its entry in the global window, else -1 */
} tg_chatq_t;

typedef struct tg_ring {
    tg_chatq_t *head;
    size_t n;
} tg_ring_t;

struct tg_flood {
    tg_flood_cfg_t cfg;
    tg_chatq_t **buckets;
    size_t nbuckets, nchats;
    tg_ring_t rings[2];
    uint64_t *gwindow;               /* last global_per_sec completion times, ring */
    int gpos;
    uint64_t global_paused_until;
    size_t pending;
    size_t sweep_pos;
    double next_send_at;             /* global pacing: earliest next send, ms */
};

#define TG_FLOOD_SCAN 64   /* chats examined per pop and ring */
#define TG_WINDOW_GROUP_MS 60000
#define TG_WINDOW_MS 1002        /* 1 s + 2 ms: whole-millisecond clocks on both sides */
#define TG_IN_FLIGHT UINT64_MAX  /* a window entry whose send has not completed */
#define TG_IN_FLIGHT_POLL_MS 10  /* the oldest entry still in flight: look again soon */

tg_flood_t *tg_flood_new(const tg_flood_cfg_t *cfg)
{
    tg_flood_t *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->cfg = *cfg;
    if (f->cfg.global_per_sec <= 0) f->cfg.global_per_sec = 30;
    if (f->cfg.chat_burst <= 0) f->cfg.chat_burst = 3;
    if (f->cfg.chat_interval_ms <= 0) f->cfg.chat_interval_ms = 1000;
    if (f->cfg.group_per_min <= 0) f->cfg.group_per_min = 20;
    f->nbuckets = 1024;
    f->buckets = calloc(f->nbuckets, sizeof *f->buckets);
    f->gwindow = calloc((size_t)f->cfg.global_per_sec, sizeof *f->gwindow);
    if (!f->buckets || !f->gwindow) {
        free(f->buckets);
        free(f->gwindow);
        free(f);
        return NULL;
    }
    return f;
}

static size_t tg_hash(int64_t id, size_t n)
{
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 20) & (n - 1);
}

static void tg_chatq_free(tg_chatq_t *c, void (*item_free)(void *))
{
    for (tg_item_t *it = c->head, *nx; it; it = nx) {
        nx = it->next;
        if (item_free) item_free(it->payload);
        free(it);
    }
    free(c->window);
    free(c);
}

void tg_flood_free(tg_flood_t *f, void (*item_free)(void *))
{
    if (!f) return;
    for (size_t i = 0; i < f->nbuckets; i++)
        for (tg_chatq_t *c = f->buckets[i], *nx; c; c = nx) {
            nx = c->hnext;
            tg_chatq_free(c, item_free);
        }
    free(f->buckets);
    free(f->gwindow);
    free(f);
}

static void tg_grow(tg_flood_t *f)
{
    size_t n = f->nbuckets * 2;
    tg_chatq_t **b = calloc(n, sizeof *b);
    if (!b) return;   /* keep the old table: longer chains, still correct */
    for (size_t i = 0; i < f->nbuckets; i++)
        for (tg_chatq_t *c = f->buckets[i], *nx; c; c = nx) {
            nx = c->hnext;
            size_t h = tg_hash(c->chat_id, n);
            c->hnext = b[h];
            b[h] = c;
        }
    free(f->buckets);
    f->buckets = b;
    f->nbuckets = n;
}

static tg_chatq_t *tg_find(tg_flood_t *f, int64_t id, bool create)
{
    size_t h = tg_hash(id, f->nbuckets);
    for (tg_chatq_t *c = f->buckets[h]; c; c = c->hnext)
        if (c->chat_id == id) return c;
    if (!create) return NULL;
    tg_chatq_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->chat_id = id;
    c->ring = -1;
    c->gslot = -1;
    c->tokens = f->cfg.chat_burst;
    if (id < 0) {
        c->window = calloc((size_t)f->cfg.group_per_min, sizeof *c->window);
        if (!c->window) { free(c); return NULL; }
    }
    c->hnext = f->buckets[h];
    f->buckets[h] = c;
    if (++f->nchats > f->nbuckets * 2) tg_grow(f);
    return c;
}

/* A chat with nothing queued, nothing in flight, no pause and a refilled
 * bucket carries no information and is freed; tg_flood_done tries the
 * chat that just finished and every pop sweeps one hash bucket, so memory
 * stays bounded by the chats active in the last few seconds. Groups keep
 * their one-minute window until it has fully expired. */
static bool tg_chat_idle(const tg_flood_t *f, const tg_chatq_t *c, uint64_t now)
{
    if (c->head || c->in_flight || c->ring >= 0 || c->paused_until > now) return false;
    if (c->window) {
        for (int i = 0; i < f->cfg.group_per_min; i++)
            if (c->window[i] == TG_IN_FLIGHT || c->window[i] + TG_WINDOW_GROUP_MS > now) return false;
        return true;
    }
    return c->tokens + (double)(now - c->refilled_at) / f->cfg.chat_interval_ms >= f->cfg.chat_burst;
}

static void tg_sweep_bucket(tg_flood_t *f, size_t b, uint64_t now)
{
    for (tg_chatq_t **pp = &f->buckets[b]; *pp;) {
        tg_chatq_t *c = *pp;
        if (tg_chat_idle(f, c, now)) {
            *pp = c->hnext;
            f->nchats--;
            free(c->window);
            free(c);
        } else {
            pp = &c->hnext;
        }
    }
}

static void tg_ring_remove(tg_flood_t *f, tg_chatq_t *c)
{
    if (c->ring < 0) return;
    tg_ring_t *r = &f->rings[c->ring];
    if (c->rnext == c) {
        r->head = NULL;
    } else {
        c->rprev->rnext = c->rnext;
        c->rnext->rprev = c->rprev;
        if (r->head == c) r->head = c->rnext;
    }
    r->n--;
    c->ring = -1;
    c->rprev = c->rnext = NULL;
}

static void tg_ring_add_tail(tg_flood_t *f, tg_chatq_t *c, int ring)
{
    tg_ring_t *r = &f->rings[ring];
    c->ring = ring;
    if (!r->head) {
        r->head = c->rprev = c->rnext = c;
    } else {
        c->rnext = r->head;
        c->rprev = r->head->rprev;
        r->head->rprev->rnext = c;
        r->head->rprev = c;
    }
    r->n++;
}

/* Put the chat on the ring matching its head's priority, if it can send. */
static void tg_schedule(tg_flood_t *f, tg_chatq_t *c)
{
    tg_ring_remove(f, c);
    if (c->head && !c->in_flight) tg_ring_add_tail(f, c, c->head->prio);
}

int tg_flood_push(tg_flood_t *f, int64_t chat_id, int prio, void *item)
{
    tg_chatq_t *c = tg_find(f, chat_id, true);
    tg_item_t *it = c ? malloc(sizeof *it) : NULL;
    if (!it) return RT_ENOMEM;
    it->next = NULL;
    it->payload = item;
    it->prio = prio == TG_PRIO_BULK ? TG_PRIO_BULK : TG_PRIO_INTERACTIVE;
    bool was_empty = c->head == NULL;
    if (c->tail) c->tail->next = it;
    else c->head = it;
    c->tail = it;
    f->pending++;
    if (was_empty) tg_schedule(f, c);
    return RT_OK;
}

/* Milliseconds until chat c may send (0 = now). */
static int64_t tg_chat_wait(const tg_flood_t *f, tg_chatq_t *c, uint64_t now)
{
    int64_t w = c->paused_until > now ? (int64_t)(c->paused_until - now) : 0;
    if (c->window) {
        uint64_t oldest = c->window[c->wpos];
        if (oldest == TG_IN_FLIGHT) {
            if (TG_IN_FLIGHT_POLL_MS > w) w = TG_IN_FLIGHT_POLL_MS;
        } else if (oldest && oldest + TG_WINDOW_GROUP_MS > now) {
            int64_t g = (int64_t)(oldest + TG_WINDOW_GROUP_MS - now);
            if (g > w) w = g;
        }
    } else {
        double iv = f->cfg.chat_interval_ms;
        double tokens = c->tokens + (double)(now - c->refilled_at) / iv;
        if (tokens > f->cfg.chat_burst) tokens = f->cfg.chat_burst;
        c->tokens = tokens;
        c->refilled_at = now;
        if (tokens < 1.0) {
            int64_t t = (int64_t)((1.0 - tokens) * iv) + 1;
            if (t > w) w = t;
        }
    }
    return w;
}

/* Global pacing: sends are spaced at least 1000/global_per_sec ms apart
 * (Telegram's own limiter is a bucket that a burst of a full second's
 * quota can empty; evenly spaced sends never do), on top of the sliding
 * window that bounds any one-second window. */
static int64_t tg_global_wait(const tg_flood_t *f, uint64_t now)
{
    int64_t w = f->global_paused_until > now ? (int64_t)(f->global_paused_until - now) : 0;
    uint64_t oldest = f->gwindow[f->gpos];
    if (oldest == TG_IN_FLIGHT) {
        if (TG_IN_FLIGHT_POLL_MS > w) w = TG_IN_FLIGHT_POLL_MS;
    } else if (oldest && oldest + TG_WINDOW_MS > now && (int64_t)(oldest + TG_WINDOW_MS - now) > w) {
        w = (int64_t)(oldest + TG_WINDOW_MS - now);
    }
    if (f->next_send_at > (double)now) {
        int64_t s = (int64_t)(f->next_send_at - (double)now + 0.999);
        if (s > w) w = s;
    }
    return w;
}

void *tg_flood_pop(tg_flood_t *f, uint64_t now_ms, int64_t *chat_id, int64_t *wait_ms)
{
    int64_t best = -1;
    tg_sweep_bucket(f, f->sweep_pos, now_ms);
    f->sweep_pos = (f->sweep_pos + 1) & (f->nbuckets - 1);
    int64_t g = tg_global_wait(f, now_ms);
    if (g > 0) {
        *wait_ms = f->rings[0].n || f->rings[1].n ? g : -1;
        return NULL;
    }
    for (int ring = 0; ring < 2; ring++) {
        tg_ring_t *r = &f->rings[ring];
        for (size_t scanned = 0; r->head && scanned < TG_FLOOD_SCAN && scanned < r->n; scanned++) {
            tg_chatq_t *c = r->head;
            int64_t w = tg_chat_wait(f, c, now_ms);
            if (w > 0) {
                if (best < 0 || w < best) best = w;
                r->head = c->rnext;        /* rotate: try the next chat */
                continue;
            }
            tg_item_t *it = c->head;
            c->head = it->next;
            if (!c->head) c->tail = NULL;
            c->in_flight = true;
            tg_ring_remove(f, c);
            if (c->window) {
                c->window[c->wpos] = TG_IN_FLIGHT;
                c->wpos = (c->wpos + 1) % f->cfg.group_per_min;
            } else {
                c->tokens -= 1.0;
            }
            f->gwindow[f->gpos] = TG_IN_FLIGHT;
            c->gslot = f->gpos;
            /* fractional, so the average is exactly the rate */
            double spacing = 1000.0 / f->cfg.global_per_sec;
            f->next_send_at = (f->next_send_at > (double)now_ms - spacing ? f->next_send_at : (double)now_ms) + spacing;
            f->gpos = (f->gpos + 1) % f->cfg.global_per_sec;
            f->pending--;
            *chat_id = c->chat_id;
            void *p = it->payload;
            free(it);
            *wait_ms = 0;
            return p;
        }
    }
    *wait_ms = best;
    return NULL;
}

/* The send in flight for c completed at now: stamp its window entries with
 * the completion time, and let the chat's bucket earn from now on. */
static void tg_completed(tg_flood_t *f, tg_chatq_t *c, uint64_t now)
{
    if (!c->in_flight) return;
    if (c->gslot >= 0 && f->gwindow[c->gslot] == TG_IN_FLIGHT) f->gwindow[c->gslot] = now;
    c->gslot = -1;
    if (c->window) {
        int last = (c->wpos + f->cfg.group_per_min - 1) % f->cfg.group_per_min;
        if (c->window[last] == TG_IN_FLIGHT) c->window[last] = now;
    } else if (now > c->refilled_at) {
        c->refilled_at = now;
    }
    c->in_flight = false;
}

void tg_flood_done(tg_flood_t *f, int64_t chat_id, uint64_t now_ms)
{
    tg_chatq_t *c = tg_find(f, chat_id, false);
    if (!c) return;
    tg_completed(f, c, now_ms);
    tg_schedule(f, c);
    tg_sweep_bucket(f, tg_hash(chat_id, f->nbuckets), now_ms);
}

void tg_flood_retry(tg_flood_t *f, int64_t chat_id, int prio, void *item,
                    uint64_t now_ms, uint32_t retry_after_ms, bool global)
{
    tg_chatq_t *c = tg_find(f, chat_id, true);
    tg_item_t *it = c ? malloc(sizeof *it) : NULL;
    if (!it) return;   /* cannot happen for a chat that was in flight */
    it->payload = item;
    it->prio = prio == TG_PRIO_BULK ? TG_PRIO_BULK : TG_PRIO_INTERACTIVE;
    it->next = c->head;
    c->head = it;
    if (!c->tail) c->tail = it;
    f->pending++;
    tg_completed(f, c, now_ms);
    if (now_ms + retry_after_ms > c->paused_until) c->paused_until = now_ms + retry_after_ms;
    if (global && now_ms + retry_after_ms > f->global_paused_until)
        f->global_paused_until = now_ms + retry_after_ms;
    tg_schedule(f, c);
}

void tg_flood_pause(tg_flood_t *f, uint64_t until_ms)
{
    if (until_ms > f->global_paused_until) f->global_paused_until = until_ms;
}

size_t tg_flood_pending(const tg_flood_t *f) { return f->pending; }
