/* main.c — plus7d entry point: global options, configuration, command dispatch.
 *
 * Purpose: parses `plus7d [--config FILE] [COMMAND [ARGS...]]`, answers
 * --help and --version, loads and validates the configuration (exit 2 with
 * one line naming the bad setting), and runs the command from the table in
 * commands.c ("serve" by default). --config, --help and --version may
 * appear before or after the command name; other options before the
 * command are usage errors, after it they are passed to the command with
 * its arguments; "--" ends option parsing.
 *
 * Exports: main.
 * Threads: main thread; commands start whatever threads they need.
 */
#include "commands.h"
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void main_help(FILE *out)
{
    fprintf(out,
            "Usage: plus7d [--config FILE] [COMMAND [ARGS...]]\n"
            "\n"
            "The +7Доставки service: Telegram bot, integrations and dashboard.\n"
            "\n"
            "Commands:\n");
    for (int i = 0; app_commands[i]; i++) {
        char syn[64];
        snprintf(syn, sizeof syn, "%s%s%s", app_commands[i]->name,
                 app_commands[i]->args[0] ? " " : "", app_commands[i]->args);
        fprintf(out, "  %-22s %s\n", syn, app_commands[i]->summary);
    }
    fprintf(out,
            "\n"
            "Options:\n"
            "  --config FILE          read settings from FILE (KEY=value lines)\n"
            "  -h, --help             show this help and exit\n"
            "  -V, --version          print the version and exit\n"
            "\n"
            "Configuration comes from the environment and, optionally, a --config file.\n"
            "Precedence: the environment wins over the file, the file over the built-in\n"
            "defaults; a variable set to the empty string counts as unset. File syntax: one\n"
            "KEY=value per line; blank lines and lines starting with # are ignored; an\n"
            "optional 'export ' prefix is allowed; a value may be wrapped in matching \"...\"\n"
            "or '...' (nothing inside is unescaped; # inside a value is literal); unknown\n"
            "keys are an error. Settings:\n"
            "\n");
    app_config_help(out);
    fprintf(out,
            "\n"
            "Exit status:\n"
            "  0  success (serve: stopped by SIGTERM or SIGINT)\n"
            "  1  runtime error: database unreachable or a migration failed (migrate),\n"
            "     cannot listen or start (serve)\n"
            "  2  usage or configuration error, printed as one line naming the setting;\n"
            "     also a database schema that does not match this binary (serve before\n"
            "     migrate, or a schema newer than this binary): run `plus7d migrate` or\n"
            "     upgrade plus7d\n"
            "\n"
            "serve stops gracefully on SIGTERM/SIGINT: no new HTTP connections, requests\n"
            "and actors in progress finish (up to 1.5 s), logs are flushed, exit 0 within 5 s.\n"
            "Logs are logfmt lines on stderr; phone numbers in them are masked.\n");
}

int main(int argc, char **argv)
{
    const char *config_file = NULL;
    const char *cmd_name = NULL;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    int nargs = 0;
    bool options_done = false;
    if (!args) return app_fail(APP_EXIT_RUNTIME, "out of memory");

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
        } else if (!options_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 ||
                                     (!cmd_name && strcmp(a, "help") == 0))) {
            main_help(stdout);
            free(args);
            return APP_EXIT_OK;
        } else if (!options_done && (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)) {
            printf("plus7d %s\n", PLUS7_VERSION);
            free(args);
            return APP_EXIT_OK;
        } else if (!options_done && strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                free(args);
                return app_fail(APP_EXIT_USAGE, "--config: expected a file name");
            }
            config_file = argv[++i];
        } else if (!options_done && strncmp(a, "--config=", 9) == 0) {
            config_file = a + 9;
        } else if (!options_done && !cmd_name && a[0] == '-' && a[1] != '\0') {
            free(args);
            return app_fail(APP_EXIT_USAGE, "unknown option %s (see plus7d --help)", a);
        } else if (!cmd_name) {
            cmd_name = a;
        } else {
            args[nargs++] = argv[i];
        }
    }

    const app_command_t *cmd = app_command_find(cmd_name ? cmd_name : app_commands[0]->name);
    if (!cmd) {
        free(args);
        return app_fail(APP_EXIT_USAGE, "unknown command \"%s\" (see plus7d --help)", cmd_name);
    }

    app_config_t cfg;
    char err[1024];
    if (app_config_load(&cfg, config_file, err, sizeof err) != 0) {
        free(args);
        return app_fail(APP_EXIT_USAGE, "%s", err);
    }
    int status = cmd->run(&cfg, nargs, args);
    app_config_free(&cfg);
    free(args);
    return status;
}
