/**
 * The `trees` kernel family as the tree estimators reach it.
 *
 * @module
 */
import type { Backend } from "../tensor.ts";
import { TREES } from "../backends/_families.ts";
import { selectKernels } from "../backends/_select.ts";
import type { TreesKernels } from "../backends/trees.ts";

/** The kernels for a `backend` option; `"js"` never starts the runtime. */
export function treesKernels(backend: Backend | undefined): Promise<TreesKernels> {
  if (backend === "js") return Promise.resolve(TREES.js);
  return selectKernels(TREES, backend);
}
