"""FER2013 in the three forms users bring: the compact .bin, the original fer2013.csv, image folders.

Every loader returns a `FerData` with uint8 images (N, 48, 48), int64 labels (N,) and, when the
source carries them, FER+ vote distributions (N, 7) in ferkit's label order.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import IMAGE_SIZE, LABELS

RECORD_BYTES = 1 + IMAGE_SIZE * IMAGE_SIZE
# FER+ vote columns in the index CSVs, in ferkit's (FER2013) label order.
FERPLUS_COLUMNS = ["fp_anger", "fp_disgust", "fp_fear", "fp_happiness", "fp_sadness", "fp_surprise", "fp_neutral"]
# Folder names seen in the common image-folder release, mapped to label indices.
FOLDER_NAMES = {name: i for i, name in enumerate(LABELS)}
FOLDER_NAMES.update({"anger": 0, "disgusted": 1, "fearful": 2, "happiness": 3, "sadness": 4, "surprised": 5})
CSV_USAGE = {"training": "Training", "train": "Training", "publictest": "PublicTest", "privatetest": "PrivateTest", "test": "PublicTest"}


class DataError(ValueError):
    """A data source that cannot be read; the message names the file and row."""


@dataclass
class FerData:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int64
    ferplus: Optional[np.ndarray] = None  # (N, 7) float32 vote distribution, rows of zeros when unknown
    source: str = ""

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, n: int, seed: int = 0) -> "FerData":
        """A stratified-enough random subset of n records (for smoke tests and CI)."""
        idx = np.random.default_rng(seed).permutation(len(self))[:n]
        fp = None if self.ferplus is None else self.ferplus[idx]
        return FerData(self.images[idx], self.labels[idx], fp, f"{self.source}[{n}]")


def load_bin(path: str) -> FerData:
    if not os.path.isfile(path):
        raise DataError(f"{path}: file not found")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD_BYTES:
        raise DataError(f"{path}: size {raw.size} bytes is not a whole number of {RECORD_BYTES}-byte records")
    recs = raw.reshape(-1, RECORD_BYTES)
    labels = recs[:, 0].astype(np.int64)
    bad = np.nonzero(labels >= len(LABELS))[0]
    if bad.size:
        raise DataError(f"{path}: record {bad[0]} has label {labels[bad[0]]}, expected 0..6")
    images = recs[:, 1:].reshape(-1, IMAGE_SIZE, IMAGE_SIZE).copy()
    ferplus = _load_index_votes(path, len(labels))
    return FerData(images, labels, ferplus, path)


def _load_index_votes(bin_path: str, n: int) -> Optional[np.ndarray]:
    """FER+ votes from the `<split>.index.csv` beside a .bin, if it is there."""
    index = bin_path[: -len(".bin")] + ".index.csv"
    if not os.path.isfile(index):
        return None
    votes = np.zeros((n, len(LABELS)), dtype=np.float32)
    with open(index, newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i >= n:
                raise DataError(f"{index}: more rows than records in {bin_path}")
            try:
                v = np.array([float(row[c] or 0) for c in FERPLUS_COLUMNS], dtype=np.float32)
            except (KeyError, ValueError) as e:
                raise DataError(f"{index}: row {i + 2}: bad FER+ vote column ({e})") from None
            if v.sum() > 0:
                votes[i] = v / v.sum()
    return votes


def load_csv(path: str, usage: Optional[str] = None) -> FerData:
    """The original fer2013.csv: columns emotion,pixels[,Usage]. `usage` picks one split."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: file not found")
    want = None if usage is None else CSV_USAGE.get(usage.lower(), usage)
    images, labels = [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "emotion" not in reader.fieldnames or "pixels" not in reader.fieldnames:
            raise DataError(f"{path}: expected a header with columns emotion,pixels[,Usage], got {reader.fieldnames}")
        for i, row in enumerate(reader):
            line = i + 2
            if want is not None and (row.get("Usage") or "").strip() != want:
                continue
            try:
                label = int(row["emotion"])
            except (TypeError, ValueError):
                raise DataError(f"{path}: line {line}: emotion {row['emotion']!r} is not an integer") from None
            if not 0 <= label < len(LABELS):
                raise DataError(f"{path}: line {line}: emotion {label} is outside 0..6")
            try:
                px = np.array((row["pixels"] or "").split(), dtype=np.int32)
            except ValueError:
                raise DataError(f"{path}: line {line}: pixels must be space-separated integers") from None
            if px.size != IMAGE_SIZE * IMAGE_SIZE:
                raise DataError(f"{path}: line {line}: {px.size} pixels, expected {IMAGE_SIZE * IMAGE_SIZE} (48x48)")
            if px.min() < 0 or px.max() > 255:
                raise DataError(f"{path}: line {line}: pixel values must be 0..255")
            images.append(px.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE))
            labels.append(label)
    if not labels:
        raise DataError(f"{path}: no rows" + (f" with Usage={want}" if want else ""))
    return FerData(np.stack(images), np.array(labels, dtype=np.int64), None, path)


def load_folder(path: str) -> FerData:
    """An image folder `<path>/<class>/*.{png,jpg}` (class names as in the common release)."""
    from PIL import Image  # only this loader needs Pillow

    if not os.path.isdir(path):
        raise DataError(f"{path}: not a directory")
    images, labels = [], []
    for cls in sorted(os.listdir(path)):
        d = os.path.join(path, cls)
        if not os.path.isdir(d):
            continue
        if cls.lower() not in FOLDER_NAMES:
            raise DataError(f"{d}: unknown class folder {cls!r}; expected one of {', '.join(LABELS)}")
        label = FOLDER_NAMES[cls.lower()]
        for name in sorted(os.listdir(d)):
            file = os.path.join(d, name)
            try:
                with Image.open(file) as im:
                    im = im.convert("L")
                    if im.size != (IMAGE_SIZE, IMAGE_SIZE):
                        raise DataError(f"{file}: image is {im.size[0]}x{im.size[1]}, expected 48x48")
                    images.append(np.asarray(im, dtype=np.uint8))
            except DataError:
                raise
            except Exception as e:  # Pillow raises many types for bad files
                raise DataError(f"{file}: cannot decode image ({e})") from None
            labels.append(label)
    if not labels:
        raise DataError(f"{path}: no class folders with images")
    return FerData(np.stack(images), np.array(labels, dtype=np.int64), None, path)


def load(path: str, split: Optional[str] = None, limit: int = 0, seed: int = 0) -> FerData:
    """Any supported source. For a folder holding train/ and test/, `split` picks one. A `limit`
    keeps a random subset of that many records (`FerData.subset`), for smoke tests and CI."""
    data = _load_source(path, split)
    return data.subset(limit, seed) if limit else data


def _load_source(path: str, split: Optional[str]) -> FerData:
    if os.path.isdir(path):
        if split is not None:
            sub = {"training": "train", "train": "train", "publictest": "test", "test": "test"}.get(split.lower(), split)
            if os.path.isdir(os.path.join(path, sub)):
                return load_folder(os.path.join(path, sub))
        return load_folder(path)
    if path.endswith(".bin"):
        return load_bin(path)
    if path.endswith(".csv"):
        return load_csv(path, split)
    if not os.path.exists(path):
        raise DataError(f"{path}: file not found")
    raise DataError(f"{path}: unknown format; expected a .bin, a fer2013.csv or an image folder")
