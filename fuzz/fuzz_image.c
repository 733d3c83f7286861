/*
 * fuzz_image.c - libFuzzer harness of the lowrank tool's image reader
 * (tools/image.c over libjpeg and libpng): the input decoded from memory
 * (fmemopen) as a PNG when it starts with PNG's signature, as a JPEG
 * otherwise, in grey and in colour, under a pixel cap of 2^20 so that a
 * hostile header is refused before it allocates.  A decoded image must have
 * the size its buffer holds; a refused one must leave no buffer.  See
 * docs/fuzzing.md.
 */
#define _GNU_SOURCE /* fmemopen */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define FUZZ_MAX_PIXELS ((int64_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size == 0)
        return 0;
    int is_png = size >= 8 && memcmp(data, png, 8) == 0;
    for (int64_t channels = 1; channels <= 3; channels += 2) {
        FILE *f = fmemopen((void *)data, size, "rb");
        if (!f)
            return 0;
        image img = {0, 0, 0, (uint8_t *)1}; /* must come back NULL on failure */
        char err[320];
        int rc = image_decode(f, is_png, channels, FUZZ_MAX_PIXELS, &img, err, sizeof err);
        fclose(f);
        if (rc != 0 && img.data)
            abort();
        if (rc == 0) {
            if (img.width < 1 || img.height < 1 || img.channels != channels ||
                img.width * img.height > FUZZ_MAX_PIXELS)
                abort();
            /* every byte is there (ASan checks the extent) */
            volatile uint8_t sum = 0;
            for (int64_t i = 0; i < img.width * img.height * channels; i++)
                sum ^= img.data[i];
            free(img.data);
        }
    }
    return 0;
}
