/* texts.c — the Russian message catalogue table (see texts.h).
 * Exports: text_get. Threads: any.
 */
#include "texts.h"

static const char *const text_table[T__COUNT] = {
#define X(id, s) [id] = s,
#include "texts_core.def"
#include "texts_form.def"
#include "texts_notify.def"
#include "texts_broadcast.def"
#include "texts_pickup.def"
#include "texts_courier.def"
#include "texts_pay.def"
#include "texts_dash.def"
#include "texts_booking.def"
#undef X
};

const char *text_get(text_id_t id)
{
    return (unsigned)id < T__COUNT ? text_table[id] : "";
}
