/* tg_intake.h — shared by the polling intake (tg_intake.c) and the webhook
 * handler (web/): the one statement that stores an update.
 * Exports: tg_intake_store_sql ($1 update_id, $2 chat_id (0 = none),
 * $3 body; updates without a chat are stored already processed).
 * Threads: any.
 */
#ifndef PLUS7_TG_INTAKE_H
#define PLUS7_TG_INTAKE_H

extern const char tg_intake_store_sql[];

#endif
