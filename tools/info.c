/*
 * info.c - `lowrank info FILE.npy`: shape, dtype and order of a matrix file.
 */
#include <stdio.h>

#include "tool.h"

int cmd_info(int argc, char **argv)
{
    tool_flag flags[] = {TOOL_FLAGS_END};
    char *file;
    int parsed = tool_parse("info", argc, argv, flags, &file, 1);
    if (parsed < 0)
        return tool_parse_exit(parsed);
    lowrank_matrix *m;
    int rc = lowrank_matrix_load_npy(file, &m);
    if (rc != LOWRANK_OK)
        return tool_fail(file, rc);
    printf("shape=(%lld, %lld) dtype=%s order=%s\n", (long long)lowrank_matrix_rows(m),
           (long long)lowrank_matrix_cols(m),
           lowrank_matrix_dtype(m) == LOWRANK_FLOAT32 ? "float32" : "float64",
           lowrank_matrix_layout(m) == LOWRANK_ROW_MAJOR ? "C" : "F");
    lowrank_matrix_free(m);
    return 0;
}
