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

#endif
