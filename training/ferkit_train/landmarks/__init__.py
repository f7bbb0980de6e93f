"""ferkit's 68-point landmark model: face-api's FaceLandmark68Net architecture in PyTorch, fine-tuned on
HELEN's training faces with ferkit's detector boxes (train.py), exported to ONNX with the same graph
contract as the converted face-api model (export.py), so TypeScript runs it through the same stage.
"""

INPUT_SIZE = 112
POINTS = 68
# iBUG 68-point indices after a horizontal mirror (point i of the mirrored face is point FLIP[i] of the original).
FLIP = (
    list(range(16, -1, -1))  # jaw
    + list(range(26, 21, -1)) + list(range(21, 16, -1))  # brows 17-21 <-> 26-22
    + [27, 28, 29, 30]  # nose bridge
    + [35, 34, 33, 32, 31]  # nostrils
    + [45, 44, 43, 42, 47, 46]  # left eye <- right eye
    + [39, 38, 37, 36, 41, 40]  # right eye <- left eye
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lip
    + [64, 63, 62, 61, 60, 67, 66, 65]  # inner lip
)
assert sorted(FLIP) == list(range(POINTS))
