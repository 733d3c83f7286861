/*
 * image.c - JPEG and PNG frames for the lowrank tool, through libjpeg and
 * libpng (the library itself reads no image format).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "tool.h"

static int has_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path), m = strlen(suffix);
    return n >= m && strcmp(path + n - m, suffix) == 0;
}

/* Refuse, from the header, an image of more than max_pixels pixels: a
 * header of a few bytes can claim 65000 x 65000. */
static int too_large(int64_t width, int64_t height, int64_t max_pixels, char *err, size_t errlen)
{
    if (width > 0 && height > 0 && width <= max_pixels / height)
        return 0;
    snprintf(err, errlen,
             "its header claims %lld x %lld pixels, more than the limit of %lld "
             "(--max-pixels)",
             (long long)width, (long long)height, (long long)max_pixels);
    return 1;
}

static int image_alloc(image *img, int64_t width, int64_t height, int64_t channels)
{
    img->width = width;
    img->height = height;
    img->channels = channels;
    img->data = malloc((size_t)(width * height * channels));
    return img->data ? 0 : -1;
}

/* ------------------------------------------------------------ JPEG */

typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    char warning[JMSG_LENGTH_MAX]; /* the first warning: corrupt or truncated data */
} jpeg_failure;

/* libjpeg's default handler exits; come back here with its message. */
static void jpeg_fail(j_common_ptr cinfo)
{
    jpeg_failure *f = (jpeg_failure *)cinfo->err;
    cinfo->err->format_message(cinfo, f->message);
    longjmp(f->jump, 1);
}

/* libjpeg decodes corrupt or truncated data as best it can (grey fill)
 * after a warning, which its default handler prints: keep the first, the
 * frame is then refused. */
static void jpeg_warn(j_common_ptr cinfo, int level)
{
    jpeg_failure *f = (jpeg_failure *)cinfo->err;
    if (level < 0 && !f->warning[0])
        cinfo->err->format_message(cinfo, f->warning);
}

static int read_jpeg(FILE *file, int64_t channels, int64_t max_pixels, image *img, char *err,
                     size_t errlen)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_failure failure;
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = jpeg_fail;
    failure.mgr.emit_message = jpeg_warn;
    failure.warning[0] = '\0';
    img->data = NULL;
    if (setjmp(failure.jump)) {
        snprintf(err, errlen, "%s", failure.message);
        jpeg_destroy_decompress(&cinfo);
        free(img->data);
        img->data = NULL;
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, file);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    /* before jpeg_start_decompress, which allocates whole-image buffers for
     * a progressive JPEG */
    jpeg_calc_output_dimensions(&cinfo);
    int rc = too_large(cinfo.output_width, cinfo.output_height, max_pixels, err, errlen) ? -1 : 0;
    if (rc == 0)
        jpeg_start_decompress(&cinfo);
    if (rc == 0 && image_alloc(img, cinfo.output_width, cinfo.output_height, channels) != 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    while (rc == 0 && cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = img->data + (size_t)cinfo.output_scanline * (size_t)(img->width * channels);
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    if (rc == 0)
        jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    if (rc == 0 && failure.warning[0]) {
        snprintf(err, errlen, "corrupt or truncated JPEG: %s", failure.warning);
        rc = -1;
    }
    if (rc != 0) {
        free(img->data);
        img->data = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------ PNG */

static void png_fail(png_structp png, png_const_charp message)
{
    char *err = png_get_error_ptr(png);
    snprintf(err, 256, "%s", message);
    png_longjmp(png, 1);
}

static void png_quiet(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

/* Any PNG as 8-bit grey or RGB: palettes expanded, 16 bits stripped, alpha
 * dropped, grey and colour converted as asked. */
static void png_normalise(png_structp png, png_infop info, int64_t channels)
{
    int type = png_get_color_type(png, info);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_expand(png);
    if (channels == 1 && (type & PNG_COLOR_MASK_COLOR))
        png_set_rgb_to_gray_fixed(png, 1, -1, -1);
    if (channels == 3 && !(type & PNG_COLOR_MASK_COLOR))
        png_set_gray_to_rgb(png);
    png_read_update_info(png, info);
}

static int read_png(FILE *file, int64_t channels, int64_t max_pixels, image *img, char *err,
                    size_t errlen)
{
    char message[256] = "";
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, message, png_fail, png_quiet);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep *volatile rows = NULL; /* assigned after setjmp, freed after longjmp */
    img->data = NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        snprintf(err, errlen, "%s", message[0] ? message : "malformed PNG");
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        free(img->data);
        img->data = NULL;
        return -1;
    }
    png_init_io(png, file);
    png_read_info(png, info);
    int64_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    char limit[200];
    if (too_large(w, h, max_pixels, limit, sizeof limit))
        png_error(png, limit);
    png_normalise(png, info, channels);
    if (png_get_rowbytes(png, info) != (size_t)(w * channels))
        png_error(png, "unexpected row size after conversion");
    rows = malloc((size_t)h * sizeof *rows);
    if (!rows || image_alloc(img, w, h, channels) != 0)
        png_error(png, "out of memory");
    for (int64_t y = 0; y < h; y++)
        rows[y] = img->data + (size_t)(y * w * channels);
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    return 0;
}

int image_decode(FILE *file, int png, int64_t channels, int64_t max_pixels, image *img,
                 char *err, size_t errlen)
{
    return png ? read_png(file, channels, max_pixels, img, err, errlen)
               : read_jpeg(file, channels, max_pixels, img, err, errlen);
}

int image_read(const char *path, int64_t channels, int64_t max_pixels, image *img, char *err,
               size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        img->data = NULL;
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    int rc = image_decode(f, has_suffix(path, ".png"), channels, max_pixels, img, err, errlen);
    fclose(f);
    return rc;
}

int image_write_png(const char *path, const uint8_t *data, int64_t width, int64_t height,
                    int64_t channels, int64_t stride, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    char message[256] = "";
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, message, png_fail, png_quiet);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        snprintf(err, errlen, "%s", message[0] ? message : "out of memory");
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    /* masks are mostly runs of 0: the fastest compression is nearly as small */
    png_set_compression_level(png, 1);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int64_t y = 0; y < height; y++)
        png_write_row(png, data + y * stride);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    return 0;
}
