/**
 * Picks the diffusion kernel family implementation for a backend option.
 *
 * @module
 */
import { checkBackend } from "../_validate.ts";
import type { DiffusionKernels } from "../backends/diffusion.ts";
import { jsDiffusionKernels } from "../backends/js/diffusion.ts";
import type { Backend } from "../tensor.ts";

/** The kernels for `backend`: the JS reference for "js" and "auto" (until WASM is wired). */
export function diffusionKernels(backend: Backend | undefined): DiffusionKernels {
  checkBackend("backend", backend);
  if (backend === "wasm" || backend === "webgpu") {
    throw new RangeError(
      `Expected "backend" to be "js" or "auto" for diffusion (no ${backend} kernels yet) but found "${backend}"`,
    );
  }
  return jsDiffusionKernels;
}
