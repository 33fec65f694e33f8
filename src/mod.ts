/**
 * Tessera: WebAssembly-accelerated machine learning for the browser, Deno, Node and edge
 * runtimes: tree ensembles, attention and diffusion sampling behind one typed facade.
 *
 * @module
 */
export type { Backend, Matrix, Tensor } from "./tensor.ts";
export { tensor, zeros } from "./tensor.ts";
export * from "./runtime/mod.ts";
export * from "./linalg/mod.ts";
export * from "./attention/mod.ts";
export * from "./diffusion/mod.ts";
export * from "./linear/mod.ts";
export * from "./trees/mod.ts";
