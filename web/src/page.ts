/**
 * The page's elements and its state, in one typed object (`page`) that the other modules share:
 * what tests read (`page.status`, exposed as window.__ferkit), the engine, the video source and
 * the results. No other module keeps mutable state of its own.
 */
import type { BrowserAnalysis, BrowserDetectorKind } from '../../src/browser/index.js';
import type { FrameRecord } from './export.js';
import type { EngineConfig, EngineInfo } from './protocol.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export const el = {
  byId: $,
  video: $<HTMLVideoElement>('video'),
  still: $<HTMLCanvasElement>('still'),
  overlay: $<HTMLCanvasElement>('overlay'),
  stage: $<HTMLDivElement>('stage'),
  placeholder: $<HTMLDivElement>('placeholder'),
  facesPanel: $<HTMLDivElement>('faces'),
  statusBadge: $<HTMLDivElement>('status'),
  messagesBox: $<HTMLDivElement>('messages'),
  cameraSelect: $<HTMLSelectElement>('camera-select'),
  resolutionSelect: $<HTMLSelectElement>('resolution'),
  cameraStart: $<HTMLButtonElement>('camera-start'),
  cameraStop: $<HTMLButtonElement>('camera-stop'),
  fileInput: $<HTMLInputElement>('file-input'),
  detectorSelect: $<HTMLSelectElement>('detector-select'),
  modelSelect: $<HTMLSelectElement>('model-select'),
  backendSelect: $<HTMLSelectElement>('backend-select'),
  ttaBox: $<HTMLInputElement>('tta'),
  showBoxes: $<HTMLInputElement>('show-boxes'),
  showPoints: $<HTMLInputElement>('show-points'),
  showBars: $<HTMLInputElement>('show-bars'),
  syncBox: $<HTMLInputElement>('sync'),
  ema: $<HTMLInputElement>('ema'),
  emaValue: $<HTMLOutputElement>('ema-value'),
  detectEverySelect: $<HTMLSelectElement>('detect-every'),
  expressionEverySelect: $<HTMLSelectElement>('expression-every'),
  fpsEl: $<HTMLSpanElement>('fps'),
  perfInfo: $<HTMLParagraphElement>('perf-info'),
  recordCount: $<HTMLSpanElement>('record-count'),
};

/** The page's URL parameters (?detector=…&model=…&camera=1…). */
export const params = new URLSearchParams(location.search);

export type MsgKind = 'error' | 'warn' | 'info';
export interface Msg {
  key: string;
  kind: MsgKind;
  text: string;
}

/** What tests and debugging read (window.__ferkit). */
export interface PageStatus {
  ready: boolean;
  loading: boolean;
  backend: string | null;
  info: EngineInfo | null;
  config: EngineConfig | null;
  source: 'camera' | 'video' | 'image' | null;
  fps: number;
  framesAnalysed: number;
  framesWithFaces: number;
  /** ms from page start to the first result with at least one face. */
  firstFaceMs: number | null;
  /** ms from page start to the engine being ready. */
  readyMs: number | null;
  lastResult: BrowserAnalysis | null;
  /** Face counts of the last 300 analysed frames. */
  faceCounts: number[];
  messages: Msg[];
  cameraFps: number;
  /** Faces summed over all analysed video frames, and the highest track id given out. */
  facesSeen: number;
  maxId: number;
}

export interface DetectorEntry {
  id: string;
  kind: BrowserDetectorKind;
  file: string;
  label: string;
  inputSize?: number;
  bytes: number;
  /** ferkit's default detector (BlazeFace): used for photos in "auto". */
  default?: boolean;
  /** The tiny detector at its default size: used for live video in "auto". */
  defaultVideo?: boolean;
}
export interface ExpressionEntry {
  name: string;
  file: string;
  card: string;
  label: string;
  bytes: number;
}
/** The served models (/models/index.json, written by scripts/serve-web.mjs). */
export interface ModelIndex {
  detectors: DetectorEntry[];
  /** ferkit's default first (scripts/serve-web.mjs sorts them); the app loads landmarks[0]. */
  landmarks: { name?: string; file: string; bytes: number; default?: boolean }[];
  expression: ExpressionEntry[];
}

export interface PageModel {
  status: PageStatus;
  /** Shown messages by key (say/unsay). */
  messages: Map<string, Msg>;
  engine: {
    index: ModelIndex;
    /** The configuration the worker runs, and the one it is loading. */
    active: EngineConfig | null;
    pending: EngineConfig | null;
  };
  source: {
    stream: MediaStream | null;
    /** A video source (camera or file) is being analysed. */
    running: boolean;
    name: string;
    /** performance.now() when the video source started. */
    start: number;
    frameId: number;
    /** Frames sent to the worker and not yet answered. */
    inFlight: number;
    lastMediaTime: number;
    grabbedMediaTime: number;
    /** Each sent frame's time in the source (ms), by frame id. */
    frameTimes: Map<number, number>;
    /** When the video delivered its recent frames (for its frame rate). */
    cameraFrameTimes: number[];
    /** Copies of the frames sent for analysis, shown with their results when "Show analysed frames" is on. */
    displayFrames: Map<number, ImageBitmap>;
  };
  results: {
    records: FrameRecord[];
    /** When recent results arrived (for the analysed frame rate). */
    resultTimes: number[];
    /** Smoothed milliseconds per stage. */
    stageAvg: Record<string, number>;
    lastDrawn: BrowserAnalysis | null;
  };
}

export const page: PageModel = {
  status: {
    ready: false,
    loading: false,
    backend: null,
    info: null,
    config: null,
    source: null,
    fps: 0,
    framesAnalysed: 0,
    framesWithFaces: 0,
    firstFaceMs: null,
    readyMs: null,
    lastResult: null,
    faceCounts: [],
    messages: [],
    cameraFps: 0,
    facesSeen: 0,
    maxId: 0,
  },
  messages: new Map(),
  engine: { index: { detectors: [], landmarks: [], expression: [] }, active: null, pending: null },
  source: {
    stream: null,
    running: false,
    name: '',
    start: 0,
    frameId: 0,
    inFlight: 0,
    lastMediaTime: -1,
    grabbedMediaTime: -2,
    frameTimes: new Map(),
    cameraFrameTimes: [],
    displayFrames: new Map(),
  },
  results: { records: [], resultTimes: [], stageAvg: {}, lastDrawn: null },
};
(window as unknown as { __ferkit: PageStatus }).__ferkit = page.status;
