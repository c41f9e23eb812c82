/* msg_types.c — the code behind msg_types.h (RT_PACK_DEFINE over the list).
 * Threads: any.
 */
#include "msg_types.h"

#define RT_MSG RT_PACK_DEFINE
#include "msg_types.def"
#undef RT_MSG
