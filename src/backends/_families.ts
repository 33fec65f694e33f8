/**
 * The registration list: every kernel family and the backends that implement it.
 *
 * @module
 */
import type { Family } from "./_select.ts";
import type { DiffusionKernels } from "./diffusion.ts";
import { jsDiffusionKernels } from "./js/diffusion.ts";
import { wasmDiffusion } from "./wasm/diffusion.ts";
import type { MatmulKernels } from "./matmul.ts";
import { jsMatmul } from "./js/matmul.ts";
import { wasmMatmul } from "./wasm/matmul.ts";
import { webgpuMatmul } from "./webgpu/matmul.ts";
import type { TreesKernels } from "./trees.ts";
import { jsTrees } from "./js/trees.ts";
import { wasmTrees } from "./wasm/trees.ts";

export const MATMUL: Family<MatmulKernels> = {
  name: "matmul",
  js: jsMatmul,
  wasm: wasmMatmul,
  webgpu: webgpuMatmul,
  gpuWorthFlops: 2 * 512 ** 3,
};

export const DIFFUSION: Family<DiffusionKernels> = {
  name: "diffusion",
  js: jsDiffusionKernels,
  wasm: wasmDiffusion,
};

export const TREES: Family<TreesKernels> = {
  name: "trees",
  js: jsTrees,
  wasm: wasmTrees,
};
