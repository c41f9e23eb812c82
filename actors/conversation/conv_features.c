/* conv_features.c — the dialog's feature list (one line per feature).
 * Exports: conv_features. Threads: any (read-only).
 */
#include "conv_dialog.h"

extern const conv_feature_t conv_feature_track;
extern const conv_feature_t conv_feature_form;   /* conv_form.c */
extern const conv_feature_t conv_feature_broadcast;   /* conv_broadcast.c */
extern const conv_feature_t conv_feature_pickup;      /* conv_pickup.c */
extern const conv_feature_t conv_feature_courier;         /* conv_courier.c */
extern const conv_feature_t conv_feature_courier_client;  /* conv_courier_client.c */
extern const conv_feature_t conv_feature_courier_ops;     /* conv_courier_ops.c */
extern const conv_feature_t conv_feature_booking;     /* conv_booking.c */
extern const conv_feature_t conv_feature_pay;         /* conv_pay.c */
extern const conv_feature_t conv_feature_watch;       /* conv_watch.c */
extern const conv_feature_t conv_feature_dashlink;    /* conv_dashlink.c */

const conv_feature_t *const conv_features[] = {
    &conv_feature_track,
    &conv_feature_form,
    &conv_feature_broadcast,
    &conv_feature_pickup,
    &conv_feature_courier,
    &conv_feature_courier_client,
    &conv_feature_courier_ops,
    &conv_feature_booking,
    &conv_feature_pay,
    &conv_feature_watch,
    &conv_feature_dashlink,
    NULL,
};
