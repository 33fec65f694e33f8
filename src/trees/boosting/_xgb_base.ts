/**
 * What XGBRegressor and XGBClassifier share: the option table, fit-time validation, the fitted
 * state and its serialisation, margins and importances.
 *
 * @module
 */
import type { Backend, Matrix, Tensor } from "../../tensor.ts";
import { BACKENDS, checkOptions, show } from "../../_validate.ts";
import { boost, type BoostResult } from "./_booster.ts";
import type { Categorical } from "../../backends/trees.ts";
import { type FittedTrees, TreeEstimator } from "../_estimator.ts";
import { toFeatures, toLabels, toWeights } from "../../estimators/_input.ts";
import { treesKernels } from "../_kernels.ts";
import { type Metric, METRICS } from "./_metrics.ts";
import { type Objective, OBJECTIVES } from "./_objectives.ts";
import {
  integerFrom,
  MAX_COUNT,
  type ParamTable,
  registeredName,
  type Resolved,
} from "../../estimators/_params.ts";
import { stringifyModel, xgboostModelJSON } from "../io/_xgboost_writer.ts";
import { featureScores, IMPORTANCE_TYPES, type ImportanceType, normalise } from "../_tree_model.ts";
import { checkSignal } from "../../_abort.ts";
import { fitWatch } from "../_tree_options.ts";

/** Options of XGBRegressor and XGBClassifier, named after XGBoost's scikit-learn API. */
export interface XGBOptions {
  /** Boosting rounds (default 100). */
  nEstimators?: number;
  /** Shrinkage η of every leaf (default 0.3). */
  learningRate?: number;
  /** Deepest level (default 6; 0 = unlimited, only with `maxLeaves`). */
  maxDepth?: number;
  /** Most leaves per tree (default 0 = unlimited). */
  maxLeaves?: number;
  /** `"depthwise"` (default) or `"lossguide"` (best loss reduction first). */
  growPolicy?: "depthwise" | "lossguide";
  /** L2 penalty λ (default 1). */
  regLambda?: number;
  /** L1 penalty α (default 0). */
  regAlpha?: number;
  /** Least loss reduction to split, XGBoost's `gamma` (default 0). */
  gamma?: number;
  /** Least hessian sum per child (default 1). */
  minChildWeight?: number;
  /** Largest absolute leaf weight before shrinkage (default 0 = none). */
  maxDeltaStep?: number;
  /** Fraction of rows each tree sees (default 1). */
  subsample?: number;
  /** Fractions of features per tree, per level (of the tree's) and per node (of the level's). */
  colsampleBytree?: number;
  colsampleBylevel?: number;
  colsampleBynode?: number;
  /** Bins per feature including the missing bin (default 256, at most 256). */
  maxBin?: number;
  /** Learning objective, an XGBoost name (see OBJECTIVES). */
  objective?: string;
  /** Initial prediction in output space (default 0.5; reg:absoluteerror: the weighted median). */
  baseScore?: number;
  /** Seed of row and feature sampling (default 0). */
  seed?: number;
  /** Per feature: 1 increasing, −1 decreasing, 0 free. */
  monotoneConstraints?: number[];
  /** Metric(s) on `evalSet`; the last one drives early stopping. */
  evalMetric?: string | string[];
  /** What `featureImportances` measures (default `"gain"`, the mean gain of the splits). */
  importanceType?: ImportanceType;
  /** δ of reg:pseudohubererror (default 1). */
  huberSlope?: number;
  /** Weight of positive examples for binary objectives (default 1). */
  scalePosWeight?: number;
  /**
   * Columns holding category codes 0, 1, 2, … (NaN = missing, at most 254): they split by
   * category sets, as XGBoost's `enable_categorical` with `feature_types` "c".
   */
  categoricalFeatures?: number[];
  /** One-hot splits for categorical features with fewer categories than this (default 4). */
  maxCatToOnehot?: number;
  backend?: Backend;
}

/** Options of `fit`. */
export interface XGBFitOptions {
  sampleWeight?: ArrayLike<number>;
  evalSet?: [Matrix, ArrayLike<number>];
  earlyStoppingRounds?: number;
  onProgress?: (p: { iteration: number; total: number; metrics?: Record<string, number> }) => void;
  /**
   * Aborting it stops the fit before its next round with the signal's reason (an AbortError);
   * the estimator keeps its previous state. While a signal or `onProgress` is given, the fit
   * lets the event loop run every 10 ms, so a page repaints and a Cancel click arrives.
   */
  signal?: AbortSignal;
}

const FIT_OPTIONS = ["sampleWeight", "evalSet", "earlyStoppingRounds", "onProgress", "signal"];

/** The option table; `objective` is filled in by each estimator. */
export function xgbParamTable(
  objectives: readonly string[],
  defaultObjective: string | undefined,
): ParamTable {
  const positive = { kind: "number", min: 0, minExclusive: true } as const;
  const fraction = { kind: "number", min: 0, max: 1, minExclusive: true } as const;
  const nonNegative = { kind: "number", min: 0 } as const;
  return {
    nEstimators: { default: 100, rule: { kind: "int", min: 1 } },
    learningRate: { default: 0.3, rule: positive },
    maxDepth: { default: 6, rule: { kind: "int", min: 0, max: 64 } },
    maxLeaves: { default: 0, rule: { kind: "int", min: 0 } },
    growPolicy: {
      default: "depthwise",
      rule: { kind: "choice", choices: ["depthwise", "lossguide"] },
    },
    regLambda: { default: 1, rule: nonNegative },
    regAlpha: { default: 0, rule: nonNegative },
    gamma: { default: 0, rule: nonNegative },
    minChildWeight: { default: 1, rule: nonNegative },
    maxDeltaStep: { default: undefined, rule: nonNegative },
    subsample: { default: 1, rule: fraction },
    colsampleBytree: { default: 1, rule: fraction },
    colsampleBylevel: { default: 1, rule: fraction },
    colsampleBynode: { default: 1, rule: fraction },
    maxBin: { default: 256, rule: { kind: "int", min: 2, max: 256 } },
    objective: { default: defaultObjective, rule: { kind: "choice", choices: objectives } },
    baseScore: { default: undefined, rule: { kind: "number" } },
    seed: { default: 0, rule: { kind: "int", min: 0, max: 2 ** 32 - 1 } },
    monotoneConstraints: { default: undefined, rule: { kind: "custom", check: checkMonotone } },
    evalMetric: { default: undefined, rule: { kind: "custom", check: checkMetrics } },
    importanceType: { default: "gain", rule: { kind: "choice", choices: IMPORTANCE_TYPES } },
    huberSlope: { default: 1, rule: positive },
    scalePosWeight: { default: 1, rule: positive },
    categoricalFeatures: {
      default: undefined,
      rule: { kind: "custom", check: checkCategoricalFeatures },
    },
    maxCatToOnehot: { default: 4, rule: { kind: "int", min: 1 } },
    backend: { default: undefined, rule: { kind: "choice", choices: BACKENDS } },
  };
}

function checkMonotone(name: string, value: unknown): void {
  if (!Array.isArray(value) || !value.every((v) => v === -1 || v === 0 || v === 1)) {
    throw new TypeError(
      `Expected "${name}" to be an array of -1, 0 and 1 but found ${show(value)}`,
    );
  }
}

function checkCategoricalFeatures(name: string, value: unknown): void {
  if (
    !Array.isArray(value) ||
    !value.every((v, i) => Number.isInteger(v) && v >= 0 && value.indexOf(v) === i)
  ) {
    throw new TypeError(
      `Expected "${name}" to be an array of distinct column indices but found ${show(value)}`,
    );
  }
}

/** Largest category code: bins are bytes, and the last one is the missing bin. */
const MAX_CATEGORY = 254;

/**
 * Checks the categorical columns of a row-major matrix: every cell a category code (an integer
 * in [0, MAX_CATEGORY]) or NaN.
 */
function checkCategoryCodes(x: Float32Array, rows: number, cols: number, features: number[]) {
  for (const f of features) {
    for (let r = 0; r < rows; r++) {
      const v = x[r * cols + f];
      if (v !== v || (Number.isInteger(v) && v >= 0 && v <= MAX_CATEGORY)) continue;
      throw new RangeError(
        `Expected column ${f} of "X" (categorical) to hold category codes 0..${MAX_CATEGORY} or NaN but found ${v} in row ${r}`,
      );
    }
  }
}

function checkMetrics(name: string, value: unknown): void {
  const list = Array.isArray(value) ? value : [value];
  const known = Object.keys(METRICS);
  if (list.length === 0) throw new RangeError(`Expected "${name}" to name at least one metric`);
  for (const m of list) {
    if (typeof m !== "string" || !known.includes(m)) {
      throw new RangeError(
        `Expected "${name}" to be one of ${known.map((k) => `"${k}"`).join(", ")} but found ${
          show(m)
        }`,
      );
    }
  }
}

/** Resolved options (defaults filled in). */
export type XGBParams = Resolved<
  XGBOptions,
  | "baseScore"
  | "monotoneConstraints"
  | "evalMetric"
  | "maxDeltaStep"
  | "backend"
  | "objective"
  | "categoricalFeatures"
>;

/** Training data after the estimator-specific label handling. */
export interface PreparedLabels {
  labels: Float64Array;
  objective: Objective;
  nOutputs: number;
  /** The sorted classes of classifiers, else null. */
  classes: Float64Array | null;
  /** Encodes evaluation labels the same way. */
  encode(name: string, y: Float64Array): Float64Array;
}

/** The fitted state. */
export interface XGBState extends FittedTrees {
  objective: string;
  bestIteration: number;
  evalHistory: Record<string, number[]>;
}

/** The base of XGBRegressor and XGBClassifier. */
export abstract class XGBModel extends TreeEstimator<XGBOptions, XGBState> {
  constructor(options: XGBOptions = {}) {
    super(options);
  }

  protected abstract prepareLabels(y: Float64Array, params: XGBParams): PreparedLabels;
  /** Throws a RangeError unless the state fits this estimator. */
  protected abstract checkState(state: XGBState): void;

  protected params(): XGBParams {
    return this.resolvedOptions() as unknown as XGBParams;
  }

  /** Boosting round (0-based) whose model is kept: the best one under early stopping. */
  get bestIteration(): number {
    return this.fitted().bestIteration;
  }

  /** Metric values per round on the evaluation set of the last fit. */
  get evalHistory(): Record<string, number[]> {
    return structuredClone(this.fitted().evalHistory);
  }

  /** Importance of each feature by `importanceType`, normalised to sum to 1. */
  get featureImportances(): Float32Array {
    const type = (this.options.importanceType ?? "gain") as ImportanceType;
    return normalise(featureScores(this.fitted().model, type));
  }

  /**
   * Unnormalised importance of each feature, as XGBoost's `get_score`: `weight` (splits),
   * `gain` / `cover` (means per split), `totalGain` / `totalCover`.
   */
  featureScores(type: ImportanceType = "gain"): Float64Array {
    if (!IMPORTANCE_TYPES.includes(type)) {
      throw new RangeError(
        `Expected "type" to be one of ${
          IMPORTANCE_TYPES.map((t) => `"${t}"`).join(", ")
        } but found ${show(type)}`,
      );
    }
    return featureScores(this.fitted().model, type);
  }

  /**
   * Raw margins before the objective's transform, [n, outputs] (XGBoost's `output_margin`).
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  predictMargin(X: Matrix): Promise<Tensor> {
    return this.rawOutput(X);
  }

  /**
   * The model in XGBoost's JSON format (schema 1.7): `xgboost.Booster(model_file=…)` loads the
   * file and predicts what this estimator predicts (margins equal to float32 rounding of the
   * base score). Classifiers record their classes for the scikit-learn wrapper, and
   * `fromXGBoostJSON` reads them back.
   *
   * @returns The model as JSON text.
   * @throws {RangeError} Before fit.
   * @example
   * ```ts
   * import { fromXGBoostJSON, XGBRegressor } from "../mod.ts";
   * const X = [[0], [1], [2], [3]], y = [0, 1, 2, 3];
   * const model = await new XGBRegressor({ nEstimators: 5, maxDepth: 2 }).fit(X, y);
   * const text = model.toXGBoostJSON();
   * const back = fromXGBoostJSON(text);
   * const [a, b] = [await model.predict(X), await back.predict(X)];
   * if (a.join() !== b.join()) throw new Error(`${a} != ${b}`);
   * ```
   */
  toXGBoostJSON(): string {
    const { model, objective, classes } = this.fitted();
    const params = this.params();
    const spec = OBJECTIVES[objective];
    const margin = model.baseMargin[0];
    const baseScore = params.baseScore ??
      (spec.transform === "sigmoid"
        ? 1 / (1 + Math.exp(-margin))
        : spec.transform === "exp"
        ? Math.exp(margin)
        : margin);
    return stringifyModel(xgboostModelJSON(model, {
      objective,
      objectiveParams: objectiveParams(objective, params, model.nOutputs),
      baseScore,
      classes,
    }));
  }

  /** Trains on X and y; the previous fitted state stays until training succeeds. */
  async fit(X: Matrix, y: ArrayLike<number>, opts: XGBFitOptions = {}): Promise<this> {
    const began = performance.now();
    const params = this.params();
    checkOptions("opts", opts, FIT_OPTIONS);
    const x = toFeatures("X", X);
    const labels = toLabels("y", y, x.rows);
    const weights = toWeights("sampleWeight", opts.sampleWeight, x.rows);
    const prepared = this.prepareLabels(labels, params);
    const monitor = this.#monitor(params, prepared, x.cols, opts, began);
    const monotone = this.#monotone(params, x.cols);
    const categorical = this.#categorical(params, x.data, x.rows, x.cols, monotone);
    if (params.growPolicy === "depthwise" && params.maxDepth === 0 && params.maxLeaves === 0) {
      throw new RangeError(
        `Expected "maxDepth" >= 1 or "maxLeaves" >= 1 to bound depthwise growth but both are 0`,
      );
    }
    const kernels = await treesKernels(params.backend);
    const result: BoostResult = await boost(kernels, {
      x: x.data,
      nRows: x.rows,
      nCols: x.cols,
      labels: prepared.labels,
      weights,
      nOutputs: prepared.nOutputs,
    }, {
      ...params,
      objective: prepared.objective,
      lambda: params.regLambda,
      alpha: params.regAlpha,
      // XGBoost gives count:poisson a default max_delta_step of 0.7, used by the objective's
      // hessian and by the trees alike.
      maxDeltaStep: params.maxDeltaStep ?? (prepared.objective.name === "count:poisson" ? 0.7 : 0),
      poissonMaxDeltaStep: params.maxDeltaStep ?? 0.7,
      minSamplesLeaf: 0,
      minSamplesSplit: 0,
      minGain: 1e-6,
      minRelativeGain: 0,
      monotone,
      categorical,
      colsampleByLevel: params.colsampleBylevel,
      colsampleByNode: params.colsampleBynode,
    }, monitor);
    this.state = {
      model: result.model,
      objective: prepared.objective.name,
      classes: prepared.classes,
      bestIteration: result.bestIteration,
      evalHistory: result.evalHistory,
    };
    return this;
  }

  #monotone(params: XGBParams, cols: number): Int8Array | null {
    const given = params.monotoneConstraints;
    if (given === undefined || given.every((c) => c === 0)) return null;
    if (given.length !== cols) {
      throw new RangeError(
        `Expected "monotoneConstraints" to have ${cols} entries (one per feature) but found ${given.length}`,
      );
    }
    return Int8Array.from(given);
  }

  #categorical(
    params: XGBParams,
    x: Float32Array,
    rows: number,
    cols: number,
    monotone: Int8Array | null,
  ): Categorical | null {
    const features = params.categoricalFeatures;
    if (features === undefined || features.length === 0) return null;
    const mask = new Uint8Array(cols);
    for (const f of features) {
      if (f >= cols) {
        throw new RangeError(
          `Expected "categoricalFeatures" to hold column indices below ${cols} but found ${f}`,
        );
      }
      if (monotone !== null && monotone[f] !== 0) {
        throw new RangeError(
          `Expected categorical feature ${f} to have no monotone constraint but found ${
            monotone[f]
          }`,
        );
      }
      mask[f] = 1;
    }
    checkCategoryCodes(x, rows, cols, features);
    return { mask, maxCatToOnehot: params.maxCatToOnehot };
  }

  #monitor(
    params: XGBParams,
    prepared: PreparedLabels,
    cols: number,
    opts: XGBFitOptions,
    began: number,
  ) {
    checkSignal("signal", opts.signal);
    if (opts.onProgress !== undefined && typeof opts.onProgress !== "function") {
      throw new TypeError(
        `Expected "onProgress" to be a function but found ${show(opts.onProgress)}`,
      );
    }
    if (opts.earlyStoppingRounds !== undefined) {
      if (
        typeof opts.earlyStoppingRounds !== "number" ||
        !Number.isInteger(opts.earlyStoppingRounds) || opts.earlyStoppingRounds < 1
      ) {
        throw new RangeError(
          `Expected "earlyStoppingRounds" to be an integer >= 1 but found ${
            show(opts.earlyStoppingRounds)
          }`,
        );
      }
      if (opts.evalSet === undefined) {
        throw new RangeError(`Expected "evalSet" to be given with "earlyStoppingRounds"`);
      }
    }
    let evalSet;
    if (opts.evalSet !== undefined) {
      if (!Array.isArray(opts.evalSet) || opts.evalSet.length !== 2) {
        throw new TypeError(
          `Expected "evalSet" to be a pair [X, y] but found ${show(opts.evalSet)}`,
        );
      }
      const ex = toFeatures("evalSet[0]", opts.evalSet[0], cols);
      const ey = prepared.encode("evalSet[1]", toLabels("evalSet[1]", opts.evalSet[1], ex.rows));
      evalSet = { x: ex.data, nRows: ex.rows, labels: ey };
    }
    const names = params.evalMetric === undefined
      ? [prepared.objective.defaultMetric]
      : Array.isArray(params.evalMetric)
      ? params.evalMetric
      : [params.evalMetric];
    const metrics: Metric[] = names.map((n) => METRICS[n]);
    return {
      evalSet,
      metrics,
      earlyStoppingRounds: opts.earlyStoppingRounds,
      onProgress: opts.onProgress,
      watch: fitWatch(opts, began),
    };
  }

  protected fieldsToJSON(s: XGBState): Record<string, unknown> {
    return { objective: s.objective, bestIteration: s.bestIteration, evalHistory: s.evalHistory };
  }

  protected stateFromJSON(fields: Record<string, unknown>, base: FittedTrees): XGBState {
    const objective = registeredName(
      "json.fitted.objective",
      fields.objective,
      OBJECTIVES,
      "objective",
    );
    const state: XGBState = {
      ...base,
      objective,
      bestIteration: fields.bestIteration === undefined
        ? 0
        : integerFrom("json.fitted.bestIteration", fields.bestIteration, 0, MAX_COUNT),
      evalHistory: evalHistoryFrom(fields.evalHistory),
    };
    this.checkState(state);
    return state;
  }
}

/** Metric values per round from serialised state: an object of number arrays (NaN allowed). */
function evalHistoryFrom(value: unknown): Record<string, number[]> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Expected "json.fitted.evalHistory" to be an object but found ${show(value)}`,
    );
  }
  const out: Record<string, number[]> = {};
  for (const [metric, values] of Object.entries(value)) {
    const path = `json.fitted.evalHistory.${metric}`;
    if (!Array.isArray(values)) {
      throw new TypeError(`Expected "${path}" to be an array of numbers but found ${show(values)}`);
    }
    out[metric] = Array.from(values, (v, i) => {
      if (typeof v !== "number") {
        throw new TypeError(`Expected "${path}[${i}]" to be a number but found ${show(v)}`);
      }
      return v;
    });
  }
  return out;
}

/** The parameter block XGBoost 1.7 writes (and its loader expects) under each objective. */
function objectiveParams(
  objective: string,
  params: XGBParams,
  nOutputs: number,
): Record<string, unknown> {
  if (objective.startsWith("multi:")) {
    return { softmax_multiclass_param: { num_class: String(nOutputs) } };
  }
  switch (objective) {
    case "count:poisson":
      return { poisson_regression_param: { max_delta_step: String(params.maxDeltaStep ?? 0.7) } };
    case "reg:pseudohubererror":
      return { pseudo_huber_param: { huber_slope: String(params.huberSlope) } };
    case "reg:absoluteerror":
      return {};
    default:
      return { reg_loss_param: { scale_pos_weight: "1" } };
  }
}
