"""Progress callbacks and cancellation from Python: the fractions reported,
a cancel by the callback (Cancelled), an exception in the callback, and
Ctrl-C during a computation (KeyboardInterrupt), none of which may leave the
library's result half made."""
import os
import signal
import threading
import unittest

import numpy as np

import lowrank


def long_lp_input():
    """A matrix whose lp fit, refined to the end in all its dimensions,
    lasts several seconds (8 s on the development machine)."""
    return np.random.default_rng(3).standard_normal((1500, 1500))


# sketch_dim=0: the sketch would end the fit in well under a second
LONG_LP = dict(k=5, p=1.0, refine_iter=1000, refine_tol=0.0, sketch_dim=0)


class TestProgress(unittest.TestCase):
    def test_fractions_are_ordered_and_results_unchanged(self):
        a = np.random.default_rng(1).standard_normal((4000, 40))
        seen = []
        e = lowrank.mvee(a, eps=1e-7, progress=lambda f: seen.append(f))
        plain = lowrank.mvee(a, eps=1e-7)
        self.assertTrue(all(0 <= f <= 1 for f in seen))
        self.assertEqual(seen, sorted(seen))
        np.testing.assert_array_equal(e.shape, plain.shape)

    def test_a_true_return_cancels(self):
        calls = []

        def stop(fraction):
            calls.append(fraction)
            return True
        with self.assertRaises(lowrank.Cancelled) as caught:
            lowrank.lp(long_lp_input(), progress=stop, **LONG_LP)
        self.assertEqual(len(calls), 1)
        self.assertEqual(caught.exception.name, 'ECANCELED')
        self.assertIsInstance(caught.exception, lowrank.LowrankError)

    def test_an_exception_in_the_callback_is_raised(self):
        def broken(fraction):
            raise ZeroDivisionError('in the callback')
        with self.assertRaises(ZeroDivisionError):
            lowrank.lp(long_lp_input(), progress=broken, **LONG_LP)

    def test_ctrl_c_cancels_without_a_callback(self):
        a = long_lp_input()
        # Python's own handler, which the binding relies on: a process started
        # in the background by a shell without job control inherits SIGINT
        # ignored, and Python then installs none
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        result = []
        timer.start()
        try:
            with self.assertRaises(KeyboardInterrupt):
                result.append(lowrank.lp(a, **LONG_LP))  # seconds, uncancelled
        finally:
            timer.cancel()
            signal.signal(signal.SIGINT, previous)
        self.assertEqual(result, [])  # raised from within the call, not after it

    def test_background_training_keeps_its_callback(self):
        frames = np.random.default_rng(2).integers(0, 255, (10, 24, 32), dtype=np.uint8)
        model = lowrank.Background(32, 24, progress=lambda f: False)
        model.train(list(frames))  # the callback outlives the constructor's options
        self.assertEqual(model.apply(frames[0]).shape, (24, 32))


if __name__ == '__main__':
    unittest.main()
