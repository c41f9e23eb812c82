/* notify_render.h — turning a notify_outbox row into the text a person reads.
 *
 * Purpose: pure rendering of one notification: its template (the
 * notify_templates row of (event, channel), or the built-in generic text of
 * the catalogue when there is none or it no longer passes tpl_check, or
 * tpl_check_html for Telegram: a text edited around the checks), the
 * row's variables (the JSON object the order actor stored) completed with
 * what the database knows now (the person's name, the order's pickup point
 * and storage deadline, the day count of a pickup reminder), HTML-escaped
 * for Telegram, tidied where a missing value left a gap. For Telegram it
 * builds the whole sendMessage parameter object, with the inline keyboard
 * of a pickup reminder («Продлить хранение» pk:ext:<posting>, «Доставить
 * курьером» pk:cur:<posting>, «Оформить возврат» pk:ret:<posting>).
 *
 * Exports: notify_row_t, notify_render_text, notify_render_tg_params,
 * notify_reminder_days, NOTIFY_* flags.
 * Threads: any (pure; no shared state).
 */
#ifndef PLUS7_NOTIFY_RENDER_H
#define PLUS7_NOTIFY_RENDER_H

#include <stdbool.h>
#include <stdint.h>

/* One notification as the notifier loaded it. Strings may be NULL. */
typedef struct notify_row {
    const char *event;          /* "in_transit", "pickup_reminder_3", ... */
    const char *posting;        /* posting number */
    const char *vars_json;      /* {"posting":..,"status":..,...} */
    const char *name;           /* the person's first name, if known */
    const char *pickup_point;   /* orders.pickup_point now */
    int64_t storage_until_ms;   /* orders.storage_until (Unix ms), 0 unknown */
    const char *tpl;            /* the template body, NULL = none stored */
    bool watcher;               /* audience 'watcher': status only (T_NOTIFY_WATCHER_TG), «🔕 Не следить» */
} notify_row_t;

/* Rendering outcomes (bit flags in *flags). */
enum {
    NOTIFY_GENERIC = 1 << 0,    /* no usable template: the built-in text was used */
    NOTIFY_BAD_TPL = 1 << 1,    /* a stored template failed tpl_check (or, for Telegram, tpl_check_html) */
};

/* The day count of a "pickup_reminder_<days>" event (1..999), or 0 when
 * `event` is not a pickup reminder. */
int notify_reminder_days(const char *event);

/* Render the row's text: HTML-escaped values when `html` (Telegram), plain
 * for SMS. A watcher's row gets the catalogue's status-only text with its
 * posting and status, nothing else (no name, pickup point or deadline). Returns a malloc'd string (caller frees) or NULL on ENOMEM.
 * *flags (may be NULL) gets NOTIFY_* bits. */
char *notify_render_text(const notify_row_t *row, bool html, unsigned *flags);

/* The sendMessage parameters (JSON text, malloc'd) for chat_id: the HTML
 * text and, for a pickup reminder with a posting, the inline keyboard of
 * its three buttons; for a watcher's row the «🔕 Не следить» button
 * (w:off:<posting>) instead.
 * NULL on ENOMEM. */
char *notify_render_tg_params(const notify_row_t *row, int64_t chat_id, unsigned *flags);

#endif
