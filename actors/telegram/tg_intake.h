/* tg_intake.h — shared by the polling intake (tg_intake.c) and the webhook
 * handler (web/web_tg_intake_batch.c): the one statement that stores updates.
 * Exports: tg_intake_store_sql — $1, $2, $3 are text arrays (pg_array.h) of
 * update ids, chat ids (0 = none) and bodies; updates without a chat are
 * stored already processed, known update ids are ignored.
 * Threads: any.
 */
#ifndef PLUS7_TG_INTAKE_H
#define PLUS7_TG_INTAKE_H

extern const char tg_intake_store_sql[];

#endif
