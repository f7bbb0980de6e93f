/**
 * Sources: the camera (getUserMedia), image and video files, and the frame pump that hands the
 * newest video frame to the worker whenever it is free (frames are skipped, never queued). With
 * "Show analysed frames" on, a copy of each sent frame is kept and shown with its result.
 */
import { decodeImageBlob } from '../../src/browser/decode.js';
import { engineReady, send } from './engine.js';
import { say, unsay } from './messages.js';
import { el, page, params } from './page.js';
import { clearOverlay } from './panels.js';

function showSource(kind: 'camera' | 'video' | 'image'): void {
  page.status.source = kind;
  el.placeholder.hidden = true;
  const isVideo = kind !== 'image';
  el.video.hidden = !isVideo;
  el.still.hidden = isVideo;
  el.video.classList.toggle('live', isVideo);
}

export function stopVideo(): void {
  const { source } = page;
  const { video } = el;
  source.running = false;
  if (source.stream) for (const t of source.stream.getTracks()) t.stop();
  source.stream = null;
  video.pause();
  if (video.srcObject) video.srcObject = null;
  if (video.src) {
    URL.revokeObjectURL(video.src);
    video.removeAttribute('src');
    video.load();
  }
  el.cameraStop.disabled = true;
}

export async function listCameras(): Promise<void> {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  const { cameraSelect } = el;
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
  const current = cameraSelect.value;
  cameraSelect.replaceChildren(
    new Option('default camera', ''),
    ...devices.map((d, i) => new Option(d.label || `camera ${i + 1}`, d.deviceId)),
  );
  if ([...cameraSelect.options].some((o) => o.value === current)) cameraSelect.value = current;
}

export async function startCamera(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) {
    say(
      'camera',
      'error',
      'This page cannot use a camera here: it needs a secure context (https or localhost) and a browser with getUserMedia. You can still analyse image and video files.',
    );
    return;
  }
  const [width, height] = el.resolutionSelect.value.split('x').map(Number);
  const deviceId = el.cameraSelect.value;
  stopVideo();
  el.cameraStart.disabled = true;
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: {
        deviceId: deviceId ? { exact: deviceId } : undefined,
        width: { ideal: width },
        height: { ideal: height },
      },
    });
    page.source.stream = stream;
  } catch (e) {
    el.cameraStart.disabled = false;
    const name = (e as DOMException).name;
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      say(
        'camera',
        'error',
        'Camera permission was denied. Allow camera access for this site in the browser (the camera icon in the address bar) and press “Start camera” again — meanwhile you can analyse an image or video file.',
      );
    } else if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
      say(
        'camera',
        'error',
        'No camera was found. Connect a camera and press “Start camera”, or analyse an image or video file instead.',
      );
    } else if (name === 'NotReadableError' || name === 'AbortError') {
      say('camera', 'error', 'The camera could not be started: another application may be using it.');
    } else {
      say('camera', 'error', `The camera could not be started: ${(e as Error).message || name}`);
    }
    return;
  }
  unsay('camera');
  el.cameraStart.disabled = false;
  el.cameraStop.disabled = false;
  void listCameras();
  const track = stream.getVideoTracks()[0];
  page.source.name = `camera: ${track?.label ?? 'camera'}`;
  el.video.srcObject = stream;
  await el.video.play().catch(() => undefined);
  const s = track?.getSettings();
  if (s?.width && s.height && (s.width !== width || s.height !== height)) {
    say('resolution', 'info', `The camera delivers ${s.width} × ${s.height} (asked for ${width} × ${height}).`);
  } else unsay('resolution');
  beginVideo('camera');
}

function beginVideo(kind: 'camera' | 'video'): void {
  const { source } = page;
  showSource(kind);
  send({ type: 'reset-tracking' });
  source.start = performance.now();
  source.running = true;
  source.lastMediaTime = -1;
  source.grabbedMediaTime = -2;
  source.cameraFrameTimes.length = 0;
  watchFrames();
}

/** Tracks new video frames (requestVideoFrameCallback where available, else animation frames). */
function watchFrames(): void {
  const { source } = page;
  const { video } = el;
  if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) {
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
      if (!source.running) return;
      source.lastMediaTime = meta.mediaTime;
      source.cameraFrameTimes.push(performance.now());
      pump();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  } else {
    const tick = () => {
      if (!source.running) return;
      if (video.currentTime !== source.lastMediaTime) {
        source.lastMediaTime = video.currentTime;
        source.cameraFrameTimes.push(performance.now());
      }
      pump();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
}

/**
 * Frames sent and not yet answered. 2 keeps the worker busy while the page grabs and transfers the
 * next frame (throughput) at the cost of up to one frame more latency; frames beyond that are skipped.
 */
const MAX_IN_FLIGHT = Number(params.get('inflight') ?? 2);

/** Sends the current video frame to the worker unless it is busy (frames are skipped, never queued). */
export function pump(): void {
  const { source, status } = page;
  if (!source.running || !status.ready || source.inFlight >= MAX_IN_FLIGHT) return;
  if (source.lastMediaTime === source.grabbedMediaTime || el.video.readyState < 2) return;
  source.grabbedMediaTime = source.lastMediaTime;
  source.inFlight++;
  const sentAt = performance.now();
  const id = ++source.frameId;
  // The frame's time: media time for video files, time since the stream started for the camera.
  source.frameTimes.set(id, status.source === 'video' ? source.lastMediaTime * 1000 : sentAt - source.start);
  createImageBitmap(el.video)
    .then(async (bitmap) => {
      if (el.syncBox.checked) source.displayFrames.set(id, await createImageBitmap(bitmap));
      send({ type: 'frame', id, bitmap, mode: 'video', sentAt }, [bitmap]);
    })
    .catch((e) => {
      source.inFlight--;
      say('frame', 'warn', `Could not read a video frame: ${(e as Error).message}`);
    });
}

export async function openFile(file: File): Promise<void> {
  const { source } = page;
  const { video, still } = el;
  if (file.type.startsWith('video/') || /\.(mp4|webm|mov|mkv|ogv|m4v)$/i.test(file.name)) {
    stopVideo();
    source.name = file.name;
    video.srcObject = null;
    video.src = URL.createObjectURL(file);
    video.loop = false;
    try {
      await video.play();
    } catch (e) {
      say('file', 'error', `Cannot play ${file.name}: ${(e as Error).message}. Try an MP4 (H.264) or WebM file.`);
      return;
    }
    unsay('file');
    beginVideo('video');
    return;
  }
  let bitmap: ImageBitmap;
  try {
    // the same byte allowlist (JPEG, PNG, WebP, GIF, TIFF, AVIF) and limits as the Node decoder
    bitmap = await decodeImageBlob(file, file.name);
  } catch (e) {
    say('file', 'error', `Cannot read ${(e as Error).message}. Open a JPEG, PNG, WebP, GIF or AVIF image, or a video.`);
    return;
  }
  unsay('file');
  stopVideo();
  source.name = file.name;
  still.width = bitmap.width;
  still.height = bitmap.height;
  still.getContext('2d')!.drawImage(bitmap, 0, 0);
  showSource('image');
  clearOverlay(bitmap.width, bitmap.height);
  el.facesPanel.replaceChildren();
  if (!(await engineReady())) {
    say('file', 'error', `Cannot analyse ${file.name}: no model is loaded (see the message above).`);
    return;
  }
  source.inFlight++;
  send({ type: 'frame', id: ++source.frameId, bitmap, mode: 'image', sentAt: performance.now() }, [bitmap]);
}

/** Ends and errors of a video file, reported with what was analysed. */
export function watchVideoFile(): void {
  const { video } = el;
  video.addEventListener('ended', () => {
    if (page.status.source !== 'video') return;
    page.source.running = false;
    const name = page.source.name;
    say(
      'file',
      'info',
      `${name} finished: ${page.results.records.filter((r) => r.source === name).length} frames analysed. Export them below.`,
    );
  });
  video.addEventListener('error', () => {
    if (page.status.source === 'video' && video.src)
      say('file', 'error', `Cannot decode ${page.source.name}: ${video.error?.message || 'unsupported video'}`);
  });
}

// ---------------------------------------------------------------- analysed frames (sync mode)

export function dropDisplayFrames(upTo: number): void {
  const frames = page.source.displayFrames;
  for (const [id, bmp] of frames) {
    if (id > upTo) continue;
    bmp.close();
    frames.delete(id);
  }
}

export function showAnalysedFrame(id: number): void {
  const { still, video } = el;
  const bmp = page.source.displayFrames.get(id);
  page.source.displayFrames.delete(id);
  dropDisplayFrames(id);
  if (!bmp) return;
  if (el.syncBox.checked && page.source.running) {
    if (still.width !== bmp.width || still.height !== bmp.height) {
      still.width = bmp.width;
      still.height = bmp.height;
    }
    still.getContext('2d')!.drawImage(bmp, 0, 0);
    still.hidden = false;
    video.hidden = true;
  }
  bmp.close();
}
