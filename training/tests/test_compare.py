import math
import unittest

import numpy as np

from ferkit_train.metrics import mcnemar


class McNemarTest(unittest.TestCase):
    def test_counts_only_the_samples_where_the_two_disagree(self):
        a = np.array([1, 1, 1, 0, 0, 1], bool)
        b = np.array([1, 0, 0, 1, 0, 1], bool)
        r = mcnemar(a, b)
        self.assertEqual((r["onlyA"], r["onlyB"]), (2, 1))
        # 3 discordant samples, the rarer side 1: 2 * (C(3,0) + C(3,1)) / 2^3 = 1
        self.assertEqual(r["p"], 1.0)

    def test_exact_binomial_tail(self):
        a = np.r_[np.ones(10, bool), np.zeros(2, bool), np.ones(50, bool)]
        b = np.r_[np.zeros(10, bool), np.ones(2, bool), np.ones(50, bool)]
        want = 2 * sum(math.comb(12, k) for k in range(3)) / 2**12
        self.assertAlmostEqual(mcnemar(a, b)["p"], want, places=15)
        self.assertAlmostEqual(mcnemar(b, a)["p"], want, places=15)  # two-sided: symmetric

    def test_identical_classifiers_are_not_different(self):
        a = np.random.default_rng(0).random(100) > 0.3
        self.assertEqual(mcnemar(a, a), {"onlyA": 0, "onlyB": 0, "p": 1.0})

    def test_many_disagreements_do_not_overflow(self):
        r = mcnemar(np.ones(3000, bool), np.zeros(3000, bool))
        self.assertEqual(r["onlyA"], 3000)
        self.assertLess(r["p"], 1e-300)

    def test_refuses_different_sample_counts(self):
        with self.assertRaisesRegex(ValueError, "same samples"):
            mcnemar(np.ones(3, bool), np.ones(4, bool))


if __name__ == "__main__":
    unittest.main()
