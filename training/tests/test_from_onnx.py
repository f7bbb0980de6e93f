import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

from ferkit_train import export
from ferkit_train.export import load_member, training_record
from ferkit_train.from_onnx import imported_checkpoint
from ferkit_train.models import build
from ferkit_train.soup import soup_checkpoint
from ferkit_train.train import main as train_main

CONFIG = {"arch": "resnet", "widths": "8,16", "depths": "1,1", "block": "basic", "stem_width": 8, "stem_stride": 2,
          "vgg_cfg": "", "dropout": 0.1}


def trained_like_checkpoint(seed: int) -> dict:
    """A small network whose BatchNorms are far from identity, as training leaves them."""
    torch.manual_seed(seed)
    model = build(**CONFIG)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    args = {"arch": "resnet", "widths": "8,16", "seed": seed, "epochs": 3}
    state = {"epoch": 3, "step": 30, "elapsed": 1.0, "best": 0.5, "log": [{"epoch": 3, "val_acc_tta": 0.5}]}
    return {"model": model.state_dict(), "config": CONFIG, "args": args, "state": state, "lineage": []}


class FromOnnxTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        rng = np.random.default_rng(0)
        recs = rng.integers(0, 256, (60, 2305), dtype=np.uint8)
        recs[:, 0] = np.arange(60) % 7
        self.val = os.path.join(self.dir, "val.bin")
        recs.tofile(self.val)
        self.ck_path = os.path.join(self.dir, "net.pt")
        torch.save(trained_like_checkpoint(1), self.ck_path)

    def export(self, *extra: str) -> str:
        export.main(["--checkpoint", self.ck_path, "--val", self.val, "--name", "net", "--out", self.dir, *extra])
        return os.path.join(self.dir, "net.onnx")

    def test_the_rebuilt_network_computes_what_the_original_does(self):
        ck = imported_checkpoint(self.export(), "python3 -m ferkit_train.from_onnx --onnx net.onnx --out x.pt")
        original = load_member(self.ck_path, False).model
        rebuilt = build(**ck["config"]).eval()
        rebuilt.load_state_dict(ck["model"])
        x = torch.rand(5, 1, 48, 48) * 255
        with torch.no_grad():
            torch.testing.assert_close(rebuilt(x), original(x), atol=1e-4, rtol=1e-4)
        # and a card that includes it names the runs that trained the original
        record = training_record(ck, False)
        self.assertIn("--seed 1", record["command"])
        self.assertTrue(record["importedFrom"]["onnx"].endswith("net.onnx"))
        self.assertRegex(record["importedFrom"]["sha256"], "^[0-9a-f]{64}$")
        # in the order that reproduces it: train, export the ONNX file, rebuild from it
        steps = record["command"].split(" && ")
        self.assertEqual(len(steps), 3)
        self.assertIn("ferkit_train.train", steps[0])
        self.assertIn("ferkit_train.export", steps[1])
        self.assertEqual(steps[2], "python3 -m ferkit_train.from_onnx --onnx net.onnx --out x.pt")

    def test_a_graph_that_does_not_match_its_parity_fixture_is_refused(self):
        onnx_path = self.export()
        parity = os.path.join(self.dir, "net.parity.json")
        with open(parity) as f:
            fixture = json.load(f)
        fixture["logits"][0][0] += 0.5
        with open(parity, "w") as f:
            json.dump(fixture, f)
        with self.assertRaisesRegex(SystemExit, "net.onnx: the rebuilt network's logits differ"):
            imported_checkpoint(onnx_path)

    def test_int8_files_and_non_onnx_files_are_refused_by_name(self):
        onnx_path = self.export("--int8", "--calibration", self.val, "--calibration-size", "16")
        with self.assertRaisesRegex(SystemExit, "net.json: precision 'int8'"):
            imported_checkpoint(onnx_path)
        with open(onnx_path, "wb") as f:
            f.write(b"not a model")
        card = os.path.join(self.dir, "net.json")
        with open(card) as f:
            c = json.load(f)
        c["precision"] = "fp32"
        with open(card, "w") as f:
            json.dump(c, f)
        with self.assertRaisesRegex(SystemExit, "net.onnx: not a readable ONNX model"):
            imported_checkpoint(onnx_path)

    def test_it_cannot_be_trained_on_or_averaged(self):
        imported = os.path.join(self.dir, "imported.pt")
        torch.save(imported_checkpoint(self.export()), imported)
        with self.assertRaisesRegex(SystemExit, "for evaluation only"):
            train_main(["--train", self.val, "--val", self.val, "--out", os.path.join(self.dir, "run"), "--widths", "8,16",
                        "--depths", "1,1", "--stem-width", "8", "--dropout", "0.1", "--init", imported, "--no-progress"])
        with self.assertRaisesRegex(SystemExit, "cannot join a soup"):
            soup_checkpoint([load_member(self.ck_path, False), load_member(imported, False)], "soup")


if __name__ == "__main__":
    unittest.main()
