/* order_tx.h — the statements of one order transaction (internal to the
 * order actor, not an API).
 *
 * Purpose: the order actor (order_actor.c) builds every change of a
 * posting as one transaction of statements; this file holds the builders:
 *   - a status change: the orders upsert, guarded in SQL so a status only
 *     moves forward (order_status_advances() of sql/013_order_owners.sql),
 *     its history row (applied only when the guard let it through) and its
 *     notifications;
 *   - the notifications of an event: Telegram to every chat concerned —
 *     owners (phone = Ozon customer, addressee or the logistics recipient,
 *     or who ordered the delivery) get the event's template with its
 *     variables, people who only track the number get a status-only row
 *     (audience 'watcher'); a chat that pressed «🔕 Не следить» gets
 *     nothing; reminders go to owners only; SMS to owners' phones without a
 *     Telegram registration, only for the events PLUS7_SMS_EVENTS chooses;
 *     every row only when the order's status is the one announced;
 *   - the recipient named by a logistics event (E.164 phone, name);
 *   - the read-back of the order's row, from which the actor takes its
 *     state after the commit.
 * Parameters are text; strings the builders format are owned by the
 * ord_tx_t and freed by ord_tx_free. A full transaction (RT_PG_TX_MAX)
 * drops further statements and sets `overflow`.
 *
 * Exports: ord_tx_t, ord_change_t, ord_tx_init, ord_tx_free, ord_tx_i64, ord_tx_change,
 * ord_tx_announce, ord_tx_history, ord_tx_notify, ord_tx_recipient, ord_tx_readback,
 * ord_tx_add, ORD_DAY_MS.
 * Threads: the order actor's worker (pure statement building).
 */
#ifndef PLUS7_ORDER_TX_H
#define PLUS7_ORDER_TX_H

#include <stdbool.h>
#include <stdint.h>

#include "order_status.h"
#include "rt_pg.h"

#define ORD_DAY_MS (24LL * 3600 * 1000)
#define ORD_TX_PARAMS 12   /* parameters of one statement at most (the Ozon refresh has 11) */

typedef struct ord_tx {
    rt_pg_stmt_t stmts[RT_PG_TX_MAX];
    const char *params[RT_PG_TX_MAX][ORD_TX_PARAMS];
    char *owned[RT_PG_TX_MAX * 3];
    int n, nowned;
    bool overflow;
} ord_tx_t;

void ord_tx_init(ord_tx_t *tx);
void ord_tx_free(ord_tx_t *tx);

/* A new statement with nparams (<= ORD_TX_PARAMS) parameters; the parameter slots to
 * fill, or NULL (and overflow) when the transaction is full. */
const char **ord_tx_add(ord_tx_t *tx, const char *sql, int nparams);

/* v as decimal text, owned by tx (NULL on ENOMEM). */
const char *ord_tx_i64(ord_tx_t *tx, int64_t v);

/* A status change being built: the upsert is issued first; the caller
 * may then store what decides who owns the parcel (Ozon's phones, the
 * logistics recipient) before ord_tx_announce queues its history row and
 * notifications, so they already reach the owner the same data names. */
typedef struct ord_change {
    order_status_t to;
    const char *at_s;          /* at_ms as text (owned by the tx) */
    int64_t at_ms, storage_ms; /* storage_ms: the deadline of an arrival, else 0 */
    const char *source, *pickup, *event_id, *comment;   /* NULL when absent */
} ord_change_t;

/* Issue the upsert of a change to `to` at `at_ms` from `source`
 * ("logistics", "ozon") with an optional pickup point, event id and
 * comment (kept in *ch, which must outlive the tx); `now_ms` decides the
 * storage deadline of an arrival at the pickup point (never in the past:
 * notify_pickup_start). */
void ord_tx_change(ord_tx_t *tx, ord_change_t *ch, const char *posting, int64_t now_ms);

/* The history row (applied when the guard let the change through) and,
 * when `notify`, the notifications of the change *ch. */
void ord_tx_announce(ord_tx_t *tx, const ord_change_t *ch, const char *posting, bool notify);

/* A history row of an event that changed nothing (stale or repeated). */
void ord_tx_history(ord_tx_t *tx, const char *posting, const char *status, const char *source, int64_t at_ms,
                    const char *event_id, const char *comment);

/* The notifications of `event` while the order's status is `status`:
 * owners get `vars` (JSON), watchers a status-only row unless
 * owners_only (pickup reminders). */
void ord_tx_notify(ord_tx_t *tx, const char *posting, const char *event, order_status_t status,
                   const char *vars, bool owners_only);

/* The recipient a logistics event names (phone E.164 or NULL, name or
 * NULL); nothing when both are NULL. */
void ord_tx_recipient(ord_tx_t *tx, const char *posting, const char *phone, const char *name);

/* The order's row as the transaction leaves it: status, status_at (ms),
 * storage_until (ms or NULL), storage_extended; the last statement. */
void ord_tx_readback(ord_tx_t *tx, const char *posting);

#endif
