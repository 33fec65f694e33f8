/**
 * Reference kernel of exact path-dependent TreeSHAP (Lundberg et al. 2020, "From local
 * explanations to global understanding with explainable AI for trees", Algorithm 2), as XGBoost
 * computes `pred_contribs`, with its conditioning on one feature for `pred_interactions`.
 *
 * The recursion walks every path of a tree once, carrying the set of features met so far (each
 * once: a feature split again is unwound and re-extended) with, per feature, the fraction of
 * the training cover that goes this way when the feature is unknown (`zero`) and whether the
 * row goes this way when it is known (`one`), plus the weights of the permutations of the path.
 * At a leaf each path feature i gets  Σ weights(unwound without i) · (one_i − zero_i) · value.
 *
 * ```
 *  path scratch: a node's path sits right after its parent's, which it copies and extends
 *   [·] [root] [root, f1] [root, f1, f2] …   (a node at unique depth d owns d + 1 entries)
 *  entry e:  pathFeature[e]  pathZero[e]  pathOne[e]  pathWeight[e]
 * ```
 *
 * The weights' updates divide once per call, not per step: 1 / k comes from a table
 * (`reciprocal`), and each loop's constant factor is formed before it; the WASM kernel does the
 * same operations in the same order, so both give the same bits (and XGBoost's to ~1e-7, as
 * XGBoost works in float32).
 *
 * Conditioning (`condition` ≠ 0) treats `conditionFeature` as always known (+1) or never known
 * (−1) and leaves it off the path, so that (φ(on) − φ(off)) / 2 are the interaction values.
 *
 * @module
 */
import { categoryGoesRight, type ShapArgs } from "../trees.ts";

/** Path scratch for trees up to `maxDepth` deep. */
export class ShapPath {
  readonly feature: Int32Array;
  readonly zero: Float64Array;
  readonly one: Float64Array;
  readonly weight: Float64Array;
  /** reciprocal[k] = 1 / k, k = 1 .. maxDepth + 3. */
  readonly reciprocal: Float64Array;

  constructor(maxDepth: number) {
    const levels = maxDepth + 3;
    const size = (levels * (levels + 1)) / 2;
    this.feature = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.weight = new Float64Array(size);
    this.reciprocal = Float64Array.from({ length: levels + 1 }, (_, k) => 1 / k);
  }

  /** Adds a feature with fractions (zero, one) at position `depth` of the segment at `at`. */
  extend(at: number, depth: number, zero: number, one: number, feature: number): void {
    const w = this.weight;
    this.feature[at + depth] = feature;
    this.zero[at + depth] = zero;
    this.one[at + depth] = one;
    w[at + depth] = depth === 0 ? 1 : 0;
    const inv = this.reciprocal[depth + 1];
    for (let i = depth - 1; i >= 0; i--) {
      w[at + i + 1] += one * w[at + i] * (i + 1) * inv;
      w[at + i] = zero * w[at + i] * (depth - i) * inv;
    }
  }

  /** Removes entry `index` of a path of `depth + 1` entries, undoing its extension. */
  unwind(at: number, depth: number, index: number): void {
    const w = this.weight, r = this.reciprocal;
    const one = this.one[at + index], zero = this.zero[at + index];
    if (one !== 0) {
      const scale = (depth + 1) / one, inv = r[depth + 1];
      let next = w[at + depth];
      for (let i = depth - 1; i >= 0; i--) {
        const kept = w[at + i];
        w[at + i] = next * scale * r[i + 1];
        next = kept - w[at + i] * zero * (depth - i) * inv;
      }
    } else {
      const scale = (depth + 1) / zero;
      for (let i = depth - 1; i >= 0; i--) w[at + i] = w[at + i] * scale * r[depth - i];
    }
    for (let i = index; i < depth; i++) {
      this.feature[at + i] = this.feature[at + i + 1];
      this.zero[at + i] = this.zero[at + i + 1];
      this.one[at + i] = this.one[at + i + 1];
    }
  }

  /** The total permutation weight of the path with entry `index` unwound, leaving it as is. */
  unwoundSum(at: number, depth: number, index: number): number {
    const w = this.weight, r = this.reciprocal;
    const one = this.one[at + index], zero = this.zero[at + index];
    let total = 0;
    if (one !== 0) {
      const scale = (depth + 1) / one, inv = r[depth + 1];
      let next = w[at + depth];
      for (let i = depth - 1; i >= 0; i--) {
        const t = next * scale * r[i + 1];
        total += t;
        next = w[at + i] - t * zero * (depth - i) * inv;
      }
    } else if (zero !== 0) {
      const scale = (depth + 1) / zero;
      for (let i = depth - 1; i >= 0; i--) total += w[at + i] * scale * r[depth - i];
    }
    return total;
  }

  /** Copies the first `count` entries of the segment at `from` to the one at `to`. */
  copy(from: number, to: number, count: number): void {
    this.feature.copyWithin(to, from, from + count);
    this.zero.copyWithin(to, from, from + count);
    this.one.copyWithin(to, from, from + count);
    this.weight.copyWithin(to, from, from + count);
  }
}

/** One row through one tree: adds to `phi` (nOutputs × (nCols + 1) of this row). */
class TreeWalk {
  constructor(
    readonly args: ShapArgs,
    readonly path: ShapPath,
    readonly row: number,
    readonly phi: number,
    readonly group: number,
  ) {}

  /** The child a row takes at internal node `node`, as the prediction kernel decides. */
  hotChild(node: number): number {
    const a = this.args;
    const v = a.x[this.row * a.nCols + a.feature[node]];
    if (v !== v) return a.defaultLeft[node] ? a.left[node] : a.right[node];
    const cats = a.categories;
    if (cats !== undefined && cats.splitType[node] === 1) {
      const right = categoryGoesRight(
        cats.catBits,
        cats.catBegin[node],
        cats.catBegin[node + 1],
        v,
      );
      return right ? a.right[node] : a.left[node];
    }
    return v < a.threshold[node] ? a.left[node] : a.right[node];
  }

  /**
   * Visits `node`, whose parent split on `parentFeature`, with the parent's path in the segment
   * at `parentAt` (`depth` entries).
   */
  visit(
    node: number,
    depth: number,
    parentAt: number,
    zero: number,
    one: number,
    parentFeature: number,
    fraction: number,
  ): void {
    if (fraction === 0) return;
    const a = this.args, path = this.path;
    // The parent's entries 0 .. depth − 1 and, where conditioning skipped an extension there,
    // its entry `depth` too: copying depth + 1 covers both.
    const at = parentAt + depth + 1;
    path.copy(parentAt, at, depth + 1);
    if (a.condition === 0 || a.conditionFeature !== parentFeature) {
      path.extend(at, depth, zero, one, parentFeature);
    }
    const split = a.feature[node];
    if (split < 0) {
      this.leaf(node, at, depth, fraction);
      return;
    }
    const hot = this.hotChild(node);
    const cold = hot === a.left[node] ? a.right[node] : a.left[node];
    const cover = a.cover[node];
    const hotZero = a.cover[hot] / cover, coldZero = a.cover[cold] / cover;
    let inZero = 1, inOne = 1;
    let index = 0;
    while (index <= depth && path.feature[at + index] !== split) index++;
    if (index <= depth) {
      inZero = path.zero[at + index];
      inOne = path.one[at + index];
      path.unwind(at, depth, index);
      depth--;
    }
    let hotFraction = fraction, coldFraction = fraction;
    if (a.condition > 0 && split === a.conditionFeature) {
      coldFraction = 0;
      depth--;
    } else if (a.condition < 0 && split === a.conditionFeature) {
      hotFraction *= hotZero;
      coldFraction *= coldZero;
      depth--;
    }
    this.visit(hot, depth + 1, at, hotZero * inZero, inOne, split, hotFraction);
    this.visit(cold, depth + 1, at, coldZero * inZero, 0, split, coldFraction);
  }

  leaf(node: number, at: number, depth: number, fraction: number): void {
    const a = this.args, path = this.path;
    const width = a.leafWidth, stride = a.nCols + 1;
    for (let i = 1; i <= depth; i++) {
      const w = path.unwoundSum(at, depth, i);
      const scale = w * (path.one[at + i] - path.zero[at + i]) * fraction;
      const column = this.phi + path.feature[at + i];
      for (let k = 0; k < width; k++) {
        a.out[column + (this.group + k) * stride] += scale * a.value[node * width + k];
      }
    }
  }
}

/**
 * Adds the SHAP values of trees [treeBegin, treeEnd) for rows [firstRow, firstRow + rowCount)
 * to `out` (nRows × nOutputs × (nCols + 1); the bias column is left alone).
 */
export function shapRef(args: ShapArgs, firstRow = 0, rowCount = args.nRows - firstRow): void {
  const path = new ShapPath(args.maxDepth);
  const stride = (args.nCols + 1) * args.nOutputs;
  for (let r = firstRow; r < firstRow + rowCount; r++) {
    for (let t = args.treeBegin; t < args.treeEnd; t++) {
      const walk = new TreeWalk(args, path, r, r * stride, args.treeGroup[t]);
      walk.visit(args.treeStart[t], 0, 0, 1, 1, -1, 1);
    }
  }
}
