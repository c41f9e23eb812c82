/* conv_pickup.h — the buttons under a pickup reminder: «Продлить хранение»
 * (pk:ext:<posting>), «Доставить курьером» (pk:cur:<posting>), «Оформить
 * возврат» (pk:ret:<posting>). The notifier attaches them
 * (actors/notify/notify_render.c); conv_pickup.c answers them.
 *
 * Exports: CONV_NEED_PICKUP, conv_feature_pickup,
 * conv_pickup_set_extend_days, conv_pickup_extend_days.
 * Threads: any (pure); conv_pickup_set_extend_days only on the main thread
 * before the runtime starts.
 */
#ifndef PLUS7_CONV_PICKUP_H
#define PLUS7_CONV_PICKUP_H

#include "conv_dialog.h"

/* Lookup kind (conv_lookups.c): key posting → storage_extended ('t'/'f'),
 * storage_until_ms, return_requested ('t'/'f'); no row when unknown. */
enum { CONV_NEED_PICKUP = 60 };

extern const conv_feature_t conv_feature_pickup;

/* Days «Продлить хранение» adds to orders.storage_until (PLUS7_STORAGE_EXTEND_DAYS,
 * default 7; values outside 1..60 are ignored). Main thread, before any
 * worker runs the dialog: the value is read without synchronisation. */
void conv_pickup_set_extend_days(int days);
int conv_pickup_extend_days(void);

#endif
