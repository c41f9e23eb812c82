/* web_dash_orders.c — placeholder while the routes land. */
#include "web_dash.h"
#include "rt.h"
int web_dash_orders_register(void) { return RT_OK; }
