/**
 * The minimal use of ferkit's browser library (src/browser/), without the app's worker and UI.
 * The page must serve models/ + .cache/models/ at /models/ and onnxruntime-web's dist/ at /ort/
 * (scripts/serve-web.mjs does both).
 */
import { createBrowserAnalyzer, decodeImageBlob, drawOverlay } from '../../src/browser/index.js';

const status = document.getElementById('status')!;
const canvas = document.getElementById('canvas') as HTMLCanvasElement;
const out = document.getElementById('out')!;

const analyzer = await createBrowserAnalyzer({ modelBaseUrl: '/models/', runtime: { wasmPaths: '/ort/' } });
status.textContent = `ready on ${analyzer.backend}`;

document.getElementById('file')!.addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  const bitmap = await decodeImageBlob(file, file.name);
  const result = await analyzer.analyze(bitmap);
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  drawOverlay(ctx, result.faces, result.width, result.height);
  out.textContent = JSON.stringify(
    result.faces.map((f) => ({ box: f.box, expression: f.expression })),
    null,
    1,
  );
  status.textContent = `${result.faces.length} face(s) in ${result.timings.total.toFixed(0)} ms on ${analyzer.backend}`;
});
