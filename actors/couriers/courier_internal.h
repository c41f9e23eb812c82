/* courier_internal.h — what the courier module's actors share.
 *
 * Exports: courier_kind (one per courier, key: Telegram id),
 * courier_dispatcher_kind (key "main"), courier_kick_gateway.
 * Threads: the actors' home workers.
 */
#ifndef PLUS7_COURIER_INTERNAL_H
#define PLUS7_COURIER_INTERNAL_H

#include "rt.h"

extern const rt_kind_t courier_kind;
extern const rt_kind_t courier_dispatcher_kind;

/* Tell the Telegram gateway that outbox rows were committed. */
void courier_kick_gateway(rt_runtime_t *rt);

#endif
