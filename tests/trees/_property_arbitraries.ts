/**
 * fast-check arbitraries of the trees property tests (tests/trees/property_test.ts): tables with
 * the awkward columns real data has (all missing, missing in some rows, few distinct values,
 * constant, small category codes), binned problems, random tree ensembles in the flat model
 * layout, and estimators with random options.
 *
 * A case draws its shape and options through fast-check (so failures shrink to small shapes) and
 * its numbers from a seeded Rng (so a case is cheap to generate however many rows it has).
 *
 * @module
 */
import fc from "fast-check";
import { Rng } from "../../src/_random.ts";
import {
  DecisionTreeClassifier,
  DecisionTreeRegressor,
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  RandomForestClassifier,
  RandomForestRegressor,
  XGBClassifier,
  XGBRegressor,
} from "../../src/trees/mod.ts";
import type { CategorySplits } from "../../src/backends/trees.ts";

/** Row counts: the edges first (0, 1, lanes − 1, lanes, blocks of 64 and a tail), then any. */
export function rowCount(min = 0, max = 150): fc.Arbitrary<number> {
  const edges = [0, 1, 2, 3, 4, 7, 8, 63, 64, 65, 129].filter((n) => n >= min && n <= max);
  return fc.oneof(fc.constantFrom(...edges), fc.integer({ min, max }));
}

/** What a column holds. */
export const COLUMN_KINDS = [
  "continuous",
  "duplicates",
  "constant",
  "codes",
  "allMissing",
] as const;
export type ColumnKind = (typeof COLUMN_KINDS)[number];

export interface ColumnSpec {
  kind: ColumnKind;
  /** Fraction of cells that are NaN (missing). */
  missing: number;
  /** Distinct codes of a "codes" column. */
  codes: number;
}

const columnSpec: fc.Arbitrary<ColumnSpec> = fc.record({
  // Continuous columns most often; every other kind often enough to meet in most runs.
  kind: fc.oneof(
    { weight: 3, arbitrary: fc.constant("continuous" as const) },
    { weight: 4, arbitrary: fc.constantFrom(...COLUMN_KINDS) },
  ),
  missing: fc.constantFrom(0, 0, 0.1, 0.5),
  codes: fc.integer({ min: 1, max: 8 }),
});

export interface TableSpec {
  nRows: number;
  columns: ColumnSpec[];
  /** Fraction of rows that are missing in every column. */
  missingRows: number;
  seed: number;
}

export function tableSpec(rows: fc.Arbitrary<number>, maxColumns = 5): fc.Arbitrary<TableSpec> {
  return fc.record({
    nRows: rows,
    columns: fc.array(columnSpec, { minLength: 1, maxLength: maxColumns }),
    missingRows: fc.constantFrom(0, 0, 0.2),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });
}

export interface Table {
  x: Float32Array;
  nRows: number;
  nCols: number;
  /** Columns holding category codes 0, 1, … (and NaN). */
  codeColumns: number[];
}

/** The float32 row-major matrix a spec describes. */
export function makeTable(spec: TableSpec): Table {
  const rng = new Rng(spec.seed);
  const nCols = spec.columns.length;
  const x = new Float32Array(spec.nRows * nCols);
  const repeated = [-1, 0.5, 0.5, 2, 2, 2];
  for (let r = 0; r < spec.nRows; r++) {
    const rowMissing = rng.next() < spec.missingRows;
    spec.columns.forEach((c, f) => {
      let v: number;
      switch (c.kind) {
        case "continuous":
          v = Math.fround(rng.next() * 4 - 2);
          break;
        case "duplicates":
          v = repeated[rng.nextInt(repeated.length)];
          break;
        case "constant":
          v = 1.25;
          break;
        case "codes":
          v = rng.nextInt(c.codes);
          break;
        case "allMissing":
          v = NaN;
          break;
      }
      x[r * nCols + f] = rowMissing || rng.next() < c.missing ? NaN : v;
    });
  }
  const codeColumns = spec.columns.flatMap((c, f) => (c.kind === "codes" ? [f] : []));
  return { x, nRows: spec.nRows, nCols, codeColumns };
}

/** Rows of a Table as nested arrays (the form users pass). */
export function tableRows(t: Table): number[][] {
  return Array.from(
    { length: t.nRows },
    (_, r) => Array.from(t.x.subarray(r * t.nCols, (r + 1) * t.nCols)),
  );
}

/**
 * Targets that depend on the table: a regression target, and class labels 0 … K − 1 (each class
 * present when there are at least K rows).
 */
export function targets(t: Table, seed: number, nClasses: number) {
  const rng = new Rng(seed);
  const y = new Float64Array(t.nRows), labels = new Float64Array(t.nRows);
  for (let r = 0; r < t.nRows; r++) {
    let s = 0;
    for (let f = 0; f < t.nCols; f++) {
      const v = t.x[r * t.nCols + f];
      s += Number.isNaN(v) ? 0.3 * (f + 1) : v * (f % 2 === 0 ? 1 : -0.5);
    }
    y[r] = Math.fround(s + 0.3 * rng.next());
    labels[r] = Math.min(nClasses - 1, Math.floor((Math.tanh(y[r]) + 1) / 2 * nClasses));
  }
  for (let k = 0; k < nClasses && k < t.nRows; k++) labels[k] = k;
  return { y, labels };
}

/** The estimators under test, by name. */
export const ESTIMATORS = {
  DecisionTreeClassifier,
  DecisionTreeRegressor,
  RandomForestClassifier,
  RandomForestRegressor,
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  XGBClassifier,
  XGBRegressor,
} as const;
export type EstimatorName = keyof typeof ESTIMATORS;
export type AnyEstimator = InstanceType<(typeof ESTIMATORS)[EstimatorName]>;

export function isClassifier(name: EstimatorName): boolean {
  return name.endsWith("Classifier");
}

const seed = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const maxBin = fc.constantFrom(2, 3, 4, 16, 256);
const fraction = fc.oneof(fc.constant(1), fc.double({ min: 0.3, max: 1, noNaN: true }));

/** CART options (trees and forests). */
function cartOptions(criteria: readonly string[]) {
  return fc.record({
    criterion: fc.constantFrom(...criteria),
    maxDepth: fc.constantFrom(null, 1, 2, 3, 5),
    minSamplesLeaf: fc.constantFrom(1, 2, 3),
    maxFeatures: fc.constantFrom(null, "sqrt", 0.5),
    maxBin,
    seed,
  }, { requiredKeys: ["maxBin", "seed"] });
}

/**
 * Options of one estimator. `categorical` lists the table's code columns (XGB* split them by
 * category sets when asked).
 */
export function estimatorOptions(
  name: EstimatorName,
  codeColumns: number[],
): fc.Arbitrary<Record<string, unknown>> {
  const classifier = isClassifier(name);
  const rounds = fc.integer({ min: 1, max: 4 });
  const learningRate = fc.double({ min: 0.05, max: 1, noNaN: true });
  switch (name) {
    case "DecisionTreeClassifier":
    case "DecisionTreeRegressor":
      return fc.tuple(
        cartOptions(
          classifier ? ["gini", "entropy"] : ["squared_error", "poisson", "absolute_error"],
        ),
        fc.constantFrom("hist", "exact"),
      ).map(([o, splitter]) => ({
        ...o,
        splitter,
        // The exact splitter knows no bins; poisson needs non-negative targets (see caseTargets).
        ...(splitter === "exact" ? { maxBin: undefined } : {}),
      }));
    case "RandomForestClassifier":
    case "RandomForestRegressor":
      return fc.tuple(
        cartOptions(classifier ? ["gini", "entropy"] : ["squared_error"]),
        fc.record({
          nEstimators: rounds,
          bootstrap: fc.boolean(),
          maxSamples: fc.constantFrom(null, 0.7),
        }),
      ).map(([a, b]) => ({ ...a, ...b, maxSamples: b.bootstrap ? b.maxSamples : null }));
    case "GradientBoostingClassifier":
    case "GradientBoostingRegressor":
      return fc.record({
        nEstimators: rounds,
        learningRate,
        maxDepth: fc.integer({ min: 1, max: 4 }),
        subsample: fraction,
        minSamplesLeaf: fc.constantFrom(1, 2),
        maxBin,
        seed,
        ...(classifier
          ? {}
          : { loss: fc.constantFrom("squared_error", "absolute_error", "huber", "quantile") }),
      });
    case "XGBClassifier":
    case "XGBRegressor":
      return fc.record({
        nEstimators: rounds,
        learningRate,
        maxDepth: fc.integer({ min: 1, max: 5 }),
        growPolicy: fc.constantFrom("depthwise", "lossguide"),
        maxLeaves: fc.constantFrom(0, 2, 5),
        regLambda: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 5, noNaN: true })),
        regAlpha: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
        gamma: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
        minChildWeight: fc.constantFrom(0, 0.5, 1, 3),
        maxDeltaStep: fc.constantFrom(0, 0.5),
        subsample: fraction,
        colsampleBytree: fraction,
        colsampleBynode: fraction,
        maxBin,
        seed,
        categorical: fc.boolean(),
        maxCatToOnehot: fc.constantFrom(1, 4, 9),
        ...(classifier ? {} : {
          objective: fc.constantFrom(
            "reg:squarederror",
            "reg:absoluteerror",
            "reg:pseudohubererror",
          ),
        }),
      }).map(({ categorical, maxCatToOnehot, ...o }) =>
        categorical && codeColumns.length > 0
          ? { ...o, categoricalFeatures: codeColumns, maxCatToOnehot }
          : o
      );
  }
}

/** A fit case: the table, the estimator and its options, the number of classes. */
export function fitCase(rows: fc.Arbitrary<number>, maxColumns = 4) {
  return fc.record({
    table: tableSpec(rows, maxColumns),
    estimator: fc.constantFrom(...(Object.keys(ESTIMATORS) as EstimatorName[])),
    nClasses: fc.constantFrom(2, 2, 3),
    targetSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    // Regression targets at their usual scale, tiny, or large (split gains, squares of gradient
    // sums, then leave float32's range; near float32's largest value boosters refuse targets
    // whose trees could add up beyond it).
    targetScale: fc.constantFrom(1, 1, 1, 1, 1e-20, 1e20, 1e30, 1e38),
  }).chain((c) => {
    const table = makeTable(c.table);
    return estimatorOptions(c.estimator, table.codeColumns).map((options) => ({ ...c, options }));
  });
}

export type FitCase = typeof fitCase extends (...a: never[]) => fc.Arbitrary<infer T> ? T : never;

/** The targets a fit case trains on: labels for classifiers, y ≥ 0 for poisson. */
export function caseTargets(c: FitCase, table: Table): Float64Array {
  const { y, labels } = targets(table, c.targetSeed, c.nClasses);
  if (isClassifier(c.estimator)) return labels;
  const scaled = y.map((v) => v * c.targetScale);
  return c.options.criterion === "poisson"
    ? scaled.map((v) => Math.abs(v) + 0.1 * c.targetScale)
    : scaled;
}

export function makeEstimator(name: EstimatorName, options: Record<string, unknown>): AnyEstimator {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return new ESTIMATORS[name](defined as never);
}

/** Flat trees as the predict and TreeSHAP kernels read them, with covers and category sets. */
export interface RandomEnsemble {
  feature: Int32Array;
  threshold: Float32Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
  cover: Float32Array;
  leafWidth: number;
  treeStart: Int32Array;
  treeGroup: Int32Array;
  nOutputs: number;
  maxDepth: number;
  categories?: CategorySplits;
}

export interface EnsembleSpec {
  nTrees: number;
  maxDepth: number;
  nCols: number;
  nOutputs: number;
  /** Leaves hold nOutputs values each (one tree serves every output) rather than one. */
  wideLeaves: boolean;
  /** Fraction of internal nodes that split by category sets. */
  categorical: number;
  seed: number;
}

export const ensembleSpec = (maxCols = 5): fc.Arbitrary<EnsembleSpec> =>
  fc.record({
    nTrees: fc.integer({ min: 1, max: 6 }),
    maxDepth: fc.integer({ min: 0, max: 6 }),
    nCols: fc.integer({ min: 1, max: maxCols }),
    nOutputs: fc.constantFrom(1, 1, 2, 3),
    wideLeaves: fc.boolean(),
    categorical: fc.constantFrom(0, 0, 0.3),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });

/**
 * Random trees, unbalanced (each node splits with a probability falling with depth), children
 * numbered after parents; thresholds from `thresholds` (values the data holds, so that ties
 * with a row's value occur) or ±∞; positive covers that shrink down the tree.
 */
export function makeEnsemble(spec: EnsembleSpec, thresholds: ArrayLike<number>): RandomEnsemble {
  const rng = new Rng(spec.seed);
  const W = spec.wideLeaves ? spec.nOutputs : 1;
  const feature: number[] = [], threshold: number[] = [], defaultLeft: number[] = [];
  const left: number[] = [], right: number[] = [], value: number[] = [], cover: number[] = [];
  const splitType: number[] = [], catWords: number[][] = [];
  const treeStart = [0], treeGroup: number[] = [];
  let deepest = 0;
  const pickThreshold = () => {
    const u = rng.next();
    if (u < 0.05) return u < 0.025 ? Infinity : -Infinity;
    if (u < 0.7 && thresholds.length > 0) return thresholds[rng.nextInt(thresholds.length)];
    return Math.fround(rng.next() * 4 - 2);
  };
  for (let t = 0; t < spec.nTrees; t++) {
    const base = feature.length;
    // Breadth-first: a queue of (node, depth, cover) placed in order, so children follow parents.
    const queue: [number, number][] = [[0, 1000 * (1 + rng.next())]];
    let next = 1;
    for (let head = 0; head < queue.length; head++) {
      const [depth, c] = queue[head];
      deepest = Math.max(deepest, depth);
      const splits = depth < spec.maxDepth && rng.next() < 0.85 - 0.1 * depth;
      cover.push(Math.fround(c));
      for (let k = 0; k < W; k++) value.push(Math.fround(rng.next() * 2 - 1));
      if (splits) {
        const share = 0.1 + 0.8 * rng.next();
        feature.push(rng.nextInt(spec.nCols));
        threshold.push(pickThreshold());
        defaultLeft.push(rng.nextInt(2));
        left.push(base + next);
        right.push(base + next + 1);
        next += 2;
        queue.push([depth + 1, c * share], [depth + 1, c * (1 - share)]);
        const categorical = rng.next() < spec.categorical;
        splitType.push(categorical ? 1 : 0);
        catWords.push(
          categorical ? Array.from({ length: 1 + rng.nextInt(2) }, () => rng.nextU32()) : [],
        );
      } else {
        feature.push(-1);
        threshold.push(0);
        defaultLeft.push(0);
        left.push(-1);
        right.push(-1);
        splitType.push(0);
        catWords.push([]);
      }
    }
    treeStart.push(feature.length);
    treeGroup.push(spec.wideLeaves ? 0 : rng.nextInt(spec.nOutputs));
  }
  const ensemble: RandomEnsemble = {
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    defaultLeft: Uint8Array.from(defaultLeft),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float32Array.from(value),
    cover: Float32Array.from(cover),
    leafWidth: W,
    treeStart: Int32Array.from(treeStart),
    treeGroup: Int32Array.from(treeGroup),
    nOutputs: spec.nOutputs,
    maxDepth: deepest,
  };
  if (splitType.some((s) => s === 1)) {
    const catBegin = new Int32Array(feature.length + 1);
    catWords.forEach((w, i) => (catBegin[i + 1] = catBegin[i] + w.length));
    ensemble.categories = {
      splitType: Uint8Array.from(splitType),
      catBegin,
      catBits: Uint32Array.from(catWords.flat()),
    };
  }
  return ensemble;
}
