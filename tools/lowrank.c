/*
 * lowrank.c - the lowrank command-line program: dispatches to subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const tool_command commands[] = {
    {"info", "info FILE.npy", cmd_info},
    {"svd", "svd (-k K | --tol T) [--method auto|exact|randomized] [--seed S] [--time]\n"
            "              IN.npy (OUT.npy | --factors L.npy R.npy [--balanced])",
     cmd_svd},
    {"lp",
     "lp -k K -p P [--method lewis|lowner] [--objective rows|entries]\n"
     "              [--orientation rows|cols] [--refine N] [--refine-tol T]\n"
     "              [--starts N] [--sketch-dim R] [--seed S] [--time]\n"
     "              IN.npy [OUT.npy] [--factors L.npy R.npy]",
     cmd_lp},
    {"mvee", "mvee [--eps E] [--center free|origin] POINTS.npy CENTER.npy SHAPE.npy", cmd_mvee},
    {"ellipsoid", "ellipsoid -p P [--method lewis|cutting-plane] A.npy G.npy", cmd_ellipsoid},
    {"coreset",
     "coreset -p P -m SIZE [--seed S] [--offset N] [--method lewis|cutting-plane] A.npy "
     "INDICES.npy WEIGHTS.npy",
     cmd_coreset},
    {"background", "background [OPTIONS] INPUT_DIR OUTPUT_DIR", cmd_background},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_help(FILE *f)
{
    fprintf(f, "usage: lowrank COMMAND [OPTIONS] ARGS...\n"
               "       lowrank --version | --help\n\n"
               "Low-rank approximation of matrices stored as .npy files, and PCA\n"
               "background subtraction of videos stored as numbered images.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  lowrank %s\n", commands[i].synopsis);
    fprintf(f, "\nSee lowrank(1).\n");
}

int tool_fail(const char *context, int rc)
{
    fprintf(stderr, "lowrank: %s: %s: %s\n", context, lowrank_strerror(rc), lowrank_last_error());
    return 1;
}

int tool_usage(const char *command, const char *message)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, command) == 0)
            fprintf(stderr, "lowrank %s: %s\nusage: lowrank %s\n", command, message,
                    commands[i].synopsis);
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
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "lowrank: unknown command '%s' (see lowrank --help)\n", argv[1]);
    return 2;
}
