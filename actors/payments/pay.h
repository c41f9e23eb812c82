/* pay.h — the payments module: configuration, kinds, start-up.
 *
 * Purpose: app/ fills pay_cfg_t from PLUS7_PAY_* / PLUS7_YOOKASSA_* and
 * calls pay_register (kinds, the dialog's settings) before the runtime
 * starts and pay_start after. Two kinds:
 *   "payment"     key: attempt id — one actor per payment attempt
 *                 (pay_actor.c): creates the YooKassa payment, re-reads it,
 *                 settles refunds, expires the attempt;
 *   "pay_sweeper" key "main" — wakes attempts whose next check is due, open
 *                 refunds and unprocessed notifications (pay_sweeper.c), so
 *                 nothing waits on a timer lost in a crash.
 * Design note: docs/payments.md.
 *
 * Exports: pay_cfg_t, pay_register, pay_start, pay_config, pay_yk_enabled,
 * pay_auth_header, pay_poke,
 * pay_kind, pay_sweeper_kind, PAY_SQL_PHOTO.
 * Threads: pay_register/pay_start on the main thread; pay_poke any thread;
 * pay_cfg any thread after pay_register (read-only).
 */
#ifndef PLUS7_PAY_H
#define PLUS7_PAY_H

#include <stdbool.h>

#include "pay_qr.h"
#include "rt.h"

typedef struct pay_cfg {
    const char *provider_token;  /* PLUS7_PAY_PROVIDER_TOKEN; NULL = no invoices */
    const char *yk_api;          /* PLUS7_YOOKASSA_API, no trailing '/' */
    const char *yk_shop_id;      /* PLUS7_YOOKASSA_SHOP_ID; NULL = no QR / СБП */
    const char *yk_secret;       /* PLUS7_YOOKASSA_SECRET */
    pay_gost_t bank;             /* PLUS7_PAY_BANK_*; bank.name NULL = no bank QR */
    int sweep_ms;                /* sweeper period; 0 = 2000 */
} pay_cfg_t;

extern const rt_kind_t pay_kind;
extern const rt_kind_t pay_sweeper_kind;

/* Copy the configuration (strings duplicated), configure the dialog
 * (conv_pay.h) and register the kinds. RT_OK or an RT_E* code. Main
 * thread, before rt_runtime_start. */
int pay_register(rt_runtime_t *rt, const pay_cfg_t *cfg);
/* Start the sweeper. Main thread, after rt_runtime_start. */
int pay_start(rt_runtime_t *rt);
/* The registered configuration (never NULL after pay_register). */
const pay_cfg_t *pay_config(void);
/* Is YooKassa configured? */
bool pay_yk_enabled(void);
/* "Authorization: Basic <base64 shop:secret>" for YooKassa (built once). */
const char *pay_auth_header(void);
/* Wake the actor of attempt `id` (any thread; rt is an rt_runtime_t*). */
void pay_poke(void *rt, const char *id);

/* Store a PNG and queue it as sendPhoto in one statement: $1 chat, $2 the
 * sendPhoto parameters (JSON), $3 the bytes as bytea text (\x…), $4 the
 * outbox dedupe key. */
#define PAY_SQL_PHOTO                                                                                     \
    "WITH f AS (INSERT INTO tg_files (filename, content_type, data) VALUES ('qr.png', 'image/png', $3::bytea)" \
    "           RETURNING id)"                                                                            \
    " INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key, file_id, file_field)"             \
    " SELECT $1::bigint, 'sendPhoto', $2, 0, $4, f.id, 'photo' FROM f ON CONFLICT (dedupe_key) DO NOTHING"

/* Operators' refund ($1 posting, $2 kopecks or NULL = all that is left, $3
 * who): inserts the refund only when it fits what is left of the order's
 * payment, counting refunds still open; returns 'unpaid', 'too_much:<left>'
 * or 'ok:<refund id>:<kopecks>'. (plus7d refund, /refund in the chat) */
#define PAY_SQL_REFUND                                                                                    \
    "WITH a AS (SELECT p.id, p.amount_kop - p.refunded_kop"                                               \
    "                  - coalesce((SELECT sum(amount_kop) FROM pay_refunds f"                             \
    "                               WHERE f.attempt_id = p.id AND f.status = 'created'), 0) AS left_kop"  \
    "             FROM orders o JOIN pay_attempts p ON p.id = o.paid_attempt"                             \
    "            WHERE o.posting_number = $1 FOR UPDATE OF p),"                                           \
    "     ins AS (INSERT INTO pay_refunds (attempt_id, amount_kop, reason, requested_by)"                 \
    "             SELECT id, coalesce($2::bigint, left_kop), 'operator', $3 FROM a"                       \
    "              WHERE coalesce($2::bigint, left_kop) BETWEEN 1 AND left_kop RETURNING id, amount_kop)" \
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM a) THEN 'unpaid'"                                        \
    "             WHEN NOT EXISTS (SELECT 1 FROM ins) THEN 'too_much:' || (SELECT left_kop FROM a)"       \
    "             ELSE 'ok:' || (SELECT id || ':' || amount_kop FROM ins) END"

/* An operator confirms the order's open bank-QR attempt ($1 posting, $2 who). */
#define PAY_SQL_PAID_BANK                                                                                 \
    "UPDATE pay_attempts SET confirmed_by = $2, next_check_at = now(), updated_at = now()"                \
    " WHERE id = (SELECT id FROM pay_attempts WHERE posting_number = $1 AND method = 'bank_qr'"           \
    "              AND status IN ('created', 'pending') ORDER BY created_at DESC LIMIT 1)"                \
    " RETURNING id"

/* Cash or card handed to the courier ($1 posting, $2 'cash'|'card', $3 who):
 * a confirmed attempt of the delivery's price. */
#define PAY_SQL_PAID_HAND                                                                                 \
    "INSERT INTO pay_attempts (id, posting_number, chat_id, tg_user_id, method, amount_kop, status, confirmed_by)" \
    " SELECT 'c' || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, o.posting_number, u.chat_id,"  \
    "        u.tg_user_id, $2, d.price_kopecks, 'pending', $3"                                            \
    "   FROM orders o JOIN deliveries d ON d.posting_number = o.posting_number AND d.status = 'ordered'"  \
    "   JOIN users u ON u.tg_user_id = d.tg_user_id"                                                      \
    "  WHERE o.posting_number = $1 AND o.paid_attempt IS NULL AND d.price_kopecks > 0"                    \
    " RETURNING id"

#endif
