/**
 * The analysis flags every command that runs the analyzer shares (`ferkit analyze`, `ferkit video`,
 * `ferkit camera`, `ferkit serve`, `ferkit queue add`): detector (and SSD build), landmark model, face size,
 * threshold, expression model, TTA and inference threads, parsed into createAnalyzer's options, and
 * their --help lines.
 */
import { SSD_PRECISIONS } from '../detect/ssd.js';
import { DEFAULT_EXPRESSION_MODEL } from '../expression/default-model.js';
import { type AnalyzerOptions, DETECTOR_KINDS, LANDMARK_KINDS } from '../node/index.js';
import { parseChoice, parseNumber, UsageError } from './command.js';

/** parseCommandArgs option specs of the analysis flags (spread into each command's own). */
export const ANALYSIS_ARGS = {
  detector: { type: 'string' },
  landmarks: { type: 'string' },
  'ssd-precision': { type: 'string' },
  'dlib-upsample': { type: 'string' },
  'min-face': { type: 'string' },
  threshold: { type: 'string' },
  model: { type: 'string' },
  tta: { type: 'string' },
  threads: { type: 'string' },
} as const;

export type AnalysisValues = { [K in keyof typeof ANALYSIS_ARGS]?: string };

/** Checks the analysis flags (UsageError naming the bad one) and returns createAnalyzer's options. */
export function parseAnalysisOptions(values: AnalysisValues): AnalyzerOptions {
  const detector = parseChoice(values.detector, '--detector', DETECTOR_KINDS);
  const dlibUpsample = parseNumber(values['dlib-upsample'], '--dlib-upsample', 0, 8);
  if (dlibUpsample !== undefined && !Number.isInteger(dlibUpsample))
    throw new UsageError(`--dlib-upsample: expected a whole number, got "${values['dlib-upsample']}"`);
  if (dlibUpsample !== undefined && detector !== 'dlib')
    throw new UsageError('--dlib-upsample: only with --detector dlib');
  const ssdPrecision = parseChoice(values['ssd-precision'], '--ssd-precision', SSD_PRECISIONS);
  if (ssdPrecision !== undefined && detector !== 'cnn')
    throw new UsageError('--ssd-precision: only with --detector cnn');
  return {
    detector,
    landmarks: parseChoice(values.landmarks, '--landmarks', LANDMARK_KINDS),
    ssdPrecision,
    dlibUpsample,
    minFaceSize: parseNumber(values['min-face'], '--min-face', 0),
    scoreThreshold: parseNumber(values.threshold, '--threshold', 0, 1),
    expressionModel: values.model,
    tta: parseChoice(values.tta, '--tta', ['none', 'flip'] as const),
    threads: parseNumber(values.threads, '--threads', 0, 256),
  };
}

/**
 * The --help lines of the analysis flags, the descriptions starting at column `column` (to line up
 * with the command's other options); `omit` leaves out flags a command does not take.
 */
export function analysisHelp(column: number, omit: readonly (keyof typeof ANALYSIS_ARGS)[] = []): string {
  const rows: [keyof typeof ANALYSIS_ARGS, string, string[]][] = [
    [
      'detector',
      '--detector blazeface|cnn|haar|dlib',
      [
        "face detector: blazeface = MediaPipe's BlazeFace (default), cnn = face-api's SSD",
        "MobileNetV1; the paper's: haar = OpenCV's Haar cascade (opencv-data), dlib = dlib's",
        'HOG detector (libdlib-dev)',
      ],
    ],
    [
      'landmarks',
      '--landmarks ferkit|faceapi|dlib',
      [
        "68-point model: ferkit = ferkit's own (default; models/ferkit-landmarks.onnx),",
        "faceapi = face-api's net, dlib = dlib's shape predictor, as in the paper (libdlib-data)",
      ],
    ],
    [
      'ssd-precision',
      '--ssd-precision int8|float',
      ["with --detector cnn: the SSD build, int8 (default; ~2x faster) or float (face-api's own)"],
    ],
    ['dlib-upsample', '--dlib-upsample N', ['with --detector dlib: upsample N times first (default 1, as dlib)']],
    ['min-face', '--min-face PX', ['ignore faces smaller than PX pixels (default 24)']],
    ['threshold', '--threshold S', ["detector confidence 0..1 (default: the detector's: 0.4 BlazeFace, 0.3 SSD)"]],
    ['model', '--model NAME|PATH', [`expression model (default ${DEFAULT_EXPRESSION_MODEL}; see 'ferkit models')`]],
    ['tta', '--tta none|flip', ["test-time augmentation (default: the model card's)"]],
    ['threads', '--threads N', ['inference threads (default: all cores)']],
  ];
  const lines: string[] = [];
  for (const [key, flag, text] of rows) {
    if (omit.includes(key)) continue;
    const head = `  ${flag}`;
    const pad = (s: string) => (s.length + 1 > column ? `${s}\n${' '.repeat(column)}` : s.padEnd(column));
    lines.push(pad(head) + text[0], ...text.slice(1).map((t) => ' '.repeat(column) + t));
  }
  return lines.join('\n');
}
