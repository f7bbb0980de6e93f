"""Loaders for the three FER2013 forms, and their errors on bad input (row and file named)."""
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from ferkit_train.data import DataError, load, load_bin, load_csv  # noqa: E402


def write_csv(path, rows, header="emotion,pixels,Usage"):
    with open(path, "w") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(r + "\n")


def pixels(v=7):
    return " ".join([str(v)] * 2304)


class BinTest(unittest.TestCase):
    def test_reads_records_and_votes(self):
        with tempfile.TemporaryDirectory() as d:
            recs = np.zeros((3, 2305), np.uint8)
            recs[:, 0] = [0, 3, 6]
            recs[1, 1 + 48 * 2 + 5] = 200  # pixel (5, 2) of record 1
            recs.tofile(os.path.join(d, "x.bin"))
            data = load_bin(os.path.join(d, "x.bin"))
            self.assertEqual(list(data.labels), [0, 3, 6])
            self.assertEqual(data.images[1, 2, 5], 200)
            self.assertIsNone(data.ferplus)

    def test_truncated_bin(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "bad.bin")
            np.zeros(2305 + 10, np.uint8).tofile(p)
            with self.assertRaisesRegex(DataError, "bad.bin.*2305"):
                load_bin(p)

    def test_bad_label(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "bad.bin")
            r = np.zeros((2, 2305), np.uint8)
            r[1, 0] = 9
            r.tofile(p)
            with self.assertRaisesRegex(DataError, "record 1 has label 9"):
                load_bin(p)


class CsvTest(unittest.TestCase):
    def test_usage_filter(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "fer2013.csv")
            write_csv(p, [f"3,{pixels()},Training", f"5,{pixels(9)},PublicTest", f"1,{pixels()},Training"])
            self.assertEqual(list(load_csv(p, "Training").labels), [3, 1])
            self.assertEqual(list(load(p, "PublicTest").labels), [5])

    def test_malformed_rows_name_the_line(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "f.csv")
            write_csv(p, [f"3,{pixels()},Training", "2,1 2 3,Training"])
            with self.assertRaisesRegex(DataError, r"f.csv: line 3: 3 pixels"):
                load_csv(p)
            write_csv(p, [f"x,{pixels()},Training"])
            with self.assertRaisesRegex(DataError, r"line 2: emotion 'x'"):
                load_csv(p)
            write_csv(p, [f"8,{pixels()},Training"])
            with self.assertRaisesRegex(DataError, "outside 0..6"):
                load_csv(p)
            write_csv(p, ["1,2"], header="a,b")
            with self.assertRaisesRegex(DataError, "expected a header"):
                load_csv(p)

    def test_missing_file(self):
        with self.assertRaisesRegex(DataError, "nope.csv: file not found"):
            load("/nonexistent/nope.csv")


class FolderTest(unittest.TestCase):
    def test_folders_and_errors(self):
        from PIL import Image

        with tempfile.TemporaryDirectory() as d:
            for cls, v in (("happy", 10), ("Surprised", 20)):
                os.makedirs(os.path.join(d, "train", cls))
                Image.fromarray(np.full((48, 48), v, np.uint8)).save(os.path.join(d, "train", cls, "a.png"))
            data = load(d, "Training")
            self.assertEqual(sorted(data.labels.tolist()), [3, 5])
            os.makedirs(os.path.join(d, "train", "bored"))
            with self.assertRaisesRegex(DataError, "unknown class folder 'bored'"):
                load(d, "Training")
            os.rmdir(os.path.join(d, "train", "bored"))
            Image.fromarray(np.zeros((40, 40), np.uint8)).save(os.path.join(d, "train", "happy", "small.png"))
            with self.assertRaisesRegex(DataError, "small.png: image is 40x40"):
                load(d, "Training")
            os.remove(os.path.join(d, "train", "happy", "small.png"))
            with open(os.path.join(d, "train", "happy", "junk.jpg"), "w") as f:
                f.write("not an image")
            with self.assertRaisesRegex(DataError, "junk.jpg: cannot decode"):
                load(d, "Training")


if __name__ == "__main__":
    unittest.main()
