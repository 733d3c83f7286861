/*
 * lowrank.c - the lowrank command-line program: dispatches to subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

const tool_command tool_commands[] = {
    {"info", "Print the shape, dtype and order of an .npy file", "info FILE.npy", cmd_info},
    {"svd", "The best rank-k approximation of a matrix (SVD truncation)",
     "svd (-k K | --tol T) [OPTIONS] IN (OUT.npy | --factors L.npy R.npy)", cmd_svd},
    {"lp", "A rank-k approximation robust to outlying rows or corrupt entries",
     "lp -k K -p P [OPTIONS] IN [OUT.npy] [--factors L.npy R.npy]", cmd_lp},
    {"mvee", "The minimum-volume ellipsoid enclosing the rows of a matrix",
     "mvee [OPTIONS] POINTS.npy CENTER.npy SHAPE.npy", cmd_mvee},
    {"ellipsoid", "An ellipsoidal rounding G of the lp ball {x : ||Ax||_p <= 1}",
     "ellipsoid -p P [OPTIONS] A.npy G.npy", cmd_ellipsoid},
    {"coreset", "A weighted coreset of the rows of a matrix for lp costs",
     "coreset -p P -m SIZE [OPTIONS] A.npy INDICES.npy WEIGHTS.npy", cmd_coreset},
    {"background", "Moving objects in a fixed camera's video (PCA background subtraction)",
     "background [OPTIONS] INPUT_DIR OUTPUT_DIR", cmd_background},
};

const size_t tool_ncommands = sizeof tool_commands / sizeof tool_commands[0];

const char *const tool_program = "lowrank";

static void print_help(FILE *f)
{
    fprintf(f, "usage: lowrank COMMAND [OPTIONS] ARGS...\n"
               "       lowrank --version | --help\n\n"
               "Low-rank approximation of matrices stored as .npy files, and PCA\n"
               "background subtraction of videos stored as numbered images.\n\n"
               "commands:\n");
    for (size_t i = 0; i < tool_ncommands; i++)
        fprintf(f, "  %-11s %s\n", tool_commands[i].name, tool_commands[i].summary);
    fprintf(f, "\n`lowrank COMMAND --help` lists a command's options; see lowrank(1).\n");
}

int tool_fail(const char *context, int rc)
{
    if (rc == LOWRANK_ECANCELED && tool_interrupted())
        return tool_interrupt_status();
    fprintf(stderr, "lowrank: %s: %s: %s\n", context, lowrank_strerror(rc), lowrank_last_error());
    return 1;
}

int tool_usage(const char *command, const char *message)
{
    fprintf(stderr, "lowrank %s: %s\nusage: lowrank %s\n(`lowrank %s --help` lists the options)\n",
            command, message, tool_find_command(command)->synopsis, command);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("lowrank %s\n", lowrank_version_string());
        return 0;
    }
    for (size_t i = 0; i < tool_ncommands; i++)
        if (strcmp(argv[1], tool_commands[i].name) == 0)
            return tool_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "lowrank: unknown command '%s' (see lowrank --help)\n", argv[1]);
    return 2;
}
