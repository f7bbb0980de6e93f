/** The OpenAPI 3 document served at GET /openapi.json. */
import { EXPRESSION_LABELS } from '../types.js';

export function openApiDocument(o: { version: string; maxBytes: number; maxPixels: number; timeoutMs: number }) {
  const error = { $ref: '#/components/schemas/Error' };
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
  const probs = {
    type: 'object',
    properties: Object.fromEntries(EXPRESSION_LABELS.map((l) => [l, { type: 'number', minimum: 0, maximum: 1 }])),
    required: [...EXPRESSION_LABELS],
  };
  const box = {
    type: 'object',
    properties: { x: { type: 'number' }, y: { type: 'number' }, width: { type: 'number' }, height: { type: 'number' } },
    required: ['x', 'y', 'width', 'height'],
  };
  const binaryBody = { schema: { type: 'string', format: 'binary' } };
  return {
    openapi: '3.0.3',
    info: {
      title: 'ferkit',
      version: o.version,
      description:
        'Facial expression recognition: every face, its 68 key points and the 7 FER2013 expression probabilities. ' +
        `Limits: ${o.maxBytes} bytes per body, ${o.maxPixels} pixels per image, ${o.timeoutMs} ms per request.`,
    },
    paths: {
      '/v1/analyze': {
        post: {
          summary: 'Analyse one image',
          description:
            'Send the image as the raw body (image/* or application/octet-stream) or as the `file` field of multipart/form-data. ' +
            'Returns JSON, or the annotated image with `annotate=1`.',
          parameters: [
            {
              name: 'annotate',
              in: 'query',
              schema: { type: 'string', enum: ['0', '1', 'true', 'false'] },
              description: 'Return the annotated image instead of JSON.',
            },
            {
              name: 'format',
              in: 'query',
              schema: { type: 'string', enum: ['jpeg', 'png'], default: 'jpeg' },
              description: 'Annotated image format.',
            },
            {
              name: 'timeout',
              in: 'query',
              schema: { type: 'integer', minimum: 1 },
              description: 'Per-request deadline in ms (at most the server limit).',
            },
          ],
          requestBody: {
            required: true,
            content: {
              'image/jpeg': binaryBody,
              'image/png': binaryBody,
              'image/webp': binaryBody,
              'application/octet-stream': binaryBody,
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  properties: { file: { type: 'string', format: 'binary' } },
                  required: ['file'],
                },
              },
            },
          },
          responses: {
            200: {
              description: 'Faces found (JSON) or the annotated image.',
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/AnalysisResult' } },
                'image/jpeg': binaryBody,
                'image/png': binaryBody,
              },
            },
            400: errorResponse('Empty or undecodable image (code E_EMPTY / E_DECODE), or a malformed request.'),
            413: errorResponse('Body over the byte limit, or image over the pixel limit (code E_TOO_LARGE).'),
            415: errorResponse('Unsupported content type (code E_MEDIA_TYPE).'),
            500: errorResponse('The inference worker failed (code E_WORKER); it has been replaced.'),
            503: {
              ...errorResponse('Queue full (code E_BUSY) or shutting down; see Retry-After.'),
              headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait.' } },
            },
            504: errorResponse('The analysis did not finish in time (code E_TIMEOUT).'),
          },
        },
      },
      '/v1/models': {
        get: {
          summary: 'Models in use and server limits',
          responses: {
            200: { description: 'Model cards', content: { 'application/json': { schema: { type: 'object' } } } },
          },
        },
      },
      '/v1/stream': {
        get: {
          summary: 'WebSocket stream of frames',
          description:
            'Upgrade to a WebSocket, send each frame as one binary message (JPEG or PNG). Each frame is answered, in order, with one text message: ' +
            '`{ frame, width, height, faces: [{ id, box, score, label, probabilities, rawProbabilities, age }], timings }` (ids from a per-connection tracker, ' +
            'probabilities smoothed), or `{ frame, error, code }` for a bad frame (the socket stays open). Frames sent while 4 are pending are answered at once with code E_BUSY (dropped).',
          responses: {
            101: { description: 'Switching protocols' },
            426: errorResponse('A plain GET without Upgrade: websocket (code E_UPGRADE_REQUIRED).'),
          },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness/readiness',
          responses: {
            200: {
              description: 'Ready',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { status: { type: 'string' }, workers: { type: 'integer' } } },
                },
              },
            },
            503: errorResponse('No worker ready, or shutting down.'),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: {
            200: {
              description: 'Text exposition format 0.0.4',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          responses: {
            200: { description: 'OpenAPI 3 document', content: { 'application/json': { schema: { type: 'object' } } } },
          },
        },
      },
    },
    components: {
      schemas: {
        Error: {
          type: 'object',
          properties: { error: { type: 'string' }, code: { type: 'string' } },
          required: ['error', 'code'],
        },
        Face: {
          type: 'object',
          properties: {
            box,
            score: { type: 'number' },
            landmarks: {
              type: 'array',
              minItems: 68,
              maxItems: 68,
              items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
            },
            expression: {
              type: 'object',
              properties: { label: { type: 'string', enum: [...EXPRESSION_LABELS] }, probabilities: probs },
              required: ['label', 'probabilities'],
            },
          },
          required: ['box', 'score', 'landmarks', 'expression'],
        },
        AnalysisResult: {
          type: 'object',
          properties: {
            width: { type: 'integer' },
            height: { type: 'integer' },
            faces: { type: 'array', items: { $ref: '#/components/schemas/Face' } },
            timings: {
              type: 'object',
              description: 'Milliseconds per stage.',
              properties: Object.fromEntries(
                ['decode', 'detect', 'landmarks', 'align', 'expression', 'total'].map((k) => [k, { type: 'number' }]),
              ),
            },
          },
          required: ['width', 'height', 'faces', 'timings'],
        },
      },
    },
  };
}
