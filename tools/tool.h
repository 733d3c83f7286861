/*
 * tool.h - what the subcommands of the lowrank program share.  The program
 * uses only the public API of liblowrank.
 */
#ifndef LOWRANK_TOOL_H
#define LOWRANK_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lowrank.h"

/* A subcommand: argv[0] is its name; returns the exit status.  summary is
 * the line `lowrank --help` shows for it, synopsis its usage line. */
typedef struct tool_command {
    const char *name;
    const char *summary;
    const char *synopsis;
    int (*run)(int argc, char **argv);
} tool_command;

int cmd_info(int argc, char **argv);
int cmd_svd(int argc, char **argv);

int cmd_lp(int argc, char **argv);

int cmd_mvee(int argc, char **argv);
int cmd_ellipsoid(int argc, char **argv);
int cmd_coreset(int argc, char **argv);

/* A flag taking one value: "-p 1", "--eps 1e-6" or "--eps=1e-6".  value
 * points to a double (FLAG_DOUBLE), a long long (FLAG_INT) or a const char *
 * (FLAG_STRING); a FLAG_PAIR takes the next two arguments into a
 * const char *[2] ("--factors L.npy R.npy"), a FLAG_BOOL none (value is
 * unused: "--time").  seen is set when the flag was given.  arg names the
 * value(s) in --help (NULL for FLAG_BOOL), help says what the flag does and
 * its default.  Tables end with a flag whose name is NULL. */
typedef struct tool_flag {
    const char *name;
    enum { FLAG_DOUBLE, FLAG_INT, FLAG_STRING, FLAG_PAIR, FLAG_BOOL } type;
    void *value;
    int seen;
    const char *arg, *help;
} tool_flag;

/* The end of a flag table. */
#define TOOL_FLAGS_END {NULL, FLAG_INT, NULL, 0, NULL, NULL}

/* What tool_parse returns after --help (printed on stdout) and after a
 * usage error (printed on stderr). */
enum { TOOL_HELP = -2, TOOL_BAD_USAGE = -1 };

/* Parse argv[1..argc-1] into the flags and exactly npos positional
 * arguments (into pos).  Returns npos, or TOOL_HELP or TOOL_BAD_USAGE. */
int tool_parse(const char *command, int argc, char **argv, tool_flag *flags, char **pos,
               int npos);

/* The same with min to max positional arguments; returns their number. */
int tool_parse_some(const char *command, int argc, char **argv, tool_flag *flags, char **pos,
                    int min, int max);

/* The exit status for what tool_parse returned when it was negative: 0
 * after --help, 2 after a usage error. */
int tool_parse_exit(int parsed);

/* The program's subcommands and name ("lowrank", or "lowrank-mpi", which
 * shares the parser), defined by each program. */
extern const tool_command tool_commands[];
extern const size_t tool_ncommands;
extern const char *const tool_program;

/* The subcommand called name, or NULL. */
const tool_command *tool_find_command(const char *name);

/* Seconds on a monotonic clock, and of CPU time used by the process (all
 * its threads). */
double tool_now(void);
double tool_cpu(void);

/* Write the approximation f of a to out, in a's shape, dtype and layout
 * (or in the given dtype and layout).  0 on success, 1 after a message on
 * stderr. */
int tool_write_approximation(const lowrank_factors *f, const lowrank_matrix *a, const char *out);
int tool_write_dense(const lowrank_factors *f, lowrank_dtype dtype, lowrank_layout layout,
                     const char *out);

/* Write f as L (m x k) and R (k x n) with L R = the approximation, S in L
 * (or split evenly with balanced).  0 on success, 1 after a message. */
int tool_write_factors(const lowrank_factors *f, int balanced, const char *left,
                       const char *right);

/* The matrix a subcommand reads (tools/input.c): a dense matrix, or an
 * operator over scipy's sparse .npz (csr) or over an .npy file read block
 * by block at every product. */
typedef struct tool_input {
    lowrank_matrix *matrix;
    lowrank_csr *csr;
    lowrank_operator *op;
} tool_input;

/* Open path: .npz as a sparse matrix; .npy loaded, or streamed when stream
 * is set or its data exceed half the physical memory.  0, or 1 after a
 * message on stderr. */
int tool_input_open(const char *path, int stream, tool_input *in);
void tool_input_free(tool_input *in);
int64_t tool_input_rows(const tool_input *in);
int64_t tool_input_cols(const tool_input *in);

/* "passes=P bytes_read=B" on stderr, for an operator (--time). */
void tool_input_report(const tool_input *in);

/* 0 when the dense approximation of the input can be written (always for a
 * dense input; for an operator, when it takes at most 2 GiB), else the
 * exit status of a usage error telling to write --factors. */
int tool_input_check_output(const tool_input *in, const char *command);

/* Write the approximation f of the input to out: in the input's shape,
 * dtype and layout for a dense input, C order for an operator. */
int tool_write_input_approximation(const lowrank_factors *f, const tool_input *in,
                                   const char *out);

/* LOWRANK_METHOD_LEWIS for "lewis", LOWRANK_METHOD_LOWNER for
 * "cutting-plane" (or "lowner"), -1 otherwise. */
int tool_rounding_method(const char *name);

/* Write a 1-D .npy file of n int64 or float64 values; 0 on success, 1 after
 * a message on stderr. */
int tool_save_int64_npy(const char *path, const int64_t *v, int64_t n);
int tool_save_float64_npy(const char *path, const double *v, int64_t n);

int cmd_background(int argc, char **argv);

/* An 8-bit image, rows packed: width x channels bytes apart. */
typedef struct image {
    int64_t width, height, channels;
    uint8_t *data;
} image;

/* The default of --max-pixels: 2^25 = 33,554,432 pixels, so that every
 * video format up to 8K UHD (7680 x 4320) is read, while a hostile header
 * cannot make one frame take more than 96 MiB of RGB. */
#define IMAGE_MAX_PIXELS ((int64_t)1 << 25)

/* Read a JPEG, or a PNG when path ends in .png, as 8-bit grey (channels 1)
 * or RGB (channels 3), into a new img->data (free it).  An image whose
 * header claims more than max_pixels pixels is refused before it is
 * decoded, and so is a JPEG with corrupt or truncated data (which libjpeg
 * would fill in).  On failure returns -1 with a message in err and
 * img->data NULL. */
int image_read(const char *path, int64_t channels, int64_t max_pixels, image *img, char *err,
               size_t errlen);

/* The same from an open file, a PNG when png is set (what image_read does
 * after fopen; the fuzzer feeds it memory through fmemopen). */
int image_decode(FILE *file, int png, int64_t channels, int64_t max_pixels, image *img,
                 char *err, size_t errlen);

/* Write an 8-bit grey (channels 1) or RGB (3) PNG, rows stride bytes
 * apart.  On failure returns -1 with a message in err. */
int image_write_png(const char *path, const uint8_t *data, int64_t width, int64_t height,
                    int64_t channels, int64_t stride, char *err, size_t errlen);

/* Report a failed library call on stderr as
 * "lowrank: CONTEXT: <strerror>: <last_error>" and return exit status 1;
 * a computation canceled by Ctrl-C is "lowrank: interrupted", status 130. */
int tool_fail(const char *context, int rc);

/* The progress of a command's library calls (tools/progress.c): a bar on
 * stderr once the work has lasted a second, when stderr is a terminal and
 * quiet is 0, and Ctrl-C turned into a cancel.  tool_progress_start installs
 * both (the callback on opts, when not NULL); a command with work of its own
 * (a loop over frames) calls tool_progress_report itself, and stops when it
 * returns nonzero; tool_progress_end clears the bar. */
typedef struct tool_progress {
    const char *command;
    double start;
    int shown, quiet;
} tool_progress;

void tool_progress_start(tool_progress *p, const char *command, lowrank_opts *opts, int quiet);
int tool_progress_report(double fraction, void *user);
void tool_progress_end(tool_progress *p);
/* Whether Ctrl-C was pressed. */
int tool_interrupted(void);
/* Say "lowrank: interrupted" on stderr and return 130, the exit status of a
 * command stopped by Ctrl-C (128 + SIGINT, as a shell reports it). */
int tool_interrupt_status(void);

/* The --quiet flag of the commands that show progress. */
#define TOOL_QUIET_FLAG                                                                            \
    {"--quiet", FLAG_BOOL, NULL, 0, NULL,                                                         \
     "no progress bar (shown on stderr when it is a terminal\n"                                   \
     "and the work lasts over a second)"}

/* Report a usage error for the subcommand and return exit status 2. */
int tool_usage(const char *command, const char *message);

#endif
