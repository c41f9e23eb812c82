/* msg_types.h — typed constructors/decoders of every application message
 * (generated from msg_types.def by runtime/rt_pack.h's RT_PACK_DECLARE).
 * Exports: MSG_<name>, msg_<name>_t, msg_<name>_new, msg_<name>_decode.
 * Threads: any.
 */
#ifndef PLUS7_MSG_TYPES_H
#define PLUS7_MSG_TYPES_H

#include "rt_pack.h"

#define RT_MSG RT_PACK_DECLARE
#include "msg_types.def"
#undef RT_MSG

#endif
