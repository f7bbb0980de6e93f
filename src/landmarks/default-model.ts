/**
 * The 68-point landmark model ferkit uses unless told otherwise, in Node and in the browser: ferkit's
 * own (training/ferkit_train/landmarks/), bundled in models/ with its card. face-api's
 * FaceLandmark68Net architecture, fine-tuned on HELEN with ferkit's detector boxes (run lm1), then
 * pruned to channel widths 16-48-128-256 and fine-tuned again (run lm4): AFW mean NME 0.060 against
 * face-api's 0.079 on the same boxes (`ferkit bench afw --landmarks all`), at ~0.7× its time per face
 * (`ferkit bench landmarks`). Same graph contract and crop as face-api's converted net, which stays
 * selectable.
 */
export const DEFAULT_LANDMARK_MODEL = 'ferkit-landmarks';
/** The card's task for a 68-point landmark model (training/ferkit_train/landmarks/export.py writes it). */
export const LANDMARK_MODEL_TASK = 'landmarks68';
/** face-api's FaceLandmark68Net as ferkit's converter writes it to the model cache. */
export const FACEAPI_LANDMARK_FILE = 'face_landmark_68.onnx';

/**
 * Landmark models by name: 'ferkit' = ferkit's own (default); 'faceapi' = face-api's FaceLandmark68Net
 * (same architecture and crop, converted); 'dlib' = dlib's 68-point shape predictor (Node only).
 */
export type LandmarkKind = 'ferkit' | 'faceapi' | 'dlib';
export const LANDMARK_KINDS: readonly LandmarkKind[] = ['ferkit', 'faceapi', 'dlib'];
export const DEFAULT_LANDMARK_KIND: LandmarkKind = 'ferkit';
