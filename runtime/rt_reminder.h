/* rt_reminder.h — durable reminders: timers that survive restarts.
 *
 * Purpose: an actor asks to be woken at a wall-clock time with a small text
 * payload, even if it has been passivated or the process restarted in the
 * meantime. Reminders are rows of the table runtime_reminders (migration
 * sql/002_runtime_reminders.sql), unique per (kind, key, name). A poller
 * service actor (rt_reminders_start) claims due rows and sends each as an
 * RT_MSG_REMINDER message to (kind, key), which activates a passivated actor.
 *
 * Delivery is AT LEAST ONCE:
 *   1. The poller claims due rows in one statement (SELECT ... FOR UPDATE SKIP
 *      LOCKED inside an UPDATE that stamps fired_at and counts attempts), so
 *      concurrent pollers (several processes) never claim the same row.
 *   2. It sends RT_MSG_REMINDER {name, data, id, gen, due_at_ms, attempt} to
 *      (kind, key).
 *   3. The target handles it and then calls rt_reminder_ack(self, m), which
 *      deletes the row (only if it was not re-set meanwhile: the row's `gen`
 *      must still match).
 *   4. A claimed row that was not acknowledged within the lease (default
 *      60 s: the actor failed, the process died, the kind is unknown) is due
 *      again and redelivered with attempt+1. After max_attempts (default
 *      10) deliveries the row is deleted and logged (reminder_dropped).
 *   So a handler may see a reminder more than once (e.g. a crash between its
 *   side effect and the ack): handlers must be idempotent, e.g. by checking
 *   their own state, or by using the reminder id / attempt.
 *   Re-setting a reminder (same name) from inside its handler is the way to
 *   make it periodic; the ack then leaves the new row alone.
 *
 * Exports: the typed payload msg_rt_reminder_t / msg_rt_reminder_decode
 * (MSG_rt_reminder == RT_MSG_REMINDER), rt_reminder_set(_ex),
 * rt_reminder_cancel(_ex), rt_reminder_ack, rt_reminders_start(_ex),
 * rt_reminder_stats_fired.
 *
 * Threads: rt_reminder_set/cancel/ack from an actor's handler (its worker);
 * rt_reminders_start from the main thread after rt_runtime_start (the
 * poller's kind is registered by rt_pg_init, before start).
 */
#ifndef PLUS7_RT_REMINDER_H
#define PLUS7_RT_REMINDER_H

#include <stdint.h>

#include "rt.h"
#include "rt_pack.h"

/* Payload of RT_MSG_REMINDER. The first two fields are {name, data}.
 *   name       the reminder's name (unique per actor)
 *   data       the text given to rt_reminder_set ("" if none)
 *   id, gen    row identity and version, used by rt_reminder_ack
 *   due_at_ms  the due time, Unix milliseconds
 *   attempt    1 on the first delivery, 2+ on redeliveries */
#define rt_reminder_FIELDS(F) F(STR, name) F(STR, data) F(I64, id) F(I64, gen) \
    F(I64, due_at_ms) F(I64, attempt)
RT_PACK_DECLARE(rt_reminder, RT_MSG_REMINDER, "a durable reminder fired")

/* Set (insert or replace) the reminder `name` of the calling actor, due at
 * `due_at_unix_ms` (wall clock, Unix milliseconds; a past time fires at the
 * next poll), with optional text `data` (NULL = ""). Replacing resets the
 * attempt count and any pending delivery. Asynchronous: returns RT_OK when
 * the upsert was queued (it is retried across reconnects); a failure later
 * is logged (reminder_set_failed). Errors: RT_EINVAL (anonymous actor, name
 * NULL/empty, not on a worker, rt_pg_init not called), RT_ENOMEM, RT_EFULL.
 * Requests of one actor run in order, so set then cancel cancels. Handler
 * context. */
int rt_reminder_set(rt_actor_t *self, const char *name, int64_t due_at_unix_ms,
                    const char *data);

/* As rt_reminder_set, and deliver the upsert's outcome to self as an
 * RT_MSG_PG_RESULT with m->corr == corr (status RT_OK once it is durable). */
int rt_reminder_set_ex(rt_actor_t *self, uint32_t corr, const char *name,
                       int64_t due_at_unix_ms, const char *data);

/* Cancel the calling actor's reminder `name` (no-op if absent). A reminder
 * already claimed by the poller may still be delivered once. Same return
 * codes and context as rt_reminder_set. */
int rt_reminder_cancel(rt_actor_t *self, const char *name);

/* As rt_reminder_cancel, and deliver the outcome as RT_MSG_PG_RESULT with
 * m->corr == corr (affected = 1 if a row was deleted, 0 otherwise). */
int rt_reminder_cancel_ex(rt_actor_t *self, uint32_t corr, const char *name);

/* Acknowledge a delivered reminder after handling it: deletes its row
 * unless the reminder was re-set meanwhile. `m` must be the RT_MSG_REMINDER
 * being handled. Asynchronous, retried across reconnects; failures are
 * logged. Returns RT_OK, RT_EINVAL (not a reminder message / bad payload /
 * not on a worker), RT_ENOMEM or RT_EFULL. Handler context. */
int rt_reminder_ack(rt_actor_t *self, const rt_msg_t *m);

typedef struct rt_reminders_opts {
    uint32_t poll_ms;       /* poll period (default 1000) */
    uint32_t batch;         /* rows claimed per poll (default 100) */
    uint32_t lease_ms;      /* redeliver unacknowledged after (default 60000) */
    uint32_t max_attempts;  /* drop after this many deliveries (default 10) */
} rt_reminders_opts_t;

/* Start the reminder poller of `rt`: spawns one service actor that every
 * poll_ms claims up to `batch` due reminders and sends them (polling again
 * at once while full batches come back). Call once, on the main thread,
 * after rt_runtime_start; rt_pg_init must have been called. The poller ends
 * with the runtime. Returns RT_OK, RT_EINVAL (no poller kind: rt_pg_init
 * missing) or the error of rt_spawn / rt_send. */
int rt_reminders_start(rt_runtime_t *rt, uint32_t poll_ms);

/* As rt_reminders_start with every option (zero fields take defaults). */
int rt_reminders_start_ex(rt_runtime_t *rt, const rt_reminders_opts_t *opts);

/* Reminders sent to their targets since process start (any thread). */
uint64_t rt_reminder_stats_fired(void);

#endif
