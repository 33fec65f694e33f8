/**
 * The XGBoost-style boosting loop: each round computes gradients at the current margins, grows
 * one tree per output on the binned data, scales its leaf weights by the learning rate and
 * updates the margins; an optional evaluation set drives early stopping.
 *
 * @module
 */
import type { TreesKernels } from "../../backends/trees.ts";
import { Rng } from "../../_random.ts";
import type { LeafStep, TreesWorkspace } from "../../backends/trees.ts";
import { type BinnedMatrix, withBinnedMatrix } from "../_binning.ts";
import {
  type GrownNode,
  type GrowParams,
  growTree,
  sampleFeatures,
  withGrowthWorkspace,
} from "./_grower.ts";
import type { Metric } from "./_metrics.ts";
import { type Objective, transformMargins } from "./_objectives.ts";
import { interpolatedQuantile, weightedQuantile } from "./_quantile.ts";
import {
  addTreeColumn,
  addTrees,
  EnsembleBuilder,
  type NodeSpec,
  type TreeEnsemble,
} from "../_tree_model.ts";
import type { AbortWatch } from "../../_abort.ts";

/** Everything the loop needs besides the data. */
export interface BoostParams extends GrowParams {
  nEstimators: number;
  learningRate: number;
  subsample: number;
  colsampleBytree: number;
  maxBin: number;
  seed: number;
  objective: Objective;
  /** In prediction space; undefined = the objective's default. */
  baseScore: number | undefined;
  huberSlope: number;
  poissonMaxDeltaStep: number;
  scalePosWeight: number;
}

/** Training data: row-major float32 features and labels (class indices for classifiers). */
export interface BoostData {
  x: Float32Array;
  nRows: number;
  nCols: number;
  labels: Float64Array;
  weights: Float64Array | null;
  /** Margins per row: the class count for multiclass models, else 1. */
  nOutputs: number;
}

/** Evaluation and progress reporting of a fit. */
export interface BoostMonitor {
  evalSet?: { x: Float32Array; nRows: number; labels: Float64Array };
  metrics: Metric[];
  earlyStoppingRounds?: number;
  onProgress?: (p: { iteration: number; total: number; metrics?: Record<string, number> }) => void;
  /** Checked before every round: cancellation and turns of the event loop. */
  watch?: AbortWatch;
}

export interface BoostResult {
  model: TreeEnsemble;
  /** Rounds kept, minus one (the best round under early stopping, else the last). */
  bestIteration: number;
  /** Metric values per round on the evaluation set. */
  evalHistory: Record<string, number[]>;
}

/** Rows kept for one tree: each row with probability `subsample` (XGBoost's uniform sampling). */
function sampleRows(rng: Rng, nRows: number, subsample: number, rows: Int32Array): number {
  if (subsample >= 1) {
    for (let r = 0; r < nRows; r++) rows[r] = r;
    return nRows;
  }
  let n = 0;
  for (let r = 0; r < nRows; r++) if (rng.next() < subsample) rows[n++] = r;
  return n;
}

/** Refits every leaf to a quantile of its rows' residuals (XGBoost's adaptive leaves). */
function refitLeaves(
  nodes: GrownNode[],
  rows: Int32Array,
  data: BoostData,
  margins: Float64Array,
  alpha: number,
): Float64Array {
  const out = new Float64Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    if (node.feature >= 0 || node.rowEnd === node.rowBegin) continue;
    const residual = new Float64Array(node.rowEnd - node.rowBegin);
    const weight = new Float64Array(residual.length);
    for (let j = node.rowBegin; j < node.rowEnd; j++) {
      const r = rows[j];
      residual[j - node.rowBegin] = data.labels[r] - margins[r];
      weight[j - node.rowBegin] = data.weights === null ? 1 : data.weights[r];
    }
    out[i] = data.weights === null
      ? interpolatedQuantile(residual, alpha)
      : weightedQuantile(residual, weight, alpha);
  }
  return out;
}

function toSpecs(nodes: GrownNode[], leafValues: (i: number) => number): NodeSpec[] {
  return nodes.map((node, i) => ({
    feature: node.feature,
    threshold: node.threshold,
    defaultLeft: node.defaultLeft,
    left: node.left,
    right: node.right,
    value: leafValues(i),
    gain: node.gain,
    cover: node.sumHess,
    categories: node.categories,
  }));
}

/**
 * The margin update of one tree grown on all rows: each leaf's value added to its rows. The
 * rows were given in ascending order (sampleRows) and partitions are stable, so every leaf's
 * segment is ascending.
 */
function leafStep(
  nodes: GrownNode[],
  value: (i: number) => number,
  margins: Float64Array,
  k: number,
  nOutputs: number,
): LeafStep {
  const segments = new Int32Array(nodes.length * 2), values = new Float64Array(nodes.length);
  let leafCount = 0;
  nodes.forEach((node, i) => {
    if (node.feature >= 0) return;
    segments[2 * leafCount] = node.rowBegin;
    segments[2 * leafCount + 1] = node.rowEnd;
    values[leafCount++] = value(i);
  });
  return { margins, nOutputs, k, segments, values, leafCount, ascending: true };
}

/** Runs the boosting loop. */
export async function boost(
  kernels: TreesKernels,
  data: BoostData,
  params: BoostParams,
  monitor: BoostMonitor,
): Promise<BoostResult> {
  return await withBinnedMatrix(
    kernels,
    data.x,
    data.nRows,
    data.nCols,
    {
      weights: data.weights,
      maxBin: params.maxBin,
      categorical: params.categorical?.mask ?? null,
      watch: monitor.watch,
    },
    (binned) => boostOnBins(kernels, binned, data, params, monitor),
  );
}

/** Runs the boosting loop on a binned matrix. */
async function boostOnBins(
  kernels: TreesKernels,
  binned: BinnedMatrix,
  data: BoostData,
  params: BoostParams,
  monitor: BoostMonitor,
): Promise<BoostResult> {
  // Arrays every round reads again: subsampled rounds walk each tree over all of X, and the
  // gradient kernels read the labels and weights.
  const resident = [
    ...(params.subsample < 1 ? [data.x] : []),
    ...(params.objective.kernelLoss === undefined ? [] : [data.labels]),
    ...(params.objective.kernelLoss === undefined || data.weights === null ? [] : [data.weights]),
  ];
  return await withGrowthWorkspace(
    kernels,
    binned,
    2,
    params.monotone,
    async (workspace) => {
      const retained: typeof resident = [];
      try {
        for (const array of resident) {
          await kernels.retain(array);
          retained.push(array);
        }
        return await boostBinned(kernels, workspace, binned, data, params, monitor);
      } finally {
        for (const array of retained) await kernels.release(array);
      }
    },
    { categorical: params.categorical ?? null, trees: params.nEstimators * data.nOutputs },
  );
}

async function boostBinned(
  kernels: TreesKernels,
  workspace: TreesWorkspace,
  binned: BinnedMatrix,
  data: BoostData,
  params: BoostParams,
  monitor: BoostMonitor,
): Promise<BoostResult> {
  const { nRows, nCols, nOutputs: K } = data;
  const objective = params.objective;
  const baseScore = params.baseScore ?? objective.defaultBaseScore(data.labels, data.weights);
  const baseMargin = Math.fround(objective.margin(baseScore));
  const builder = new EnsembleBuilder({
    nFeatures: nCols,
    nOutputs: K,
    leafWidth: 1,
    baseMargin: new Array(K).fill(baseMargin),
  });

  // Margins and gradients in the kernels' own memory where they can lend it: the margin update
  // and the gradients then run there on each round's rows, with no copies in between. A lent
  // view is fetched again before TypeScript reads or writes it: where the memory is not
  // shared, growing it detaches the views lent before (the kernels still know them).
  const hostMargins = workspace.margins(K) === null ? new Float64Array(nRows * K) : null;
  const margins = () => hostMargins ?? workspace.margins(K)!;
  const hostGradients = workspace.values(0) === null
    ? Array.from({ length: K }, () => new Float64Array(nRows * 2))
    : null;
  const gradients = () =>
    hostGradients ?? Array.from({ length: K }, (_, k) => workspace.values(k)!);
  margins().fill(baseMargin);
  const rowRng = new Rng(params.seed, 1);
  const featureRng = new Rng(params.seed, 2);
  const allFeatures = Int32Array.from({ length: nCols }, (_, i) => i);
  const treeOutput = params.subsample < 1 ? new Float32Array(nRows) : null;
  const inOrder = params.subsample >= 1 && objective.leafQuantile === undefined;
  const rows = new Int32Array(inOrder ? 0 : nRows);

  const evalSet = monitor.evalSet;
  const evalMargins = evalSet ? new Float32Array(evalSet.nRows * K).fill(baseMargin) : null;
  const evalHistory: Record<string, number[]> = {};
  for (const m of monitor.metrics) evalHistory[m.name] = [];
  const stopMetric = monitor.metrics[monitor.metrics.length - 1];
  let bestIteration = -1, bestScore = NaN;

  for (let round = 0; round < params.nEstimators; round++) {
    await monitor.watch?.check();
    const context = {
      margins: margins(),
      nOutputs: K,
      labels: data.labels,
      weights: data.weights,
      huberSlope: params.huberSlope,
      poissonMaxDeltaStep: params.poissonMaxDeltaStep,
      scalePosWeight: params.scalePosWeight,
    };
    const roundGradients = gradients();
    if (objective.kernelLoss === undefined) objective.gradients(context, roundGradients);
    else await kernels.gradients({ ...context, loss: objective.kernelLoss, out: roundGradients });
    const roundTrees = new EnsembleBuilder({
      nFeatures: nCols,
      nOutputs: K,
      leafWidth: 1,
      baseMargin: new Array(K).fill(0),
    });
    for (let k = 0; k < K; k++) {
      // Every row, in order, needs no host array unless the leaves are refitted from it.
      const rowCount = inOrder ? nRows : sampleRows(rowRng, nRows, params.subsample, rows);
      const features = sampleFeatures(featureRng, allFeatures, params.colsampleBytree);
      const nodes = await growTree(
        {
          workspace,
          binned,
          // The kernels find a lent buffer from any view of it, detached or not.
          values: roundGradients[k],
          nChannels: 2,
          rows: inOrder ? null : rows,
          rowCount,
          features,
          rng: featureRng,
          watch: monitor.watch,
        },
        params,
      );
      const eta = params.learningRate;
      const quantiles = objective.leafQuantile === undefined
        ? null
        : refitLeaves(nodes, rows, data, margins(), objective.leafQuantile);
      const value = (i: number) =>
        Math.fround(
          (quantiles !== null && nodes[i].feature < 0 ? quantiles[i] : nodes[i].weight) * eta,
        );
      const specs = toSpecs(nodes, value);
      builder.addTree(specs, k);
      roundTrees.addTree(specs, k);
      if (treeOutput === null) {
        await workspace.addLeaves(leafStep(nodes, value, margins(), k, K));
      } else {
        // Rows left out of this tree's sample are in no leaf segment: walk the tree for all rows.
        const tree = { specs, nFeatures: nCols };
        await addTreeColumn(kernels, tree, data.x, { values: margins, k, K }, treeOutput);
      }
    }

    let metrics: Record<string, number> | undefined;
    if (evalSet && evalMargins) {
      await addTrees(kernels, roundTrees.build(), evalSet.x, evalSet.nRows, 0, K, evalMargins);
      const predictions = evalPredictions(objective, evalMargins, K);
      metrics = {};
      for (const m of monitor.metrics) {
        const v = m.evaluate(predictions, K, evalSet.labels, null);
        metrics[m.name] = v;
        evalHistory[m.name].push(v);
      }
      const score = metrics[stopMetric.name];
      if (bestIteration < 0 || (stopMetric.maximize ? score > bestScore : score < bestScore)) {
        bestScore = score;
        bestIteration = round;
      }
    }
    monitor.onProgress?.({ iteration: round + 1, total: params.nEstimators, metrics });
    if (
      monitor.earlyStoppingRounds !== undefined && bestIteration >= 0 &&
      round - bestIteration >= monitor.earlyStoppingRounds
    ) {
      break;
    }
  }
  const kept = monitor.earlyStoppingRounds !== undefined && bestIteration >= 0
    ? bestIteration + 1
    : builder.treeCount / K;
  return { model: builder.build(kept * K), bestIteration: kept - 1, evalHistory };
}

/** Predictions as metrics read them: probabilities for classifiers (logitraw included). */
export function evalPredictions(
  objective: Objective,
  margins: Float32Array,
  nOutputs: number,
): Float32Array {
  const transform = objective.task === "binary" ? "sigmoid" : objective.transform;
  return transformMargins(transform, margins, nOutputs);
}
