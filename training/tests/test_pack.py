import os
import tempfile
import unittest

import numpy as np

from ferkit_train.pack import decode_faces, encode_faces, pack, unpack


class PackTest(unittest.TestCase):
    def test_residuals_round_trip(self):
        faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
        self.assertTrue(np.array_equal(decode_faces(encode_faces(faces)), faces))

    def test_folder_round_trip_byte_for_byte(self):
        rng = np.random.default_rng(1)
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
            os.makedirs(src)
            # smooth faces (as photos are) so the residuals are small, plus a label byte each
            base = np.cumsum(rng.integers(-3, 4, (20, 48, 48)), axis=2) + 128
            records = np.concatenate([rng.integers(0, 7, (20, 1)), np.clip(base, 0, 255).reshape(20, -1)], 1).astype(np.uint8)
            open(os.path.join(src, "train.bin"), "wb").write(records.tobytes())
            open(os.path.join(src, "train.index.csv"), "w").write("row,usage\n0,Training\n")
            packed = os.path.join(d, "data.ferpack")
            entries = pack(src, packed)
            self.assertEqual([e["kind"] for e in entries], ["faces-med", "raw"])
            unpack(packed, dst)
            for name in ("train.bin", "train.index.csv"):
                self.assertEqual(open(os.path.join(src, name), "rb").read(), open(os.path.join(dst, name), "rb").read())

    def test_not_a_pack(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "x.ferpack")
            open(bad, "wb").write(b"hello")
            with self.assertRaises(SystemExit) as cm:
                unpack(bad, os.path.join(d, "out"))
            self.assertIn("x.ferpack: not an xz file", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
