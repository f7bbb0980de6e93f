/** Typed errors so the CLI, server and web app can each present them well. */
export type FerkitErrorCode =
  | 'E_NOT_FOUND' // a path that does not exist
  | 'E_EMPTY' // a 0-byte file or buffer
  | 'E_DECODE' // bytes that are not a decodable image (corrupt, truncated, not an image)
  | 'E_TOO_LARGE' // over the pixel or byte limit, refused before decoding
  | 'E_INPUT' // a malformed argument (bad raw pixel buffer, bad option value)
  | 'E_MODEL' // a model file that is missing, not ONNX, or does not match its card
  | 'E_DATA' // a data set file with a bad row or record
  | 'E_TIMEOUT' // work stopped at its deadline (the server's per-request worker-time limit)
  | 'E_DISPOSED'; // use after dispose()

export class FerkitError extends Error {
  readonly code: FerkitErrorCode;
  constructor(code: FerkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FerkitError';
    this.code = code;
  }
}

export function isFerkitError(e: unknown): e is FerkitError {
  return e instanceof FerkitError;
}
