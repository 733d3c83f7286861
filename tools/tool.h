/*
 * tool.h - what the subcommands of the lowrank program share.  The program
 * uses only the public API of liblowrank.
 */
#ifndef LOWRANK_TOOL_H
#define LOWRANK_TOOL_H

#include "lowrank.h"

/* A subcommand: argv[0] is its name; returns the exit status. */
typedef struct tool_command {
    const char *name;
    const char *synopsis;
    int (*run)(int argc, char **argv);
} tool_command;

int cmd_info(int argc, char **argv);
int cmd_svd(int argc, char **argv);

/* Report a failed library call on stderr as
 * "lowrank: CONTEXT: <strerror>: <last_error>" and return exit status 1. */
int tool_fail(const char *context, int rc);

/* Report a usage error for the subcommand and return exit status 2. */
int tool_usage(const char *command, const char *message);

#endif
