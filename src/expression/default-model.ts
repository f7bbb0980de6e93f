/**
 * The expression model ferkit uses unless told otherwise, in Node and in the browser: the int8
 * ResNet, as accurate as its float original on PublicTest at half the cost per face on a CPU
 * (2.6–3.5× less in WASM). On WebGPU choose the float 'ferkit-resnet': GPUs gain nothing from int8
 * graphs. The comparison is in models/README.md.
 */
export const DEFAULT_EXPRESSION_MODEL = 'ferkit-resnet-int8';
