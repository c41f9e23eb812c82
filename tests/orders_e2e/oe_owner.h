/* oe_owner.h — owners and events that name them, for the orders end-to-end
 * tests of issue 7 (test_oe_reminders.c, test_oe_race.c).
 *
 * Purpose: a registered person (tgsim user who started the bot, users row
 * with a phone) and a signed logistics event whose recipient_phone names
 * them, so the order's notifications and reminders reach them as its owner.
 *
 * Exports: oe_owner, oe_owner_phone, oe_event_to, oe_msk.
 * Threads: the test's main thread; oe_event_to also from helper threads
 * (each call uses its own curl handle).
 */
#ifndef PLUS7_OE_OWNER_H
#define PLUS7_OE_OWNER_H

#include <stdint.h>

/* "+7949" and chat as 7 digits, in out[24]. */
const char *oe_owner_phone(long long chat, char out[24]);

/* Register chat (= Telegram user id) as a person with oe_owner_phone and
 * first name `name`. 0 or -1. */
int oe_owner(long long chat, const char *name);

/* POST one signed event (pickup may be NULL) naming the recipient's phone
 * (NULL: none); the HTTP status. */
long oe_event_to(const char *id, const char *posting, const char *status, int64_t at_s, const char *pickup,
                 const char *recipient_phone);

/* "DD.MM.YYYY HH:MM" in Moscow time of Unix seconds t (rotating buffers). */
const char *oe_msk(int64_t t);

#endif
