/*
 * args.c - option parsing shared by the subcommands: flags that take one
 * value ("-p 1", "--eps=1e-6"), the rest positional.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static int parse_value(const tool_flag *f, const char *text)
{
    char *end;
    errno = 0;
    switch (f->type) {
    case FLAG_DOUBLE:
        *(double *)f->value = strtod(text, &end);
        break;
    case FLAG_INT:
        *(long long *)f->value = strtoll(text, &end, 10);
        break;
    default:
        *(const char **)f->value = text;
        return 1;
    }
    return errno == 0 && end != text && *end == '\0';
}

static tool_flag *find_flag(tool_flag *flags, const char *arg, size_t len)
{
    for (tool_flag *f = flags; f->name; f++)
        if (strlen(f->name) == len && strncmp(f->name, arg, len) == 0)
            return f;
    return NULL;
}

int tool_parse(const char *command, int argc, char **argv, tool_flag *flags, char **pos,
               int npos)
{
    int got = 0;
    char message[200];
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0' || (arg[1] >= '0' && arg[1] <= '9')) {
            if (got < npos)
                pos[got] = argv[i];
            got++;
            continue;
        }
        const char *eq = strchr(arg, '=');
        tool_flag *f = find_flag(flags, arg, eq ? (size_t)(eq - arg) : strlen(arg));
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!f || !value) {
            snprintf(message, sizeof message, f ? "%s needs a value" : "unknown option %s", arg);
            tool_usage(command, message);
            return -1;
        }
        if (!parse_value(f, value)) {
            snprintf(message, sizeof message, "%s: '%s' is not a number", f->name, value);
            tool_usage(command, message);
            return -1;
        }
        f->seen = 1;
    }
    if (got != npos) {
        snprintf(message, sizeof message, "expected %d file arguments, got %d", npos, got);
        tool_usage(command, message);
        return -1;
    }
    return got;
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
