/**
 * Picks the diffusion kernel family implementation for a `backend` option.
 *
 * @module
 */
import { checkBackend } from "../_validate.ts";
import type { DiffusionKernels } from "../backends/diffusion.ts";
import { DIFFUSION } from "../backends/_families.ts";
import { jsDiffusionKernels } from "../backends/js/diffusion.ts";
import { selectKernels } from "../backends/_select.ts";
import type { Backend } from "../tensor.ts";

/**
 * The kernels for `backend`: "js" is the reference and never starts the runtime; "auto"
 * (default), "wasm" and "webgpu" go through the registry (WASM where usable, else JS; the family
 * has no WebGPU kernels, so "webgpu" is refused).
 */
export async function diffusionKernels(
  backend: Backend | undefined,
  work: { flops?: number; bytes?: Record<string, number> } = {},
): Promise<DiffusionKernels> {
  checkBackend("backend", backend);
  if (backend === "js") return jsDiffusionKernels;
  return await selectKernels(DIFFUSION, backend, work);
}
