/* order_status.c — statuses, names, Ozon mapping, monotonicity (see
 * order_status.h). Exports: see header. Threads: any.
 */
#include "order_status.h"

#include <string.h>

#include "rt.h"

static const struct {
    const char *code, *ru;
} order_status_table[] = {
    [ORDER_NONE] = {"", ""},
    [ORDER_CREATED] = {"created", "Оформлен"},
    [ORDER_ACCEPTED] = {"accepted", "Принят на склад"},
    [ORDER_IN_TRANSIT] = {"in_transit", "В пути"},
    [ORDER_AT_PICKUP_POINT] = {"at_pickup_point", "Прибыл в пункт выдачи"},
    [ORDER_OUT_FOR_DELIVERY] = {"out_for_delivery", "Передан курьеру"},
    [ORDER_DELIVERED] = {"delivered", "Выдан"},
    [ORDER_RETURNED] = {"returned", "Возвращён"},
    [ORDER_CANCELLED] = {"cancelled", "Отменён"},
};

int order_status_parse(const char *code, order_status_t *out)
{
    for (int s = ORDER_CREATED; s <= ORDER_CANCELLED; s++)
        if (code && strcmp(code, order_status_table[s].code) == 0) {
            *out = (order_status_t)s;
            return RT_OK;
        }
    return RT_EINVAL;
}

const char *order_status_code(order_status_t s)
{
    return (unsigned)s <= ORDER_CANCELLED ? order_status_table[s].code : "";
}

const char *order_status_name_ru(order_status_t s)
{
    return (unsigned)s <= ORDER_CANCELLED ? order_status_table[s].ru : "";
}

order_status_t order_status_from_ozon(const char *o)
{
    if (!o) return ORDER_NONE;
    if (strncmp(o, "awaiting_", 9) == 0 || strcmp(o, "acceptance_in_progress") == 0) return ORDER_CREATED;
    if (strcmp(o, "delivering") == 0) return ORDER_IN_TRANSIT;
    if (strcmp(o, "driver_pickup") == 0) return ORDER_OUT_FOR_DELIVERY;
    if (strcmp(o, "delivered") == 0) return ORDER_DELIVERED;
    if (strcmp(o, "cancelled") == 0 || strcmp(o, "not_accepted") == 0) return ORDER_CANCELLED;
    return ORDER_NONE;
}

bool order_status_advances(order_status_t from, order_status_t to)
{
    if (to == ORDER_NONE || to == from) return false;
    if (from == ORDER_RETURNED || from == ORDER_CANCELLED) return false;
    if (to == ORDER_CANCELLED) return from < ORDER_DELIVERED;
    return to > from;
}
