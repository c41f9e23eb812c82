/* conv_lookups.c — lookup queries of the dialog (see conv_lookups.h).
 * Feature files' lookups are added to the table below, one entry each.
 * Exports: conv_lookup_def. Threads: any.
 */
#include "conv_lookups.h"

#include <stddef.h>

#include "conv_dialog.h"
#include "conv_form.h"
#include "conv_broadcast.h"
#include "conv_pickup.h"
#include "conv_courier.h"
#include "conv_booking.h"
#include "conv_pay.h"

/* The price of the posting's ordered delivery (payments, conv_pay.c). */
#define CONV_SQL_PRICE                                                                              \
    "(SELECT d.price_kopecks FROM deliveries d WHERE d.posting_number = o.posting_number"          \
    "    AND d.status = 'ordered' ORDER BY d.id DESC LIMIT 1) AS price"

/* The order card: the row, item names, and the applied history as
 * "status|at_ms" lines. */
#define CONV_SQL_ORDER                                                                              \
    "SELECT o.posting_number, o.status, (extract(epoch FROM o.status_at) * 1000)::bigint AS status_at_ms," \
    "       o.customer_phone, o.addressee_phone, o.recipient_phone, o.ordered_by, o.pickup_point,"    \
    "       (extract(epoch FROM o.storage_until) * 1000)::bigint AS storage_until_ms,"               \
    "       (SELECT string_agg(x->>'name', ', ') FROM json_array_elements(o.items::json) x) AS item_names," \
    "       (SELECT d.address || ' · ' || to_char(d.slot_date, 'DD.MM.YYYY') || ' '"                   \
    "               || to_char(d.slot_start, 'HH24:MI') || '–' || to_char(d.slot_end, 'HH24:MI')"      \
    "          FROM deliveries d WHERE d.posting_number = o.posting_number AND d.status = 'ordered'"    \
    "         ORDER BY d.id DESC LIMIT 1) AS delivery_address,"                                        \
    "       (SELECT string_agg(h.status || '|' || (extract(epoch FROM h.at) * 1000)::bigint, E'\\n'"  \
    "                          ORDER BY h.at, h.id)"                                                  \
    "          FROM order_history h WHERE h.posting_number = o.posting_number AND h.applied) AS history," \
    "       o.paid_kop, o.paid_attempt, " CONV_SQL_PRICE \
    "  FROM orders o WHERE o.posting_number = $1"

static const conv_lookup_def_t conv_lookup_table[] = {
    {CONV_NEED_PHONE_ROLE, "SELECT role FROM role_grants WHERE phone = $1", "k", false},
    {CONV_NEED_ORDER, CONV_SQL_ORDER, "k", true},
    {CONV_NEED_MY_ORDERS,
     "SELECT posting_number, status, paid_kop, paid_attempt, " CONV_SQL_PRICE " FROM orders o"
     " WHERE ($1 <> '' AND $1 IN (customer_phone, addressee_phone, recipient_phone)) OR ordered_by = $2::bigint"
     " ORDER BY updated_at DESC LIMIT 20", "pu", false},
    /* an Ozon order number's postings (index: sql/012_conversation.sql) */
    {CONV_NEED_ORDER_POSTINGS,
     "SELECT posting_number, status FROM orders"
     " WHERE split_part(posting_number, '-', 1) || '-' || split_part(posting_number, '-', 2) = $1"
     " ORDER BY posting_number LIMIT 20", "k", false},
    /* the delivery form (conv_form.c) */
    {CONV_NEED_FORM_POSTING,
     "SELECT o.status, o.customer_phone, o.addressee_phone, o.recipient_phone, o.ordered_by, o.weight_g,"
     "       d.id AS delivery_id,"
     "       d.address AS delivery_address, to_char(d.slot_date, 'YYYYMMDD') AS delivery_date,"
     "       to_char(d.slot_start, 'HH24:MI') AS delivery_start, to_char(d.slot_end, 'HH24:MI') AS delivery_end"
     "  FROM orders o LEFT JOIN deliveries d ON d.posting_number = o.posting_number AND d.status = 'ordered'"
     " WHERE o.posting_number = $1", "k", false},
    {CONV_NEED_FORM_ZONES, "SELECT id, name, city, polygon FROM delivery_zones WHERE active ORDER BY id", "", false},
    {CONV_NEED_FORM_PICKUPS,
     "SELECT id, city, name, address, lat, lon, hours FROM pickup_points WHERE active ORDER BY city, id", "", false},
    {CONV_NEED_FORM_SLOTS,   /* the next 3 days (Moscow dates) after today */
     "SELECT to_char(g.day, 'YYYYMMDD') AS day, s.id AS slot_id, to_char(s.start_time, 'HH24:MI') AS t_start,"
     "       to_char(s.end_time, 'HH24:MI') AS t_end, s.capacity,"
     "       (SELECT count(*) FROM deliveries x WHERE x.slot_id = s.id AND x.slot_date = g.day"
     "           AND x.status = 'ordered') AS taken"
     "  FROM delivery_slots s JOIN delivery_zones z ON z.id = s.zone_id AND z.active"
     " CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE 'Europe/Moscow')::date + n AS day"
     "                       FROM generate_series(1, 3) n) g"
     " WHERE s.zone_id = $1::int AND s.active ORDER BY g.day, s.start_time", "k", false},
    {CONV_NEED_FORM_TARIFF,
     "SELECT weight_from_g, weight_to_g, price_kopecks FROM tariffs WHERE zone_id = $1::int ORDER BY weight_from_g",
     "k", false},
    /* mass messages (conv_broadcast.c); segments: sql/008_broadcast.sql */
    {CONV_NEED_BC_TEMPLATES, "SELECT event, body FROM notify_templates WHERE channel = 'telegram' ORDER BY event",
     "", false},
    {CONV_NEED_BC_ZONES, "SELECT id, name FROM broadcast_zones()", "", false},
    {CONV_NEED_BC_COUNT,
     "SELECT recipients, label FROM broadcast_segment_info(split_part($1, ':', 1), substr($1, strpos($1, ':') + 1))",
     "k", false},
    {CONV_NEED_BC_DRAFT,
     "SELECT body, coalesce(template_event, '') AS template_event FROM broadcasts"
     " WHERE chat_id = $1::bigint AND status = 'draft'", "c", false},
    /* pickup-reminder buttons (conv_pickup.c) */
    {CONV_NEED_PICKUP,
     "SELECT o.storage_extended, (extract(epoch FROM o.storage_until) * 1000)::bigint AS storage_until_ms,"
     "       EXISTS (SELECT 1 FROM return_requests r WHERE r.posting_number = o.posting_number) AS return_requested"
     "  FROM orders o WHERE o.posting_number = $1", "k", false},
    /* couriers (conv_courier*.c); schema: sql/040_couriers.sql */
    {CONV_NEED_COURIER,
     "SELECT c.id, c.on_shift, c.stale, c.live_message_id, c.lat, c.lon,"
     "       EXISTS (SELECT 1 FROM deliveries d WHERE d.courier_id = c.id AND d.status = 'ordered'"
     "                  AND d.stage = 'en_route') AS on_the_way"
     "  FROM couriers c WHERE c.tg_user_id = $1::bigint", "u", false},
    {CONV_NEED_COURIER_TODAY,
     "SELECT d.id, d.posting_number, d.address, d.lat, d.lon, to_char(d.slot_start, 'HH24:MI') AS t_start,"
     "       to_char(d.slot_end, 'HH24:MI') AS t_end, d.stage, d.card_gen"
     "  FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
     " WHERE c.tg_user_id = $1::bigint AND d.status = 'ordered' AND d.slot_date = msk_today()"
     " ORDER BY d.slot_start, d.id LIMIT 200", "u", false},
    {CONV_NEED_DELIVERY,
     "SELECT d.id, d.posting_number, d.stage, d.status, d.card_gen, d.pin, d.pin_tries, d.locked, d.lat, d.lon,"
     "       to_char(d.slot_start, 'HH24:MI') AS t_start, to_char(d.slot_end, 'HH24:MI') AS t_end,"
     "       to_char(d.slot_date, 'DD.MM') AS day, c.tg_user_id AS courier_tg, c.name AS courier_name,"
     "       c.lat AS c_lat, c.lon AS c_lon, u.chat_id AS client_chat, d.price_kopecks AS price,"
     "       (SELECT o.paid_attempt IS NOT NULL FROM orders o WHERE o.posting_number = d.posting_number) AS paid,"
     "       (extract(epoch FROM now()) * 1000)::bigint AS now_ms"
     "  FROM deliveries d LEFT JOIN couriers c ON c.id = d.courier_id"
     "  LEFT JOIN users u ON u.tg_user_id = d.tg_user_id"
     " WHERE d.id = $1::bigint", "k", false},
    {CONV_NEED_DELIVERY_SLOTS,   /* later today (from an hour ahead) and the next 3 days */
     "SELECT to_char(g.day, 'YYYYMMDD') AS day, s.id AS slot_id, to_char(s.start_time, 'HH24:MI') AS t_start,"
     "       to_char(s.end_time, 'HH24:MI') AS t_end, s.capacity,"
     "       (SELECT count(*) FROM deliveries x WHERE x.slot_id = s.id AND x.slot_date = g.day"
     "           AND x.status = 'ordered' AND x.id <> d.id) AS taken"
     "  FROM deliveries d JOIN delivery_slots s ON s.zone_id = d.zone_id AND s.active"
     " CROSS JOIN LATERAL (SELECT msk_today() + n AS day FROM generate_series(0, 3) n) g"
     " WHERE d.id = $1::bigint"
     "   AND (g.day > msk_today() OR s.start_time > (now() AT TIME ZONE 'Europe/Moscow')::time + interval '1 hour')"
     "   AND NOT (g.day = d.slot_date AND s.id = d.slot_id)"
     " ORDER BY g.day, s.start_time", "k", false},
    {CONV_NEED_POSTING_DELIVERY,
     "SELECT id, stage FROM deliveries WHERE posting_number = $1 AND status = 'ordered' ORDER BY id DESC LIMIT 1",
     "k", false},
    {CONV_NEED_SHIFT_COURIERS,
     "SELECT c.id, c.name, (SELECT count(*) FROM deliveries d WHERE d.courier_id = c.id AND d.status = 'ordered'"
     "                         AND d.stage IN ('assigned', 'picked', 'en_route')) AS \"left\""
     "  FROM couriers c WHERE c.on_shift ORDER BY c.stale, 3, c.id LIMIT 20", "", false},
    /* changing a booked delivery (conv_booking.c) */
    {CONV_NEED_BOOKING,
     "SELECT d.id AS delivery_id, d.tg_user_id, d.address, to_char(d.slot_date, 'YYYYMMDD') AS day,"
     "       to_char(d.slot_start, 'HH24:MI') AS t_start, to_char(d.slot_end, 'HH24:MI') AS t_end,"
     "       d.zone_id, d.slot_id,"
     "       floor(extract(epoch FROM ((d.slot_date + d.slot_start) AT TIME ZONE 'Europe/Moscow') - now()) / 60)::bigint"
     "         AS starts_in_min,"
     "       o.customer_phone, o.addressee_phone"
     "  FROM deliveries d JOIN orders o ON o.posting_number = d.posting_number"
     " WHERE d.posting_number = $1 AND d.status = 'ordered'", "k", false},
    /* payments (conv_pay.c) */
    {CONV_NEED_PAY_ORDER,
     "SELECT o.status, o.customer_phone, o.addressee_phone, o.recipient_phone, o.ordered_by, o.paid_kop,"
     "       o.paid_attempt, "
     CONV_SQL_PRICE ","
     "       (SELECT a.amount_kop - a.refunded_kop - coalesce((SELECT sum(f.amount_kop) FROM pay_refunds f"
     "                 WHERE f.attempt_id = a.id AND f.status = 'created'), 0)"
     "          FROM pay_attempts a WHERE a.id = o.paid_attempt) AS left_kop,"
     "       EXISTS (SELECT 1 FROM pay_attempts b WHERE b.posting_number = o.posting_number"
     "                  AND b.method = 'bank_qr' AND b.status IN ('created', 'pending')) AS open_bank"
     "  FROM orders o WHERE o.posting_number = $1", "k", false},
    {CONV_NEED_PAY_ATTEMPT,
     "SELECT a.posting_number, a.method, a.status, a.amount_kop, a.tg_user_id, a.expires_at < now() AS expired,"
     "       o.status AS order_status, o.paid_attempt, " CONV_SQL_PRICE
     "  FROM pay_attempts a JOIN orders o ON o.posting_number = a.posting_number WHERE a.id = $1", "k", false},
};

const conv_lookup_def_t *conv_lookup_def(int kind)
{
    for (size_t i = 0; i < sizeof conv_lookup_table / sizeof conv_lookup_table[0]; i++)
        if (conv_lookup_table[i].kind == kind) return &conv_lookup_table[i];
    return NULL;
}
