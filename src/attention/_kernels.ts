/**
 * Picks the attention kernel family implementation for a `backend` option.
 *
 * @module
 */
import { checkBackend } from "../_validate.ts";
import type { Family } from "../backends/_select.ts";
import { selectKernels } from "../backends/_select.ts";
import type { AttentionKernels } from "../backends/attention.ts";
import { jsAttention } from "../backends/js/attention.ts";
import { wasmAttention } from "../backends/wasm/attention.ts";
import type { Backend } from "../tensor.ts";

/**
 * The backends of the attention family. It lives here rather than in
 * src/backends/_families.ts only to keep the attention work in its own files; it can move there
 * unchanged.
 */
export const ATTENTION: Family<AttentionKernels> = {
  name: "attention",
  js: jsAttention,
  wasm: wasmAttention,
};

/**
 * Throws unless `backend` is undefined or a backend the attention family has; the RangeError or
 * TypeError names `name`.
 */
export function checkAttentionBackend(
  name: string,
  backend: unknown,
): asserts backend is Backend | undefined {
  checkBackend(name, backend);
  if (backend === "webgpu" && ATTENTION.webgpu === undefined) {
    throw new RangeError(
      `Expected "${name}" to be "auto", "js" or "wasm" (the attention kernels have no webgpu backend yet) but found "webgpu"`,
    );
  }
}

/**
 * The kernels for a checked `backend` (default: the runtime's default; `auto` → WASM where
 * usable, else the reference). `flops` sizes the call for backends that only pay off on big
 * work.
 */
export function attentionKernels(
  backend: Backend | undefined,
  flops: number,
): Promise<AttentionKernels> {
  return selectKernels(ATTENTION, backend, { flops });
}
