import io
import unittest

import numpy as np
import torch

from ferkit_train.models import build
from ferkit_train.quantize import quantize_int8
from ferkit_train.train import predict_logits


class QuantizeInt8Test(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.model = build("resnet", widths="8,16", depths="1,1", stem_width=8).eval()
        rng = np.random.default_rng(0)
        # smooth blobs rather than noise, so activations look like an image's
        ys, xs = np.mgrid[0:48, 0:48]
        self.images = np.stack([
            np.clip(128 + 100 * np.sin(xs * rng.uniform(0.05, 0.3) + ys * rng.uniform(0.05, 0.3) + rng.uniform(0, 6)), 0, 255)
            for _ in range(96)
        ]).astype(np.uint8)

    def test_int8_logits_follow_the_float_model(self):
        q = quantize_int8(self.model, self.images[:64])
        with torch.no_grad():
            zf = predict_logits(self.model, self.images[64:], tta=True)
            zq = predict_logits(q, self.images[64:], tta=True)
        spread = zf.std()
        self.assertLess(np.abs(zf - zq).max(), 0.2 * spread + 1e-3)
        self.assertGreater(np.corrcoef(zf.ravel(), zq.ravel())[0, 1], 0.98)

    def test_stem_and_head_stay_float_and_it_exports_to_qdq_onnx(self):
        q = quantize_int8(self.model, self.images[:32])
        kind = lambda name: type(q.get_submodule(name)).__module__
        self.assertIsInstance(q.get_submodule("head.3"), torch.nn.Linear)  # float logits, not 7-bit steps
        self.assertNotIn("quantized", kind("features.1.0"))  # a float stem (BN folded in)
        self.assertIn("quantized", kind("features.3.f.0.0"))  # the residual stages are int8
        buf = io.BytesIO()
        torch.onnx.export(q, torch.zeros(1, 1, 48, 48), buf, opset_version=13, input_names=["input"], output_names=["logits"])
        graph = buf.getvalue()
        self.assertIn(b"QuantizeLinear", graph)
        self.assertIn(b"DequantizeLinear", graph)


if __name__ == "__main__":
    unittest.main()
