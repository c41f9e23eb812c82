/* phone.h — phone numbers: E.164 normalisation and masking.
 *
 * Purpose: one place that turns what people and Telegram clients send
 * ("79491234567", "+7 949 123-45-67", "8 (949) 123 45 67", "9491234567",
 * "380501234567", "+380 50 123 45 67") into E.164 ("+79491234567",
 * "+380501234567"), and masks a number for display in logs.
 *
 * Exports: phone_normalize, phone_mask.
 * Threads: any (pure functions).
 */
#ifndef PLUS7_PHONE_H
#define PLUS7_PHONE_H

#include <stddef.h>

#define PHONE_E164_MAX 17   /* '+', up to 15 digits, NUL */

/* Normalise `in` to E.164 into out[PHONE_E164_MAX]. Accepted, as people
 * type them and as Telegram clients send contacts (with or without '+'):
 *   - Russian: +7 / 7 / 8 followed by 10 digits, or 10 digits starting
 *     with 9 → +7XXXXXXXXXX;
 *   - any other country: '+' and 8..15 digits, or the same 11..15 digits
 *     without the '+' (380501234567 → +380501234567), or after the
 *     international prefix 00; a country code never starts with 0, and a
 *     number starting with 7 has exactly 11 digits.
 * Spaces, dashes, dots and parentheses are ignored; any other character
 * makes the input invalid. Returns 0 (RT_OK) or RT_EINVAL. */
int phone_normalize(const char *in, char out[PHONE_E164_MAX]);

/* Write a masked copy of an E.164 number ("+7******4567") into out
 * (outsz >= PHONE_E164_MAX). */
void phone_mask(const char *e164, char *out, size_t outsz);

#endif
