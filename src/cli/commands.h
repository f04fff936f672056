#ifndef SB_CLI_COMMANDS_H
#define SB_CLI_COMMANDS_H

struct sb_command {
    const char *name;                     /* as typed, e.g. "policy" */
    int (*run)(int argc, char **argv);    /* argv[0] is the subcommand name; returns exit status */
    const char *summary;                  /* one line for `strongbox help` */
};

/* Terminated by an entry whose name is NULL. Generated from the cmd_*.c files present. */
extern const struct sb_command sb_commands[];

/* In cmd_<ident>.c:  SB_COMMAND_DECL(ident);  then define both symbols. */
#define SB_COMMAND_DECL(ident)                                                                     \
    int sb_cmd_##ident(int argc, char **argv);                                                     \
    extern const char sb_cmd_##ident##_summary[]

#endif
