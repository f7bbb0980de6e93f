/**
 * The JSON schemas of the server's routes. They sit on the routes themselves (fastify validates
 * the query with them and serialises the JSON answers through them), and @fastify/swagger builds
 * the OpenAPI document from the same objects, so the document cannot drift from the API.
 *
 * Shared schemas are registered with `app.addSchema` under their `$id` and referenced as
 * `{ $ref: 'Face#' }`; the OpenAPI document names them `#/components/schemas/<$id>`.
 */
import { EXPRESSION_LABELS } from '../types.js';

const ref = (id: string) => ({ $ref: `${id}#` });
const binary = { type: 'string', format: 'binary' } as const;
const numberMap = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, { type: 'number' }]));

const box = {
  type: 'object',
  properties: numberMap(['x', 'y', 'width', 'height']),
  required: ['x', 'y', 'width', 'height'],
};

const probabilities = {
  type: 'object',
  description: 'Probability of each FER2013 expression (they sum to 1).',
  properties: Object.fromEntries(EXPRESSION_LABELS.map((l) => [l, { type: 'number', minimum: 0, maximum: 1 }])),
  required: [...EXPRESSION_LABELS],
};

const landmarks = {
  type: 'array',
  description: '68 iBUG points [x, y] in image pixels.',
  minItems: 68,
  maxItems: 68,
  items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
};

/** Shared schemas, registered once with `app.addSchema`. */
export const SHARED_SCHEMAS = [
  {
    $id: 'Error',
    type: 'object',
    description: 'Every error: a message and a stable code (E_DECODE, E_TOO_LARGE, E_BUSY, E_TIMEOUT…).',
    properties: { error: { type: 'string' }, code: { type: 'string' } },
    required: ['error', 'code'],
  },
  {
    $id: 'Face',
    type: 'object',
    properties: {
      box,
      score: { type: 'number', description: 'Detector confidence, 0..1.' },
      landmarks,
      expression: {
        type: 'object',
        properties: { label: { type: 'string', enum: [...EXPRESSION_LABELS] }, probabilities },
        required: ['label', 'probabilities'],
      },
    },
    required: ['box', 'score', 'landmarks', 'expression'],
  },
  {
    $id: 'AnalysisResult',
    type: 'object',
    properties: {
      width: { type: 'integer' },
      height: { type: 'integer' },
      faces: { type: 'array', items: ref('Face') },
      timings: {
        type: 'object',
        description: 'Milliseconds per stage.',
        properties: numberMap(['decode', 'detect', 'landmarks', 'align', 'expression', 'total']),
        additionalProperties: { type: 'number' },
      },
    },
    required: ['width', 'height', 'faces', 'timings'],
  },
  {
    $id: 'StreamFrame',
    type: 'object',
    description:
      'One WebSocket reply per binary frame, in order: tracked faces (ids from a per-connection tracker, ' +
      'probabilities smoothed), or { frame, error, code, status } for a frame that failed (the socket stays open).',
    properties: {
      frame: { type: 'integer', description: 'Index of the frame on this connection, from 0.' },
      width: { type: 'integer' },
      height: { type: 'integer' },
      faces: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            box,
            score: { type: 'number' },
            label: { type: 'string', enum: [...EXPRESSION_LABELS] },
            probabilities,
            rawProbabilities: probabilities,
            age: { type: 'integer' },
          },
        },
      },
      timings: { type: 'object', additionalProperties: { type: 'number' } },
      error: { type: 'string' },
      code: { type: 'string' },
      status: { type: 'integer', description: 'The HTTP status the same failure would get.' },
    },
    required: ['frame'],
  },
] as const;

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});

/** The media types POST /v1/analyze reads as raw image bytes (see the content-type parsers). */
export const RAW_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'] as const;

export const analyzeSchema = {
  summary: 'Analyse one image',
  description:
    'Send the image as the raw body (image/* or application/octet-stream) or as the `file` field of multipart/form-data. ' +
    'Returns JSON, or the annotated image with `annotate=1`.',
  querystring: {
    type: 'object',
    properties: {
      annotate: {
        type: 'string',
        description: 'Return the annotated image instead of JSON: `1`, `true` or empty; anything else is off.',
      },
      format: { type: 'string', enum: ['jpeg', 'jpg', 'png'], description: 'Annotated image format (default jpeg).' },
      timeout: {
        type: 'number',
        minimum: 1,
        description: 'Per-request deadline in ms, counting the wait for a worker (at most the server limit).',
      },
    },
  },
  // Bytes, not JSON: the server's validator does not check these bodies (the decoder does).
  body: {
    content: {
      ...Object.fromEntries(RAW_IMAGE_TYPES.map((t) => [t, { schema: binary }])),
      'multipart/form-data': {
        schema: { type: 'object', properties: { file: binary }, required: ['file'] },
      },
    },
  },
  response: {
    200: {
      description: 'Faces found (JSON), or the annotated image with annotate=1.',
      content: {
        'application/json': { schema: ref('AnalysisResult') },
        'image/jpeg': { schema: binary },
        'image/png': { schema: binary },
      },
    },
    400: errorResponse('Empty or undecodable image (code E_EMPTY / E_DECODE), or a malformed request.'),
    413: errorResponse('Body over the byte limit, or image over the pixel limit (code E_TOO_LARGE).'),
    415: errorResponse('Unsupported content type (code E_MEDIA_TYPE).'),
    500: errorResponse('The inference worker failed (code E_WORKER); it has been replaced.'),
    503: errorResponse('Queue full (code E_BUSY) or shutting down (E_CLOSED); see the Retry-After header.'),
    504: errorResponse(
      'Code E_TIMEOUT: the request waited and ran past its timeout, or its analysis ran past the ' +
        "server's per-request deadline (that worker was stopped and replaced).",
    ),
  },
};

export const modelsSchema = {
  summary: 'Models in use and server limits',
  response: {
    200: {
      description: 'Model cards and limits.',
      type: 'object',
      properties: {
        version: { type: 'string' },
        detector: { type: 'string' },
        landmarks: { type: 'string' },
        expression: { type: 'object', additionalProperties: true },
        threadsPerWorker: { type: 'integer' },
        defaultExpressionModel: { type: 'string' },
        workers: { type: 'integer' },
        limits: {
          type: 'object',
          properties: numberMap(['maxBytes', 'maxPixels', 'timeoutMs', 'deadlineMs', 'queue']),
          additionalProperties: { type: 'number' },
        },
      },
      additionalProperties: true,
    },
  },
};

export const healthSchema = {
  summary: 'Liveness/readiness',
  response: {
    200: {
      description: 'At least one inference worker is ready.',
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['ok'] },
        workers: { type: 'integer', description: 'Workers ready.' },
        queue: { type: 'integer', description: 'Requests waiting for a worker.' },
        inFlight: { type: 'integer', description: 'Requests being analysed.' },
      },
      required: ['status', 'workers', 'queue', 'inFlight'],
    },
    503: errorResponse('No worker ready (E_NOT_READY: starting, or replacing one), or shutting down (E_CLOSED).'),
  },
};

export const metricsSchema = {
  summary: 'Prometheus metrics',
  description:
    'Text exposition format 0.0.4 (prom-client): ferkit_http_requests_total, ferkit_http_request_duration_seconds, ' +
    'ferkit_ws_frames_total, the pool gauges (ferkit_queue_depth, ferkit_in_flight, ferkit_workers_ready…), ' +
    'and the standard process_* and nodejs_* metrics (CPU, memory, event-loop lag, GC).',
  response: { 200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
};

export const openApiSchema = {
  summary: 'This document (OpenAPI 3); the same is browsable at /docs',
  response: {
    200: {
      description: 'OpenAPI 3 document',
      content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } },
    },
  },
};

export const streamSchema = {
  summary: 'WebSocket stream of frames',
  description:
    'Upgrade to a WebSocket and send each frame as one binary message (JPEG or PNG). Each frame is answered, ' +
    'in order, with one text message, a StreamFrame. Frames sent while the per-connection limit is pending ' +
    'are answered at once with code E_BUSY (dropped); a frame past the per-request deadline gets E_TIMEOUT.',
  response: {
    101: { description: 'Switching protocols; then StreamFrame messages (see components).' },
    426: errorResponse('A plain GET without Upgrade: websocket (code E_UPGRADE_REQUIRED).'),
  },
};
