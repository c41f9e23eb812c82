/* es_state.h — extsim's process-wide basics: the configuration, the one
 * lock that guards every emulated service's state, the clock and stderr
 * logging.
 *
 * Purpose: extsim keeps all its state (postings, SMS, CRM records, the
 * request journal, faults, rate limiters) in memory behind a single mutex.
 * Every request handler takes it for the short time it reads or changes
 * state; nothing slow (sleeping, writing to the socket) happens under it.
 * The condition variable lets the control API wait for "N SMS received".
 *
 * Exports: es_config_t, es_cfg, es_cfg_startup, es_lock, es_unlock,
 * es_wait_until, es_broadcast, es_now_ms, es_mono_ms, es_iso_time,
 * es_parse_iso, es_log, ES_LOG_INFO/WARN/ERROR.
 *
 * Threads: es_cfg is written by main before the server starts and later only
 * under es_lock (control API); every function may be called from any thread.
 */
#ifndef EXTSIM_ES_STATE_H
#define EXTSIM_ES_STATE_H

#include <stdint.h>

typedef struct es_config {
    char listen[128];          /* host:port; port 0 picks a free port */
    int threads;               /* civetweb worker threads */
    int seed_demo;             /* seed the demo postings at start and on reset */
    char ozon_client_id[64];
    char ozon_api_key[128];
    int ozon_rps;              /* requests per second per Client-Id; 0 = no limit */
    char sms_api_id[128];
    char bitrix_user_id[32];
    char bitrix_code[128];
    double bitrix_rate;        /* leaky bucket drain, requests per second */
    int bitrix_burst;          /* leaky bucket size; 0 = no limit */
} es_config_t;

/* The live configuration (control API may change it under es_lock) and the
 * copy taken at start-up that /control/reset restores. */
extern es_config_t es_cfg;
extern es_config_t es_cfg_startup;

void es_lock(void);
void es_unlock(void);

/* With es_lock held: wait on the shared condition until es_broadcast is
 * called or the monotonic clock passes deadline_mono_ms. Returns 0 when
 * woken, 1 on timeout. The lock is held again on return. */
int es_wait_until(int64_t deadline_mono_ms);

/* Wake every es_wait_until waiter (call with es_lock held). */
void es_broadcast(void);

/* Wall-clock milliseconds since the Unix epoch. */
int64_t es_now_ms(void);
/* Monotonic milliseconds, for deadlines and rate limiters. */
int64_t es_mono_ms(void);

/* Format wall-clock ms as RFC 3339 UTC, e.g. "2026-03-30T11:26:00.123Z"
 * (fraction only when non-zero). `out` must hold 32 bytes. */
void es_iso_time(int64_t ms, char out[32]);

/* Parse "YYYY-MM-DD[THH:MM[:SS[.fff…]]][Z|±HH:MM]" into wall-clock ms.
 * Returns 0, or -1 when the text is not such a date. */
int es_parse_iso(const char *s, int64_t *ms);

/* One logfmt line on stderr: ts=… level=… event=… <fields>. Digit runs
 * that look like phone numbers are masked (+7******4567). Thread-safe. */
void es_log(const char *level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ES_LOG_INFO(event, ...) es_log("info", event, __VA_ARGS__)
#define ES_LOG_WARN(event, ...) es_log("warn", event, __VA_ARGS__)
#define ES_LOG_ERROR(event, ...) es_log("error", event, __VA_ARGS__)

#endif
