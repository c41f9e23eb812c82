/* texts.h — the Russian message catalogue: every text a person reads.
 *
 * Purpose: no Russian literal lives anywhere else in the code. Texts are
 * HTML (Telegram parse_mode HTML); placeholders are printf-style and their
 * values must be HTML-escaped by the caller (tg_html_escape) when they come
 * from people.
 *
 * The texts live in per-feature list files (texts_core.def, texts_form.def,
 * texts_notify.def, texts_broadcast.def, texts_pickup.def,
 * texts_dash.def, texts_booking.def), each a list of
 * X(id, "text") entries, so features can grow their texts independently.
 *
 * Exports: text_id_t, text_get.
 * Threads: any (read-only table).
 */
#ifndef PLUS7_TEXTS_H
#define PLUS7_TEXTS_H

typedef enum text_id {
#define X(id, s) id,
#include "texts_core.def"
#include "texts_form.def"
#include "texts_notify.def"
#include "texts_broadcast.def"
#include "texts_pickup.def"
#include "texts_courier.def"
#include "texts_pay.def"
#include "texts_dash.def"
#include "texts_booking.def"
#undef X
    T__COUNT
} text_id_t;

/* The catalogue text for `id` (never NULL; "" for an out-of-range id). */
const char *text_get(text_id_t id);

#endif
