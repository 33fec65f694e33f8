/**
 * The `trees` kernel family as the tree estimators reach it.
 *
 * @module
 */
import type { Backend } from "../tensor.ts";
import type { Family } from "../backends/_select.ts";
import { selectKernels } from "../backends/_select.ts";
import type { TreesKernels } from "../backends/trees.ts";
import { jsTrees } from "../backends/js/trees.ts";

/** Registered backends of the family (the WASM one joins here when it exists). */
export const TREES: Family<TreesKernels> = {
  name: "trees",
  js: jsTrees,
};

/**
 * The kernels for a `backend` option. `"js"` (and any choice while the family has only its
 * reference) never starts the runtime.
 */
export function treesKernels(backend: Backend | undefined): Promise<TreesKernels> {
  if (backend === "webgpu") {
    return Promise.reject(
      new RangeError(`The "trees" kernels have no webgpu backend; use "wasm" or "js"`),
    );
  }
  if (backend === "js" || !TREES.wasm) return Promise.resolve(TREES.js);
  return selectKernels(TREES, backend);
}
