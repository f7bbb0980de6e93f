"""Pack a data folder small enough to travel to a GPU machine (64 MiB with the repository), and unpack it.

    python3 -m ferkit_train.pack --pack ../../shared/data/fer2013 --to data/fer2013.ferpack
    python3 -m ferkit_train.pack --unpack data/fer2013.ferpack --to /tmp/fer2013

Plain xz of FER2013's four files is 57 MB, too big beside the 13 MB tree. Each .bin's faces are
stored instead as LOCO-I (JPEG-LS) median-predictor residuals, which xz packs to 45 MB for
train.bin; other files are stored as they are. Unpacking restores every file byte for byte and
checks its SHA-256.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import struct
from typing import Dict, List, Optional

import numpy as np

from . import IMAGE_SIZE
from .data import RECORD_BYTES

MAGIC = b"FERPACK1"


def _predict(left: np.ndarray, up: np.ndarray, up_left: np.ndarray) -> np.ndarray:
    """LOCO-I's median edge detector, on int16 arrays."""
    lo, hi = np.minimum(left, up), np.maximum(left, up)
    return np.where(up_left >= hi, lo, np.where(up_left <= lo, hi, left + up - up_left))


def encode_faces(images: np.ndarray) -> np.ndarray:
    """(N, H, W) uint8 -> residuals (N, H, W) uint8: pixel minus prediction, mod 256."""
    img = images.astype(np.int16)
    left = np.zeros_like(img)
    left[:, :, 1:] = img[:, :, :-1]
    up = np.zeros_like(img)
    up[:, 1:, :] = img[:, :-1, :]
    up_left = np.zeros_like(img)
    up_left[:, 1:, 1:] = img[:, :-1, :-1]
    pred = _predict(left, up, up_left)
    pred[:, 0, :] = left[:, 0, :]  # first row: from the left (0 for the corner)
    pred[:, 1:, 0] = up[:, 1:, 0]  # first column: from above
    return ((img - pred) % 256).astype(np.uint8)


def decode_faces(residuals: np.ndarray) -> np.ndarray:
    """Inverse of encode_faces: raster order, all faces at once."""
    n, h, w = residuals.shape
    img = np.zeros((n, h, w), np.int16)
    res = residuals.astype(np.int16)
    for y in range(h):
        for x in range(w):
            if y == 0:
                pred = img[:, 0, x - 1] if x else np.zeros(n, np.int16)
            elif x == 0:
                pred = img[:, y - 1, 0]
            else:
                pred = _predict(img[:, y, x - 1], img[:, y - 1, x], img[:, y - 1, x - 1])
            img[:, y, x] = (pred + res[:, y, x]) % 256
    return img.astype(np.uint8)


def pack(folder: str, out: str) -> List[Dict]:
    entries, payloads = [], []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            continue
        data = open(path, "rb").read()
        kind = "raw"
        if name.endswith(".bin") and len(data) % RECORD_BYTES == 0 and data:
            rec = np.frombuffer(data, np.uint8).reshape(-1, RECORD_BYTES)
            faces = rec[:, 1:].reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
            payload, kind = rec[:, 0].tobytes() + encode_faces(faces).tobytes(), "faces-med"
        else:
            payload = data
        entries.append({"name": name, "kind": kind, "size": len(data), "payloadSize": len(payload),
                        "sha256": hashlib.sha256(data).hexdigest()})
        payloads.append(payload)
    if not entries:
        raise SystemExit(f"{folder}: no files to pack")
    header = json.dumps(entries).encode()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with lzma.open(out, "wb", preset=6) as f:
        f.write(MAGIC + struct.pack("<I", len(header)) + header)
        for p in payloads:
            f.write(p)
    return entries


def unpack(packed: str, folder: str) -> List[Dict]:
    if not os.path.isfile(packed):
        raise SystemExit(f"{packed}: not found")
    try:
        with lzma.open(packed, "rb") as f:
            blob = f.read()
    except lzma.LZMAError as e:
        raise SystemExit(f"{packed}: not an xz file ({e})")
    if not blob.startswith(MAGIC):
        raise SystemExit(f"{packed}: not a ferkit data pack")
    (hlen,) = struct.unpack("<I", blob[8:12])
    entries = json.loads(blob[12 : 12 + hlen])
    pos = 12 + hlen
    os.makedirs(folder, exist_ok=True)
    for e in entries:
        payload = blob[pos : pos + e["payloadSize"]]
        pos += e["payloadSize"]
        if e["kind"] == "faces-med":
            n = e["size"] // RECORD_BYTES
            labels = np.frombuffer(payload[:n], np.uint8)
            faces = decode_faces(np.frombuffer(payload[n:], np.uint8).reshape(n, IMAGE_SIZE, IMAGE_SIZE))
            data = np.concatenate([labels[:, None], faces.reshape(n, -1)], 1).tobytes()
        else:
            data = payload
        if hashlib.sha256(data).hexdigest() != e["sha256"]:
            raise SystemExit(f"{packed}: {e['name']} does not unpack to its recorded SHA-256 (damaged pack)")
        with open(os.path.join(folder, e["name"]), "wb") as f:
            f.write(data)
    return entries


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(prog="ferkit_train.pack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--pack", metavar="FOLDER", help="folder whose files to pack")
    g.add_argument("--unpack", metavar="FILE", help="pack to restore")
    p.add_argument("--to", required=True, help="the pack file to write (--pack) or the folder to fill (--unpack)")
    a = p.parse_args(argv)
    entries = pack(a.pack, a.to) if a.pack else unpack(a.unpack, a.to)
    for e in entries:
        print(f"{e['name']}: {e['size']} bytes ({e['kind']})")
    if a.pack:
        print(f"wrote {a.to}: {os.path.getsize(a.to)} bytes")


if __name__ == "__main__":
    main()
