/* conv_form.h — the delivery order form («🚚 Оформить доставку»).
 *
 * Purpose: the entry point other features use to start the form with a
 * posting already chosen (the pickup reminder's «Доставить курьером»), the
 * form's lookup kinds (answered by conv_lookups.c) and the pure helpers the
 * form is built from, exported for its unit tests.
 *
 * Exports: conv_form_start, CONV_NEED_FORM_*, conv_form_data_t,
 * conv_form_data_parse, conv_form_data_format, conv_form_fold,
 * conv_form_city_match, conv_form_price_text, conv_form_band.
 * Threads: any (pure).
 */
#ifndef PLUS7_CONV_FORM_H
#define PLUS7_CONV_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conv_dialog.h"

/* Lookup kinds of the form (conv_lookups.c holds their SQL). */
enum {
    CONV_NEED_FORM_POSTING = 40,  /* key: posting → status, phones, weight_g, its ordered delivery */
    CONV_NEED_FORM_ZONES = 41,    /* key: "" → active zones: id, name, city, polygon */
    CONV_NEED_FORM_PICKUPS = 42,  /* key: "" → active pickup points */
    CONV_NEED_FORM_SLOTS = 43,    /* key: zone id → windows of the next 3 days with taken counts */
    CONV_NEED_FORM_TARIFF = 44,   /* key: zone id → weight bands and prices */
};

/* Start the form for the sender of `u`. With `posting` NULL or "" it asks
 * for a posting number; otherwise it goes on as if that number had been
 * typed (checks it, then asks for the address). Guests are told to
 * register. When `u` is a callback query the form answers it (the caller
 * must not). Returns RT_OK with `out` filled, or RT_PENDING with lookups
 * asked (call again with them, as conv_step does). */
int conv_form_start(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out, const char *posting);

/* ---- pure helpers (exported for tests) ------------------------------------ */

#define CONV_FORM_ADDRESS_CHARS 200   /* longest typed address, characters */
#define CONV_FORM_ADDRESS_BYTES 400   /* ... and bytes (fits conversations.data) */

/* The form's state as kept in conversations.data: "key=value" lines,
 * p (posting), z (zone id), k (price, kopecks), w ("1": weight unknown),
 * g ("lat,lon" of a pin), d (slot date yyyymmdd), s (slot id), and last a
 * (the address, one line). Absent keys are empty / zero. */
typedef struct conv_form_data {
    char posting[24];
    int zone;
    long long price;
    bool weight_unknown;
    bool has_pin;
    double lat, lon;
    char date[9];
    int slot;
    char address[CONV_FORM_ADDRESS_BYTES + 1];
} conv_form_data_t;

/* Parse `s` (NULL or "" gives an empty state). Unknown keys are ignored. */
void conv_form_data_parse(const char *s, conv_form_data_t *d);
/* Write `d` into out (CONV_DATA_MAX bytes). RT_OK, or RT_EINVAL when it
 * does not fit (never for addresses within the limits above). */
int conv_form_data_format(const conv_form_data_t *d, char *out, size_t outsz);

/* Fold text for matching into out: lower case (ASCII and Russian), ё → е,
 * every character that is not a letter or digit → one space. */
void conv_form_fold(const char *in, char *out, size_t outsz);

/* Where the city name `city` appears in the typed `address` as a word
 * (also in the common case forms: «Донецке», «Макеевке», «Мариуполе»):
 * the byte offset in the folded address, or -1. */
int conv_form_city_match(const char *address, const char *city);

/* Kopecks as rubles: 35000 → "350,00 ₽", 125050 → "1 250,50 ₽" (the
 * thousands separator is a no-break space). */
void conv_form_price_text(long long kopecks, char *out, size_t outsz);

/* The price for `weight_g` from a zone's bands (arrays of n, any order):
 * the band with from < weight <= to; weight_g <= 0 (unknown) takes the band
 * with the lowest `from`. Returns the price, -1 when no band fits (too
 * heavy) or there are none. */
long long conv_form_band(const int *from, const int *to, const long long *price, int n, int weight_g);

/* "пт, 15.05 · 10:00–14:00" (catalogue format T_FORM_SLOT_LABEL) for day
 * "20260515" and the window's times; a day that is not YYYYMMDD is copied. */
void conv_form_slot_label(const char *day, const char *start, const char *end, char *out, size_t outsz);

/* One inline button per window of the CONV_NEED_FORM_SLOTS rows that still
 * has room, labelled as conv_form_slot_label, with callback data
 * "<prefix><yyyymmdd>:<slot id>"; the window (skip_day, skip_slot) is left
 * out (skip_day NULL: none). Returns how many buttons were added. */
int conv_form_slot_buttons(const conv_rows_t *slots, cJSON *kb, const char *prefix, const char *skip_day,
                           int skip_slot);

#endif
