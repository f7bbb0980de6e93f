"""Training-time corruptions (ferkit_train/corrupt.py): range, off switch, determinism, the families' effects."""
import unittest

import torch

from ferkit_train import corrupt as C


def faces(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="ij")
    base = 128 + 60 * torch.sin(xx / 5) * torch.cos(yy / 7)
    return (base + 20 * torch.rand((n, 1, 48, 48), generator=g)).clamp(0, 255)


def changed(a, b):
    return (a - b).abs().flatten(1).max(1).values > 0.5


class CorruptTest(unittest.TestCase):
    def test_off_is_identity_and_on_stays_in_range(self):
        x = faces()
        self.assertTrue(torch.equal(C.corrupt(x, C.CorruptOptions(p=0), torch.Generator().manual_seed(1)), x))
        y = C.corrupt(x, C.CorruptOptions(p=1), torch.Generator().manual_seed(1))
        self.assertEqual(y.shape, x.shape)
        self.assertGreaterEqual(float(y.min()), 0)
        self.assertLessEqual(float(y.max()), 255)
        self.assertGreater(float(changed(y, x).float().mean()), 0.9)  # p = 1: (nearly) every face altered

    def test_same_seed_same_corruptions_and_p_is_the_share(self):
        x = faces(200)
        a = C.corrupt(x, C.CorruptOptions(p=0.5), torch.Generator().manual_seed(7))
        b = C.corrupt(x, C.CorruptOptions(p=0.5), torch.Generator().manual_seed(7))
        self.assertTrue(torch.equal(a, b))
        share = float(changed(a, x).float().mean())
        self.assertGreater(share, 0.35)
        self.assertLess(share, 0.65)

    def test_families_blur_and_roughen(self):
        # 700 faces: each of the 7 families about 100 times; blurs and low resolution smooth the crop,
        # noise roughens it.
        x = faces(700)
        y = C.corrupt(x, C.CorruptOptions(p=1), torch.Generator().manual_seed(3))

        def tv(t):
            return (t[..., 1:] - t[..., :-1]).abs().flatten(1).mean(1)

        self.assertGreater(float((tv(y) < tv(x) * 0.8).float().mean()), 0.15)
        self.assertGreater(float((tv(y) > tv(x) * 1.2).float().mean()), 0.15)


if __name__ == "__main__":
    unittest.main()
