/* bc_render.h — what a broadcast sends (pure): each recipient's message
 * and the operator's progress message.
 *
 * Exports: bc_recipient_t, bc_counts_t, bc_render_message,
 * bc_progress_text, bc_progress_params, bc_counts_final.
 * Threads: any (pure; no shared state).
 */
#ifndef PLUS7_BC_RENDER_H
#define PLUS7_BC_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One recipient as the broadcast actor reads it (strings may be NULL). */
typedef struct bc_recipient {
    int64_t chat_id;
    const char *first_name;       /* {name} */
    const char *posting;          /* {posting}: the order that put them in the segment */
    const char *status;           /* its status code; {status} is the Russian name */
    const char *pickup_point;     /* {pickup_point} */
    const char *storage_until_ms; /* Unix ms as text; {storage_deadline} in Moscow time */
    const char *address;          /* {address}: the Ozon address */
} bc_recipient_t;

/* Counts of a broadcast's recipients by state. */
typedef struct bc_counts {
    int64_t total, pending, queued, sent, failed;
} bc_counts_t;

/* sendMessage parameters (JSON, malloc'd) with `body` (Telegram HTML with
 * {placeholders}; values are HTML-escaped) rendered for `r`. NULL when the
 * body does not render (a broken template) or the result is empty, or on
 * ENOMEM. */
char *bc_render_message(const char *body, const bc_recipient_t *r);

/* The progress text of broadcast `id` (catalogue T_BC_PROGRESS, or T_BC_DONE
 * when `final`): sent, failed and left = total - sent - failed. */
void bc_progress_text(int64_t id, const bc_counts_t *c, bool final, char *out, size_t outsz);

/* Parameters (JSON, malloc'd; NULL on ENOMEM) that show `text` in the
 * operator's chat: sendMessage when message_id is 0, else editMessageText
 * of that message. */
char *bc_progress_params(int64_t chat_id, int64_t message_id, const char *text);

/* Every recipient is final (sent or failed): nothing pending or queued. */
bool bc_counts_final(const bc_counts_t *c);

#endif
