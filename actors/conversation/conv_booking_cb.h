/* conv_booking_cb.h — the callback data of the booking buttons (conv_booking.c).
 *
 * Purpose: parse what Telegram hands back when a booking button is pressed.
 * The data comes from outside (a client can send any callback_data), so it
 * is parsed strictly and fuzzed (tests/fuzz/fuzz_booking_cb.c):
 *   dl:k                                  keep the delivery
 *   dl:x:<posting>  dl:xy:<posting>       ask to cancel / cancel
 *   dl:m:<posting>                        show the windows to move to
 *   dl:ms:<posting>:<yyyymmdd>:<slot id>  move there
 *
 * Exports: conv_booking_cb_t, conv_booking_cb_parse.
 * Threads: any (pure).
 */
#ifndef PLUS7_CONV_BOOKING_CB_H
#define PLUS7_CONV_BOOKING_CB_H

#include <stdbool.h>

typedef struct conv_booking_cb {
    char op[4];          /* "k", "x", "xy", "m", "ms" */
    char posting[41];    /* a valid posting number ("" for "k") */
    char day[9];         /* "ms": YYYYMMDD */
    int slot;            /* "ms": > 0 */
} conv_booking_cb_t;

/* Parse callback data `cb`. RT_OK with *out filled, or RT_EINVAL (out
 * then holds nothing meaningful) for anything else. */
int conv_booking_cb_parse(const char *cb, conv_booking_cb_t *out);

#endif
