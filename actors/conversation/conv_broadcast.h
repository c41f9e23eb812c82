/* conv_broadcast.h — the mass-message dialog («📢 Рассылка») of operators
 * and admins: its lookup kinds (answered by conv_lookups.c) and the
 * feature (listed in conv_features.c).
 *
 * Exports: CONV_NEED_BC_*, conv_feature_broadcast, CONV_BC_TEXT_MAX.
 * Threads: any (pure).
 */
#ifndef PLUS7_CONV_BROADCAST_H
#define PLUS7_CONV_BROADCAST_H

#include "conv_dialog.h"

/* Lookup kinds (see conv_lookups.c for their SQL). */
enum {
    CONV_NEED_BC_TEMPLATES = 50,  /* key "" → event, body of the Telegram notification templates */
    CONV_NEED_BC_ZONES = 51,      /* key "" → id, name of the active delivery zones */
    CONV_NEED_BC_COUNT = 52,      /* key "<segment>:<arg>" → recipients, label */
    CONV_NEED_BC_DRAFT = 53,      /* key "" → body, template_event of this chat's draft */
};

/* Longest typed broadcast text, in characters (code points). */
#define CONV_BC_TEXT_MAX 3000

extern const conv_feature_t conv_feature_broadcast;

#endif
