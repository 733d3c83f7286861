/*
 * tool.h - what the subcommands of the lowrank program share.  The program
 * uses only the public API of liblowrank.
 */
#ifndef LOWRANK_TOOL_H
#define LOWRANK_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "lowrank.h"

/* A subcommand: argv[0] is its name; returns the exit status. */
typedef struct tool_command {
    const char *name;
    const char *synopsis;
    int (*run)(int argc, char **argv);
} tool_command;

int cmd_info(int argc, char **argv);
int cmd_background(int argc, char **argv);

/* An 8-bit image, rows packed: width x channels bytes apart. */
typedef struct image {
    int64_t width, height, channels;
    uint8_t *data;
} image;

/* Read a JPEG, or a PNG when path ends in .png, as 8-bit grey (channels 1)
 * or RGB (channels 3), into a new img->data (free it).  On failure returns
 * -1 with a message in err. */
int image_read(const char *path, int64_t channels, image *img, char *err, size_t errlen);

/* Write an 8-bit grey (channels 1) or RGB (3) PNG, rows stride bytes
 * apart.  On failure returns -1 with a message in err. */
int image_write_png(const char *path, const uint8_t *data, int64_t width, int64_t height,
                    int64_t channels, int64_t stride, char *err, size_t errlen);

/* Report a failed library call on stderr as
 * "lowrank: CONTEXT: <strerror>: <last_error>" and return exit status 1. */
int tool_fail(const char *context, int rc);

/* Report a usage error for the subcommand and return exit status 2. */
int tool_usage(const char *command, const char *message);

#endif
