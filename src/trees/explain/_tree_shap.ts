/**
 * SHAP values and SHAP interaction values of a tree ensemble, as XGBoost's `pred_contribs` and
 * `pred_interactions`: the `trees` kernels' `shap` walks the trees (exact path-dependent
 * TreeSHAP, Lundberg et al. 2020); this module adds the bias (each tree's expected value under
 * its training cover, plus the base margin) and assembles the interaction matrices.
 *
 * ```
 *  contributions  [n, K, F + 1]   φ_0 … φ_{F−1}, bias          Σ over a row's K-th block = margin_K
 *  interactions   [n, K, F + 1, F + 1]
 *                 Φ_ij = (φ_j with i always known − φ_j with i never known) / 2   (i ≠ j)
 *                 Φ_ii = φ_i − Σ_{j ≠ i} Φ_ij;  row and column F: zero but Φ_FF = bias
 * ```
 *
 * @module
 */
import type { ShapArgs, TreesKernels } from "../../backends/trees.ts";
import { type TreeEnsemble, treeNodeArgs } from "../_tree_model.ts";

/** Depth of the deepest tree (a lone leaf: 0). */
export function maxTreeDepth(model: TreeEnsemble): number {
  const depth = new Int32Array(model.feature.length);
  let deepest = 0;
  // Children come after their parents, so one forward pass sets every depth.
  for (let i = 0; i < model.feature.length; i++) {
    if (model.feature[i] < 0) continue;
    depth[model.left[i]] = depth[model.right[i]] = depth[i] + 1;
    deepest = Math.max(deepest, depth[i] + 1);
  }
  return deepest;
}

/**
 * Each node's expected value under the training cover, nodes × leafWidth: a leaf's value, else
 * the cover-weighted mean of its children (as XGBoost's FillNodeMeanValues).
 */
export function nodeMeans(model: TreeEnsemble): Float64Array {
  const W = model.leafWidth;
  const mean = new Float64Array(model.feature.length * W);
  for (let i = model.feature.length - 1; i >= 0; i--) {
    if (model.feature[i] < 0) {
      for (let k = 0; k < W; k++) mean[i * W + k] = model.value[i * W + k];
      continue;
    }
    const l = model.left[i], r = model.right[i];
    const cl = model.cover[l], cr = model.cover[r], c = model.cover[i];
    for (let k = 0; k < W; k++) mean[i * W + k] = (mean[l * W + k] * cl + mean[r * W + k] * cr) / c;
  }
  return mean;
}

/** Throws unless every split has a positive cover, which TreeSHAP divides by. */
export function checkCovers(model: TreeEnsemble): void {
  for (let i = 0; i < model.feature.length; i++) {
    if (model.feature[i] >= 0 && !(model.cover[i] > 0)) {
      throw new RangeError(
        `Expected every split to have a positive cover (training weight) for SHAP values but node ${i} has ${
          model.cover[i]
        }`,
      );
    }
  }
}

function shapArgs(
  model: TreeEnsemble,
  x: Float32Array,
  nRows: number,
  out: Float64Array,
): ShapArgs {
  return {
    ...treeNodeArgs(model, x, nRows, 0, model.treeGroup.length),
    cover: model.cover,
    maxDepth: maxTreeDepth(model),
    condition: 0,
    conditionFeature: 0,
    out,
  };
}

/** The bias of every output: base margin plus each tree's expected value. */
function biases(model: TreeEnsemble): Float64Array {
  const bias = Float64Array.from(model.baseMargin);
  const mean = nodeMeans(model);
  for (let t = 0; t < model.treeGroup.length; t++) {
    const root = model.treeStart[t];
    for (let k = 0; k < model.leafWidth; k++) {
      bias[model.treeGroup[t] + k] += mean[root * model.leafWidth + k];
    }
  }
  return bias;
}

/** SHAP values of rows, [nRows, nOutputs, nFeatures + 1] with the bias last. */
export async function shapValues(
  kernels: TreesKernels,
  model: TreeEnsemble,
  x: Float32Array,
  nRows: number,
): Promise<Float64Array> {
  checkCovers(model);
  const F = model.nFeatures, K = model.nOutputs;
  const out = new Float64Array(nRows * K * (F + 1));
  if (nRows > 0) await kernels.shap(shapArgs(model, x, nRows, out));
  const bias = biases(model);
  for (let r = 0; r < nRows; r++) {
    for (let k = 0; k < K; k++) out[(r * K + k) * (F + 1) + F] = bias[k];
  }
  return out;
}

/** SHAP interaction values of rows, [nRows, nOutputs, nFeatures + 1, nFeatures + 1]. */
export async function shapInteractions(
  kernels: TreesKernels,
  model: TreeEnsemble,
  x: Float32Array,
  nRows: number,
): Promise<Float64Array> {
  const F = model.nFeatures, K = model.nOutputs, S = F + 1;
  const phi = await shapValues(kernels, model, x, nRows);
  const out = new Float64Array(nRows * K * S * S);
  // 2F kernel calls on the same model: a backend with its own memory copies it in once.
  const resident = [model.feature, model.threshold, model.defaultLeft, model.left, model.right];
  resident.push(model.value, model.cover, model.treeStart, model.treeGroup);
  for (const array of resident) await kernels.retain(array);
  try {
    for (let i = 0; i < F; i++) await addFeatureRows(kernels, model, x, nRows, phi, out, i);
  } finally {
    for (const array of resident) await kernels.release(array);
  }
  for (let r = 0; r < nRows; r++) {
    for (let k = 0; k < K; k++) {
      const c = (r * K + k) * S;
      out[(c + F) * S + F] = phi[c + F];
    }
  }
  return out;
}

/**
 * Row i of every interaction matrix: (φ_j with i always known − φ_j with i never known) / 2 off
 * the diagonal, the rest of φ_i on it. A feature no split tests has a zero row.
 */
async function addFeatureRows(
  kernels: TreesKernels,
  model: TreeEnsemble,
  x: Float32Array,
  nRows: number,
  phi: Float64Array,
  out: Float64Array,
  i: number,
): Promise<void> {
  const F = model.nFeatures, K = model.nOutputs, S = F + 1;
  if (!model.feature.includes(i)) return;
  const on = new Float64Array(nRows * K * S), off = new Float64Array(nRows * K * S);
  await kernels.shap({ ...shapArgs(model, x, nRows, on), condition: 1, conditionFeature: i });
  await kernels.shap({ ...shapArgs(model, x, nRows, off), condition: -1, conditionFeature: i });
  for (let r = 0; r < nRows; r++) {
    for (let k = 0; k < K; k++) {
      const o = ((r * K + k) * S + i) * S, c = (r * K + k) * S;
      let diagonal = phi[c + i];
      for (let j = 0; j < F; j++) {
        if (j === i) continue;
        const v = (on[c + j] - off[c + j]) / 2;
        out[o + j] = v;
        diagonal -= v;
      }
      out[o + i] = diagonal;
    }
  }
}
