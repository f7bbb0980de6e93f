import unittest

import numpy as np

from ferkit_train.tta_study import shifted


class ShiftedTest(unittest.TestCase):
    def test_moves_the_image_and_repeats_the_border(self):
        x = np.arange(16.0).reshape(1, 4, 4)
        right = shifted(x, 1, 0)  # out[y, x] = in[y, x + 1]
        self.assertEqual(right[0, 0].tolist(), [1.0, 2.0, 3.0, 3.0])
        down = shifted(x, 0, -1)  # out[y, x] = in[y - 1, x]
        self.assertEqual(down[0, :, 0].tolist(), [0.0, 0.0, 4.0, 8.0])
        self.assertTrue(np.array_equal(shifted(x, 0, 0), x))


if __name__ == "__main__":
    unittest.main()
