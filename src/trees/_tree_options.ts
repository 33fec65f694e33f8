/**
 * Option rules shared by the CART-based estimators (decision trees, forests), in
 * scikit-learn's forms, and the checks of `fit` options for progress and cancellation.
 *
 * @module
 */
import type { Backend } from "../tensor.ts";
import { BACKENDS, checkOptions, show } from "../_validate.ts";
import type { ParamTable } from "../estimators/_params.ts";
import { MAX_BIN } from "./_binning.ts";
import { AbortWatch, checkSignal, throwIfAborted } from "../_abort.ts";

/** The limits of one CART tree, as scikit-learn names them (camelCase). */
export interface TreeLimitOptions {
  /** Deepest level (root = 0); null or undefined for none. */
  maxDepth?: number | null;
  /** Least rows to split a node: an integer ≥ 2 or a fraction of the rows in (0, 1] (default 2). */
  minSamplesSplit?: number;
  /** Least rows in a leaf: an integer ≥ 1 or a fraction of the rows in (0, 1) (default 1). */
  minSamplesLeaf?: number;
  /** Least fraction of the total sample weight in a leaf, in [0, 0.5] (default 0). */
  minWeightFractionLeaf?: number;
  /**
   * Features tried per split: `"sqrt"`, `"log2"`, a count ≥ 2, a fraction in (0, 1] (so 1 is
   * all of them, as scikit-learn's 1.0), or null for all.
   */
  maxFeatures?: "sqrt" | "log2" | number | null;
  /** Grow best first up to this many leaves (≥ 2); null or undefined for depth-first growth. */
  maxLeafNodes?: number | null;
  /** Least weighted impurity decrease of a split (default 0). */
  minImpurityDecrease?: number;
}

/** Options of one CART tree, as scikit-learn names them (camelCase). */
export interface TreeOptions extends TreeLimitOptions {
  /** Split criterion (classifiers: `"gini"`, `"entropy"`, `"log_loss"`; regressors: `"squared_error"`, `"absolute_error"`, `"poisson"`). */
  criterion?: string;
  /** Bins per feature including the missing bin, 2 .. 256 (default 256). */
  maxBin?: number;
  /** Seed of feature sampling and tie-breaking (default 0). */
  seed?: number;
  backend?: Backend;
}

/** Options of `fit` for the ensembles: weights, progress and cancellation. */
export interface EnsembleFitOptions {
  sampleWeight?: ArrayLike<number>;
  /** Called after each estimator (or batch of trees) is fitted. */
  onProgress?: (p: { iteration: number; total: number }) => void;
  /** Aborting it stops the fit with the signal's reason; the estimator keeps its previous state. */
  signal?: AbortSignal;
}

function countOrFraction(min: number, fractionMax: "open" | "closed") {
  return (name: string, value: unknown) => {
    const ok = typeof value === "number" && Number.isFinite(value) &&
      ((Number.isInteger(value) && value >= min) ||
        (value > 0 && (fractionMax === "open" ? value < 1 : value <= 1)));
    if (!ok) {
      const interval = fractionMax === "open" ? "(0, 1)" : "(0, 1]";
      throw new RangeError(
        `Expected "${name}" to be an integer >= ${min} or a fraction in ${interval} but found ${
          show(value)
        }`,
      );
    }
  };
}

function nullableInt(min: number) {
  return (name: string, value: unknown) => {
    if (value === null) return;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      throw new RangeError(
        `Expected "${name}" to be an integer >= ${min} or null but found ${show(value)}`,
      );
    }
  };
}

/** `"sqrt"`, `"log2"`, a count ≥ 2, a fraction in (0, 1] (1 = all), or null. */
export function checkMaxFeatures(name: string, value: unknown): void {
  if (value === null || value === "sqrt" || value === "log2") return;
  const ok = typeof value === "number" && Number.isFinite(value) &&
    ((Number.isInteger(value) && value >= 1) || (value > 0 && value <= 1));
  if (!ok) {
    throw new RangeError(
      `Expected "${name}" to be "sqrt", "log2", an integer >= 2, a fraction in (0, 1] or null but found ${
        show(value)
      }`,
    );
  }
}

/** The option table of one tree's limits; `criteria` and the default depend on the task. */
export function treeParamTable(
  criteria: readonly string[],
  defaultCriterion: string,
  defaultMaxFeatures: TreeOptions["maxFeatures"] = null,
): ParamTable {
  return {
    criterion: { default: defaultCriterion, rule: { kind: "choice", choices: criteria } },
    maxDepth: { default: null, rule: { kind: "custom", check: nullableInt(1) } },
    minSamplesSplit: { default: 2, rule: { kind: "custom", check: countOrFraction(2, "closed") } },
    minSamplesLeaf: { default: 1, rule: { kind: "custom", check: countOrFraction(1, "open") } },
    minWeightFractionLeaf: { default: 0, rule: { kind: "number", min: 0, max: 0.5 } },
    maxFeatures: { default: defaultMaxFeatures, rule: { kind: "custom", check: checkMaxFeatures } },
    maxLeafNodes: { default: null, rule: { kind: "custom", check: nullableInt(2) } },
    minImpurityDecrease: { default: 0, rule: { kind: "number", min: 0 } },
    maxBin: { default: MAX_BIN, rule: { kind: "int", min: 2, max: MAX_BIN } },
    seed: { default: 0, rule: { kind: "int", min: 0, max: 2 ** 32 - 1 } },
    backend: { default: undefined, rule: { kind: "choice", choices: BACKENDS } },
  };
}

/** Checks `fit` options that may hold weights, `onProgress` and `signal`. */
export function checkFitOptions(opts: unknown, extra: readonly string[] = []): void {
  checkOptions("opts", opts, ["sampleWeight", "onProgress", "signal", ...extra]);
  const o = (opts ?? {}) as EnsembleFitOptions;
  if (o.onProgress !== undefined && typeof o.onProgress !== "function") {
    throw new TypeError(`Expected "onProgress" to be a function but found ${show(o.onProgress)}`);
  }
  checkSignal("signal", o.signal);
}

export { throwIfAborted };

/**
 * The watch of a fit's loop: checked before each tree, round or inner fit, it throws once
 * `signal` is aborted and gives the event loop a turn every 10 ms where a signal or `onProgress`
 * watches or on a page's own thread (see AbortWatch), so an abort from a timer arrives even
 * while every kernel returns at once. `since`: when the fit began (see AbortWatch).
 */
export function fitWatch(
  opts: { signal?: AbortSignal; onProgress?: unknown },
  since?: number,
): AbortWatch {
  return new AbortWatch(opts.signal, opts.onProgress !== undefined, since);
}
