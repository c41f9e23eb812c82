/* conv_features.c — the dialog's feature list (one line per feature).
 * Exports: conv_features. Threads: any (read-only).
 */
#include "conv_dialog.h"

extern const conv_feature_t conv_feature_track;
extern const conv_feature_t conv_feature_form;   /* conv_form.c */

const conv_feature_t *const conv_features[] = {
    &conv_feature_track,
    &conv_feature_form,
    NULL,
};
