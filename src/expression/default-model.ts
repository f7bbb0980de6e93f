/**
 * The expression model ferkit uses unless told otherwise, in Node and in the browser: the int8
 * ResNet ensemble, within a few faces of its float original on PublicTest (70.5 % against 70.7 %)
 * at a quarter of the cost per face on an AVX-512 CPU (2.5× less in WASM; `ferkit bench expression`).
 * On WebGPU prefer the float 'ferkit-resnet': the int8 graph targets CPU integer kernels, and
 * ferkit's browser tests have no GPU, so int8 on WebGPU is untested. The comparison is in
 * models/README.md.
 */
export const DEFAULT_EXPRESSION_MODEL = 'ferkit-resnet-int8';
