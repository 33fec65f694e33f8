/**
 * The base of RandomForestClassifier and RandomForestRegressor (Breiman 2001, as scikit-learn
 * 1.2): every tree grows fully (by default) on a bootstrap sample of the rows, drawing a fresh
 * random subset of the features at each split. Trees are grown by the `forest` kernels in
 * batches, one task per tree across the worker pool; tree t's bootstrap and feature draws come
 * from its own streams of the seed, so the forest is the same for any thread count.
 *
 * ```
 *  X ──bins (once)──► session ──grow batch of trees──► CartTree ──prune──► model (values / nTrees)
 *                                         └──────────► out-of-bag rows: tree predictions summed
 * ```
 *
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { runtimeInfo } from "../../runtime/runtime.ts";
import { show } from "../../_validate.ts";
import { bootstrapCounts } from "../../backends/js/forest.ts";
import { binMatrix } from "../_binning.ts";
import {
  buildOnBinCodes,
  forestData,
  forestKernels,
  grownToCart,
  growParams,
  kernelCriterion,
} from "../cart/_cart_hist.ts";
import { type CartTree, resolveTreeLimits } from "../cart/_cart_exact.ts";
import { CartModelWriter } from "../cart/_cart_model.ts";
import { pruneCostComplexity } from "../cart/_cost_complexity.ts";
import { CRITERIA } from "../cart/_criteria.ts";
import {
  applyTree,
  checkCartState,
  criterionFrom,
  treeImportances,
} from "../cart/_decision_tree.ts";
import { type FittedTrees, TreeEstimator } from "../_estimator.ts";
import { toFeatures, toLabels, toWeights } from "../../estimators/_input.ts";
import { treesKernels } from "../_kernels.ts";
import { asPromise, finiteFrom, type ParamTable, type Resolved } from "../../estimators/_params.ts";
import {
  checkFitOptions,
  type EnsembleFitOptions,
  fitWatch,
  throwIfAborted,
  type TreeOptions,
  treeParamTable,
} from "../_tree_options.ts";
import { normalise } from "../_tree_model.ts";
import { Rng } from "../../_random.ts";
import type { GrownTree } from "../../backends/forest.ts";

/** Options of the random forests (scikit-learn's names in camelCase). */
export interface ForestOptions extends TreeOptions {
  /** Trees (default 100). */
  nEstimators?: number;
  /** Draw each tree's rows with replacement (default true); false: every tree sees all rows. */
  bootstrap?: boolean;
  /**
   * Rows drawn per tree: a count ≥ 2, or a fraction of the rows in (0, 1] (so 1 is n, as
   * scikit-learn's 1.0); null or undefined for n.
   */
  maxSamples?: number | null;
  /** Score the forest on each row's out-of-bag trees after fitting (default false). */
  oobScore?: boolean;
  /** Cost-complexity pruning strength of every tree (default 0). */
  ccpAlpha?: number;
}

export interface ForestState extends FittedTrees {
  criterion: string;
  /** Out-of-bag accuracy or R², or null when not asked for. */
  oobScore: number | null;
}

type ForestParams = Resolved<ForestOptions, "backend">;

function checkMaxSamples(name: string, value: unknown): void {
  if (value === null) return;
  const ok = typeof value === "number" && Number.isFinite(value) &&
    ((Number.isInteger(value) && value >= 1) || (value > 0 && value <= 1));
  if (!ok) {
    throw new RangeError(
      `Expected "${name}" to be an integer >= 2, a fraction in (0, 1] or null but found ${
        show(value)
      }`,
    );
  }
}

/** The option table of a forest. */
export function forestParamTable(
  criteria: readonly string[],
  defaultCriterion: string,
  defaultMaxFeatures: TreeOptions["maxFeatures"],
): ParamTable {
  return {
    ...treeParamTable(criteria, defaultCriterion, defaultMaxFeatures),
    nEstimators: { default: 100, rule: { kind: "int", min: 1 } },
    bootstrap: { default: true, rule: { kind: "boolean" } },
    maxSamples: { default: null, rule: { kind: "custom", check: checkMaxSamples } },
    oobScore: { default: false, rule: { kind: "boolean" } },
    ccpAlpha: { default: 0, rule: { kind: "number", min: 0 } },
  };
}

/**
 * Bootstrap draws per tree, as scikit-learn's `_get_n_samples_bootstrap`: n, a count, or
 * round(fraction · n) (at least 1).
 */
export function bootstrapDraws(maxSamples: number | null, nRows: number): number {
  if (maxSamples === null) return nRows;
  if (Number.isInteger(maxSamples) && maxSamples > 1) {
    if (maxSamples > nRows) {
      throw new RangeError(
        `Expected "maxSamples" to be at most the ${nRows} rows but found ${maxSamples}`,
      );
    }
    return maxSamples;
  }
  return Math.max(1, Math.round(maxSamples * nRows));
}

/** Trees per kernel call: enough to keep every worker busy, few enough for prompt progress. */
function batchSize(): number {
  return Math.max(8, 4 * runtimeInfo().threads);
}

/** Sums of out-of-bag predictions per row. */
interface OobAccumulator {
  sums: Float64Array;
  counts: Float64Array;
}

/** The base of the two random forests. */
export abstract class ForestBase extends TreeEstimator<ForestOptions, ForestState> {
  /** Out-of-bag sums of the last fit (not serialised). */
  protected oob: { sums: Float64Array; counts: Float64Array; width: number } | null = null;

  constructor(options: ForestOptions = {}) {
    super(options);
  }

  /** Class indices (classifiers) or checked targets, and the classes. */
  protected abstract prepareTargets(
    y: Float64Array,
  ): { labels: Float64Array; nClasses: number; classes: Float64Array | null };

  /** The out-of-bag score from the OOB predictions (accuracy or R²). */
  protected abstract scoreOob(labels: Float64Array, oob: OobAccumulator, width: number): number;

  protected params(): ForestParams {
    return this.resolvedOptions() as unknown as ForestParams;
  }

  /**
   * Grows the forest; the previous fitted state stays until this succeeds.
   *
   * @param X Rows of features; NaN marks a missing value.
   * @param y One finite label or target per row.
   * @param opts `sampleWeight`, `onProgress` (after each batch of trees), `signal` (abort).
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} On row-count mismatch, NaN or ±Infinity in y, empty X, one class
   *   only (classifiers), or an option unknown or out of range.
   */
  async fit(X: Matrix, y: ArrayLike<number>, opts: EnsembleFitOptions = {}): Promise<this> {
    checkFitOptions(opts);
    const p = this.params();
    const x = toFeatures("X", X);
    const weights = toWeights("sampleWeight", opts.sampleWeight, x.rows);
    const { labels, nClasses, classes } = this.prepareTargets(toLabels("y", y, x.rows));
    CRITERIA[p.criterion].checkTargets?.("y", labels);
    if (p.oobScore && !p.bootstrap) {
      throw new RangeError(`Expected "oobScore" to be false when "bootstrap" is false`);
    }
    const limits = resolveTreeLimits(p, x.rows, x.cols, 0);
    const nDraws = p.bootstrap ? bootstrapDraws(p.maxSamples, x.rows) : 0;
    throwIfAborted(opts.signal);
    const watch = fitWatch(opts);
    const binned = await binMatrix(
      await treesKernels(p.backend),
      x.data,
      x.rows,
      x.cols,
      { weights, maxBin: p.maxBin, watch },
    );
    const width = nClasses > 0 ? nClasses : 1;
    const writer = new CartModelWriter(x.cols, width);
    const oob: OobAccumulator | null = p.oobScore
      ? { sums: new Float64Array(x.rows * width), counts: new Float64Array(x.rows) }
      : null;
    const scale = 1 / p.nEstimators;
    const addTree = (tree: number, cart: CartTree) => {
      const pruned = pruneCostComplexity(cart, p.ccpAlpha);
      if (oob !== null) addOob(oob, pruned, tree, { p, nDraws, x: x.data, nRows: x.rows });
      writer.add(pruned, scale);
    };
    const criterion = kernelCriterion(p.criterion);
    const growOptions = {
      nClasses,
      minWeightFractionLeaf: p.minWeightFractionLeaf,
      bootstrap: p.bootstrap,
      nDraws,
      seed: p.seed,
    };
    const batch = batchSize();
    if (criterion === null) {
      // Criteria without kernels: the exact builder on bin codes, tree by tree in this thread.
      const counts = new Float64Array(x.rows);
      for (let t = 0; t < p.nEstimators; t++) {
        await watch.check();
        const w = p.bootstrap
          ? bootstrapCounts(p.seed, t, x.rows, nDraws, counts).slice()
          : new Float64Array(x.rows).fill(1);
        if (weights !== null) { for (let r = 0; r < x.rows; r++) w[r] *= weights[r]; }
        addTree(
          t,
          buildOnBinCodes(binned, { y: labels, weights: w, nClasses }, {
            ...limits,
            minWeightLeaf: p.minWeightFractionLeaf * w.reduce((a, b) => a + b, 0),
            criterion: p.criterion,
            rng: new Rng(p.seed, 2 * t + 2),
          }),
        );
        if ((t + 1) % batch === 0 || t + 1 === p.nEstimators) {
          opts.onProgress?.({ iteration: t + 1, total: p.nEstimators });
        }
      }
    } else {
      const params = growParams(limits, { criterion, ...growOptions });
      const session = (await forestKernels(p.backend)).open(
        forestData(binned, { labels, nClasses }),
      );
      const batches: Int32Array[] = [];
      for (let first = 0; first < p.nEstimators; first += batch) {
        const count = Math.min(batch, p.nEstimators - first);
        batches.push(Int32Array.from({ length: count }, (_, i) => first + i));
      }
      // The next batch grows in the workers while this thread converts the last one.
      let pending: Promise<GrownTree[]> | null = null;
      try {
        for (let b = 0; b < batches.length; b++) {
          await watch.check();
          const grown: GrownTree[] = await (pending ?? session.grow(params, batches[b], weights));
          pending = b + 1 < batches.length && !opts.signal?.aborted
            ? session.grow(params, batches[b + 1], weights)
            : null;
          grown.forEach((g, i) =>
            addTree(batches[b][i], grownToCart(g, binned, x.cols, width, nClasses > 0))
          );
          const done = batches[b][batches[b].length - 1] + 1;
          opts.onProgress?.({ iteration: done, total: p.nEstimators });
        }
      } finally {
        // A batch still growing must finish before the session's memory goes.
        await pending?.catch(() => {});
        session.release();
      }
    }
    const model = writer.build();
    this.state = {
      model,
      classes,
      criterion: p.criterion,
      oobScore: oob === null ? null : this.scoreOob(labels, oob, width),
    };
    this.oob = oob === null ? null : { ...oob, width };
    return this;
  }

  /** Out-of-bag accuracy (classifiers) or R² (regressors) of the last fit with `oobScore`. */
  get oobScore(): number {
    const score = this.fitted().oobScore;
    if (score === null) {
      throw new RangeError(`Expected the forest to be fitted with "oobScore: true"`);
    }
    return score;
  }

  /** Normalised mean of the trees' normalised impurity importances (scikit-learn's). */
  get featureImportances(): Float32Array {
    const { model } = this.fitted();
    const sums = new Float64Array(model.nFeatures), one = new Float64Array(model.nFeatures);
    let trees = 0;
    for (let t = 0; t < model.treeGroup.length; t++) {
      if (model.treeStart[t + 1] - model.treeStart[t] <= 1) continue;
      treeImportances(model, t, one);
      for (let f = 0; f < one.length; f++) sums[f] += one[f];
      trees++;
    }
    if (trees > 0) { for (let f = 0; f < sums.length; f++) sums[f] /= trees; }
    return normalise(sums);
  }

  /** Number of trees. */
  get treeCount(): number {
    return this.fitted().model.treeGroup.length;
  }

  /**
   * The leaf each row reaches in every tree: [n, trees], node indices within each tree.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  apply(X: Matrix): Promise<Tensor> {
    return asPromise(() => {
      const { model } = this.fitted();
      const x = toFeatures("X", X, model.nFeatures);
      const nTrees = model.treeGroup.length;
      const data = new Float32Array(x.rows * nTrees);
      for (let t = 0; t < nTrees; t++) {
        const leaves = applyTree(model, t, x.data, x.rows);
        for (let r = 0; r < x.rows; r++) data[r * nTrees + t] = leaves[r];
      }
      return { data, shape: [x.rows, nTrees] };
    });
  }

  protected fieldsToJSON(s: ForestState): Record<string, unknown> {
    return { criterion: s.criterion, oobScore: s.oobScore };
  }

  protected stateFromJSON(fields: Record<string, unknown>, base: FittedTrees): ForestState {
    const criterion = criterionFrom(fields);
    const oobScore = fields.oobScore === null || fields.oobScore === undefined
      ? null
      : finiteFrom("json.fitted.oobScore", fields.oobScore);
    const state = { ...base, criterion, oobScore };
    checkCartState(state, this.isClassifier, "forest");
    return state;
  }

  /** Whether this is the classifier (classes, class fractions in the leaves). */
  protected abstract get isClassifier(): boolean;
}

/** Adds tree `tree`'s predictions on its out-of-bag rows (bootstrap count 0). */
function addOob(
  oob: OobAccumulator,
  cart: CartTree,
  tree: number,
  ctx: { p: ForestParams; nDraws: number; x: Float32Array; nRows: number },
): void {
  const { nRows, x } = ctx;
  const counts = bootstrapCounts(ctx.p.seed, tree, nRows, ctx.nDraws, new Float64Array(nRows));
  const width = cart.leafWidth, cols = cart.nFeatures;
  for (let r = 0; r < nRows; r++) {
    if (counts[r] !== 0) continue;
    let node = 0;
    while (cart.feature[node] >= 0) {
      const v = x[r * cols + cart.feature[node]];
      const goLeft = v !== v ? cart.missingLeft[node] === 1 : v <= cart.threshold[node];
      node = goLeft ? cart.left[node] : cart.right[node];
    }
    for (let k = 0; k < width; k++) oob.sums[r * width + k] += cart.value[node * width + k];
    oob.counts[r]++;
  }
}
