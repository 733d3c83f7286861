#!/usr/bin/env python3
"""Make the bundled excerpt of CDnet 2014 "highway" (see README.md) from the full sequence.

    python3 make_excerpt.py SEQUENCE_DIR OUT_DIR

Training frames 951, 955, ..., 1067 become in000001..in000030; frames 1071..1100, the last
30 with ground truth, become in000031..in000060 with gt000031..gt000060.  Frames are
downscaled to 160x120 (area interpolation) and written as JPEG quality 80; ground truth is
downscaled by nearest neighbour (its labels must stay labels).  Needs python3-opencv.
"""
import os
import sys

import cv2


def main():
    seq, out = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(out, 'input'), exist_ok=True)
    os.makedirs(os.path.join(out, 'groundtruth'), exist_ok=True)
    frames = [951 + 4 * j for j in range(30)] + list(range(1071, 1101))
    for k, i in enumerate(frames, start=1):
        img = cv2.imread(os.path.join(seq, 'input', 'in%06d.jpg' % i))
        img = cv2.resize(img, (160, 120), interpolation=cv2.INTER_AREA)
        cv2.imwrite(os.path.join(out, 'input', 'in%06d.jpg' % k), img, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if k > 30:
            gt = cv2.imread(os.path.join(seq, 'groundtruth', 'gt%06d.png' % i), cv2.IMREAD_GRAYSCALE)
            gt = cv2.resize(gt, (160, 120), interpolation=cv2.INTER_NEAREST)
            cv2.imwrite(os.path.join(out, 'groundtruth', 'gt%06d.png' % k), gt,
                        [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == '__main__':
    main()
