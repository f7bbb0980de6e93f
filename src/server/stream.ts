/**
 * GET /v1/stream: a WebSocket of binary frames in, one JSON message per frame out, with a
 * per-connection face tracker. Frames are analysed one at a time in order (the tracker needs
 * them in sequence); past `maxPending` waiting frames, further ones are answered E_BUSY at once.
 */
import { FaceTracker } from '../track/tracker.js';
import { trackedToJson } from '../video/process.js';
import type { Metrics } from './metrics.js';
import type { WorkerPool } from './pool.js';
import { resultJson } from './result.js';

export interface WsSocket {
  readyState: number;
  send(data: string): void;
  on(event: 'message', fn: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: 'close' | 'error', fn: (...args: unknown[]) => void): void;
  close(code?: number, reason?: string): void;
}

export interface StreamDeps {
  pool: WorkerPool;
  metrics: Metrics;
  timeoutMs: number;
  maxPending: number;
  /** Error → { status, code, message } as the HTTP routes answer it. */
  errorStatus(e: unknown): { status: number; code: string; message: string };
  /** Open connections, for the gauge. */
  connections: { count: number };
}

export function streamHandler(d: StreamDeps) {
  return (socketArg: unknown) => {
    const socket = socketArg as WsSocket;
    d.connections.count++;
    const tracker = new FaceTracker();
    let frame = 0;
    let pending = 0;
    let chain: Promise<void> = Promise.resolve();
    const send = (m: unknown) => {
      if (socket.readyState === 1) socket.send(JSON.stringify(m));
    };
    socket.on('close', () => {
      d.connections.count--;
    });
    socket.on('error', () => {});
    socket.on('message', (data, isBinary) => {
      const n = frame++;
      if (!isBinary) {
        // answered in sequence with the frames before it
        chain = chain.then(() => {
          d.metrics.observeWsFrame('error');
          send({
            frame: n,
            error: 'send each frame as a binary message (JPEG or PNG bytes)',
            code: 'E_INPUT',
            status: 400,
          });
        });
        return;
      }
      if (pending >= d.maxPending) {
        d.metrics.observeWsFrame('busy');
        send({ frame: n, error: `frame dropped: ${pending} frames already pending`, code: 'E_BUSY', status: 503 });
        return;
      }
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      pending++;
      chain = chain.then(async () => {
        try {
          const { result } = await d.pool.run({ bytes }, d.timeoutMs);
          const faces = tracker.update(result.faces);
          d.metrics.observeWsFrame('ok');
          send({
            frame: n,
            width: result.width,
            height: result.height,
            faces: trackedToJson(faces),
            timings: resultJson(result).timings,
          });
        } catch (e) {
          const s = d.errorStatus(e);
          d.metrics.observeWsFrame(s.code === 'E_BUSY' ? 'busy' : 'error');
          send({ frame: n, error: s.message, code: s.code, status: s.status });
        } finally {
          pending--;
        }
      });
    });
  };
}
