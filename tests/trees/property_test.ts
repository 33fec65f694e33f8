/**
 * Property tests (fast-check) of the `trees` family: random tables (0, 1, lanes − 1 and blocks
 * of 64 plus a tail of rows; all-missing, partly missing, constant, few-valued and categorical
 * columns), random options and random tree ensembles, on the WASM kernels at one and two threads
 * against the plain TypeScript reference. What the project promises (README "Guarantees",
 * tests/trees/_kernel_conformance.ts) is checked as promised: kernels give the reference's bits,
 * fits give the same model JSON on js and on wasm whatever the thread count, a saved model
 * predicts the same bits, predictions are finite, TreeSHAP values add up to the raw output, and
 * bad input is a TypeError or RangeError naming the argument that leaves the estimator as it was.
 *
 * `TESSERA_PROPERTY_RUNS` scales the cases (default 1,000: 1,100 cases for the family in
 * `npm test`, each property's share below); `TESSERA_PROPERTY_SEED` replays a run (a failure
 * prints fast-check's seed and path too).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { dispose, init } from "../../src/runtime/mod.ts";
import { TREES } from "../../src/backends/_families.ts";
import { selectKernels } from "../../src/backends/_select.ts";
import {
  type Categorical,
  SPLIT_FIELD_COUNT,
  SPLIT_PARAM,
  SPLIT_PARAM_COUNT,
  type TreesKernels,
} from "../../src/backends/trees.ts";
import { jsTrees, predictRef } from "../../src/backends/js/trees.ts";
import { shapRef } from "../../src/backends/js/tree_shap.ts";
import { computeCuts } from "../../src/trees/_binning.ts";
import { Rng } from "../../src/_random.ts";
import type { Tensor } from "../../src/mod.ts";
import { assertSplitMatches, histogramOracle, predictOracle, splitsOracle } from "./_oracles.ts";
import {
  type AnyEstimator,
  caseTargets,
  ensembleSpec,
  type EstimatorName,
  ESTIMATORS,
  type FitCase,
  fitCase,
  isClassifier,
  makeEnsemble,
  makeEstimator,
  makeTable,
  rowCount,
  type Table,
  tableRows,
  tableSpec,
} from "./_property_arbitraries.ts";

const RUNS = Number(Deno.env.get("TESSERA_PROPERTY_RUNS") ?? 1000);
const SEED = Number(Deno.env.get("TESSERA_PROPERTY_SEED") ?? 20261203);

/**
 * Runs `check` on `share` of RUNS cases, half with the WASM kernels on one thread and half on
 * two (where the kernels split rows and feature groups across the workers).
 */
function property<T>(
  name: string,
  share: number,
  arbitrary: fc.Arbitrary<T>,
  check: (wasm: TreesKernels, value: T, threads: number) => Promise<void>,
) {
  Deno.test(name, async () => {
    for (const threads of [1, 2]) {
      await init({ threads });
      try {
        const wasm = await selectKernels(TREES, "wasm");
        assert.equal(wasm.name, "wasm");
        await fc.assert(fc.asyncProperty(arbitrary, (value) => check(wasm, value, threads)), {
          numRuns: Math.max(5, Math.round((RUNS * share) / 2)),
          seed: SEED + threads,
        });
      } finally {
        await dispose();
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Kernels: the reference's bits on random binned tables.

const binnedCase = binnedCaseOf(rowCount(0, 150));

/**
 * Binned tables with `rows` rows. (2¹⁷ + 37 rows: enough cells for binning and histograms to be
 * split across the workers at two threads.)
 */
function binnedCaseOf(rows: fc.Arbitrary<number>) {
  return fc.record({
    table: tableSpec(rows, 5),
    maxBin: fc.constantFrom(2, 3, 4, 16, 256),
    categorical: fc.boolean(),
    nChannels: fc.constantFrom(2, 3),
    rows: fc.constantFrom("all", "even", "shuffled", "segment"),
    featureMask: fc.integer({ min: 0, max: 31 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });
}
type BinnedCase = typeof binnedCase extends fc.Arbitrary<infer T> ? T : never;

/** The binned problem of a case, binned by `kernels`; the rows of its node and its features. */
async function binned(kernels: TreesKernels, c: BinnedCase) {
  const t = makeTable(c.table);
  const n = t.nRows, F = t.nCols;
  const categorical = c.categorical && t.codeColumns.length > 0
    ? Uint8Array.from({ length: F }, (_, f) => (t.codeColumns.includes(f) ? 1 : 0))
    : null;
  const cuts = await computeCuts(jsTrees, t.x, n, F, {
    weights: null,
    maxBin: c.maxBin,
    categorical,
  });
  const bins = new Uint8Array(n * F).fill(99);
  await kernels.binFeatures({ x: t.x, nRows: n, nCols: F, ...cuts, bins });
  const rng = new Rng(c.seed);
  const values = new Float64Array(n * c.nChannels);
  for (let r = 0; r < n; r++) {
    // Gradients of both signs, positive hessians, some repeated exactly.
    values[r * c.nChannels] = rng.next() < 0.2 ? 0.5 : rng.next() * 2 - 1;
    values[r * c.nChannels + 1] = rng.next() < 0.2 ? 0.25 : 0.05 + rng.next();
    if (c.nChannels === 3) values[r * c.nChannels + 2] = 1;
  }
  let rows = Int32Array.from({ length: n }, (_, i) => i);
  let range: [number, number] = [0, n];
  if (c.rows === "even") rows = rows.filter((r) => r % 2 === 0);
  if (c.rows === "shuffled") rows = rng.shuffle(rows.filter(() => rng.next() < 0.7));
  if (c.rows === "segment" && n > 0) {
    const a = rng.nextInt(n + 1), b = rng.nextInt(n + 1);
    range = [Math.min(a, b), Math.max(a, b)];
  } else range = [0, rows.length];
  let features = Int32Array.from({ length: F }, (_, f) => f).filter((f) =>
    (c.featureMask >> f) & 1
  );
  if (features.length === 0) features = Int32Array.of(0);
  return { t, cuts, categorical, bins, values, rows, range, features, nChannels: c.nChannels };
}

property(
  "binFeatures() and buildHistogram() give the reference's bits on random tables",
  0.25,
  binnedCaseOf(fc.oneof(
    { weight: 40, arbitrary: rowCount(0, 150) },
    { weight: 1, arbitrary: fc.constant((1 << 17) + 37) },
  )),
  async (wasm, c) => {
    const p = await binned(wasm, c);
    const reference = await binned(jsTrees, c);
    const label = JSON.stringify(c);
    assert.deepEqual(p.bins, reference.bins, `bins of ${label}`);
    // Each bin is the number of split values 1 … nBins − 1 at or below the value; NaN: nBins.
    const { t, cuts } = p;
    for (let f = 0; f < t.nCols; f++) {
      const nBins = cuts.binOffsets[f + 1] - cuts.binOffsets[f] - 1;
      for (let r = 0; r < t.nRows; r++) {
        const v = t.x[r * t.nCols + f];
        let expected = nBins;
        if (!Number.isNaN(v)) {
          // Split values increase: the count is the first j ≥ 1 whose value is above v, less 1.
          let lo = 1, hi = nBins;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (cuts.splitValues[cuts.binOffsets[f] + mid] <= v) lo = mid + 1;
            else hi = mid;
          }
          expected = lo - 1;
        }
        if (p.bins[f * t.nRows + r] !== expected) {
          assert.fail(
            `${label}: feature ${f}, row ${r} (${v}) in bin ${
              p.bins[f * t.nRows + r]
            }, not ${expected}`,
          );
        }
      }
    }
    const args = {
      bins: p.bins,
      nRows: t.nRows,
      rows: p.rows,
      rowBegin: p.range[0],
      rowEnd: p.range[1],
      values: p.values,
      nChannels: p.nChannels,
      features: p.features,
      featureCount: p.features.length,
      binOffsets: cuts.binOffsets,
    };
    const total = cuts.binOffsets[t.nCols] * p.nChannels;
    const actual = new Float64Array(total).fill(7), expected = new Float64Array(total).fill(7);
    await wasm.buildHistogram({ ...args, hist: actual });
    await jsTrees.buildHistogram({ ...args, hist: expected });
    assert.deepEqual(actual, expected, `histogram of ${label}`);
    // The reference sums each slot in row order, as the per-bin filter does: the same bits.
    const oracle = histogramOracle(
      { ...args, nRows: t.nRows },
      p.rows,
      p.features,
      new Float64Array(total).fill(7),
      p.range,
    );
    assert.deepEqual(expected, oracle, `histogram oracle of ${label}`);
  },
);

const splitCase = fc.record({
  binned: binnedCase,
  lambda: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 5, noNaN: true })),
  alpha: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
  minChildWeight: fc.constantFrom(0, 0.5, 1, 5),
  maxDeltaStep: fc.constantFrom(0, 0, 0.05, 0.7),
  minSamplesLeaf: fc.constantFrom(0, 1, 3, 20),
  monotone: fc.boolean(),
  bounds: fc.constantFrom("none", "none", "tight"),
  maxCatToOnehot: fc.constantFrom(1, 4, 9),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

property(
  "findSplits() gives the reference's bits, and the brute-force best split, on random nodes",
  0.25,
  splitCase,
  async (wasm, c) => {
    const p = await binned(jsTrees, c.binned);
    const F = p.t.nCols, C = p.nChannels;
    const [begin, end] = p.range;
    const features = Int32Array.from({ length: F }, (_, f) => f);
    const hist = new Float64Array(p.cuts.binOffsets[F] * C);
    await jsTrees.buildHistogram({
      bins: p.bins,
      nRows: p.t.nRows,
      rows: p.rows,
      rowBegin: begin,
      rowEnd: end,
      values: p.values,
      nChannels: C,
      features,
      featureCount: F,
      binOffsets: p.cuts.binOffsets,
      hist,
    });
    const sums = [0, 0, 0];
    for (let i = begin; i < end; i++) {
      for (let k = 0; k < C; k++) sums[k] += p.values[p.rows[i] * C + k];
    }
    const rng = new Rng(c.seed);
    const params = new Float64Array(SPLIT_PARAM_COUNT);
    params[SPLIT_PARAM.lambda] = c.lambda;
    params[SPLIT_PARAM.alpha] = c.alpha;
    params[SPLIT_PARAM.minChildWeight] = c.minChildWeight;
    params[SPLIT_PARAM.maxDeltaStep] = c.maxDeltaStep;
    params[SPLIT_PARAM.minSamplesLeaf] = c.minSamplesLeaf;
    params[SPLIT_PARAM.lowerBound] = c.bounds === "tight" ? -0.05 - rng.next() * 0.1 : -Infinity;
    params[SPLIT_PARAM.upperBound] = c.bounds === "tight" ? 0.05 + rng.next() * 0.1 : Infinity;
    params[SPLIT_PARAM.sumGrad] = sums[0];
    params[SPLIT_PARAM.sumHess] = sums[1];
    params[SPLIT_PARAM.count] = C === 3 ? sums[2] : 0;
    const categorical: Categorical | null = p.categorical === null
      ? null
      : { mask: p.categorical, maxCatToOnehot: c.maxCatToOnehot };
    // Categorical features are never monotone.
    const monotone = c.monotone
      ? Int8Array.from(features, (f) => (p.categorical?.[f] ? 0 : rng.nextInt(3) - 1))
      : null;
    const args = {
      hist,
      nChannels: C,
      features: p.features,
      featureCount: p.features.length,
      binOffsets: p.cuts.binOffsets,
      monotone,
      categorical,
      params,
    };
    const count = p.features.length * SPLIT_FIELD_COUNT;
    const actual = new Float64Array(count).fill(3), expected = new Float64Array(count).fill(3);
    await wasm.findSplits({ ...args, out: actual });
    await jsTrees.findSplits({ ...args, out: expected });
    const label = JSON.stringify(c);
    assert.deepEqual(actual, expected, label);
    const oracle = splitsOracle(args);
    p.features.forEach((f, k) => {
      if (categorical?.mask[f]) return; // category sets: the reference's bits above
      const at = (a: Float64Array) =>
        a.subarray(k * SPLIT_FIELD_COUNT, (k + 1) * SPLIT_FIELD_COUNT);
      assertSplitMatches(at(expected), at(oracle), `${label}, feature ${f}`);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Kernels: predict and TreeSHAP on random ensembles.

const ensembleCase = ensembleSpec(5).chain((ensemble) =>
  fc.record({
    ensemble: fc.constant(ensemble),
    // Rows: the usual edges, and now and then enough for predict to split rows across workers.
    table: tableSpec(
      fc.oneof({ weight: 12, arbitrary: rowCount(0, 130) }, {
        weight: 1,
        arbitrary: fc.constant(4096 + 37),
      }),
      1,
    ).map((t) => ({ ...t, columns: Array.from({ length: ensemble.nCols }, () => t.columns[0]) })),
    treeRange: fc.tuple(fc.nat(), fc.nat()),
    partial: fc.boolean(),
    condition: fc.constantFrom(0, 0, 1, -1),
    conditionFeature: fc.nat(),
  })
);
type EnsembleCase = typeof ensembleCase extends fc.Arbitrary<infer T> ? T : never;

function ensembleArgs(c: EnsembleCase) {
  const table = makeTable(c.table);
  const finite = table.x.filter((v) => !Number.isNaN(v));
  const trees = makeEnsemble(c.ensemble, finite);
  const nTrees = c.ensemble.nTrees;
  const a = c.treeRange[0] % (nTrees + 1), b = c.treeRange[1] % (nTrees + 1);
  const [treeBegin, treeEnd] = [Math.min(a, b), Math.max(a, b)];
  const n = table.nRows;
  const rng = new Rng(c.table.seed + 1);
  const firstRow = c.partial && n > 0 ? rng.nextInt(n) : 0;
  const rowCount = c.partial && n > 0 ? rng.nextInt(n - firstRow + 1) : n;
  return {
    table,
    trees,
    args: { x: table.x, nRows: n, nCols: table.nCols, ...trees, treeBegin, treeEnd },
    firstRow,
    rowCount,
  };
}

property(
  "predict() gives the reference's bits on random ensembles, missing values and category sets",
  0.2,
  ensembleCase,
  async (wasm, c) => {
    const { args, trees, firstRow, rowCount } = ensembleArgs(c);
    const start = Float32Array.from(
      { length: args.nRows * trees.nOutputs },
      (_, i) => (i % 5) * 0.25,
    );
    const actual = start.slice(), expected = start.slice();
    await wasm.predict({ ...args, out: actual }, firstRow, rowCount);
    predictRef({ ...args, out: expected }, firstRow, rowCount);
    const label = JSON.stringify({ ...c, firstRow, rowCount });
    assert.deepEqual(actual, expected, label);
    if (trees.categories === undefined && trees.leafWidth === 1) {
      // A recursive walk over the rows asked for, the others keep their start values.
      const rows = args.x.subarray(firstRow * args.nCols, (firstRow + rowCount) * args.nCols);
      const K = trees.nOutputs;
      const walked = predictOracle(
        trees,
        rows,
        args.nCols,
        [args.treeBegin, args.treeEnd],
        K,
        start.subarray(firstRow * K, (firstRow + rowCount) * K),
      );
      const oracle = start.slice();
      oracle.set(walked, firstRow * K);
      assert.deepEqual(expected, oracle, `${label}: oracle`);
    }
  },
);

/** The expected value of node `i` under the covers: what TreeSHAP's bias column holds. */
function expectedValue(trees: ReturnType<typeof makeEnsemble>, i: number, k: number): number {
  if (trees.feature[i] < 0) return trees.value[i * trees.leafWidth + k];
  const l = trees.left[i], r = trees.right[i];
  const cl = trees.cover[l], cr = trees.cover[r];
  return (cl * expectedValue(trees, l, k) + cr * expectedValue(trees, r, k)) / (cl + cr);
}

property(
  "shap() gives the reference's bits on random ensembles; plain values add up to the prediction",
  0.2,
  ensembleCase.filter((c) => c.table.nRows < 1000),
  async (wasm, c) => {
    const { args, trees, firstRow, rowCount } = ensembleArgs(c);
    const F = args.nCols, K = trees.nOutputs, n = args.nRows;
    const shapArgs = {
      ...args,
      condition: c.condition,
      conditionFeature: c.conditionFeature % F,
      maxDepth: trees.maxDepth,
    };
    const start = Float64Array.from({ length: n * K * (F + 1) }, (_, i) => (i % 3) * 0.5);
    const actual = start.slice(), expected = start.slice();
    await wasm.shap({ ...shapArgs, out: actual }, firstRow, rowCount);
    shapRef({ ...shapArgs, out: expected }, firstRow, rowCount);
    const label = JSON.stringify({ ...c, firstRow, rowCount });
    assert.deepEqual(actual, expected, label);
    if (c.condition !== 0) return;
    // Local accuracy: Σ_f φ_f + the trees' expected values = the prediction, row by row.
    const predicted = new Float32Array(n * K);
    predictRef({ ...args, out: predicted });
    const bias = new Float64Array(K);
    for (let t = args.treeBegin; t < args.treeEnd; t++) {
      for (let w = 0; w < trees.leafWidth; w++) {
        bias[trees.treeGroup[t] + w] += expectedValue(trees, trees.treeStart[t], w);
      }
    }
    for (let r = firstRow; r < firstRow + rowCount; r++) {
      for (let k = 0; k < K; k++) {
        const base = (r * K + k) * (F + 1);
        let sum = bias[k];
        for (let f = 0; f < F; f++) sum += actual[base + f] - start[base + f];
        const want = predicted[r * K + k];
        if (!(Math.abs(sum - want) <= 1e-5 * Math.max(1, Math.abs(want)))) {
          assert.fail(
            `${label}: row ${r}, output ${k}: φ adds up to ${sum}, the trees give ${want}`,
          );
        }
        assert.equal(actual[base + F], start[base + F], "the bias column is left alone");
      }
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Estimators: fits, saved models, explanations and bad input.

/** The fitted state as text: trees, thresholds, leaves, gains, covers and estimator fields. */
function fittedJSON(model: AnyEstimator): string {
  return JSON.stringify((model.toJSON() as { fitted: unknown }).fitted);
}

/** The estimator's raw output (what TreeSHAP values add up to), as float32 numbers. */
async function rawOutput(
  name: EstimatorName,
  model: AnyEstimator,
  X: number[][],
): Promise<Float32Array> {
  const m = model as unknown as Record<string, (X: number[][]) => Promise<Tensor | Float32Array>>;
  const method = name.startsWith("XGB")
    ? "predictMargin"
    : name === "GradientBoostingClassifier"
    ? "decisionFunction"
    : isClassifier(name)
    ? "predictProba"
    : "predict";
  const out = await m[method].call(model, X);
  return out instanceof Float32Array ? out : out.data as Float32Array;
}

/**
 * The case's estimator fitted on `backend`, or the RangeError naming "y" with which it refused
 * targets whose model would leave float32's range (targets near its largest value).
 */
async function fitted(c: FitCase, backend: "js" | "wasm") {
  const table = makeTable(c.table);
  const model = makeEstimator(c.estimator, { ...c.options, backend });
  try {
    await model.fit(tableRows(table), caseTargets(c, table));
  } catch (error) {
    if (!(error instanceof RangeError && error.message.includes('"y"'))) throw error;
    return { model, table, refused: error.message };
  }
  return { model, table, refused: null };
}

property(
  "fit() gives the same model JSON on js and on wasm, at one thread and at two",
  0.04,
  fitCase(rowCount(2, 90)),
  async (_wasm, c, threads) => {
    const { model: onJs, refused } = await fitted(c, "js");
    const { model: onWasm, refused: refusedOnWasm } = await fitted(c, "wasm");
    assert.equal(
      refusedOnWasm,
      refused,
      `${JSON.stringify(c)}: both refuse the targets, or neither`,
    );
    if (refused !== null) return;
    assert.equal(
      fittedJSON(onWasm),
      fittedJSON(onJs),
      `${JSON.stringify(c)} on ${threads} thread(s)`,
    );
    // A second fit of the same estimator with the same seed gives the same model again.
    const table = makeTable(c.table);
    await onWasm.fit(tableRows(table), caseTargets(c, table));
    assert.equal(fittedJSON(onWasm), fittedJSON(onJs), "refit");
  },
);

/**
 * The same numbers, bit for bit, except that −0 and 0 are one (JSON writes −0 as 0, so a leaf or
 * base margin of −0 comes back as 0).
 */
function assertSameNumbers(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, label);
  for (let i = 0; i < actual.length; i++) {
    if (!(actual[i] === expected[i] || (Number.isNaN(actual[i]) && Number.isNaN(expected[i])))) {
      assert.fail(`${label}: entry ${i} is ${actual[i]}, before saving ${expected[i]}`);
    }
  }
}

/**
 * Rows to predict: the training rows, fresh finite rows (float32's extremes, far outside the
 * training range, category codes), rows with missing values.
 */
function probeRows(table: Table, seed: number): number[][] {
  const rng = new Rng(seed);
  const fresh = Array.from({ length: 9 }, (_, i) =>
    Array.from({ length: table.nCols }, () => {
      const u = rng.next();
      if (i % 3 === 2 && u < 0.4) return NaN;
      if (u < 0.1) {
        return [3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -0][rng.nextInt(4)];
      }
      if (u < 0.5) return (rng.next() - 0.5) * 1e6; // far outside the training range
      return u < 0.7 ? rng.nextInt(12) : Math.fround(rng.next() * 6 - 3);
    }));
  return [...tableRows(table), ...fresh];
}

property(
  "a saved model predicts the same bits, finite numbers, and TreeSHAP values that add up to its output",
  0.04,
  fitCase(rowCount(2, 90)),
  async (_wasm, c) => {
    const { model, table, refused } = await fitted(c, "wasm");
    if (refused !== null) return;
    const name = c.estimator;
    const json = JSON.parse(JSON.stringify(model.toJSON()));
    const restored = ESTIMATORS[name].fromJSON(json) as AnyEstimator;
    const X = probeRows(table, c.targetSeed);
    const label = JSON.stringify(c);
    const raw = await rawOutput(name, model, X);
    assertSameNumbers(await rawOutput(name, restored, X), raw, `${label}: restored`);
    assertSameNumbers(await restored.predict(X), await model.predict(X), `${label}: predict`);
    assert.ok(raw.every(Number.isFinite), `${label}: non-finite output ${raw}`);
    assert.ok((await model.predict(X)).every(Number.isFinite), `${label}: non-finite predict`);
    // TreeSHAP on wasm is the reference's, and each row adds up to the raw output.
    const onJs = ESTIMATORS[name].fromJSON({
      ...json,
      options: { ...json.options, backend: "js" },
    }) as AnyEstimator;
    const phi = await model.predictContributions(X);
    const phiOnJs = await onJs.predictContributions(X);
    assertSameNumbers(
      phi.data as Float32Array,
      phiOnJs.data as Float32Array,
      `${label}: js vs wasm`,
    );
    const F = table.nCols + 1, K = raw.length / X.length;
    for (let i = 0; i < X.length * K; i++) {
      // Each φ is rounded to float32, so the sum is good to a few ulps of the largest |φ|
      // (contributions of thousands that cancel, under a boosted leaf with a tiny hessian).
      let sum = 0, size = Math.max(1, Math.abs(raw[i]));
      for (let f = 0; f < F; f++) {
        sum += phi.data[i * F + f];
        size = Math.max(size, Math.abs(phi.data[i * F + f]));
      }
      if (!(Math.abs(sum - raw[i]) <= 2e-5 * size + 1e-5 * F)) {
        assert.fail(
          `${label}: row ${Math.floor(i / K)}, output ${
            i % K
          }: φ adds up to ${sum}, the output is ${raw[i]}`,
        );
      }
    }
  },
);

/** Bad input, each with the argument its error must name. */
const BAD_INPUTS = [
  "X empty",
  "X not rows",
  "X ragged",
  "X with Infinity",
  "y too short",
  "y too long",
  "y with NaN",
  "y not numbers",
  "sampleWeight negative",
  "sampleWeight wrong length",
  "predict X wrong columns",
  "predict X with Infinity",
  "option out of range",
] as const;

const badCase = fc.record({
  fit: fitCase(rowCount(2, 40), 3),
  bad: fc.constantFrom(...BAD_INPUTS),
  fittedBefore: fc.boolean(),
  at: fc.nat(),
});

/** The call a bad case makes and the argument named in its error. */
function badCall(
  bad: (typeof BAD_INPUTS)[number],
  model: AnyEstimator,
  table: Table,
  y: Float64Array,
  at: number,
): { call: () => Promise<unknown>; argument: string } {
  const X = tableRows(table), n = X.length, cols = table.nCols;
  const row = at % n, col = at % cols;
  const fit = (x: unknown, labels: unknown, opts?: unknown) => () =>
    (model.fit as (a: unknown, b: unknown, c?: unknown) => Promise<unknown>)(x, labels, opts);
  const withValue = (v: number) =>
    X.map((r, i) => (i === row ? r.map((u, j) => (j === col ? v : u)) : r));
  const ys = Array.from(y);
  switch (bad) {
    case "X empty":
      return { call: fit([], []), argument: "X" };
    case "X not rows":
      return { call: fit(X.flat(), ys), argument: "X" };
    case "X ragged":
      return { call: fit(X.map((r, i) => (i === row ? [...r, 1] : r)), ys), argument: "X" };
    case "X with Infinity":
      return { call: fit(withValue(at % 2 ? Infinity : -Infinity), ys), argument: "X" };
    case "y too short":
      return { call: fit(X, ys.slice(1)), argument: "y" };
    case "y too long":
      return { call: fit(X, [...ys, 0]), argument: "y" };
    case "y with NaN":
      return { call: fit(X, ys.map((v, i) => (i === row ? NaN : v))), argument: "y" };
    case "y not numbers":
      return { call: fit(X, ys.map((v, i) => (i === row ? String(v) : v))), argument: "y" };
    case "sampleWeight negative":
      return {
        call: fit(X, ys, { sampleWeight: ys.map((_, i) => (i === row ? -1 : 1)) }),
        argument: "sampleWeight",
      };
    case "sampleWeight wrong length":
      return {
        call: fit(X, ys, { sampleWeight: new Array(n + 1).fill(1) }),
        argument: "sampleWeight",
      };
    case "predict X wrong columns":
      return { call: () => model.predict(X.map((r) => [...r, 0])), argument: "X" };
    case "predict X with Infinity":
      return { call: () => model.predict(withValue(Infinity)), argument: "X" };
    case "option out of range":
      throw new Error("made by the test itself (a fresh estimator)");
  }
}

/** An option of each estimator with a value out of its range, and the option's name. */
const BAD_OPTIONS: Record<EstimatorName, [string, unknown][]> = {
  DecisionTreeClassifier: [["maxDepth", 0], ["criterion", "mse"], ["maxBin", 1], [
    "minSamplesLeaf",
    -1,
  ]],
  DecisionTreeRegressor: [["maxDepth", 1.5], ["criterion", "gini"], ["splitter", "best"], [
    "seed",
    -1,
  ]],
  RandomForestClassifier: [["nEstimators", 0], ["maxSamples", 2.5], ["maxFeatures", "all"], [
    "maxBin",
    257,
  ]],
  RandomForestRegressor: [["nEstimators", NaN], ["minSamplesSplit", 0], ["ccpAlpha", -1]],
  GradientBoostingClassifier: [["learningRate", 0], ["subsample", 1.5], ["maxDepth", -1], [
    "nEstimators",
    Infinity,
  ]],
  GradientBoostingRegressor: [["loss", "log_loss"], ["alpha", 1], ["learningRate", NaN]],
  XGBClassifier: [["learningRate", -1], ["maxBin", 300], ["gamma", NaN], [
    "objective",
    "reg:squarederror",
  ], ["subsample", 0]],
  XGBRegressor: [["regLambda", -1], ["growPolicy", "breadth"], ["maxDepth", 65], [
    "minChildWeight",
    Infinity,
  ]],
};

property(
  "bad input is a TypeError or RangeError naming the argument, and leaves the estimator as it was",
  0.12,
  badCase,
  async (_wasm, c) => {
    const label = JSON.stringify(c);
    const table = makeTable(c.fit.table);
    const y = caseTargets(c.fit, table);
    let model: AnyEstimator, call: () => Promise<unknown>, argument: string;
    let isFitted = false;
    if (c.bad === "option out of range") {
      const options = BAD_OPTIONS[c.fit.estimator];
      const [option, value] = options[c.at % options.length];
      model = makeEstimator(c.fit.estimator, {
        ...c.fit.options,
        backend: "wasm",
        [option]: value,
      });
      call = () => model.fit(tableRows(table), y);
      argument = option;
    } else {
      model = makeEstimator(c.fit.estimator, { ...c.fit.options, backend: "wasm" });
      isFitted = c.fittedBefore || c.bad.startsWith("predict");
      if (isFitted) {
        try {
          await model.fit(tableRows(table), y);
        } catch (error) {
          // Targets this booster refuses (see fitted()): no fitted estimator to keep.
          if (error instanceof RangeError && error.message.includes('"y"')) return;
          throw error;
        }
      }
      ({ call, argument } = badCall(c.bad, model, table, y, c.at));
    }
    const before = JSON.stringify(model.toJSON());
    const probe = tableRows(table);
    const predictions = isFitted ? await model.predict(probe) : null;
    await assert.rejects(call, (error: unknown) => {
      assert.ok(
        error instanceof TypeError || error instanceof RangeError,
        `${label}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      );
      assert.ok(
        error.message.includes(`"${argument}"`),
        `${label}: "${error.message}" does not name "${argument}"`,
      );
      assert.match(error.message, /^[A-Z]/, "sentence case");
      return true;
    });
    assert.equal(JSON.stringify(model.toJSON()), before, `${label}: the estimator changed`);
    if (predictions !== null) assert.deepEqual(await model.predict(probe), predictions, label);
  },
);
