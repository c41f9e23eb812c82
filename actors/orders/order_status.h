/* order_status.h — order statuses, their Russian names, the Ozon mapping
 * and the rule that a status never moves backwards.
 *
 * Statuses (DESIGN.md): created Оформлен · accepted Принят на склад ·
 * in_transit В пути · at_pickup_point Прибыл в пункт выдачи ·
 * out_for_delivery Передан курьеру · delivered Выдан · returned Возвращён ·
 * cancelled Отменён.
 *
 * Exports: order_status_t, order_status_parse, order_status_code,
 * order_status_name_ru, order_status_from_ozon, order_status_advances.
 * Threads: any (pure).
 */
#ifndef PLUS7_ORDER_STATUS_H
#define PLUS7_ORDER_STATUS_H

#include <stdbool.h>

typedef enum order_status {
    ORDER_NONE = 0,            /* no status yet (a new order) */
    ORDER_CREATED,
    ORDER_ACCEPTED,
    ORDER_IN_TRANSIT,
    ORDER_AT_PICKUP_POINT,
    ORDER_OUT_FOR_DELIVERY,
    ORDER_DELIVERED,
    ORDER_RETURNED,
    ORDER_CANCELLED,
} order_status_t;

/* "in_transit" -> ORDER_IN_TRANSIT; RT_OK or RT_EINVAL for unknown codes. */
int order_status_parse(const char *code, order_status_t *out);
const char *order_status_code(order_status_t s);     /* "" for NONE */
const char *order_status_name_ru(order_status_t s);  /* "В пути" */

/* Ozon posting status -> ours: awaiting_*, acceptance_in_progress ->
 * created; delivering -> in_transit; driver_pickup -> out_for_delivery;
 * delivered -> delivered; cancelled, not_accepted -> cancelled. Other
 * statuses (arbitration, ...) map to ORDER_NONE: no change. */
order_status_t order_status_from_ozon(const char *ozon_status);

/* May an order in `from` move to `to`? Only forward along created <
 * accepted < in_transit < at_pickup_point < out_for_delivery < delivered <
 * returned; cancelled from anything before delivered; returned and
 * cancelled are final; a repeated status is not a move. */
bool order_status_advances(order_status_t from, order_status_t to);

#endif
