/* strongbox - the command line tool. Dispatches to one subcommand per cmd_<name>.c file. */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

#ifndef SB_VERSION
#define SB_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: strongbox COMMAND [ARGS...]\n\ncommands:\n");
    for (const struct sb_command *c = sb_commands; c->name; c++)
        fprintf(out, "  %-14s %s\n", c->name, c->summary);
    fprintf(out, "\n`strongbox COMMAND --help` describes one command.\n");
}

static const struct sb_command *find_command(const char *name)
{
    for (const struct sb_command *c = sb_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* `strongbox run prog.wasm` runs a program locally (program authors); `strongbox run POLICY --as
 * NAME PATH` asks a remote isolate to run one. Both read naturally, so `run` with `--as` goes to
 * the session command. */
static const char *resolve_alias(int argc, char **argv)
{
    if (strcmp(argv[1], "run") == 0) {
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--") == 0)
                break;
            if (strcmp(argv[i], "--as") == 0 || strncmp(argv[i], "--as=", 5) == 0)
                return find_command("session-run") ? "session-run" : "run";
        }
    }
    return argv[1];
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("strongbox %s\n", SB_VERSION);
        return 0;
    }
    const struct sb_command *cmd = find_command(resolve_alias(argc, argv));
    if (!cmd) {
        fprintf(stderr, "strongbox: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return 2;
    }
    return cmd->run(argc - 1, argv + 1);
}
