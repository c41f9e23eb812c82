/* notifier_int.h — internals shared by the notifier's files (not an API).
 *
 * Purpose: the notifier actor (kind "notifier") is split by job:
 * notifier.c (life cycle, the Telegram pipeline, recovery after 403),
 * notify_sms.c (the SMS pipeline), notify_outcome.c (the outcome lists of a
 * pass and the set statements that apply them, small result helpers). They
 * share the actor's state below; everything here runs on the actor's home
 * worker, inside its handler.
 *
 * Exports (to those files only): nf_state_t and its parts, NF_* limits and
 * correlation ids, the nf_* helpers and the SMS pipeline's entry points.
 * Threads: the notifier actor's home worker.
 */
#ifndef PLUS7_NOTIFIER_INT_H
#define PLUS7_NOTIFIER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "rt.h"
#include "rt_http.h"
#include "rt_pg.h"

#define NF_TG_BATCH 200          /* rows per Telegram scan (the window caps it further) */
#define NF_SMS_SLOTS 4           /* SMS requests in flight */
#define NF_POLL_MS 250           /* re-check a full window this often */
#define NF_DB_RETRY_MS 1000
#define NF_SMS_TIMEOUT_MS 20000
#define NF_LOGGED_MAX 32         /* (event, channel) pairs whose missing template was logged */

enum {
    NF_CORR_TG_SCAN = 1,
    NF_CORR_TG_TX,
    NF_CORR_REC_SCAN,
    NF_CORR_REC_TX,
    NF_CORR_SMS_SCAN,
    NF_CORR_SMS_TX,
    NF_CORR_SMS_MARK,
    NF_CORR_SMS_DEFER,
    NF_CORR_HTTP0 = 1000,
};

typedef struct nf_slot {
    bool busy;
    int64_t id;
    int attempts;
    char phone[24];
} nf_slot_t;

typedef struct nf_timer {
    uint32_t id;
    uint64_t due;
} nf_timer_t;

typedef struct nf_state {
    /* Telegram pipeline */
    bool tg_busy, tg_again, tg_kick;   /* tg_kick: the transaction in flight queues messages */
    nf_timer_t tg_timer;
    int window;
    /* recovery after 403 */
    bool rec_busy, rec_all;
    int64_t *rec_ids;
    int nrec, caprec;
    nf_timer_t rec_timer;
    /* SMS pipeline */
    bool sms_busy, sms_again;
    int sms_asked;                     /* rows the scan in flight asked for */
    nf_timer_t sms_timer;
    nf_slot_t slots[NF_SMS_SLOTS];
    /* missing templates logged once per activation, not once per message */
    char logged[NF_LOGGED_MAX][72];
    int nlogged;
} nf_state_t;

/* The outcome lists of one pass, as JSON arrays for the set statements. */
typedef struct nf_lists {
    cJSON *queue;      /* {id, chat, params} */
    cJSON *fallback;   /* {id, phone, reason} */
    cJSON *final;      /* {id, status, reason, code} */
    int nqueue, nfallback, nfailed, nskipped;
} nf_lists_t;

/* ---- notify_outcome.c ---------------------------------------------------------------- */

/* Arm timer t to fire in ms unless it is already due earlier. */
void nf_arm(rt_actor_t *self, nf_timer_t *t, uint32_t ms);
/* Telegram is configured (a bot token). */
bool nf_tg_on(void);
/* Value at (row, col), NULL for SQL NULL or "". */
const char *nf_val(const rt_pg_result_t *r, int row, int col);
/* Value at (row, col) as int64, 0 for NULL. */
int64_t nf_i64(const rt_pg_result_t *r, int row, int col);
/* A PostgreSQL array literal {1,2,3} (malloc'd; NULL on ENOMEM). */
char *nf_id_array(const int64_t *ids, int n);
/* The event is a pickup reminder ("pickup_reminder..."). */
bool nf_is_reminder(const char *event);
/* Why a row should no longer go out, or NULL: a pickup reminder whose
 * parcel left the pickup point; a reminder or arrival notice whose storage
 * (storage_until_ms, 0 unknown) has ended. */
const char *nf_obsolete(const char *event, const char *order_status, int64_t storage_until_ms);
/* nf_fallback when an SMS may replace this Telegram row — an owner's
 * (not a watcher's), of an event PLUS7_SMS_EVENTS chooses; otherwise the
 * row fails with that reason. */
void nf_fallback_for(nf_lists_t *l, int64_t id, const char *phone, const char *event, bool watcher,
                     const char *why);
void nf_lists_init(nf_lists_t *l);
void nf_lists_free(nf_lists_t *l);
/* Row `id` ends as status ("failed" or "skipped") with reason and code. */
void nf_final(nf_lists_t *l, int64_t id, const char *status, const char *reason, int code);
/* Telegram cannot reach the person (`why`): an SMS to phone, or failed
 * when phone is NULL. */
void nf_fallback(nf_lists_t *l, int64_t id, const char *phone, const char *why);
/* Apply the non-empty lists in one transaction (result with `corr`).
 * RT_OK, RT_ENOTFOUND (nothing to do) or an error (nothing issued). */
int nf_lists_commit(rt_actor_t *self, uint32_t corr, const nf_lists_t *l);
/* Count the lists in the notify counters. */
void nf_count_lists(const nf_lists_t *l);
/* Count a rendering that used the generic text; log it once per
 * (event, channel) and activation. */
void nf_log_render(nf_state_t *st, int64_t id, const char *event, const char *channel, unsigned flags);

/* ---- notify_sms.c ---------------------------------------------------------------------- */

/* Scan due sms rows into the free slots (or note that one is wanted). */
void nf_sms_cycle(rt_actor_t *self, nf_state_t *st);
/* Results of NF_CORR_SMS_SCAN, NF_CORR_SMS_TX and of slot `slot`'s request. */
void nf_sms_scanned(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r);
void nf_sms_marked_final(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r);
void nf_sms_done(rt_actor_t *self, nf_state_t *st, int slot, const rt_http_result_t *res);
/* Result of NF_CORR_SMS_DEFER (rows moved to the next opening). */
void nf_sms_deferred(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r);

#endif
