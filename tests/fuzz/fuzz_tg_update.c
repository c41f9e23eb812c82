/* fuzz_tg_update.c — fuzz target: the Telegram update parser.
 *
 * Any byte string must either be refused (RT_EINVAL) or parse into a struct
 * whose invariants hold; no crash, leak or undefined behaviour (run under
 * ASan+UBSan by libFuzzer, and over the seed corpus by fuzz_driver.c).
 * Exports: LLVMFuzzerTestOneInput. Threads: the fuzzer's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "tg_update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tg_update_t u;
    if (tg_update_parse((const char *)data, size, &u) != RT_OK) return 0;
    if (u.update_id < 0) abort();
    if (u.command && u.command[0] != '/') abort();
    if (u.command_arg && !u.command) abort();
    if (u.has_location && (u.latitude < -90 || u.latitude > 90 || u.longitude < -180 || u.longitude > 180)) abort();
    if (u.has_contact && !u.contact_phone) abort();
    if (u.kind == TG_UPD_CALLBACK && !u.callback_id) abort();
    tg_update_free(&u);
    return 0;
}
