/**
 * Classic gradient boosting (Friedman 2001) as scikit-learn 1.2 does it: each stage fits a
 * least-squares regression tree to the loss's negative gradient (on binned features), then
 * replaces every leaf's value by the loss's own line search over the leaf's rows. Shared by
 * GradientBoostingRegressor and GradientBoostingClassifier.
 *
 * @module
 */
import type { Backend, Matrix } from "../../tensor.ts";
import { Rng } from "../../_random.ts";
import { BACKENDS, checkOptions, show } from "../../_validate.ts";
import { type BinnedMatrix, withBinnedMatrix } from "../_binning.ts";
import { type FittedTrees, TreeEstimator } from "../_estimator.ts";
import { type GbdtLoss, type LossContext, LOSSES } from "./_gbdt_losses.ts";
import { growTree, withGrowthWorkspace } from "./_grower.ts";
import { toFeatures, toLabels, toWeights } from "../../estimators/_input.ts";
import { treesKernels } from "../_kernels.ts";
import type { TreesKernels, TreesWorkspace } from "../../backends/trees.ts";
import { type ParamTable, registeredName, type Resolved } from "../../estimators/_params.ts";
import { addTreeColumn, EnsembleBuilder, normalise, type TreeEnsemble } from "../_tree_model.ts";
import { type AbortWatch, checkSignal } from "../../_abort.ts";
import { fitWatch } from "../_tree_options.ts";

/** Options of the GradientBoosting estimators, named after scikit-learn's. */
export interface GBOptions {
  /** Loss (regressor: `"squared_error"` default, `"absolute_error"`, `"huber"`, `"quantile"`; classifier: `"log_loss"`). */
  loss?: string;
  /** Boosting stages (default 100). */
  nEstimators?: number;
  /** Shrinkage of every stage (default 0.1). */
  learningRate?: number;
  /** Fraction of rows drawn without replacement for each stage (default 1). */
  subsample?: number;
  /** Deepest level (default 3; 0 = unlimited). */
  maxDepth?: number;
  /** Least rows in a leaf: a count, or a fraction of the rows when below 1 (default 1). */
  minSamplesLeaf?: number;
  /** Least rows to split a node: a count >= 2, or a fraction (default 2). */
  minSamplesSplit?: number;
  /** Least weighted impurity decrease of a split, as a fraction of all rows (default 0). */
  minImpurityDecrease?: number;
  /** Grow best-first up to this many leaves (default: none, depth-first by level). */
  maxLeafNodes?: number;
  /** Features tried per split: `"sqrt"`, `"log2"`, a count, or a fraction (default all). */
  maxFeatures?: "sqrt" | "log2" | number;
  /** Quantile of `"quantile"` loss and of `"huber"`'s clipping (default 0.9). */
  alpha?: number;
  /** Bins per feature including the missing bin (default 256). */
  maxBin?: number;
  /** Seed of row and feature sampling (default 0). */
  seed?: number;
  backend?: Backend;
}

/** Options of `fit`. */
export interface GBFitOptions {
  sampleWeight?: ArrayLike<number>;
  onProgress?: (p: { iteration: number; total: number }) => void;
  /**
   * Aborting it stops the fit before its next stage with the signal's reason (an AbortError);
   * the estimator keeps its previous state. While a signal or `onProgress` is given, the fit
   * lets the event loop run every 10 ms, so a page repaints and a Cancel click arrives.
   */
  signal?: AbortSignal;
}

export interface GBState extends FittedTrees {
  loss: string;
}

type GBParams = Resolved<GBOptions, "maxLeafNodes" | "maxFeatures" | "backend">;

function countOrFraction(min: number) {
  return (name: string, value: unknown) => {
    const ok = typeof value === "number" && Number.isFinite(value) &&
      ((Number.isInteger(value) && value >= min) || (value > 0 && value < 1));
    if (!ok) {
      throw new RangeError(
        `Expected "${name}" to be an integer >= ${min} or a fraction in (0, 1) but found ${
          show(value)
        }`,
      );
    }
  };
}

function checkMaxFeatures(name: string, value: unknown): void {
  if (value === "sqrt" || value === "log2") return;
  const ok = typeof value === "number" && Number.isFinite(value) &&
    ((Number.isInteger(value) && value >= 1) || (value > 0 && value < 1));
  if (!ok) {
    throw new RangeError(
      `Expected "${name}" to be "sqrt", "log2", an integer >= 1 or a fraction in (0, 1) but found ${
        show(value)
      }`,
    );
  }
}

function checkOpenUnit(name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`Expected "${name}" to be a finite number but found ${show(value)}`);
  }
  if (!(value > 0 && value < 1)) {
    throw new RangeError(`Expected "${name}" to be in (0, 1) but found ${value}`);
  }
}

/** The option table; the loss choices depend on the estimator. */
export function gbParamTable(losses: readonly string[], defaultLoss: string): ParamTable {
  return {
    loss: { default: defaultLoss, rule: { kind: "choice", choices: losses } },
    nEstimators: { default: 100, rule: { kind: "int", min: 1 } },
    learningRate: { default: 0.1, rule: { kind: "number", min: 0, minExclusive: true } },
    subsample: { default: 1, rule: { kind: "number", min: 0, max: 1, minExclusive: true } },
    maxDepth: { default: 3, rule: { kind: "int", min: 0, max: 64 } },
    minSamplesLeaf: { default: 1, rule: { kind: "custom", check: countOrFraction(1) } },
    minSamplesSplit: { default: 2, rule: { kind: "custom", check: countOrFraction(2) } },
    minImpurityDecrease: { default: 0, rule: { kind: "number", min: 0 } },
    maxLeafNodes: { default: undefined, rule: { kind: "int", min: 2 } },
    maxFeatures: { default: undefined, rule: { kind: "custom", check: checkMaxFeatures } },
    alpha: { default: 0.9, rule: { kind: "custom", check: checkOpenUnit } },
    maxBin: { default: 256, rule: { kind: "int", min: 2, max: 256 } },
    seed: { default: 0, rule: { kind: "int", min: 0, max: 2 ** 32 - 1 } },
    backend: { default: undefined, rule: { kind: "choice", choices: BACKENDS } },
  };
}

/** Features per split as a fraction of all, exact for counts (see sampleFeatures). */
function featureFraction(maxFeatures: GBParams["maxFeatures"], nFeatures: number): number {
  if (maxFeatures === undefined) return 1;
  const count = maxFeatures === "sqrt"
    ? Math.floor(Math.sqrt(nFeatures))
    : maxFeatures === "log2"
    ? Math.floor(Math.log2(nFeatures))
    : Number.isInteger(maxFeatures) && maxFeatures >= 1
    ? maxFeatures
    : Math.floor(maxFeatures * nFeatures);
  return Math.min(1, Math.max(1, count) / nFeatures);
}

/** The base of GradientBoostingRegressor and GradientBoostingClassifier. */
export abstract class GBModel extends TreeEstimator<GBOptions, GBState> {
  constructor(options: GBOptions = {}) {
    super(options);
  }

  /** Labels as the loss reads them (class indices for classifiers), and the raw output count. */
  protected abstract prepareLabels(
    y: Float64Array,
  ): { labels: Float64Array; nOutputs: number; classes: Float64Array | null };
  protected abstract checkState(state: GBState): void;

  protected params(): GBParams {
    return this.resolvedOptions() as unknown as GBParams;
  }

  /**
   * Impurity-based importances as scikit-learn computes them: each tree's weighted impurity
   * decrease per feature over its root weight, averaged over trees, normalised to sum to 1.
   */
  get featureImportances(): Float32Array {
    const { model } = this.fitted();
    const sums = new Float64Array(model.nFeatures);
    for (let t = 0; t < model.treeGroup.length; t++) {
      const root = model.treeStart[t];
      if (model.feature[root] < 0 || !(model.cover[root] > 0)) continue;
      for (let i = root; i < model.treeStart[t + 1]; i++) {
        if (model.feature[i] >= 0) sums[model.feature[i]] += model.gain[i] / model.cover[root];
      }
    }
    return normalise(sums);
  }

  /** Trains the model; the previous fitted state stays until training succeeds. */
  async fit(X: Matrix, y: ArrayLike<number>, opts: GBFitOptions = {}): Promise<this> {
    const began = performance.now();
    const params = this.params();
    checkOptions("opts", opts, ["sampleWeight", "onProgress", "signal"]);
    checkSignal("signal", opts.signal);
    if (opts.onProgress !== undefined && typeof opts.onProgress !== "function") {
      throw new TypeError(
        `Expected "onProgress" to be a function but found ${show(opts.onProgress)}`,
      );
    }
    const x = toFeatures("X", X);
    const given = toWeights("sampleWeight", opts.sampleWeight, x.rows);
    const { labels, nOutputs, classes } = this.prepareLabels(toLabels("y", y, x.rows));
    const kernels = await treesKernels(params.backend);
    const model = await trainStages(
      kernels,
      { x: x.data, nRows: x.rows, nCols: x.cols, labels, given, nOutputs },
      params,
      { onProgress: opts.onProgress, watch: fitWatch(opts, began) },
    );
    this.state = { model, classes, loss: params.loss };
    return this;
  }

  protected fieldsToJSON(s: GBState): Record<string, unknown> {
    return { loss: s.loss };
  }

  protected stateFromJSON(fields: Record<string, unknown>, base: FittedTrees): GBState {
    const loss = registeredName("json.fitted.loss", fields.loss, LOSSES, "loss");
    const state = { ...base, loss };
    this.checkState(state);
    return state;
  }
}

interface StageData {
  x: Float32Array;
  nRows: number;
  nCols: number;
  labels: Float64Array;
  /** Sample weights as given, or null. */
  given: Float64Array | null;
  nOutputs: number;
}

/** Progress reports and cancellation of the stage loop. */
interface StageMonitor {
  onProgress: GBFitOptions["onProgress"];
  /** Checked before every stage. */
  watch: AbortWatch;
}

/** The stage loop. */
async function trainStages(
  kernels: TreesKernels,
  data: StageData,
  params: GBParams,
  monitor: StageMonitor,
): Promise<TreeEnsemble> {
  const { nRows, nCols, nOutputs: K } = data;
  const loss = LOSSES[params.loss];
  const weights = data.given ?? new Float64Array(nRows).fill(1);
  const ctx: LossContext = {
    labels: data.labels,
    weights,
    weighted: data.given !== null,
    raw: new Float64Array(nRows * K),
    nOutputs: K,
    alpha: params.alpha,
  };
  const init = loss.init(ctx);
  for (let r = 0; r < nRows; r++) ctx.raw.set(init, r * K);
  const builder = new EnsembleBuilder({
    nFeatures: nCols,
    nOutputs: K,
    leafWidth: 1,
    baseMargin: init,
  });
  const subsampled = Math.max(1, Math.floor(params.subsample * nRows)) < nRows;
  const train = (binned: BinnedMatrix) =>
    withGrowthWorkspace(kernels, binned, 3, null, async (workspace) => {
      if (subsampled) await kernels.retain(data.x);
      try {
        return await stages(
          kernels,
          workspace,
          binned,
          data,
          params,
          { loss, ctx, weights, builder },
          monitor,
        );
      } finally {
        if (subsampled) await kernels.release(data.x);
      }
    }, { readsHistograms: true }); // midpoint thresholds read the chosen feature's histogram
  return await withBinnedMatrix(
    kernels,
    data.x,
    nRows,
    nCols,
    { weights: data.given, maxBin: params.maxBin, watch: monitor.watch },
    train,
  );
}

/** The fitted pieces that the stage loop carries. */
interface StageState {
  loss: GbdtLoss;
  ctx: LossContext;
  weights: Float64Array;
  builder: EnsembleBuilder;
}

async function stages(
  kernels: TreesKernels,
  workspace: TreesWorkspace,
  binned: BinnedMatrix,
  data: StageData,
  params: GBParams,
  { loss, ctx, weights, builder }: StageState,
  monitor: StageMonitor,
): Promise<TreeEnsemble> {
  const { nRows, nCols, nOutputs: K } = data;

  let totalWeight = 0;
  for (const w of weights) totalWeight += w;
  const resolveCount = (v: number) => (v < 1 ? Math.ceil(v * nRows) : v);
  const growParams = {
    growPolicy: params.maxLeafNodes === undefined ? "depthwise" as const : "lossguide" as const,
    maxDepth: params.maxDepth,
    maxLeaves: params.maxLeafNodes ?? 0,
    lambda: 0,
    alpha: 0,
    gamma: 0,
    minChildWeight: 0,
    maxDeltaStep: 0,
    minSamplesLeaf: resolveCount(params.minSamplesLeaf),
    minSamplesSplit: resolveCount(params.minSamplesSplit),
    minGain: params.minImpurityDecrease * totalWeight,
    // Splits of pure nodes gain only rounding noise; scikit-learn stops at zero impurity.
    minRelativeGain: 1e-12,
    monotone: null,
    colsampleByLevel: 1,
    colsampleByNode: featureFraction(params.maxFeatures, nCols),
    midpointThresholds: true,
  };

  const rowRng = new Rng(params.seed, 1);
  const featureRng = new Rng(params.seed, 2);
  const features = Int32Array.from({ length: nCols }, (_, i) => i);
  const inBagCount = Math.max(1, Math.floor(params.subsample * nRows));
  const residual = new Float64Array(nRows);
  const values = new Float64Array(nRows * 3);
  const rows = new Int32Array(nRows);
  const treeOutput = inBagCount < nRows ? new Float32Array(nRows) : null;

  for (let stage = 0; stage < params.nEstimators; stage++) {
    await monitor.watch.check();
    const inBag = inBagCount < nRows ? rowRng.sampleIndices(nRows, inBagCount) : null;
    const stageCtx = { ...ctx, raw: ctx.raw.slice() };
    for (let k = 0; k < K; k++) {
      const state = loss.negativeGradient(stageCtx, k, residual);
      for (let r = 0; r < nRows; r++) {
        values[3 * r] = -weights[r] * residual[r];
        values[3 * r + 1] = weights[r];
        values[3 * r + 2] = 1;
      }
      if (inBag === null) { for (let r = 0; r < nRows; r++) rows[r] = r; }
      else rows.set(inBag);
      const nodes = await growTree(
        {
          workspace,
          binned,
          values,
          nChannels: 3,
          rows,
          rowCount: inBagCount,
          features,
          rng: featureRng,
          watch: monitor.watch,
        },
        growParams,
      );
      const leafValue = nodes.map((node) =>
        node.feature >= 0 ? 0 : Math.fround(
          params.learningRate *
            loss.leafValue(stageCtx, k, residual, rows, node.rowBegin, node.rowEnd, state),
        )
      );
      const specs = nodes.map((node, i) => ({
        feature: node.feature,
        threshold: node.threshold,
        defaultLeft: node.defaultLeft,
        left: node.left,
        right: node.right,
        value: leafValue[i],
        gain: node.gain,
        cover: node.sumHess,
      }));
      builder.addTree(specs, k);
      if (treeOutput === null) {
        nodes.forEach((node, i) => {
          if (node.feature < 0) {
            for (let j = node.rowBegin; j < node.rowEnd; j++) {
              ctx.raw[rows[j] * K + k] += leafValue[i];
            }
          }
        });
      } else {
        const tree = { specs, nFeatures: nCols };
        await addTreeColumn(kernels, tree, data.x, { values: () => ctx.raw, k, K }, treeOutput);
      }
    }
    monitor.onProgress?.({ iteration: stage + 1, total: params.nEstimators });
  }
  return builder.build();
}
