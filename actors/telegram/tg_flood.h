/* tg_flood.h — the outbound flood-control scheduler for Telegram.
 *
 * Purpose: one queue in front of the Bot API that keeps the bot inside
 * Telegram's limits (Bot FAQ): overall at most `global_per_sec` messages in
 * any one-second window AS THE SERVER SEES THEM (a sliding window over the
 * sends' completion times, so neither a boundary nor network jitter can
 * crowd more than the limit into one second at the server), evenly paced
 * so Telegram's own bucket never runs dry; a private chat about 1 msg/s sustained with a
 * short burst; a group at most `group_per_min` per minute. Messages to one
 * chat leave in order and never overlap (the next waits for the previous
 * send to finish, so a retried message cannot be overtaken). Interactive
 * replies go before bulk (mass) messages. A 429 pauses the chat, and the
 * whole bot, for retry_after.
 *
 * Pure logic: no I/O, no clock (callers pass now_ms), so it is unit-tested
 * and benchmarked deterministically. Used by the tg_gateway actor.
 *
 * Exports: tg_flood_t, tg_flood_cfg_t, tg_flood_new, tg_flood_free,
 * tg_flood_push, tg_flood_pop, tg_flood_done, tg_flood_retry,
 * tg_flood_pause, tg_flood_pending.
 * Threads: one owner (the gateway actor); not thread-safe.
 */
#ifndef PLUS7_TG_FLOOD_H
#define PLUS7_TG_FLOOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tg_flood tg_flood_t;

typedef struct tg_flood_cfg {
    int global_per_sec;     /* PLUS7_TG_RATE, default 30 */
    int chat_burst;         /* private chat burst, default 3 */
    int chat_interval_ms;   /* private chat sustained spacing, default 1000 */
    int group_per_min;      /* default 20 */
} tg_flood_cfg_t;

enum { TG_PRIO_INTERACTIVE = 0, TG_PRIO_BULK = 1 };

/* Create a scheduler; zero fields of cfg take the defaults. NULL on ENOMEM. */
tg_flood_t *tg_flood_new(const tg_flood_cfg_t *cfg);

/* Free the scheduler and every queued item with item_free (may be NULL). */
void tg_flood_free(tg_flood_t *f, void (*item_free)(void *));

/* Queue `item` for chat_id (a negative id is a group, as in Telegram).
 * Returns RT_OK or RT_ENOMEM (the item is then not queued). */
int tg_flood_push(tg_flood_t *f, int64_t chat_id, int prio, void *item);

/* Take the next item that may be sent at now_ms and account for it. Returns
 * NULL when nothing may go now; *wait_ms then says how long until
 * something may (-1 when nothing is queued or every queued chat is waiting
 * for a send to finish). */
void *tg_flood_pop(tg_flood_t *f, uint64_t now_ms, int64_t *chat_id, int64_t *wait_ms);

/* The send popped for chat_id finished (delivered, or failed for good). */
void tg_flood_done(tg_flood_t *f, int64_t chat_id, uint64_t now_ms);

/* The send popped for chat_id got 429 (or a transient error): put `item`
 * back at the head of the chat's queue and pause that chat — and, when
 * `global`, every chat — until now_ms + retry_after_ms. */
void tg_flood_retry(tg_flood_t *f, int64_t chat_id, int prio, void *item,
                    uint64_t now_ms, uint32_t retry_after_ms, bool global);

/* Send nothing before until_ms (e.g. right after a restart). */
void tg_flood_pause(tg_flood_t *f, uint64_t until_ms);

/* Items queued (not counting those popped and not yet done/retried). */
size_t tg_flood_pending(const tg_flood_t *f);

#endif
