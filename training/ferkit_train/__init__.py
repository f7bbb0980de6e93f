"""ferkit training: FER2013 data, the paper's CNN and ResNet families, training and ONNX export."""

LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
IMAGE_SIZE = 48
