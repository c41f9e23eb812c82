/* web_dash_analytics.c — placeholder while the routes land. */
#include "web_dash.h"
#include "rt.h"
int web_dash_analytics_register(void) { return RT_OK; }
