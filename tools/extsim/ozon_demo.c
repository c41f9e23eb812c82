/* ozon_demo.c — the demo postings and return seeded by --seed-demo (and by
 * /control/reset or POST /control/ozon/demo). docs/extsim.md lists them;
 * the plus7 demo and tests rely on these numbers and names.
 *
 * Exports: ozon_demo_seed (ozon.h).
 * Threads: callers hold es_lock.
 */
#include "es_json.h"
#include "es_state.h"
#include "ozon.h"
#include "ozon_api.h"
#include "ozon_store.h"

#include <stdio.h>
#include <string.h>

typedef struct ozon_demo {
    const char *number, *status, *tpl;
    const char *name, *phone;
    const char *city, *region, *address, *zip;
    double lat, lon;
    const char *product;
    double price;
    int weight_g;
    int days_ago;
} ozon_demo_t;

static const ozon_demo_t ozon_demo[] = {
    {"12345678-0001-1", "awaiting_deliver", "non_integrated", "Иванова Мария Сергеевна", "+79491234501",
     "Донецк", "Донецкая Народная Республика", "ул. Артёма, д. 120, кв. 45", "283001", 48.0159, 37.8029,
     "Наушники беспроводные TWS", 2990, 180, 2},
    {"12345678-0002-1", "delivering", "non_integrated", "Петров Алексей Николаевич", "+79491234502",
     "Макеевка", "Донецкая Народная Республика", "пр. Генерала Данилова, д. 33, кв. 12", "286100", 48.0478,
     37.9258, "Чайник электрический 1,7 л", 1890, 1200, 3},
    {"12345678-0003-1", "awaiting_packaging", "non_integrated", "Коваленко Ольга Викторовна", "+79591234503",
     "Луганск", "Луганская Народная Республика", "ул. Оборонная, д. 28, кв. 7", "291000", 48.5740, 39.3078,
     "Детский комбинезон зимний, 110 см", 4590, 900, 1},
    {"12345678-0004-1", "driver_pickup", "non_integrated", "Сидоренко Дмитрий Александрович", "+79491234504",
     "Мариуполь", "Донецкая Народная Республика", "пр. Мира, д. 75, кв. 31", "287500", 47.0971, 37.5434,
     "Перфоратор SDS-plus 800 Вт", 6490, 3400, 4},
    {"12345678-0005-1", "delivered", "non_integrated", "Шевченко Анна Игоревна", "+79901234505", "Мелитополь",
     "Запорожская область", "ул. Ленина, д. 150, кв. 9", "272300", 46.8489, 35.3653,
     "Кофемолка электрическая", 1590, 650, 6},
    {"12345678-0006-1", "awaiting_deliver", "3pl_tracking", "Кузнецов Игорь Владимирович", "+79491234506",
     "Донецк", "Донецкая Народная Республика", "бул. Пушкина, д. 18, кв. 3", "283050", 48.0030, 37.8050,
     "Набор кастрюль, 6 предметов", 5290, 4800, 2},
    {"12345678-0007-1", "awaiting_packaging", "ozon", NULL, NULL, "Донецк", "Донецкая Народная Республика",
     NULL, NULL, 0, 0, "Смартфон, чехол-книжка", 790, 120, 1},
    {"12345678-0008-1", "cancelled", "non_integrated", "Бондаренко Сергей Петрович", "+79491234508",
     "Макеевка", "Донецкая Народная Республика", "ул. Свердлова, д. 5, кв. 88", "286130", 48.0550, 37.9700,
     "Утюг с парогенератором", 3190, 1500, 5},
    {"12345678-0009-1", "awaiting_deliver", "non_integrated", "Мельник Татьяна Андреевна", "+79491234509",
     "Донецк", "Донецкая Народная Республика", "пр. Ильича, д. 101, кв. 54", "283048", 48.0400, 37.8600,
     "Книга «Мастер и Маргарита»", 590, 450, 1},
    {"12345678-0009-2", "awaiting_deliver", "non_integrated", "Мельник Татьяна Андреевна", "+79491234509",
     "Донецк", "Донецкая Народная Республика", "пр. Ильича, д. 101, кв. 54", "283048", 48.0400, 37.8600,
     "Настольная лампа светодиодная", 1490, 800, 1},
};

int ozon_demo_seed(void)
{
    int64_t now = es_now_ms();
    int n = 0;
    for (size_t i = 0; i < sizeof ozon_demo / sizeof ozon_demo[0]; i++) {
        const ozon_demo_t *d = &ozon_demo[i];
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "posting_number", d->number);
        /* statuses past awaiting_deliver are reached by walking the path,
         * so previous_substatus and the dates look as Ozon would show them */
        int walk = !strcmp(d->status, "delivering") || !strcmp(d->status, "driver_pickup") ||
                   !strcmp(d->status, "delivered") || !strcmp(d->status, "cancelled");
        cJSON_AddStringToObject(in, "status", walk ? "awaiting_deliver" : d->status);
        cJSON_AddStringToObject(in, "tpl_integration_type", d->tpl);
        char at[32];
        es_iso_time((now / 60000 - (int64_t)d->days_ago * 1440 - (int64_t)i) * 60000, at);
        cJSON_AddStringToObject(in, "in_process_at", at);
        if (d->name) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "name", d->name);
            cJSON_AddStringToObject(c, "phone", d->phone);
            cJSON_AddStringToObject(c, "address", d->address);
            cJSON_AddStringToObject(c, "city", d->city);
            cJSON_AddStringToObject(c, "region", d->region);
            cJSON_AddStringToObject(c, "zip_code", d->zip);
            cJSON_AddNumberToObject(c, "latitude", d->lat);
            cJSON_AddNumberToObject(c, "longitude", d->lon);
            cJSON_AddItemToObject(in, "customer", c);
        }
        cJSON *dm = cJSON_CreateObject();
        cJSON_AddNumberToObject(dm, "id", 1020000000000001.0);
        cJSON_AddStringToObject(dm, "name", d->name ? "Доставка курьером продавца" : "Ozon Логистика");
        cJSON_AddNumberToObject(dm, "warehouse_id", 1020000000000101.0);
        char wh[96];
        snprintf(wh, sizeof wh, "%s %s", d->name ? "rFBS" : "FBS", d->city);
        cJSON_AddStringToObject(dm, "warehouse", wh);
        cJSON_AddNumberToObject(dm, "tpl_provider_id", d->name ? 0 : 24);
        cJSON_AddStringToObject(dm, "tpl_provider", d->name ? "Доставка продавца" : "Ozon Логистика");
        cJSON_AddItemToObject(in, "delivery_method", dm);
        cJSON *prods = cJSON_AddArrayToObject(in, "products");
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", d->product);
        cJSON_AddNumberToObject(p, "price", d->price);
        cJSON_AddNumberToObject(p, "weight", d->weight_g);
        cJSON_AddNumberToObject(p, "quantity", 1);
        cJSON_AddItemToArray(prods, p);
        char err[200];
        ozon_posting_t *post = NULL;
        if (ozon_store_upsert(in, err, sizeof err, &post) == 0) {
            n++;
            static const char *const path[] = {"delivering", "driver_pickup", "delivered"};
            int64_t t = post->in_process_ms + 3600000LL;
            if (walk && !strcmp(d->status, "cancelled"))
                ozon_store_set_status(post, "cancelled", NULL, t, err, sizeof err);
            else if (walk)
                for (int k = 0; k < 3; k++, t += 3 * 3600000LL) {
                    ozon_store_set_status(post, path[k], NULL, t, err, sizeof err);
                    if (!strcmp(path[k], d->status)) break;
                }
        } else
            ES_LOG_ERROR("demo_seed_failed", "posting=%s err=\"%s\"", d->number, err);
        cJSON_Delete(in);
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "posting_number", "12345678-0005-1");
    cJSON_AddNumberToObject(r, "return_id", 1000015552);
    cJSON_AddStringToObject(r, "reason", "Товар не соответствует описанию");
    cJSON_AddStringToObject(r, "comment", "Кофемолка не включается");
    cJSON_AddTrueToObject(r, "is_defect");
    char err[200];
    if (ozon_returns_seed(r, err, sizeof err) < 0) ES_LOG_ERROR("demo_seed_failed", "return err=\"%s\"", err);
    cJSON_Delete(r);
    return n;
}
