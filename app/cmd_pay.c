/* cmd_pay.c — operators' payment commands:
 *   `plus7d refund POSTING [AMOUNT]`  refund the order's payment (all of
 *       what is left, or AMOUNT rubles, e.g. 100 or 99.50, for a claim);
 *   `plus7d paid POSTING [bank_qr|cash|card]`  the money arrived outside
 *       the providers: a bank-QR transfer (default: the order's open bank-QR
 *       attempt) or cash / card handed to the courier.
 *
 * Purpose: both only write rows (pay_refunds; pay_attempts.confirmed_by) in
 * one statement each; the running service's pay_sweeper wakes the payment
 * actor within seconds, which calls YooKassa (POST /refunds with the
 * refund's own Idempotence-Key) and tells the client once. A refund never
 * exceeds what is left of the payment, counting refunds still open.
 *
 * Exports: app_cmd_refund, app_cmd_paid.
 * Threads: main thread; no runtime is started (blocking libpq is fine).
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "commands.h"
#include "pay.h"
#include "pay_yk.h"
#include "posting.h"
#include "rt.h"

/* Run one statement returning one row; its first value into out. */
static int cmd_pay_exec(const app_config_t *cfg, const char *what, const char *sql, int n, const char *const *p,
                        char *out, size_t outsz)
{
    PGconn *db = PQconnectdb(cfg->db);
    if (PQstatus(db) != CONNECTION_OK) {
        int rc = app_fail(APP_EXIT_RUNTIME, "%s: database: %s", what, PQerrorMessage(db));
        PQfinish(db);
        return rc;
    }
    PGresult *r = PQexecParams(db, sql, n, NULL, p, NULL, NULL, 0);
    int rc = APP_EXIT_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) rc = app_fail(APP_EXIT_RUNTIME, "%s: %s", what, PQresultErrorMessage(r));
    else if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) out[0] = '\0';
    else snprintf(out, outsz, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(db);
    return rc;
}

static int cmd_refund_run(const app_config_t *cfg, int argc, char **argv)
{
    if (argc < 1 || argc > 2) return app_fail(APP_EXIT_USAGE, "refund: usage: plus7d refund POSTING [AMOUNT]");
    if (!posting_is_valid(argv[0])) return app_fail(APP_EXIT_USAGE, "refund: \"%s\" is not a posting number", argv[0]);
    int64_t kop = 0;
    char amount[24];
    if (argc == 2 && (yk_amount_parse(argv[1], &kop) != RT_OK || kop <= 0))
        return app_fail(APP_EXIT_USAGE, "refund: AMOUNT must be rubles like 350 or 99.50, got \"%s\"", argv[1]);
    snprintf(amount, sizeof amount, "%lld", (long long)kop);
    const char *p[] = {argv[0], argc == 2 ? amount : NULL, "cli"};
    char out[128];
    int rc = cmd_pay_exec(cfg, "refund", PAY_SQL_REFUND, 3, p, out, sizeof out);
    if (rc != APP_EXIT_OK) return rc;
    char money[32];
    if (strcmp(out, "unpaid") == 0) return app_fail(APP_EXIT_RUNTIME, "refund: order %s is not paid", argv[0]);
    if (strncmp(out, "too_much:", 9) == 0) {
        long long left = 0;
        sscanf(out + 9, "%lld", &left);
        yk_amount_format(left, money, sizeof money);
        return app_fail(APP_EXIT_RUNTIME, "refund: at most %s RUB of order %s can still be refunded", money, argv[0]);
    }
    long long id = 0, amt = 0;
    sscanf(out, "ok:%lld:%lld", &id, &amt);
    yk_amount_format(amt, money, sizeof money);
    printf("refund %lld of %s RUB for order %s queued\n", id, money, argv[0]);
    return APP_EXIT_OK;
}

static int cmd_paid_run(const app_config_t *cfg, int argc, char **argv)
{
    if (argc < 1 || argc > 2) return app_fail(APP_EXIT_USAGE, "paid: usage: plus7d paid POSTING [bank_qr|cash|card]");
    if (!posting_is_valid(argv[0])) return app_fail(APP_EXIT_USAGE, "paid: \"%s\" is not a posting number", argv[0]);
    const char *how = argc == 2 ? argv[1] : "bank_qr";
    if (strcmp(how, "bank_qr") != 0 && strcmp(how, "cash") != 0 && strcmp(how, "card") != 0)
        return app_fail(APP_EXIT_USAGE, "paid: unknown way \"%s\" (bank_qr, cash, card)", how);
    bool bank = strcmp(how, "bank_qr") == 0;
    const char *pb[] = {argv[0], "cli"}, *ph[] = {argv[0], how, "cli"};
    char out[96];
    int rc = bank ? cmd_pay_exec(cfg, "paid", PAY_SQL_PAID_BANK, 2, pb, out, sizeof out)
                  : cmd_pay_exec(cfg, "paid", PAY_SQL_PAID_HAND, 3, ph, out, sizeof out);
    if (rc != APP_EXIT_OK) return rc;
    if (!out[0])
        return app_fail(APP_EXIT_RUNTIME, bank ? "paid: order %s has no open bank-QR payment"
                                               : "paid: order %s is paid already or has no priced delivery", argv[0]);
    printf("payment %s of order %s marked received (%s)\n", out, argv[0], how);
    return APP_EXIT_OK;
}

const app_command_t app_cmd_refund = {
    "refund", "POSTING [AMOUNT]", "refund an order's payment, all of it or AMOUNT rubles (e.g. 99.50)", cmd_refund_run,
};

const app_command_t app_cmd_paid = {
    "paid", "POSTING [bank_qr|cash|card]", "mark a bank-QR transfer (default) or cash/card on delivery received",
    cmd_paid_run,
};
