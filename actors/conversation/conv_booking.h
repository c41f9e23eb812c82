/* conv_booking.h — changing a booked courier delivery from the order card.
 *
 * Purpose: the owner of a posting with an ordered delivery sees «🕑
 * Перенести доставку» and «❌ Отменить доставку» under the order card
 * (conv_track.c; the card opens from «📋 Мои заказы» too) and may use them
 * until PLUS7_BOOKING_CUTOFF_MIN minutes before the window starts.
 *
 * Exports: CONV_NEED_BOOKING, conv_feature_booking, conv_booking_buttons,
 * conv_booking_set_cutoff_min, conv_booking_cutoff_min.
 * Threads: any (pure); the setter on the main thread before workers start.
 */
#ifndef PLUS7_CONV_BOOKING_H
#define PLUS7_CONV_BOOKING_H

#include <stdbool.h>

#include "conv_dialog.h"

/* key: posting → its ordered delivery: delivery_id, tg_user_id, address,
 * day (YYYYMMDD), t_start, t_end, zone_id, slot_id, starts_in_min (whole
 * minutes until the window starts, Moscow time), customer_phone,
 * addressee_phone. No row: no ordered delivery. */
enum { CONV_NEED_BOOKING = 70 };

extern const conv_feature_t conv_feature_booking;

/* Add the card's change buttons for `posting` to the inline keyboard kb
 * when the viewer owns the posting (`owner`) and the card's row `o` (the
 * CONV_NEED_ORDER lookup) shows an ordered delivery. */
void conv_booking_buttons(const conv_rows_t *o, const char *posting, bool owner, cJSON *kb);

/* The cut-off in minutes (0..10080; other values are ignored). Main
 * thread, before the workers start. */
void conv_booking_set_cutoff_min(int minutes);
int conv_booking_cutoff_min(void);

#endif
