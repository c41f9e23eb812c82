/* conv_watch.h — who owns a parcel, and the buttons of someone who only
 * watches it (issue 7, items 3 and 4).
 *
 * Purpose: one rule of ownership for every dialog feature (tracking, the
 * delivery form, the pickup buttons): the sender owns a parcel when their
 * phone is the Ozon customer's or addressee's, or the recipient's the
 * logistics system named (orders.recipient_phone), or when they ordered its
 * delivery. When no phone is known anywhere the dialog says so plainly and
 * offers «🙋 Спросить оператора» instead of blaming the person. The feature
 * "watch" answers the buttons:
 *   w:off:<posting>  «🔕 Не следить»: nothing more about the parcel reaches
 *                    this chat (order_subscribers.muted) until it is
 *                    tracked again;
 *   w:ask:<posting>  «🙋 Спросить оператора»: an open
 *                    order_owner_requests row for an operator to check.
 *
 * Steps: none. Callbacks: "w:off:", "w:ask:" + posting.
 * Exports: conv_owner_t, conv_order_owner, conv_watch_buttons, conv_watch_not_owner,
 * conv_feature_watch, CONV_WATCH_SQL_TRACK.
 * Threads: any (pure).
 */
#ifndef PLUS7_CONV_WATCH_H
#define PLUS7_CONV_WATCH_H

#include <cjson/cJSON.h>

#include "conv_dialog.h"

typedef enum conv_owner {
    CONV_OWNER_NO = 0,      /* a phone is known and it is not the sender's */
    CONV_OWNER_YES,         /* the sender owns the parcel */
    CONV_OWNER_UNKNOWN,     /* no recipient phone is known anywhere */
} conv_owner_t;

/* Ownership of the order row `o` (row 0; columns customer_phone,
 * addressee_phone, recipient_phone, ordered_by — missing ones count as
 * unknown) for the sender of ctx. */
conv_owner_t conv_order_owner(const conv_ctx_t *ctx, const conv_rows_t *o);

/* Add to inline keyboard kb the rows for someone looking at `posting`:
 * «🔕 Не следить», and «🙋 Спросить оператора» when `owner` is
 * CONV_OWNER_UNKNOWN. */
void conv_watch_buttons(cJSON *kb, const char *posting, conv_owner_t owner);

/* Tell the sender of ctx that only the owner may act on `posting` (order
 * row `o`): catalogue text not_owner (its %s is the posting) with markup
 * kb when a recipient phone is known and is not theirs; when none is known
 * anywhere, T_OWNER_UNKNOWN with «🙋 Спросить оператора» instead (kb is
 * then freed). Ownership of kb passes to this function. */
void conv_watch_not_owner(const conv_ctx_t *ctx, const conv_rows_t *o, conv_out_t *out, int64_t chat,
                          const char *posting, text_id_t not_owner, cJSON *kb);

/* Subscribe chat $2 to posting $1 — again, after «🔕 Не следить». */
#define CONV_WATCH_SQL_TRACK                                                               \
    "INSERT INTO order_subscribers (posting_number, chat_id) VALUES ($1, $2)"              \
    " ON CONFLICT (posting_number, chat_id) DO UPDATE SET muted = false"

extern const conv_feature_t conv_feature_watch;

#endif
