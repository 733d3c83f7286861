/*
 * args.c - what the subcommands share: option parsing (flags that take a
 * value, "-p 1" or "--eps=1e-6", two, or none; the rest positional), a
 * clock, and writing results as .npy files.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

/* What parse_value found. */
enum { VALUE_OK, VALUE_NOT_A_NUMBER, VALUE_OUT_OF_RANGE };

/* text into the flag's value.  A number beyond the type's range is
 * VALUE_OUT_OF_RANGE; a double too small for a normal number (1e-320) is
 * taken as strtod rounds it, and the option's own check judges it. */
static int parse_value(const tool_flag *f, const char *text)
{
    char *end;
    errno = 0;
    switch (f->type) {
    case FLAG_DOUBLE: {
        double v = strtod(text, &end);
        *(double *)f->value = v;
        if (errno == ERANGE && fabs(v) < 1)
            errno = 0; /* underflow: 0 or a subnormal, still the number given */
        break;
    }
    case FLAG_INT:
        *(long long *)f->value = strtoll(text, &end, 10);
        break;
    default:
        *(const char **)f->value = text;
        return VALUE_OK;
    }
    if (end == text || *end != '\0')
        return VALUE_NOT_A_NUMBER;
    return errno == ERANGE ? VALUE_OUT_OF_RANGE : VALUE_OK;
}

static tool_flag *find_flag(tool_flag *flags, const char *arg, size_t len)
{
    for (tool_flag *f = flags; f->name; f++)
        if (strlen(f->name) == len && strncmp(f->name, arg, len) == 0)
            return f;
    return NULL;
}

/* The flag at argv[*i] with its values, moving *i past them; 0, or -1
 * after a usage message. */
static int take_flag(const char *command, int argc, char **argv, int *i, tool_flag *flags)
{
    char message[200];
    const char *arg = argv[*i], *eq = strchr(arg, '=');
    tool_flag *f = find_flag(flags, arg, eq ? (size_t)(eq - arg) : strlen(arg));
    if (f && f->type == FLAG_BOOL && !eq) {
        f->seen = 1;
        return 0;
    }
    if (f && f->type == FLAG_PAIR && !eq) {
        if (*i + 2 >= argc) {
            snprintf(message, sizeof message, "%s needs two values", arg);
            return tool_usage(command, message), -1;
        }
        ((const char **)f->value)[0] = argv[++*i];
        ((const char **)f->value)[1] = argv[++*i];
        f->seen = 1;
        return 0;
    }
    const char *value = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    if (!f || !value || f->type == FLAG_BOOL || f->type == FLAG_PAIR) {
        snprintf(message, sizeof message, f ? "%s needs a value" : "unknown option %s", arg);
        return tool_usage(command, message), -1;
    }
    int parsed = parse_value(f, value);
    if (parsed != VALUE_OK) {
        snprintf(message, sizeof message,
                 parsed == VALUE_OUT_OF_RANGE ? "%s: '%s' is out of range"
                 : f->type == FLAG_INT        ? "%s: '%s' is not an integer"
                                              : "%s: '%s' is not a number",
                 f->name, value);
        return tool_usage(command, message), -1;
    }
    f->seen = 1;
    return 0;
}

/* --help: the usage line, what the command does and every flag, on stdout.
 * A help text's later lines ('\n') are indented under its first. */
static void print_help(const char *command, const tool_flag *flags)
{
    const tool_command *c = tool_find_command(command);
    printf("usage: %s %s\n\n%s.\n", tool_program, c->synopsis, c->summary);
    if (flags[0].name)
        printf("\noptions:\n");
    for (const tool_flag *f = flags; f->name; f++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", f->name, f->arg ? " " : "", f->arg ? f->arg : "");
        if (strlen(left) > 22)
            printf("  %s\n  %-22s ", left, "");
        else
            printf("  %-22s ", left);
        for (const char *h = f->help; *h; h++)
            if (*h == '\n')
                printf("\n  %-23s", "");
            else
                putchar(*h);
        putchar('\n');
    }
    printf("  %-22s %s\n", "--help", "print this help and exit");
}

int tool_parse_exit(int parsed) { return parsed == TOOL_HELP ? 0 : 2; }

int tool_parse_some(const char *command, int argc, char **argv, tool_flag *flags, char **pos,
                    int min, int max)
{
    int got = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(command, flags);
            return TOOL_HELP;
        }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0' || (arg[1] >= '0' && arg[1] <= '9')) {
            if (got < max)
                pos[got] = argv[i];
            got++;
        } else if (take_flag(command, argc, argv, &i, flags) < 0) {
            return TOOL_BAD_USAGE;
        }
    }
    if (got < min || got > max) {
        char message[200];
        if (min == max)
            snprintf(message, sizeof message, "expected %d file arguments, got %d", min, got);
        else
            snprintf(message, sizeof message, "expected %d to %d file arguments, got %d", min,
                     max, got);
        tool_usage(command, message);
        return TOOL_BAD_USAGE;
    }
    return got;
}

int tool_parse(const char *command, int argc, char **argv, tool_flag *flags, char **pos,
               int npos)
{
    return tool_parse_some(command, argc, argv, flags, pos, npos, npos);
}

const tool_command *tool_find_command(const char *name)
{
    for (size_t i = 0; i < tool_ncommands; i++)
        if (strcmp(tool_commands[i].name, name) == 0)
            return &tool_commands[i];
    return NULL;
}

/* The rounding method named on the command line, or -1. */
int tool_rounding_method(const char *name)
{
    if (strcmp(name, "lewis") == 0)
        return LOWRANK_METHOD_LEWIS;
    if (strcmp(name, "cutting-plane") == 0 || strcmp(name, "lowner") == 0)
        return LOWRANK_METHOD_LOWNER;
    return -1;
}

double tool_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double tool_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int tool_write_approximation(const lowrank_factors *f, const lowrank_matrix *a, const char *out)
{
    return tool_write_dense(f, lowrank_matrix_dtype(a), lowrank_matrix_layout(a), out);
}

int tool_write_dense(const lowrank_factors *f, lowrank_dtype dtype, lowrank_layout layout,
                     const char *out)
{
    lowrank_matrix *r;
    int rc = lowrank_matrix_new(dtype, layout, lowrank_factors_rows(f), lowrank_factors_cols(f),
                                &r);
    if (rc == LOWRANK_OK)
        rc = lowrank_factors_reconstruct(f, r);
    if (rc == LOWRANK_OK)
        rc = lowrank_matrix_save_npy(r, out);
    lowrank_matrix_free(r);
    return rc == LOWRANK_OK ? 0 : tool_fail(out, rc);
}

int tool_write_factors(const lowrank_factors *f, int balanced, const char *left,
                       const char *right)
{
    lowrank_matrix *l, *r;
    int rc = lowrank_factors_split(f, balanced ? LOWRANK_SPLIT_BALANCED : LOWRANK_SPLIT_LEFT, &l,
                                   &r);
    if (rc != LOWRANK_OK)
        return tool_fail("split", rc);
    const char *failed = NULL;
    rc = lowrank_matrix_save_npy(l, left);
    if (rc != LOWRANK_OK)
        failed = left;
    else if ((rc = lowrank_matrix_save_npy(r, right)) != LOWRANK_OK)
        failed = right;
    lowrank_matrix_free(l);
    lowrank_matrix_free(r);
    return failed ? tool_fail(failed, rc) : 0;
}

/* A 1-D .npy file (format 1.0, host byte order) of n elements described by
 * descr ("i8", "f8"). */
static int save_vector(const char *path, const char *descr, const void *data, size_t size,
                       int64_t n)
{
    const unsigned one = 1;
    char header[128];
    int len = snprintf(header, sizeof header,
                       "{'descr': '%c%s', 'fortran_order': False, 'shape': (%lld,), }",
                       *(const unsigned char *)&one ? '<' : '>', descr, (long long)n);
    int total = 10 + len + 1, pad = (64 - total % 64) % 64;
    memset(header + len, ' ', (size_t)pad);
    header[len + pad] = '\n';
    unsigned hlen = (unsigned)(len + pad + 1);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, hlen, f) == hlen &&
             fwrite(data, size, (size_t)n, f) == (size_t)n;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "lowrank: %s: cannot write: %s\n", path, strerror(errno));
        remove(path);
    }
    return ok ? 0 : 1;
}

int tool_save_int64_npy(const char *path, const int64_t *v, int64_t n)
{
    return save_vector(path, "i8", v, sizeof *v, n);
}

int tool_save_float64_npy(const char *path, const double *v, int64_t n)
{
    return save_vector(path, "f8", v, sizeof *v, n);
}
