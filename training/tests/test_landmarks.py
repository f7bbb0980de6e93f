import os
import tempfile
import unittest

import torch

from ferkit_train.landmarks import FLIP, POINTS
from ferkit_train.landmarks.export import initialized_from
from ferkit_train.landmarks.net import LandmarkNet, count_params
from ferkit_train.landmarks.prune import channel_importance, prune_landmark_net
from ferkit_train.landmarks.train import init_from_checkpoint

WIDTHS = (8, 12, 16, 20)


def images(n: int = 3) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(112.0), torch.arange(112.0), indexing="ij")
    return torch.stack([torch.stack([127.5 + 127.5 * torch.sin(0.05 * (k + 1) * xs + 0.03 * (c + 1) * ys + k)
                                     for c in range(3)]) for k in range(n)])


class LandmarkPruneTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.net = LandmarkNet(WIDTHS).eval()

    def test_same_widths_is_the_same_function(self):
        with torch.no_grad():
            self.assertTrue(torch.allclose(prune_landmark_net(self.net, WIDTHS)(images()), self.net(images()), atol=1e-5))

    def test_dead_channels_go_first_and_their_removal_changes_nothing(self):
        # Kill 5 channels of block 2 (nothing writes them, no bias): the block's output there is always 0,
        # so pruning exactly those leaves the function unchanged.
        dead = torch.tensor([1, 4, 7, 11, 15])
        with torch.no_grad():
            b = self.net.blocks[2]
            b.conv0.pointwise.weight[dead] = 0
            b.conv0.pointwise.bias[dead] = 0
            for j in (1, 2, 3):
                conv = getattr(b, f"conv{j}")
                conv.pointwise.weight[dead] = 0
                conv.pointwise.bias[dead] = 0
                conv.pointwise.weight[:, dead] = 0
                conv.depthwise.weight[dead] = 0
            nxt = self.net.blocks[3].conv0
            nxt.depthwise.weight[dead] = 0
            nxt.pointwise.weight[:, dead] = 0
        self.assertEqual(sorted(torch.topk(-channel_importance(self.net)[2], 5).indices.tolist()), dead.tolist())
        narrow = (8, 12, 11, 20)
        pruned = prune_landmark_net(self.net, narrow)
        self.assertEqual(count_params(pruned), count_params(LandmarkNet(narrow)))
        with torch.no_grad():
            self.assertTrue(torch.allclose(pruned(images()), self.net(images()), atol=1e-4))

    def test_refuses_wider_or_wrong_length(self):
        with self.assertRaises(ValueError):
            prune_landmark_net(self.net, (8, 12, 16, 24))
        with self.assertRaises(ValueError):
            prune_landmark_net(self.net, (8, 12, 16))

    def test_init_from_checkpoint_prunes_and_records_lineage(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "best.pt")
            torch.save({"model": self.net.state_dict(), "widths": WIDTHS, "argv": ["--init-faceapi", "x.onnx", "--epochs", "3"],
                        "holdout": {"holdout_nme_mean": 0.05}}, path)
            net, parent = init_from_checkpoint(path, (8, 8, 8, 8))
            self.assertEqual(net.widths, (8, 8, 8, 8))
            self.assertEqual(parent["widths"], list(WIDTHS))
            self.assertIn("--init-faceapi x.onnx", parent["command"])
            card = initialized_from({"init_checkpoint": path}, parent)
            self.assertEqual(card["checkpoint"], path)
            self.assertIn("parentInitializedFrom", card)
            self.assertEqual(card["parentHoldout"]["holdout_nme_mean"], 0.05)
            same, _ = init_from_checkpoint(path, WIDTHS)
            with torch.no_grad():
                self.assertTrue(torch.equal(same(images(1)), self.net(images(1))))


class LandmarkIndexTest(unittest.TestCase):
    def test_mirror_reindexing_is_an_involution(self):
        self.assertEqual(len(FLIP), POINTS)
        self.assertTrue(all(FLIP[FLIP[i]] == i for i in range(POINTS)))
        self.assertEqual((FLIP[36], FLIP[45], FLIP[30], FLIP[8]), (45, 36, 30, 8))


if __name__ == "__main__":
    unittest.main()
