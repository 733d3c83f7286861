"""The Background class on synthesised frames: a known background with a
moving block gives exactly the block as foreground."""
import unittest

import numpy as np

import lowrank


def scene(rng, h=48, w=64, channels=1):
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.integers(40, 200, size=shape, dtype=np.uint8)


def with_block(bg, top, left, size=8, value=255):
    f = bg.copy()
    f[top:top + size, left:left + size] = value
    return f


class TestBackground(unittest.TestCase):
    def check_masks(self, channels):
        rng = np.random.default_rng(3)
        bg = scene(rng, channels=channels)
        frames = [with_block(bg, 4 + 2 * i, 3 * i) for i in range(12)]
        model = lowrank.Background(64, 48, channels, median=0)
        model.train(frames)
        np.testing.assert_array_equal(model.image(), bg)
        mask = model.apply(with_block(bg, 30, 40))
        expect = np.zeros((48, 64), dtype=np.uint8)
        expect[30:38, 40:48] = 255
        np.testing.assert_array_equal(mask, expect)

    def test_grey(self):
        self.check_masks(1)

    def test_colour(self):
        self.check_masks(3)

    def test_strided_frames(self):
        rng = np.random.default_rng(4)
        big = scene(rng, 48, 80)
        bg = big[:, :64]                     # rows 80 bytes apart
        model = lowrank.Background(64, 48, median=0)
        model.train([with_block(big, 4 * i, 5 * i)[:, :64] for i in range(10)])
        np.testing.assert_array_equal(model.image(), bg)
        mask = model.apply(with_block(big, 20, 20)[:, :64])
        self.assertEqual(int(mask.sum()) // 255, 64)

    def test_options_of_issue_12(self):
        # threads, shadows by name, and the other new options reach the model:
        # the masks do not depend on the threads; a darker, same-colour patch
        # is 127 with shadows='mark' and 255 with shadows='foreground'
        rng = np.random.default_rng(5)
        bg = np.clip(rng.normal(120, 20, (48, 64, 3)), 30, 220).astype(np.uint8)
        frames = [with_block(bg, 4 + 2 * i, 3 * i) for i in range(12)]
        frame = bg.copy()
        frame[10:30, 10:40] = (bg[10:30, 10:40] * 0.7).astype(np.uint8)
        masks = {}
        for threads, shadows in ((1, 'mark'), (3, 'mark'), (2, 'foreground')):
            model = lowrank.Background(64, 48, 3, threads=threads, shadows=shadows, median=0,
                                       absorb=100, neighbours=1, registration=1,
                                       shadow_ratio=0.6)
            model.train(frames)
            masks[threads] = model.apply(frame)
        np.testing.assert_array_equal(masks[1], masks[3])
        self.assertEqual(int(masks[1][15, 20]), 127)
        self.assertEqual(int(masks[2][15, 20]), 255)
        with self.assertRaises(ValueError):
            lowrank.Background(8, 8, shadows='dark')
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.Background(8, 8, threads=-1)
        self.assertEqual(cm.exception.name, 'ERANGE')

    def test_errors(self):
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.Background(0, 10)
        self.assertEqual(cm.exception.name, 'ESIZE')
        model = lowrank.Background(8, 8)
        with self.assertRaises(lowrank.LowrankError) as cm:
            model.apply(np.zeros((8, 8), np.uint8))      # not trained
        self.assertEqual(cm.exception.name, 'EINVAL')
        with self.assertRaises(lowrank.LowrankError) as cm:
            model.train([np.zeros((8, 8), np.uint8)])    # too few frames
        self.assertEqual(cm.exception.name, 'ESIZE')
        with self.assertRaises(ValueError):
            model.train([np.zeros((8, 9), np.uint8)] * 3)
        with self.assertRaises(TypeError):
            model.train([np.zeros((8, 8), np.float32)] * 3)
        with self.assertRaises(lowrank.LowrankError) as cm:
            lowrank.Background(8, 8, median=4)
        self.assertEqual(cm.exception.name, 'ERANGE')


if __name__ == '__main__':
    unittest.main()
