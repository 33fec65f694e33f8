/**
 * The base of DecisionTreeClassifier and DecisionTreeRegressor, and `TreeFitter`: training data
 * prepared once (features checked, bins cut, a kernel session open) for one tree fit or for the
 * many fits of a booster, each fit with its own weights.
 *
 * ```
 *  splitter "exact"   buildExactTree on the float32 values (scikit-learn's BestSplitter)
 *  splitter "hist"    forest kernels on the bin matrix (gini, entropy, squared_error, poisson),
 *                     or the exact builder on bin codes (absolute_error)
 *  then               cost-complexity pruning (ccpAlpha) → cartNodes → the shared model format
 * ```
 *
 * @module
 */
import type { Matrix } from "../../tensor.ts";
import { Rng } from "../../_random.ts";
import type { ForestSession } from "../../backends/forest.ts";
import { binMatrix, type BinnedMatrix } from "../_binning.ts";
import {
  buildOnBinCodes,
  forestData,
  forestKernels,
  grownToCart,
  growParams,
  kernelCriterion,
} from "./_cart_hist.ts";
import {
  buildExactTree,
  type CartTree,
  type FeatureDraws,
  resolveTreeLimits,
} from "./_cart_exact.ts";
import { pruneCostComplexity, pruningPath } from "./_cost_complexity.ts";
import { CLASSIFICATION_CRITERIA, CRITERIA, REGRESSION_CRITERIA } from "./_criteria.ts";
import { type FittedTrees, TreeEstimator } from "../_estimator.ts";
import { type Features, toFeatures, toLabels, toWeights } from "../../estimators/_input.ts";
import { treesKernels } from "../_kernels.ts";
import {
  asPromise,
  integerFrom,
  type ParamTable,
  registeredName,
  type Resolved,
} from "../../estimators/_params.ts";
import { checkFitOptions, type TreeOptions, treeParamTable } from "../_tree_options.ts";
import { normalise, type TreeEnsemble } from "../_tree_model.ts";
import { CartModelWriter } from "./_cart_model.ts";

/** Options of the decision trees. */
export interface DecisionTreeOptions extends TreeOptions {
  /** `"hist"` (default): splits between bins of the shared bin matrix; `"exact"`: between sorted values, as scikit-learn's `"best"`. */
  splitter?: "hist" | "exact";
  /** Cost-complexity pruning strength α ≥ 0 (default 0: no pruning). */
  ccpAlpha?: number;
}

/** Options of a decision tree's `fit`. */
export interface TreeFitOptions {
  sampleWeight?: ArrayLike<number>;
}

/** Every option resolved. */
export type TreeParams = Resolved<DecisionTreeOptions, "backend">;

export interface TreeState extends FittedTrees {
  criterion: string;
  /** Depth of the deepest leaf. */
  depth: number;
}

/** The option table of a decision tree. */
export function decisionTreeParamTable(
  criteria: readonly string[],
  defaultCriterion: string,
): ParamTable {
  return {
    ...treeParamTable(criteria, defaultCriterion),
    splitter: { default: "hist", rule: { kind: "choice", choices: ["hist", "exact"] } },
    ccpAlpha: { default: 0, rule: { kind: "number", min: 0 } },
  };
}

/** The training targets of a tree: class indices (nClasses ≥ 2) or targets (nClasses 0). */
export interface TreeTargets {
  y: Float64Array;
  nClasses: number;
}

/**
 * Training data prepared for any number of tree fits with the same options: the bin matrix and
 * kernel session of the hist splitter are made on first use and kept until `release`.
 */
export class TreeFitter {
  readonly x: Features;
  readonly targets: TreeTargets;
  readonly params: TreeParams;
  #binned: BinnedMatrix | null = null;
  #session: ForestSession | null = null;
  #binWeights: Float64Array | null;
  #draws: (seed: number) => FeatureDraws;

  /**
   * @param binWeights Weights of the cut points' quantiles (the first fit's sample weights).
   * @param draws The exact splitter's feature order from a seed (default: an Rng).
   */
  constructor(
    x: Features,
    targets: TreeTargets,
    params: TreeParams,
    binWeights: Float64Array | null,
    draws: (seed: number) => FeatureDraws = (seed) => new Rng(seed),
  ) {
    this.x = x;
    this.targets = targets;
    this.params = params;
    this.#binWeights = binWeights;
    this.#draws = draws;
    const spec = CRITERIA[params.criterion];
    spec?.checkTargets?.("y", targets.y);
  }

  get width(): number {
    return this.targets.nClasses > 0 ? this.targets.nClasses : 1;
  }

  /**
   * Grows one tree with these sample weights (null: all 1), pruned by ccpAlpha; `seed`
   * overrides the options' seed.
   */
  async fit(weights: Float64Array | null, seed = this.params.seed): Promise<CartTree> {
    return pruneCostComplexity(await this.grow(weights, seed), this.params.ccpAlpha);
  }

  /** The unpruned tree. */
  async grow(weights: Float64Array | null, seed = this.params.seed): Promise<CartTree> {
    const p = this.params, { x, targets } = this;
    let total = x.rows;
    if (weights !== null) {
      total = 0;
      for (const v of weights) total += v;
    }
    const limits = resolveTreeLimits(
      {
        maxDepth: p.maxDepth,
        minSamplesSplit: p.minSamplesSplit,
        minSamplesLeaf: p.minSamplesLeaf,
        minWeightFractionLeaf: p.minWeightFractionLeaf,
        maxFeatures: p.maxFeatures,
        maxLeafNodes: p.maxLeafNodes,
        minImpurityDecrease: p.minImpurityDecrease,
      },
      x.rows,
      x.cols,
      total,
    );
    const exactParams = { ...limits, criterion: p.criterion, rng: this.#draws(seed) };
    const input = { y: targets.y, weights, nClasses: targets.nClasses };
    if (p.splitter === "exact") {
      return buildExactTree({ x: x.data, nRows: x.rows, nCols: x.cols, ...input }, exactParams);
    }
    const binned = await this.#bins();
    const criterion = kernelCriterion(p.criterion);
    if (criterion === null) return buildOnBinCodes(binned, input, exactParams);
    this.#session ??= (await forestKernels(p.backend)).open(forestData(binned, {
      labels: targets.y,
      nClasses: targets.nClasses,
    }));
    const params = growParams(limits, {
      criterion,
      nClasses: targets.nClasses,
      minWeightFractionLeaf: p.minWeightFractionLeaf,
      bootstrap: false,
      nDraws: 0,
      seed,
    });
    const [grown] = await this.#session.grow(params, Int32Array.of(0), weights);
    if (grown.nodeCount === 1 && grown.weightedNNodeSamples[0] === 0) {
      throw new RangeError(`Expected at least one row with a positive weight`);
    }
    return grownToCart(grown, binned, x.cols, this.width, targets.nClasses > 0);
  }

  async #bins(): Promise<BinnedMatrix> {
    if (this.#binned === null) {
      const kernels = await treesKernels(this.params.backend);
      this.#binned = await binMatrix(
        kernels,
        this.x.data,
        this.x.rows,
        this.x.cols,
        { weights: this.#binWeights, maxBin: this.params.maxBin },
      );
    }
    return this.#binned;
  }

  /** Closes the kernel session. */
  release(): void {
    this.#session?.release();
    this.#session = null;
  }
}

/** One tree in the shared model format (values: class fractions or targets). */
export function cartModel(tree: CartTree): TreeEnsemble {
  const writer = new CartModelWriter(tree.nFeatures, tree.leafWidth);
  writer.add(tree);
  return writer.build();
}

/**
 * scikit-learn's impurity importances of tree `t` of a model: Σ over its splits of the weighted
 * impurity decrease, per feature, normalised to sum to 1 (zeros for a single leaf).
 */
export function treeImportances(model: TreeEnsemble, t: number, out: Float64Array): boolean {
  const begin = model.treeStart[t], end = model.treeStart[t + 1];
  out.fill(0);
  let total = 0;
  for (let i = begin; i < end; i++) {
    const f = model.feature[i];
    if (f < 0) continue;
    out[f] += model.gain[i];
    total += model.gain[i];
  }
  if (!(total > 0)) return false;
  for (let f = 0; f < out.length; f++) out[f] /= total;
  return true;
}

/** The leaf each row reaches in tree `t` of a model (global node indices minus the tree's start). */
export function applyTree(
  model: TreeEnsemble,
  t: number,
  x: Float32Array,
  nRows: number,
): Int32Array {
  const out = new Int32Array(nRows);
  const root = model.treeStart[t], cols = model.nFeatures;
  for (let r = 0; r < nRows; r++) {
    let node = root;
    while (model.feature[node] >= 0) {
      const v = x[r * cols + model.feature[node]];
      const goLeft = v !== v ? model.defaultLeft[node] === 1 : v < model.threshold[node];
      node = goLeft ? model.left[node] : model.right[node];
    }
    out[r] = node - root;
  }
  return out;
}

const featureDraws = new WeakMap<DecisionTreeBase, (seed: number) => FeatureDraws>();

/**
 * Makes `tree`'s exact splitter visit features in the order `draws` gives: a test seam that
 * replays another library's random feature order, which decides between exactly tied splits.
 */
export function replayFeatureDraws(
  tree: DecisionTreeBase,
  draws: (seed: number) => FeatureDraws,
): void {
  featureDraws.set(tree, draws);
}

/**
 * For boosters that fit many trees of one template on the same rows: a fitter over checked
 * features and encoded targets (bins cut once, from `binWeights`).
 */
export let treeFitterFor: (
  template: DecisionTreeBase,
  x: Features,
  targets: TreeTargets,
  binWeights: Float64Array | null,
) => TreeFitter;

/**
 * A fitted tree's predictions (class labels, or values) for checked rows, by walking the model
 * in this thread: what `predict` returns, without a kernel call per tree (boosters hold many
 * small trees).
 */
export let treePredictions: (tree: DecisionTreeBase, x: Features) => Float32Array;

/** Makes `tree` fitted with a grown tree (classes: the booster's, or null for regression). */
export let adoptTree: (
  tree: DecisionTreeBase,
  cart: CartTree,
  classes: Float64Array | null,
) => void;

/** The base of the two decision trees. */
export abstract class DecisionTreeBase extends TreeEstimator<DecisionTreeOptions, TreeState> {
  static {
    treeFitterFor = (template, x, targets, binWeights) =>
      new TreeFitter(x, targets, template.params(), binWeights, featureDraws.get(template));
    treePredictions = (tree, x) => {
      const { model, classes } = tree.fitted();
      if (x.cols !== model.nFeatures) {
        throw new RangeError(
          `Expected "X" to have ${model.nFeatures} columns (as at fit) but found ${x.cols}`,
        );
      }
      const leaves = applyTree(model, 0, x.data, x.rows);
      const width = model.leafWidth, value = model.value;
      // Each leaf's answer (a regression value, or the class of its largest value) is worked
      // out the first time a row lands in it (NaN: not yet).
      const answer = new Float32Array(model.feature.length).fill(NaN);
      const out = new Float32Array(x.rows);
      for (let r = 0; r < x.rows; r++) {
        const leaf = leaves[r];
        if (answer[leaf] !== answer[leaf]) {
          const at = leaf * width;
          let best = 0;
          if (classes !== null) {
            for (let k = 1; k < width; k++) if (value[at + k] > value[at + best]) best = k;
          }
          answer[leaf] = classes === null ? value[at] : classes[best];
        }
        out[r] = answer[leaf];
      }
      return out;
    };
    adoptTree = (tree, cart, classes) => {
      tree.state = {
        model: cartModel(cart),
        classes,
        criterion: tree.params().criterion,
        depth: cart.maxDepth,
      };
    };
  }

  constructor(options: DecisionTreeOptions = {}) {
    super(options);
  }

  /** Class indices (classifiers) or checked targets, and the classes. */
  protected abstract prepareTargets(
    y: Float64Array,
  ): { targets: TreeTargets; classes: Float64Array | null };

  /** Class labels (classifiers) or values (regressors) of the rows of X. */
  abstract predict(X: Matrix): Promise<Float32Array>;

  protected params(): TreeParams {
    return this.resolvedOptions() as unknown as TreeParams;
  }

  /** A fitter for these options on (X, y) (checked). */
  protected fitter(X: Matrix, y: ArrayLike<number>, sampleWeight: unknown) {
    const params = this.params();
    const x = toFeatures("X", X);
    const weights = toWeights("sampleWeight", sampleWeight, x.rows);
    const { targets, classes } = this.prepareTargets(toLabels("y", y, x.rows));
    const fitter = new TreeFitter(x, targets, params, weights, featureDraws.get(this));
    return { fitter, weights, classes, params };
  }

  /**
   * Grows the tree; the previous fitted state stays until this succeeds.
   *
   * @param X Rows of features; NaN marks a missing value.
   * @param y One finite label or target per row.
   * @param opts `sampleWeight`: non-negative weights with a positive sum.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} On row-count mismatch, NaN or ±Infinity in y, empty X, one class
   *   only (classifiers), targets the criterion refuses, or an option unknown or out of range.
   */
  async fit(X: Matrix, y: ArrayLike<number>, opts: TreeFitOptions = {}): Promise<this> {
    checkFitOptions(opts);
    const { fitter, weights, classes, params } = this.fitter(X, y, opts.sampleWeight);
    try {
      const tree = await fitter.fit(weights);
      this.state = {
        model: cartModel(tree),
        classes,
        criterion: params.criterion,
        depth: tree.maxDepth,
      };
    } finally {
      fitter.release();
    }
    return this;
  }

  /**
   * The effective alphas of minimal cost-complexity pruning and the total leaf impurity of
   * each pruned subtree, as scikit-learn's `cost_complexity_pruning_path` (on the unpruned
   * tree these options grow).
   *
   * @throws {RangeError} On the same bad input as `fit`.
   */
  async costComplexityPruningPath(
    X: Matrix,
    y: ArrayLike<number>,
    opts: TreeFitOptions = {},
  ): Promise<{ ccpAlphas: Float64Array; impurities: Float64Array }> {
    checkFitOptions(opts);
    const { fitter, weights } = this.fitter(X, y, opts.sampleWeight);
    try {
      return pruningPath(await fitter.grow(weights));
    } finally {
      fitter.release();
    }
  }

  /**
   * The index of the leaf each row reaches (scikit-learn's node numbering for the exact
   * splitter).
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  apply(X: Matrix): Promise<Int32Array> {
    return asPromise(() => {
      const { model } = this.fitted();
      const x = toFeatures("X", X, model.nFeatures);
      return applyTree(model, 0, x.data, x.rows);
    });
  }

  /** Normalised total impurity decrease per feature (scikit-learn's `feature_importances_`). */
  get featureImportances(): Float32Array {
    const { model } = this.fitted();
    const scores = new Float64Array(model.nFeatures);
    treeImportances(model, 0, scores);
    return normalise(scores);
  }

  /** Depth of the deepest leaf (root = 0). */
  get depth(): number {
    return this.fitted().depth;
  }

  /** Number of leaves. */
  get leafCount(): number {
    return this.fitted().model.feature.reduce((n, f) => n + (f < 0 ? 1 : 0), 0);
  }

  protected fieldsToJSON(s: TreeState): Record<string, unknown> {
    return { criterion: s.criterion, depth: s.depth };
  }

  protected stateFromJSON(fields: Record<string, unknown>, base: FittedTrees): TreeState {
    const criterion = criterionFrom(fields);
    const depth = fields.depth === undefined
      ? 0
      : integerFrom("json.fitted.depth", fields.depth, 0, base.model.feature.length);
    const state = { ...base, criterion, depth };
    checkCartState(state, this.isClassifier, "tree");
    return state;
  }

  /** Whether this is the classifier (classes, class fractions in the leaves). */
  protected abstract get isClassifier(): boolean;
}

/** The split criterion of a serialised tree or forest. */
export function criterionFrom(fields: Record<string, unknown>): string {
  return registeredName("json.fitted.criterion", fields.criterion, CRITERIA, "criterion");
}

/**
 * Throws a RangeError unless a restored tree or forest suits a classifier (a criterion of
 * classification, one leaf value per class) or a regressor (one value per leaf).
 */
export function checkCartState(
  state: FittedTrees & { criterion: string },
  isClassifier: boolean,
  what: "tree" | "forest",
): void {
  const { model, classes, criterion } = state;
  if (isClassifier) {
    const k = classes?.length ?? 0;
    if (
      !(CLASSIFICATION_CRITERIA as readonly string[]).includes(criterion) || k < 2 ||
      model.leafWidth !== k || model.nOutputs !== k
    ) {
      throw new RangeError(
        `Expected a classification ${what} whose leaves hold one value per class but found ${k} classes, leaf width ${model.leafWidth}`,
      );
    }
  } else if (
    !(REGRESSION_CRITERIA as readonly string[]).includes(criterion) ||
    model.leafWidth !== 1 || model.nOutputs !== 1 || classes !== null
  ) {
    throw new RangeError(
      `Expected a regression ${what} with one value per leaf but found criterion "${criterion}", leaf width ${model.leafWidth}`,
    );
  }
}
