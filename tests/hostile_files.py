#!/usr/bin/env python3
"""Inputs for tests/test_hostile.sh (issue 13), written with the standard
library only, so that the tool's regressions run without numpy:

  hostile_files.py npy PATH DTYPE SCALE KIND   a 40 x 12 .npy file, '<f4' or '<f8':
      KIND lowrank: (40 x 3)(3 x 12) Gaussian factors, exactly rank 3, times SCALE
      KIND full:    40 x 12 Gaussian entries times SCALE
      KIND const:   4 x 3, every entry SCALE
  hostile_files.py png PATH WIDTH HEIGHT       an 8-bit grey PNG of that size
  hostile_files.py jpeg-size SRC DST WIDTH HEIGHT
      the JPEG SRC with the size in its frame header replaced (a header that
      claims what the data do not hold)
"""
import random
import struct
import sys
import zlib


def npy(path, dtype, scale, kind):
    rnd = random.Random(13)
    if kind == 'const':
        rows, cols, values = 4, 3, [scale] * 12
    elif kind == 'full':
        rows, cols = 40, 12
        values = [rnd.gauss(0, 1) * scale for _ in range(rows * cols)]
    else:
        rows, cols = 40, 12
        left = [[rnd.gauss(0, 1) for _ in range(3)] for _ in range(rows)]
        right = [[rnd.gauss(0, 1) for _ in range(cols)] for _ in range(3)]
        values = [sum(left[i][q] * right[q][j] for q in range(3)) * scale
                  for i in range(rows) for j in range(cols)]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }" % (dtype, rows, cols)
    header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
    fmt = '<%d%s' % (len(values), 'f' if dtype == '<f4' else 'd')
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode())
        f.write(struct.pack(fmt, *values))


def png(path, width, height):
    rows = b''.join(b'\x00' + bytes((x * 7 + y * 3) % 256 for x in range(width))
                    for y in range(height))

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' +
                chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)) +
                chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


def jpeg_size(src, dst, width, height):
    data = bytearray(open(src, 'rb').read())
    i = 2
    while i + 4 <= len(data):
        marker, length = data[i + 1], struct.unpack('>H', data[i + 2:i + 4])[0]
        if marker in (0xc0, 0xc1, 0xc2):    # SOF0..2: length, precision, height, width
            data[i + 5:i + 9] = struct.pack('>HH', height, width)
            break
        i += 2 + length
    else:
        sys.exit('no frame header in %s' % src)
    open(dst, 'wb').write(bytes(data))


if __name__ == '__main__':
    a = sys.argv[1:]
    if a[0] == 'npy':
        npy(a[1], a[2], float(a[3]), a[4])
    elif a[0] == 'png':
        png(a[1], int(a[2]), int(a[3]))
    else:
        jpeg_size(a[1], a[2], int(a[3]), int(a[4]))
