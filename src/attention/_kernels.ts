/**
 * Picks the attention kernel family implementation for a `backend` option.
 *
 * @module
 */
import { ATTENTION } from "../backends/_families.ts";
import { selectKernels } from "../backends/_select.ts";
import type { AttentionKernels } from "../backends/attention.ts";
import type { Backend } from "../tensor.ts";

/**
 * The kernels for a checked `backend` (default: the runtime's default; `auto` → WebGPU for big
 * work on a hardware adapter, else WASM where usable, else the reference). `flops` sizes the
 * call for backends that only pay off on big work; `inputs` holding NaN or ±∞ keep the call
 * off WebGPU (see selectKernels); `bytes` (by argument) is checked against WASM memory before
 * a WASM call allocates anything (the WASM kernels check their buffers too, by their own names).
 */
export function attentionKernels(
  backend: Backend | undefined,
  flops: number,
  inputs: readonly (Float32Array | null)[] = [],
  bytes?: Record<string, number>,
): Promise<AttentionKernels> {
  return selectKernels(ATTENTION, backend, { flops, inputs, bytes });
}
