/** The browser runtime's WASM thread default (pure: no onnxruntime-web is loaded). */
import { describe, expect, it } from 'vitest';
import { defaultWasmThreads } from '../src/browser/runtime.js';

describe('defaultWasmThreads', () => {
  it('leaves one core to the page and caps at 4', () => {
    expect([1, 2, 3, 4, 5, 8, 16].map((c) => defaultWasmThreads(c, true))).toEqual([1, 1, 2, 3, 4, 4, 4]);
  });
  it('is 1 without cross-origin isolation (no SharedArrayBuffer)', () => {
    expect(defaultWasmThreads(8, false)).toBe(1);
  });
});
