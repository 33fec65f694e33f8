/**
 * The registration list: every kernel family and the backends that implement it.
 *
 * @module
 */
import type { Family } from "./_select.ts";
import type { AttentionKernels } from "./attention.ts";
import { jsAttention } from "./js/attention.ts";
import { wasmAttention } from "./wasm/attention.ts";
import { webgpuAttention } from "./webgpu/attention.ts";
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
import type { ForestKernels } from "./forest.ts";
import { jsForest } from "./js/forest.ts";
import { wasmForest } from "./wasm/forest.ts";

export const MATMUL: Family<MatmulKernels> = {
  name: "matmul",
  js: jsMatmul,
  wasm: wasmMatmul,
  webgpu: webgpuMatmul,
  gpuWorthFlops: 2 * 512 ** 3,
};

/**
 * Attention: `auto` moves a call to a hardware GPU from 2^28 flops (about an N = 1024, D = 64
 * head pair), where the kernel time outweighs the copies in and out.
 */
export const ATTENTION: Family<AttentionKernels> = {
  name: "attention",
  js: jsAttention,
  wasm: wasmAttention,
  webgpu: webgpuAttention,
  gpuWorthFlops: 2 ** 28,
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

export const FOREST: Family<ForestKernels> = {
  name: "forest",
  js: jsForest,
  wasm: wasmForest,
};
