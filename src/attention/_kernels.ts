/**
 * Picks the attention kernel family implementation for a `backend` option.
 *
 * @module
 */
import { checkBackend } from "../_validate.ts";
import type { AttentionKernels } from "../backends/attention.ts";
import { jsAttention } from "../backends/js/attention.ts";
import type { Backend } from "../tensor.ts";

/**
 * The attention backends that exist today. `auto` resolves to the reference kernels until the
 * WASM runtime registers its own family here.
 */
export const ATTENTION_BACKENDS: Partial<Record<Backend, AttentionKernels>> = {
  auto: jsAttention,
  js: jsAttention,
};

/** The kernels for `backend` (default `auto`); throws a RangeError naming `name` if unavailable. */
export function attentionKernels(name: string, backend: unknown): AttentionKernels {
  checkBackend(name, backend);
  const kernels = ATTENTION_BACKENDS[backend ?? "auto"];
  if (kernels === undefined) {
    const available = Object.keys(ATTENTION_BACKENDS).map((b) => `"${b}"`).join(", ");
    throw new RangeError(
      `Expected "${name}" to be one of ${available} (the "${backend}" attention kernels are not available yet) but found "${backend}"`,
    );
  }
  return kernels;
}
