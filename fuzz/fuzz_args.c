/*
 * fuzz_args.c - libFuzzer harness of the tool's argument parser
 * (tools/args.c: tool_parse and tool_parse_some, with a flag of every kind)
 * and of the library's option setters (lowrank_opts_set_int/_double and
 * the getters).  The input is split at NUL bytes into argv; its last 32
 * bytes also drive the setters.  Checks: a parse that succeeds sets only
 * what was named and counts the positional arguments it promised; a setter
 * that succeeds stores exactly the value given, and never NaN or infinity;
 * one that fails changes nothing.  Run it with -close_fd_mask=3 to silence
 * the help and usage text.  See docs/fuzzing.md.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define MAX_ARGS 64

static void parse(char **argv, int argc)
{
    double d = NAN;
    long long n = -7;
    const char *s = NULL, *pair[2] = {NULL, NULL};
    tool_flag flags[] = {
        {"-p", FLAG_DOUBLE, &d, 0, "P", "a double"},
        {"-k", FLAG_INT, &n, 0, "K", "an integer"},
        {"--method", FLAG_STRING, &s, 0, "NAME", "a string"},
        {"--factors", FLAG_PAIR, pair, 0, "L R", "two strings"},
        {"--time", FLAG_BOOL, NULL, 0, NULL, "a switch"},
        TOOL_FLAGS_END};
    char *pos[3];
    int got = argc % 2 ? tool_parse("svd", argc, argv, flags, pos, 2)
                       : tool_parse_some("lp", argc, argv, flags, pos, 1, 3);
    if (got >= 0 && (got > 3 || (argc % 2 && got != 2)))
        abort();
    if (got >= 0 && ((!flags[0].seen && !isnan(d)) || (!flags[1].seen && n != -7) ||
                     (!flags[2].seen && s) || (!flags[3].seen && (pair[0] || pair[1]))))
        abort();
    for (int i = 0; got >= 0 && i < got; i++)
        if (!pos[i])
            abort();
}

static void set_options(const uint8_t *b)
{
    lowrank_opts *o;
    if (lowrank_opts_new(&o) != LOWRANK_OK)
        return;
    for (int k = 0; k < 4; k++, b += 8) {
        lowrank_option key = (lowrank_option)(b[0] % 128);
        int64_t iv, before_i = 0, after_i = 0;
        double dv, before_d = 0, after_d = 0;
        memcpy(&iv, b, 8);
        memcpy(&dv, b, 8);
        iv >>= 8 * (b[1] % 8); /* small values as often as huge ones */
        int is_int = lowrank_opts_get_int(o, key, &before_i) == LOWRANK_OK;
        int is_dbl = lowrank_opts_get_double(o, key, &before_d) == LOWRANK_OK;
        int rc = b[2] & 1 ? lowrank_opts_set_int(o, key, iv) : lowrank_opts_set_double(o, key, dv);
        lowrank_opts_get_int(o, key, &after_i);
        lowrank_opts_get_double(o, key, &after_d);
        if (rc == LOWRANK_OK && (b[2] & 1 ? !is_int || after_i != iv
                                          : !is_dbl || memcmp(&after_d, &dv, 8) != 0))
            abort();
        if (rc != LOWRANK_OK && (after_i != before_i || memcmp(&after_d, &before_d, 8) != 0))
            abort();
        if (rc == LOWRANK_OK && !(b[2] & 1) && !isfinite(dv))
            abort(); /* no option takes NaN or infinity */
    }
    lowrank_opts_free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 32)
        set_options(data + size - 32);
    char *buf = malloc(size + 1), *argv[MAX_ARGS + 1];
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    int argc = 0;
    argv[argc++] = "cmd";
    for (char *p = buf; p < buf + size && argc < MAX_ARGS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    parse(argv, argc);
    free(buf);
    return 0;
}
