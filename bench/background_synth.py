#!/usr/bin/env python3
"""Make a test video the data does not have, from a real one, in the CDnet layout.

    background_synth.py KIND SOURCE_DIR OUT_DIR [--seed S]
    background_synth.py score-stopped OUT_DIR MASK_DIR

KIND:
  jitter   a shaken camera: every frame shifted by its own random translation, uniform in
           [-2, 2] pixels in x and y (sub-pixel, bicubic), the training frames included;
  drift    a camera that drifts: frames shifted by a translation growing linearly from 0 to
           (3, 2) pixels over the clip;
  stopped  a person who stops: a synthetic person (a body of clothes-like patches and a head)
           walks in from the left, stands still for 400 frames, then walks off;
  ripples  a dynamic background: the lower third of the frame ripples (brightness waves of
           +-15 grey levels moving across it, like water), objects untouched;
  light    global illumination changes: gain 1.25 and offset +10 from frame 700 to 849,
           gain 0.8 from frame 850 on (the held-out check of docs/background.md).

The ground truth is moved with the frames (nearest neighbour), or given the synthetic
person (255); the first and last 3 rows and columns are outside the region of interest
(85 in ROI.bmp): a shifted frame has no content there.  temporalROI.txt is the source's.
Frames are written as JPEG (quality 95), like the source's.  Needs numpy and OpenCV.

score-stopped prints, for a 'stopped' video and the masks of a method (bin%06d.png), the
share of the person's pixels reported foreground in each 100 frames it stands still, and
the pixels reported per frame where it stood, after it left (a ghost, if the background
absorbed it).
"""
import argparse
import os
import shutil

import cv2
import numpy as np

MARGIN = 3


def shift(img, dx, dy, interp):
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=interp,
                          borderMode=cv2.BORDER_REPLICATE)


def person(rng, h=44, w=16):
    """A person-like sprite: colour, alpha mask."""
    sprite = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    head = (yy - 5) ** 2 / 25 + (xx - w / 2) ** 2 / 16 <= 1
    body = (yy >= 10) & (yy < 28) & (abs(xx - w / 2) <= w / 2 - 1)
    legs = (yy >= 28) & ((abs(xx - w / 2 + 3) <= 2) | (abs(xx - w / 2 - 3) <= 2))
    alpha[head | body | legs] = 1
    coat, trousers = rng.integers(30, 220, 3), rng.integers(20, 120, 3)
    sprite[head] = (170, 150, 200)
    sprite[body] = coat + rng.normal(0, 12, (int(body.sum()), 3))
    sprite[legs] = trousers + rng.normal(0, 8, (int(legs.sum()), 3))
    return sprite, alpha


def score_stopped(video, masks):
    alpha = cv2.imread(os.path.join(video, 'person.png'), cv2.IMREAD_GRAYSCALE) > 127
    sh, sw = alpha.shape
    place = {}
    for line in open(os.path.join(video, 'person.txt')):
        i, x, y = (int(v) for v in line.split())
        place[i] = (x, y)
    def mask(i):
        return cv2.imread(os.path.join(masks, 'bin%06d.png' % i), cv2.IMREAD_GRAYSCALE) == 255
    x, y = place[600]
    out = []
    for start in range(500, 900, 100):
        seen = [mask(i)[y:y + sh, x:x + sw][alpha].mean() for i in range(start, start + 100, 10)]
        out.append('frames %d-%d %.0f%%' % (start, start + 99, 100 * np.mean(seen)))
    ghost = [mask(i)[y:y + sh, x:x + sw][alpha].sum() for i in range(1010, 1100, 10)]
    print('person reported while it stands: %s; after it left: %.0f pixels a frame where it stood'
          % (', '.join(out), np.mean(ghost)))


def main():
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == 'score-stopped':
        return score_stopped(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('kind', choices=['jitter', 'drift', 'stopped', 'ripples', 'light'])
    ap.add_argument('source')
    ap.add_argument('out')
    ap.add_argument('--seed', type=int, default=12)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n = 0
    while os.path.exists(os.path.join(a.source, 'input', 'in%06d.jpg' % (n + 1))):
        n += 1
    for d in ('input', 'groundtruth'):
        os.makedirs(os.path.join(a.out, d), exist_ok=True)
    shutil.copy(os.path.join(a.source, 'temporalROI.txt'), a.out)
    roi = cv2.imread(os.path.join(a.source, 'ROI.bmp'), cv2.IMREAD_GRAYSCALE)
    roi[:MARGIN] = roi[-MARGIN:] = 0
    roi[:, :MARGIN] = roi[:, -MARGIN:] = 0
    cv2.imwrite(os.path.join(a.out, 'ROI.bmp'), roi)
    sprite, alpha = person(rng)
    if a.kind == 'stopped':
        cv2.imwrite(os.path.join(a.out, 'person.png'), (alpha * 255).astype(np.uint8))
        places = open(os.path.join(a.out, 'person.txt'), 'w')
    for i in range(1, n + 1):
        img = cv2.imread(os.path.join(a.source, 'input', 'in%06d.jpg' % i)).astype(np.float32)
        gpath = os.path.join(a.source, 'groundtruth', 'gt%06d.png' % i)
        gt = cv2.imread(gpath, cv2.IMREAD_GRAYSCALE) if os.path.exists(gpath) else None
        h, w = img.shape[:2]
        if a.kind in ('jitter', 'drift'):
            dx, dy = ((rng.uniform(-2, 2), rng.uniform(-2, 2)) if a.kind == 'jitter'
                      else (3.0 * i / n, 2.0 * i / n))
            img = shift(img, dx, dy, cv2.INTER_CUBIC)
            if gt is not None:
                gt = shift(gt, dx, dy, cv2.INTER_NEAREST)
        elif a.kind == 'stopped':
            # walks in over frames 400-499, stands from 500 to 899, walks off 900-999
            x0, y0, speed = -sprite.shape[1], h // 2 - 10, 0.0
            stand = w // 2
            if 400 <= i < 1000:
                t = i - 400
                x = (x0 + (stand - x0) * min(t, 100) / 100 if t < 100 else stand if t < 500
                     else stand + (w - stand) * (t - 500) / 100)
                x = int(round(x))
                sh, sw = alpha.shape
                xs, xe = max(0, x), min(w, x + sw)
                places.write('%d %d %d\n' % (i, x, y0))
                if xs < xe:
                    sub = alpha[:, xs - x:xe - x, None]
                    img[y0:y0 + sh, xs:xe] = sub * sprite[:, xs - x:xe - x] + (1 - sub) * img[y0:y0 + sh, xs:xe]
                    if gt is not None:
                        part = gt[y0:y0 + sh, xs:xe]
                        part[alpha[:, xs - x:xe - x] > 0.5] = 255
        elif a.kind == 'ripples':
            yy, xx = np.mgrid[0:h, 0:w]
            wave = 15 * np.sin(0.35 * xx + 0.9 * yy - 0.4 * i) * np.sin(0.12 * xx - 0.2 * i)
            wave[: 2 * h // 3] = 0
            if gt is not None:
                wave[gt == 255] = 0  # objects are in front of the water
            img += wave[:, :, None]
        else:  # light
            if i >= 700:
                gain, offset = (1.25, 10) if i < 850 else (0.8, 0)
                img = img * gain + offset
        cv2.imwrite(os.path.join(a.out, 'input', 'in%06d.jpg' % i),
                    np.clip(np.rint(img), 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 95])
        if gt is not None:
            cv2.imwrite(os.path.join(a.out, 'groundtruth', 'gt%06d.png' % i), gt)
    print('%s: %d frames from %s' % (a.kind, n, a.source))


if __name__ == '__main__':
    main()
