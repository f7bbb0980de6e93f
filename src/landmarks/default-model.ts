/**
 * The 68-point landmark model ferkit uses unless told otherwise, in Node and in the browser: ferkit's
 * own (face-api's FaceLandmark68Net architecture fine-tuned on HELEN with ferkit's detector boxes,
 * training/ferkit_train/landmarks/), bundled in models/. AFW mean NME 0.056 against face-api's 0.079
 * on the same boxes (`ferkit bench afw`; models/ferkit-landmarks.json is its card). Same graph
 * contract, crop and cost as face-api's converted net, which stays selectable.
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
