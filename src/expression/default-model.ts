/**
 * The expression model ferkit uses unless told otherwise, in Node and in the browser: the int8
 * ResNet, as accurate as its float original on PublicTest at half the cost per face on a CPU
 * (1.5–2.5× less in WASM; `ferkit bench expression`). On WebGPU prefer the float 'ferkit-resnet':
 * the int8 graph targets CPU integer kernels, and ferkit's browser tests have no GPU, so int8 on
 * WebGPU is untested. The comparison is in models/README.md.
 */
export const DEFAULT_EXPRESSION_MODEL = 'ferkit-resnet-int8';
