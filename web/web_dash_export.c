/* web_dash_export.c — placeholder while the routes land. */
#include "web_dash.h"
#include "rt.h"
int web_dash_export_register(void) { return RT_OK; }
