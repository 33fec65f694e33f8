// The one WASM module of Tessera: every kernel family exports from here.
export * from "./matmul";
export * from "./diffusion";
export * from "./attention";
export * from "./trees";
export * from "./tree_shap";
export * from "./forest";
export { simd_nan_sign, simd_set_scalar_splats } from "./_simd";
