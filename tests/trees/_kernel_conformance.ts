/**
 * The conformance suite of the `trees` kernel family, on shapes n ∈ {0, 1, odd, several blocks
 * + tail}: every backend, the reference included, must give the independent expectations of
 * tests/trees/_oracles.ts (brute force and closed forms); every other backend must also give
 * the reference's results bit for bit (the sums run in the same order), so that models do not
 * depend on the backend. `registerConformance(kernels)` adds the tests for one backend.
 */
import assert from "node:assert/strict";
import {
  BIN_SET_WORDS,
  categoryBins,
  PARTITION_FIELD_COUNT,
  SPLIT_FIELD_COUNT,
  SPLIT_PARAM,
  SPLIT_PARAM_COUNT,
  type TreesKernels,
} from "../../src/backends/trees.ts";
import {
  findSplitsRef,
  gradientsRef,
  jsTrees,
  partitionRef,
  predictRef,
  sortDistinctRef,
} from "../../src/backends/js/trees.ts";
import { shapRef } from "../../src/backends/js/tree_shap.ts";
import { Rng } from "../../src/_random.ts";
import {
  assertSplitMatches,
  gradientsOracle,
  histogramOracle,
  predictOracle,
  splitsOracle,
} from "./_oracles.ts";

/**
 * The reference's bits, asked of every backend but the reference itself (which the oracles
 * check): `reference` computes them.
 */
function assertSameBitsAsReference<T>(
  kernels: TreesKernels,
  actual: T,
  reference: () => T,
  label?: string,
): void {
  if (kernels.name !== "js") assert.deepEqual(actual, reference(), label);
}

export const ROW_COUNTS = [0, 1, 7, 3 * 64 + 5];

/** A random binned problem: F features with varying bin counts, some missing cells. */
export function randomBinned(seed: number, nRows: number, nFeatures: number, nChannels = 2) {
  const rng = new Rng(seed);
  const binOffsets = new Int32Array(nFeatures + 1);
  for (let f = 0; f < nFeatures; f++) {
    binOffsets[f + 1] = binOffsets[f] + 2 + rng.nextInt(f === 0 ? 255 : 12);
  }
  const bins = new Uint8Array(nRows * nFeatures);
  for (let f = 0; f < nFeatures; f++) {
    const nBins = binOffsets[f + 1] - binOffsets[f] - 1;
    for (let r = 0; r < nRows; r++) {
      bins[f * nRows + r] = rng.next() < 0.1 ? nBins : rng.nextInt(nBins);
    }
  }
  const values = new Float64Array(nRows * nChannels);
  for (let r = 0; r < nRows; r++) {
    values[r * nChannels] = rng.next() * 2 - 1;
    values[r * nChannels + 1] = 0.1 + rng.next();
    if (nChannels === 3) values[r * nChannels + 2] = 1;
  }
  const rows = Int32Array.from({ length: nRows }, (_, i) => i);
  return { rng, binOffsets, bins, values, rows, nRows, nFeatures, nChannels };
}

/**
 * buildHistogram's arguments, the output aside: rows [begin, end) of `rows` (all of them by
 * default) of a random binned matrix, over `features`.
 */
function histogramArgs(
  p: ReturnType<typeof randomBinned>,
  rows: Int32Array,
  features: Int32Array,
  [rowBegin, rowEnd]: [number, number] = [0, rows.length],
) {
  return {
    bins: p.bins,
    nRows: p.nRows,
    rows,
    rowBegin,
    rowEnd,
    values: p.values,
    nChannels: p.nChannels,
    features,
    featureCount: features.length,
    binOffsets: p.binOffsets,
  };
}

function splitParams(opts: Partial<Record<keyof typeof SPLIT_PARAM, number>>): Float64Array {
  const p = new Float64Array(SPLIT_PARAM_COUNT);
  p[SPLIT_PARAM.lambda] = 1;
  p[SPLIT_PARAM.minChildWeight] = 0.5;
  p[SPLIT_PARAM.lowerBound] = -Infinity;
  p[SPLIT_PARAM.upperBound] = Infinity;
  for (const [k, v] of Object.entries(opts)) p[SPLIT_PARAM[k as keyof typeof SPLIT_PARAM]] = v!;
  return p;
}

/**
 * A table of `n` rows of `cols` features uniform in (−2, 2), 3% missing: a target from the first
 * two features plus noise, and three classes cut from it.
 */
export function noisyTable(n: number, cols: number, seed: number) {
  const rng = new Rng(seed);
  const data = new Float32Array(n * cols);
  for (let i = 0; i < data.length; i++) {
    data[i] = rng.next() < 0.03 ? NaN : Math.fround(rng.next() * 4 - 2);
  }
  const y = Array.from(
    { length: n },
    (_, r) => (data[r * cols] || 0) + Math.sin(3 * (data[r * cols + 1] || 0)) + rng.next(),
  );
  const classes = y.map((v) => (v > 1.5 ? 2 : v > 0 ? 1 : 0));
  return { X: { data, shape: [n, cols] }, y, classes };
}

/** A random forest of small trees in the flat model layout. */
export function randomTrees(
  seed: number,
  nTrees: number,
  nCols: number,
  nOutputs: number,
  depth = 3,
) {
  const rng = new Rng(seed);
  const feature: number[] = [], threshold: number[] = [], defaultLeft: number[] = [];
  const left: number[] = [], right: number[] = [], value: number[] = [];
  const treeStart = [0], treeGroup: number[] = [];
  for (let t = 0; t < nTrees; t++) {
    const base = feature.length;
    // A complete tree: 2^depth − 1 internal nodes then 2^depth leaves, children after parents.
    for (let i = 0; i < 2 ** (depth + 1) - 1; i++) {
      const internal = i < 2 ** depth - 1;
      feature.push(internal ? rng.nextInt(nCols) : -1);
      threshold.push(Math.fround(rng.next() * 2 - 1));
      defaultLeft.push(rng.nextInt(2));
      left.push(internal ? base + 2 * i + 1 : -1);
      right.push(internal ? base + 2 * i + 2 : -1);
      value.push(Math.fround(rng.next() - 0.5));
    }
    treeStart.push(feature.length);
    treeGroup.push(t % nOutputs);
  }
  return {
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    defaultLeft: Uint8Array.from(defaultLeft),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float32Array.from(value),
    leafWidth: 1,
    treeStart: Int32Array.from(treeStart),
    treeGroup: Int32Array.from(treeGroup),
  };
}

/** The checks, each run against one backend. */
export const CONFORMANCE: { name: string; run: (kernels: TreesKernels) => Promise<void> }[] = [];

function check(name: string, run: (kernels: TreesKernels) => Promise<void> | void): void {
  CONFORMANCE.push({ name, run: async (kernels) => await run(kernels) });
}

check("buildHistogram() matches the per-bin sums", async (kernels) => {
  for (const nChannels of [2, 3]) {
    for (const n of ROW_COUNTS) {
      const p = randomBinned(n + nChannels, n, 4, nChannels);
      // A node: every other row, in order; only features 0, 2 and 3.
      const rows = p.rows.filter((_, i) => i % 2 === 0);
      const features = Int32Array.of(0, 2, 3);
      const args = histogramArgs(p, rows, features);
      const total = p.binOffsets[4] * nChannels;
      const expected = histogramOracle(p, rows, features, new Float64Array(total).fill(7));
      const actual = new Float64Array(total).fill(7);
      await kernels.buildHistogram({ ...args, hist: actual });
      // Each slot sums its rows in row order, so the bits are the oracle's.
      assert.deepEqual(actual, expected, `n=${n}, channels=${nChannels}`);
      // Feature 1's slots are not listed, so they keep their old contents.
      assert.equal(actual[p.binOffsets[1] * nChannels], 7);
      if (rows.length > 0) {
        let sum = 0;
        for (let s = p.binOffsets[0]; s < p.binOffsets[1]; s++) sum += actual[s * nChannels + 1];
        let direct = 0;
        for (const r of rows) direct += p.values[r * nChannels + 1];
        assert.ok(Math.abs(sum - direct) < 1e-9, "every row lands in exactly one slot");
      }
    }
  }
});

check("buildHistogram() gives every feature count the oracle's bits", async (kernels) => {
  // 1..20 features: every width of a pass over the rows (1..8) and every split into passes.
  const p = randomBinned(5, 3 * 64 + 5, 20);
  const rows = p.rows.filter((r) => r % 3 !== 1);
  for (let count = 1; count <= 20; count++) {
    // Every other feature first, so the listed features are not in column order.
    const features = Int32Array.from({ length: count }, (_, k) => (k * 7) % 20);
    const total = p.binOffsets[20] * 2;
    const expected = histogramOracle(p, rows, features, new Float64Array(total));
    const actual = new Float64Array(total);
    await kernels.buildHistogram({ ...histogramArgs(p, rows, features), hist: actual });
    assert.deepEqual(actual, expected, `${count} features`);
  }
});

check("subtractHistogram() gives the sibling", async (kernels) => {
  const p = randomBinned(11, 200, 3);
  const features = Int32Array.of(0, 1, 2);
  const total = p.binOffsets[3] * 2;
  const build = async (rows: Int32Array) => {
    const hist = new Float64Array(total);
    await kernels.buildHistogram({ ...histogramArgs(p, rows, features), hist });
    return hist;
  };
  const parent = await build(p.rows);
  const small = await build(p.rows.filter((r) => r < 60));
  const large = await build(p.rows.filter((r) => r >= 60));
  const out = new Float64Array(total);
  await kernels.subtractHistogram({
    parent,
    child: small,
    out,
    nChannels: 2,
    features,
    featureCount: 3,
    binOffsets: p.binOffsets,
  });
  for (let i = 0; i < total; i++) assert.ok(Math.abs(out[i] - large[i]) < 1e-12);
});

check("findSplits() finds the best split by brute force", async (kernels) => {
  for (
    const [opts, C] of [
      [{}, 2],
      [{ alpha: 0.3, lambda: 0.5 }, 2],
      [{ maxDeltaStep: 0.05 }, 2],
      [{ minChildWeight: 60 }, 2],
      [{ lowerBound: -0.02, upperBound: 0.03 }, 2],
      [{ minSamplesLeaf: 1 }, 3],
      [{ minSamplesLeaf: 120 }, 3],
    ] as const
  ) {
    const p = randomBinned(5, 300, 4, C);
    const features = Int32Array.of(0, 1, 2, 3);
    const hist = new Float64Array(p.binOffsets[4] * C);
    await kernels.buildHistogram({ ...histogramArgs(p, p.rows, features), hist });
    let g = 0, h = 0;
    for (let r = 0; r < 300; r++) {
      g += p.values[C * r];
      h += p.values[C * r + 1];
    }
    const params = splitParams({ ...opts, sumGrad: g, sumHess: h, count: 300 });
    const monotone = "lowerBound" in opts ? Int8Array.of(1, -1, 0, 1) : null;
    const args = {
      hist,
      nChannels: C,
      features,
      featureCount: 4,
      binOffsets: p.binOffsets,
      monotone,
      params,
    };
    const expected = splitsOracle(args);
    const actual = new Float64Array(4 * SPLIT_FIELD_COUNT);
    await kernels.findSplits({ ...args, out: actual });
    for (let k = 0; k < 4; k++) {
      assertSplitMatches(
        actual.subarray(k * SPLIT_FIELD_COUNT, (k + 1) * SPLIT_FIELD_COUNT),
        expected.subarray(k * SPLIT_FIELD_COUNT, (k + 1) * SPLIT_FIELD_COUNT),
        `${JSON.stringify(opts)} feature ${k}`,
      );
    }
    assertSameBitsAsReference(kernels, actual, () => {
      const reference = new Float64Array(4 * SPLIT_FIELD_COUNT);
      findSplitsRef({ ...args, out: reference });
      return reference;
    });
    assert.ok(expected.some((v, i) => i % SPLIT_FIELD_COUNT === 0 && v > 0), "some split gains");
  }
});

check("partition() is stable and follows bins and defaults", async (kernels) => {
  for (const n of ROW_COUNTS) {
    const p = randomBinned(n + 3, n, 2);
    const missingBin = p.binOffsets[2] - p.binOffsets[1] - 1;
    for (const defaultLeft of [0, 1]) {
      const rows = p.rows.slice();
      const args = {
        bins: p.bins,
        nRows: n,
        rowBegin: 0,
        rowEnd: n,
        feature: 1,
        splitBin: 3,
        missingBin,
        defaultLeft,
      };
      const nLeft = await kernels.partition({ ...args, rows, scratch: new Int32Array(n) });
      const goesLeft = (r: number) => {
        const b = p.bins[n + r];
        return b === missingBin ? defaultLeft === 1 : b < 3;
      };
      assert.equal(nLeft, Array.from(p.rows).filter(goesLeft).length);
      assert.deepEqual(Array.from(rows.subarray(0, nLeft)), Array.from(p.rows).filter(goesLeft));
      assert.deepEqual(
        Array.from(rows.subarray(nLeft)),
        Array.from(p.rows).filter((r) => !goesLeft(r)),
      );
    }
  }
});

check("predict() sums float32 leaves in tree order", async (kernels) => {
  const trees = randomTrees(3, 9, 4, 3);
  for (const n of ROW_COUNTS) {
    const rng = new Rng(n);
    // Missing values, values equal to thresholds (which go right) and others.
    const x = Float32Array.from({ length: n * 4 }, () => {
      const u = rng.next();
      if (u < 0.15) return NaN;
      return u < 0.5 ? trees.threshold[rng.nextInt(trees.threshold.length)] : rng.next() * 2 - 1;
    });
    const args = { x, nRows: n, nCols: 4, ...trees, treeBegin: 1, treeEnd: 9, nOutputs: 3 };
    const expected = predictOracle(trees, x, 4, [1, 9], 3, new Float32Array(n * 3).fill(0.25));
    const actual = new Float32Array(n * 3).fill(0.25);
    await kernels.predict({ ...args, out: actual });
    assert.deepEqual(actual, expected, `n=${n}`);
    if (n > 1) {
      // Rows [1, n) only: row 0 keeps its start value.
      const partial = new Float32Array(n * 3).fill(0.25);
      await kernels.predict({ ...args, out: partial }, 1, n - 1);
      assert.deepEqual(Array.from(partial.subarray(0, 3)), [0.25, 0.25, 0.25]);
      assert.deepEqual(partial.subarray(3), expected.subarray(3));
    }
  }
});

/** Random trees with positive covers, for TreeSHAP; a feature repeats along some paths. */
function shapCase(seed: number, nRows: number, nOutputs: number, leafWidth: number) {
  const nCols = 4;
  const trees = randomTrees(seed, 7, nCols, nOutputs - leafWidth + 1);
  const rng = new Rng(seed + 1);
  const cover = Float32Array.from(trees.feature, () => Math.fround(0.5 + rng.next() * 10));
  const value = Float32Array.from(
    { length: trees.feature.length * leafWidth },
    () => Math.fround(rng.next() - 0.5),
  );
  const x = Float32Array.from(
    { length: nRows * nCols },
    () => (rng.next() < 0.15 ? NaN : rng.next() * 2 - 1),
  );
  return {
    ...trees,
    value,
    leafWidth,
    cover,
    x,
    nRows,
    nCols,
    nOutputs,
    treeBegin: 1,
    treeEnd: 7,
    maxDepth: 3,
    condition: 0,
    conditionFeature: 0,
    out: new Float64Array(nRows * nOutputs * (nCols + 1)),
  };
}

check("shap() gives the reference's TreeSHAP values, plain and conditioned", async (kernels) => {
  for (const n of ROW_COUNTS) {
    for (const [nOutputs, leafWidth] of [[1, 1], [3, 1], [3, 3]]) {
      for (const [condition, conditionFeature] of [[0, 0], [1, 2], [-1, 1]]) {
        const args = {
          ...shapCase(n + nOutputs, n, nOutputs, leafWidth),
          condition,
          conditionFeature,
        };
        const expected = args.out.map((_, i) => i % 3);
        shapRef({ ...args, out: expected });
        const actual = args.out.map((_, i) => i % 3);
        await kernels.shap({ ...args, out: actual });
        assert.deepEqual(actual, expected, `n=${n} K=${nOutputs} W=${leafWidth} c=${condition}`);
      }
    }
    if (n > 1) {
      // Rows [1, n) only: row 0 keeps its start values.
      const args = shapCase(5, n, 2, 1);
      const expected = new Float64Array(args.out.length);
      shapRef({ ...args, out: expected });
      const partial = new Float64Array(args.out.length);
      partial.subarray(0, 10).fill(0.5);
      await kernels.shap({ ...args, out: partial }, 1, n - 1);
      assert.ok(partial.subarray(0, 10).every((v) => v === 0.5));
      assert.deepEqual(partial.subarray(10), expected.subarray(10));
    }
  }
});

check("shap() gives the reference's bits on trees of depth 8 (features met twice)", async (kernels) => {
  const nCols = 12, nRows = 40;
  const trees = randomTrees(41, 3, nCols, 2, 8);
  const rng = new Rng(42);
  const cover = Float32Array.from(trees.feature, () => Math.fround(0.5 + rng.next() * 10));
  const x = Float32Array.from(
    { length: nRows * nCols },
    () => (rng.next() < 0.1 ? NaN : rng.next() * 2 - 1),
  );
  for (const [condition, conditionFeature] of [[0, 0], [1, 5], [-1, 7]]) {
    const args = {
      ...trees, cover, x, nRows, nCols, nOutputs: 2, treeBegin: 0, treeEnd: 3, maxDepth: 8,
      condition, conditionFeature, out: new Float64Array(nRows * 2 * (nCols + 1)),
    };
    const expected = new Float64Array(args.out.length);
    shapRef({ ...args, out: expected });
    assert.ok(expected.some((v) => v !== 0), "the reference wrote contributions");
    const actual = new Float64Array(args.out.length);
    await kernels.shap({ ...args, out: actual });
    assert.deepEqual(actual, expected, `condition ${condition}`);
  }
});

check("shap() splits many rows without changing a bit", async (kernels) => {
  const args = shapCase(12, 3000, 2, 1);
  const expected = new Float64Array(args.out.length);
  shapRef({ ...args, out: expected });
  const actual = new Float64Array(args.out.length);
  await kernels.shap({ ...args, out: actual });
  assert.deepEqual(actual, expected);
});

/** Random trees where every third internal node tests categories of feature values 0 … 40. */
function categoricalCase(seed: number, nRows: number) {
  const trees = randomTrees(seed, 6, 3, 2);
  const rng = new Rng(seed + 7);
  const n = trees.feature.length;
  const splitType = new Uint8Array(n);
  const catBegin = new Int32Array(n + 1);
  const words: number[] = [];
  for (let i = 0; i < n; i++) {
    if (trees.feature[i] >= 0 && i % 3 === 0) {
      splitType[i] = 1;
      const count = 1 + rng.nextInt(2);
      for (let w = 0; w < count; w++) words.push(rng.nextU32());
    }
    catBegin[i + 1] = words.length;
  }
  const pick = [NaN, -1, -0.5, 0, 3, 3.7, 31, 32, 40, 63, 64, 100, 1e9];
  const x = Float32Array.from({ length: nRows * 3 }, () => pick[rng.nextInt(pick.length)]);
  const categories = { splitType, catBegin, catBits: Uint32Array.from(words) };
  return { ...trees, x, nRows, nCols: 3, nOutputs: 2, treeBegin: 0, treeEnd: 6, categories };
}

check("predict() and shap() follow category sets as the reference does", async (kernels) => {
  for (const n of ROW_COUNTS) {
    const args = categoricalCase(n + 1, n);
    const expected = new Float32Array(n * 2);
    predictRef({ ...args, out: expected });
    const actual = new Float32Array(n * 2);
    await kernels.predict({ ...args, out: actual });
    assert.deepEqual(actual, expected, `predict n=${n}`);
    const cover = Float32Array.from(args.feature, (_, i) => 1 + (i % 5));
    const shapArgs = { ...args, cover, maxDepth: 3, condition: 0, conditionFeature: 0 };
    const phi = new Float64Array(n * 2 * 4);
    shapRef({ ...shapArgs, out: phi });
    const got = new Float64Array(n * 2 * 4);
    await kernels.shap({ ...shapArgs, out: got });
    assert.deepEqual(got, phi, `shap n=${n}`);
  }
});

check("sortDistinct() sorts, deduplicates and counts each column as the reference", async (kernels) => {
  // Columns of every kind: few values repeated, both signs with ±0 and ±∞, one binade (a digit
  // every value shares is skipped), tiny, empty, and long enough to split across threads.
  let seed = 11;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const kinds: ((i: number) => number)[] = [
    () => Math.floor(next() * 5) * 0.25,
    (i) => [-0, 0, Infinity, -Infinity][i % 4] ?? 0,
    () => (next() - 0.5) * 1e4,
    () => 1 + next() * 0.5,
    () => -Math.exp(next() * 20),
    () => 3,
  ];
  for (const n of [0, 1, 7, 300, 70000]) {
    const columns = kinds.map((kind) => Float32Array.from({ length: n + 5 }, (_, i) => kind(i)));
    const originals = columns.map((c) => c.slice());
    const lengths = new Int32Array(columns.length).fill(n);
    const want = columns.map((c) => {
      const values = c.slice(), counts = new Int32Array(n);
      const d = sortDistinctRef(values, n, counts, new Uint32Array(n));
      return { values: values.subarray(0, d), counts: counts.subarray(0, d) };
    });
    const counts = columns.map(() => new Int32Array(n));
    const distinct = new Int32Array(columns.length);
    await kernels.sortDistinct({ columns, lengths, counts, distinct });
    columns.forEach((c, j) => {
      assert.equal(distinct[j], want[j].values.length, `column ${j}, n = ${n}: distinct`);
      // Object.is through the bits: −0 must stay −0.
      assert.deepEqual(
        new Uint32Array(c.slice(0, distinct[j]).buffer),
        new Uint32Array(want[j].values.slice().buffer),
        `column ${j}, n = ${n}: values`,
      );
      assert.deepEqual(counts[j].subarray(0, distinct[j]), want[j].counts, `column ${j}, n = ${n}`);
    });
    // The same columns in memory the backend lends (TreesKernels.cutBuffers), sorted in place.
    const lent = n > 0 ? kernels.cutBuffers?.(n + 5, kinds.length) ?? null : null;
    if (lent !== null) {
      try {
        originals.forEach((c, j) => lent.columns[j].set(c));
        const args = { columns: lent.columns, lengths, counts: lent.tallies, distinct };
        await kernels.sortDistinct(args);
        lent.columns.forEach((c, j) => {
          assert.equal(distinct[j], want[j].values.length, `lent column ${j}, n = ${n}: distinct`);
          assert.deepEqual(
            new Uint32Array(c.slice(0, distinct[j]).buffer),
            new Uint32Array(want[j].values.slice().buffer),
            `lent column ${j}, n = ${n}: values`,
          );
          const tally = lent.tallies[j].slice(0, distinct[j]);
          assert.deepEqual(tally, want[j].counts.slice(), `lent column ${j}, n = ${n}: counts`);
        });
      } finally {
        lent.release();
      }
    }
    if (n >= 300) {
      // The reference itself: ascending, no repeats, counts adding up to n.
      const first = want[2];
      for (let i = 1; i < first.values.length; i++) assert.ok(first.values[i - 1] < first.values[i]);
      assert.equal(first.counts.reduce((a, b) => a + b, 0), n);
      assert.deepEqual(Array.from(want[1].values), [-Infinity, -0, Infinity]);
    }
  }
});

check("binFeatures() places values between split values", async (kernels) => {
  const splitValues = Float32Array.of(-1, 0.5, 1, 2, 9, /* feature 1: */ 0, 5);
  const binOffsets = Int32Array.of(0, 5, 7);
  const x = Float32Array.of(0, 1, 0.5, NaN, 1.5, 3, 2, 4, 100, -2, NaN, 0);
  const bins = new Uint8Array(12);
  await kernels.binFeatures({ x, nRows: 6, nCols: 2, splitValues, binOffsets, bins });
  // Feature 0 has 4 value bins: (−∞,0.5) [0.5,1) [1,2) [2,∞), missing = 4; feature 1 has one.
  assert.deepEqual(Array.from(bins.subarray(0, 6)), [0, 1, 2, 3, 3, 4]);
  assert.deepEqual(Array.from(bins.subarray(6)), [0, 1, 0, 0, 0, 0]);
});

check("buildHistogram() splits large work without changing a bit", async (kernels) => {
  // Enough cells for feature groups across workers, 9 features (two blocks of 4 and a tail).
  const p = randomBinned(21, 20000, 9);
  const rows = p.rows.filter((r) => r % 3 !== 1);
  const features = Int32Array.from({ length: 9 }, (_, i) => i);
  const args = histogramArgs(p, rows, features);
  const expected = histogramOracle(p, rows, features, new Float64Array(p.binOffsets[9] * 2));
  const actual = new Float64Array(p.binOffsets[9] * 2);
  await kernels.retain(p.bins);
  await kernels.retain(p.values);
  try {
    await kernels.buildHistogram({ ...args, hist: actual });
  } finally {
    await kernels.release(p.values);
    await kernels.release(p.bins);
  }
  assert.deepEqual(actual, expected);
});

check("retain() copies stay in step with release()", async (kernels) => {
  const p = randomBinned(8, 50, 2);
  const features = Int32Array.of(0, 1);
  const hist = new Float64Array(p.binOffsets[2] * 2);
  const args = { ...histogramArgs(p, p.rows, features), hist };
  await kernels.retain(p.values);
  await kernels.retain(p.values);
  await kernels.release(p.values);
  await kernels.buildHistogram(args);
  const first = hist.slice();
  await kernels.release(p.values);
  // Released: a changed array is read afresh.
  p.values.fill(0);
  await kernels.buildHistogram(args);
  assert.ok(first.some((v) => v !== 0));
  assert.ok(hist.every((v) => v === 0));
});

check("predict() splits many rows without changing a bit", async (kernels) => {
  const trees = randomTrees(9, 20, 5, 2);
  const n = 9000;
  const rng = new Rng(77);
  const x = Float32Array.from(
    { length: n * 5 },
    () => (rng.next() < 0.1 ? NaN : rng.next() * 2 - 1),
  );
  const args = { x, nRows: n, nCols: 5, ...trees, treeBegin: 0, treeEnd: 20, nOutputs: 2 };
  const expected = predictOracle(trees, x, 5, [0, 20], 2, new Float32Array(n * 2));
  const actual = new Float32Array(n * 2);
  await kernels.predict({ ...args, out: actual });
  assert.deepEqual(actual, expected);
});

check("binFeatures() counts the upper edges at or below each value", async (kernels) => {
  const rng = new Rng(31);
  // Features with 1, 2, 3, 7, 255 value bins; random edges; values around and on the edges.
  const counts = [1, 2, 3, 7, 255];
  const binOffsets = new Int32Array(counts.length + 1);
  counts.forEach((c, f) => (binOffsets[f + 1] = binOffsets[f] + c + 1));
  const splitValues = new Float32Array(binOffsets[counts.length]);
  counts.forEach((c, f) => {
    const edges = Array.from({ length: c + 1 }, () => Math.fround(rng.next() * 4 - 2)).sort((
      a,
      b,
    ) => a - b);
    splitValues.set(edges, binOffsets[f]);
  });
  const nRows = 3000, nCols = counts.length;
  const x = new Float32Array(nRows * nCols);
  for (let r = 0; r < nRows; r++) {
    for (let f = 0; f < nCols; f++) {
      const u = rng.next();
      const onEdge = splitValues[binOffsets[f] + rng.nextInt(counts[f] + 1)];
      x[r * nCols + f] = u < 0.05 ? NaN : u < 0.3 ? onEdge : Math.fround(rng.next() * 5 - 2.5);
    }
  }
  const bins = new Uint8Array(nRows * nCols);
  await kernels.binFeatures({ x, nRows, nCols, splitValues, binOffsets, bins });
  for (let f = 0; f < nCols; f++) {
    for (let r = 0; r < nRows; r++) {
      const v = x[r * nCols + f];
      let expected = counts[f];
      if (!Number.isNaN(v)) {
        expected = 0;
        for (let j = 1; j < counts[f]; j++) if (splitValues[binOffsets[f] + j] <= v) expected++;
      }
      if (bins[f * nRows + r] !== expected) {
        assert.fail(`feature ${f}, row ${r}, value ${v}: ${bins[f * nRows + r]} != ${expected}`);
      }
    }
  }
});

check("binFeatures() bins many rows in rounds, into lent memory too", async (kernels) => {
  // 50,000 rows of 3 features: on two threads, three rounds of two blocks (each copied in while
  // the other lane bins) and a last round of one block in this thread.
  const rng = new Rng(57);
  const counts = [3, 16, 255], nRows = 50000, nCols = counts.length;
  const binOffsets = new Int32Array(nCols + 1);
  counts.forEach((c, f) => (binOffsets[f + 1] = binOffsets[f] + c + 1));
  const splitValues = new Float32Array(binOffsets[nCols]);
  counts.forEach((c, f) => {
    const edges = Array.from({ length: c + 1 }, (_, j) => Math.fround(-2 + (4 * j) / c));
    splitValues.set(edges, binOffsets[f]);
  });
  const x = Float32Array.from(
    { length: nRows * nCols },
    () => (rng.next() < 0.04 ? NaN : Math.fround(rng.next() * 5 - 2.5)),
  );
  const expected = new Uint8Array(nRows * nCols);
  for (let f = 0; f < nCols; f++) {
    const edges = splitValues.subarray(binOffsets[f] + 1, binOffsets[f] + counts[f]);
    for (let r = 0; r < nRows; r++) {
      const v = x[r * nCols + f];
      expected[f * nRows + r] = Number.isNaN(v) ? counts[f] : edges.filter((e) => e <= v).length;
    }
  }
  const args = { x, nRows, nCols, splitValues, binOffsets };
  const bins = new Uint8Array(nRows * nCols);
  await kernels.binFeatures({ ...args, bins });
  assert.deepEqual(bins, expected);
  // `between` (a fit's watch) gives the event loop turns between the WASM backend's rounds: a
  // timer set before the call runs before it ends.
  let turns = 0, ticked = false;
  setTimeout(() => ticked = true, 0);
  const between = async () => {
    turns++;
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  bins.fill(0xff);
  await kernels.binFeatures({ ...args, bins, between });
  assert.deepEqual(bins, expected);
  if (kernels.name === "wasm") assert.ok(turns >= 3 && ticked, `${turns} turns between rounds`);
  const lent = kernels.binBuffer?.(nRows * nCols) ?? null;
  if (lent === null) return;
  try {
    lent.bins.fill(0xff);
    await kernels.binFeatures({ ...args, bins: lent.bins, between });
    assert.deepEqual(lent.bins, expected);
  } finally {
    lent.release();
  }
});

check("workspace steps match brute-force histograms, splits and partitions", async (kernels) => {
  for (const nChannels of [2, 3]) {
    const n = 2000, F = 6;
    const p = randomBinned(40 + nChannels, n, F, nChannels);
    const C = nChannels, slots = p.binOffsets[F];
    const features = Int32Array.from({ length: F }, (_, f) => f);
    const rows = p.rows.filter((r) => r % 5 !== 2);
    const count = rows.length;
    const naive = (from: Int32Array, begin: number, end: number) =>
      histogramOracle(p, from, features, new Float64Array(slots * C), [begin, end]);
    const sums = (from: Int32Array, begin: number, end: number) => {
      const out = [0, 0, 0];
      for (let i = begin; i < end; i++) {
        for (let c = 0; c < C; c++) out[c] += p.values[from[i] * C + c];
      }
      return out;
    };
    /** The best split of one node by brute force: per-feature search, then the first best. */
    const bestOf = (hist: Float64Array, candidates: Int32Array, params: Float64Array) => {
      const out = splitsOracle({
        hist,
        nChannels: C,
        features: candidates,
        binOffsets: p.binOffsets,
        monotone: null,
        params,
      });
      let k = -1;
      for (let i = 0; i < candidates.length; i++) {
        if (out[i * SPLIT_FIELD_COUNT] > (k < 0 ? -Infinity : out[k * SPLIT_FIELD_COUNT])) k = i;
      }
      return { k, out };
    };
    const paramsOf = (s: number[]) =>
      splitParams({ sumGrad: s[0], sumHess: s[1], count: s[2], minSamplesLeaf: 3 });

    const ws = kernels.workspace({
      bins: p.bins,
      nRows: n,
      nFeatures: F,
      binOffsets: p.binOffsets,
      nChannels: C,
      monotone: null,
    });
    try {
      ws.setValues(p.values);
      ws.setRows(rows, count);
      // Root: histogram into slot 3, searched over all features.
      const rootParams = paramsOf(sums(rows, 0, count));
      const root = {
        features,
        featureCount: F,
        build: Int32Array.of(3, 0, count),
        buildCount: 1,
        subtract: new Int32Array(0),
        subtractCount: 0,
        search: Int32Array.of(3),
        searchCount: 1,
        params: rootParams,
        candidates: features,
        candidateOffsets: Int32Array.of(0, F),
        best: new Float64Array(SPLIT_FIELD_COUNT),
        bestFeature: new Int32Array(1),
      };
      await ws.grow(root);
      const rootHist = naive(rows, 0, count);
      const expectedRoot = bestOf(rootHist, features, rootParams);
      assert.ok(expectedRoot.k >= 0, "the root splits");
      assert.equal(root.bestFeature[0], expectedRoot.k);
      assertSplitMatches(
        root.best,
        expectedRoot.out.slice(
          expectedRoot.k * SPLIT_FIELD_COUNT,
          (expectedRoot.k + 1) * SPLIT_FIELD_COUNT,
        ),
        "root",
      );
      const f = root.bestFeature[0];
      const featureHist = new Float64Array((p.binOffsets[f + 1] - p.binOffsets[f]) * C);
      ws.readHistogram(3, f, featureHist);
      assert.deepEqual(featureHist, rootHist.slice(p.binOffsets[f] * C, p.binOffsets[f + 1] * C));

      // Partition on the root's split: the rows going left, then the others, each in order.
      const missingBin = p.binOffsets[f + 1] - p.binOffsets[f] - 1;
      const goesLeft = (r: number) => {
        const b = p.bins[f * n + r];
        return b === missingBin ? root.best[2] === 1 : b < root.best[1];
      };
      const nodeRows = Array.from(rows.subarray(0, count));
      const leftRows = nodeRows.filter(goesLeft);
      const nLeft = leftRows.length;
      const expectedRows = Int32Array.from([...leftRows, ...nodeRows.filter((r) => !goesLeft(r))]);
      const partition = {
        nodes: Int32Array.of(0, count, f, root.best[1], missingBin, root.best[2]),
        nodeCount: 1,
        nLeft: new Int32Array(1),
      };
      await ws.partition(partition);
      assert.equal(partition.nLeft[0], nLeft);
      const actualRows = new Int32Array(count);
      ws.readRows(actualRows, count);
      assert.deepEqual(actualRows, expectedRows);

      // Children: the left one built into slot 0, the right one by subtraction in slot 3, each
      // searched over its own candidates.
      const leftCandidates = Int32Array.of(0, 2, 3, 5), rightCandidates = Int32Array.of(1, 4, 5);
      const leftParams = paramsOf(sums(expectedRows, 0, nLeft));
      const rightParams = paramsOf(sums(expectedRows, nLeft, count));
      const step = {
        features,
        featureCount: F,
        build: Int32Array.of(0, 0, nLeft),
        buildCount: 1,
        subtract: Int32Array.of(3, 0),
        subtractCount: 1,
        search: Int32Array.of(0, 3),
        searchCount: 2,
        params: Float64Array.from([...leftParams, ...rightParams]),
        candidates: Int32Array.from([...leftCandidates, ...rightCandidates]),
        candidateOffsets: Int32Array.of(0, 4, 7),
        best: new Float64Array(2 * SPLIT_FIELD_COUNT),
        bestFeature: new Int32Array(2),
      };
      await ws.grow(step);
      const leftHist = naive(expectedRows, 0, nLeft);
      const rightHist = rootHist.map((v, i) => v - leftHist[i]);
      [[leftHist, leftCandidates, leftParams], [rightHist, rightCandidates, rightParams]].forEach(
        ([hist, candidates, params], i) => {
          const expected = bestOf(
            hist as Float64Array,
            candidates as Int32Array,
            params as Float64Array,
          );
          const at = (k: number) =>
            expected.out.slice(k * SPLIT_FIELD_COUNT, (k + 1) * SPLIT_FIELD_COUNT);
          assert.equal(
            step.bestFeature[i],
            expected.k < 0 ? -1 : (candidates as Int32Array)[expected.k],
          );
          if (expected.k >= 0) {
            assertSplitMatches(
              step.best.slice(i * SPLIT_FIELD_COUNT, (i + 1) * SPLIT_FIELD_COUNT),
              at(expected.k),
              `child ${i}`,
            );
          }
        },
      );
      const last = F - 1;
      const lastHist = new Float64Array((p.binOffsets[F] - p.binOffsets[last]) * C);
      ws.readHistogram(3, last, lastHist);
      assert.deepEqual(lastHist, rightHist.slice(p.binOffsets[last] * C));
    } finally {
      ws.release();
    }
  }
});

check("workspace partitions of a large level are stable whatever the pieces", async (kernels) => {
  // Enough rows for the WASM backend to deal the level to its threads by row ranges; one node
  // holds most of them, so pieces cut through it, and rows of the segments are shuffled.
  const n = 90000, F = 3;
  const p = randomBinned(77, n, F);
  const rows = Int32Array.from(p.rows);
  for (let i = n - 1; i > 0; i--) {
    const j = p.rng.nextInt(i + 1);
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  // Segments (begin, end) of the level; rows outside them belong to leaves and must not move.
  const segments = [[0, 3], [3, 70001], [70001, 70001 + 500], [71000, 88000], [88000, n - 1]];
  const nodes = new Int32Array(segments.length * PARTITION_FIELD_COUNT);
  const expected = Int32Array.from(rows);
  const nLeftExpected: number[] = [];
  segments.forEach(([begin, end], i) => {
    const feature = i % F, nBins = p.binOffsets[feature + 1] - p.binOffsets[feature] - 1;
    const splitBin = 1 + (i * 7) % (nBins - 1), defaultLeft = i % 2;
    nodes.set([begin, end, feature, splitBin, nBins, defaultLeft], i * PARTITION_FIELD_COUNT);
    const goesLeft = (r: number) => {
      const b = p.bins[feature * n + r];
      return b === nBins ? defaultLeft === 1 : b < splitBin;
    };
    const segment = Array.from(rows.subarray(begin, end));
    const left = segment.filter(goesLeft);
    expected.set([...left, ...segment.filter((r) => !goesLeft(r))], begin);
    nLeftExpected.push(left.length);
  });
  const ws = kernels.workspace({
    bins: p.bins,
    nRows: n,
    nFeatures: F,
    binOffsets: p.binOffsets,
    nChannels: 2,
    monotone: null,
  });
  try {
    ws.setValues(p.values);
    ws.setRows(rows, n);
    const step = { nodes, nodeCount: segments.length, nLeft: new Int32Array(segments.length) };
    await ws.partition(step);
    assert.deepEqual(Array.from(step.nLeft), nLeftExpected);
    const actual = new Int32Array(n);
    ws.readRows(actual, n);
    assert.deepEqual(actual, expected);
  } finally {
    ws.release();
  }
});

check("workspace row sums add each channel's values one by one in row order", (kernels) => {
  // Values of mixed magnitudes, where any other order of the additions (pairwise, by lanes,
  // reversed) changes the bits; a shuffled subset of the rows, and all rows in order.
  const n = 1003;
  for (const C of [2, 3]) {
    const p = randomBinned(17 + C, n, 2, C);
    const values = Float64Array.from(
      p.values,
      (v, i) => v * (i % 7 === 0 ? 1e15 : i % 5 === 0 ? 1e-9 : 1) * (i % 3 === 0 ? -1 : 1),
    );
    const shuffled = Int32Array.from(p.rows);
    for (let i = n - 1; i > 0; i--) {
      const j = p.rng.nextInt(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const ws = kernels.workspace({
      bins: p.bins,
      nRows: n,
      nFeatures: 2,
      binOffsets: p.binOffsets,
      nChannels: C,
      monotone: null,
    });
    try {
      ws.setValues(values);
      for (const [rows, count] of [[shuffled, 777], [null, n]] as const) {
        if (rows === null) ws.setRowsInOrder(count);
        else ws.setRows(rows, count);
        const order = new Int32Array(count);
        ws.readRows(order, count);
        assert.deepEqual(order, rows?.subarray(0, count) ?? Int32Array.from(order, (_, i) => i));
        const expected = new Float64Array(C);
        for (let i = 0; i < count; i++) {
          for (let j = 0; j < C; j++) expected[j] += values[order[i] * C + j];
        }
        // The data tell the orders apart: the same sums taken backwards differ.
        const backwards = new Float64Array(C);
        for (let i = count - 1; i >= 0; i--) {
          for (let j = 0; j < C; j++) backwards[j] += values[order[i] * C + j];
        }
        assert.notDeepEqual(backwards.subarray(0, 2), expected.subarray(0, 2));
        const actual = new Float64Array(C);
        ws.rowSums(count, actual);
        assert.deepEqual(actual, expected, `${C} channels, ${rows ? "shuffled" : "in order"}`);
      }
    } finally {
      ws.release();
    }
  }
});

check("workspace margin updates add each leaf's value to its rows only", async (kernels) => {
  // Enough rows for the WASM backend to split the update by row ranges across its threads; two
  // outputs, the update of the second; margins in the workspace's memory where it lends them,
  // and a plain array; each leaf's rows shuffled, and ascending (as a fit's are) with the step
  // saying so.
  const n = 80000, K = 2, k = 1;
  const p = randomBinned(91, n, 1);
  const shuffled = Int32Array.from(p.rows);
  for (let i = n - 1; i > 0; i--) {
    const j = p.rng.nextInt(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  // Rows [79000, n) are in no leaf (left out of the tree's sample).
  const bounds = [0, 1, 2, 40000, 40000, 60001, 78999, 79000];
  const leafCount = bounds.length - 1;
  const segments = new Int32Array(2 * leafCount);
  const values = new Float64Array(leafCount);
  const ascending = Int32Array.from(shuffled);
  for (let i = 0; i < leafCount; i++) {
    segments[2 * i] = bounds[i];
    segments[2 * i + 1] = bounds[i + 1];
    values[i] = Math.fround(p.rng.next() - 0.5);
    ascending.subarray(bounds[i], bounds[i + 1]).sort();
  }
  const start = Float64Array.from({ length: n * K }, () => p.rng.next());
  const expected = Float64Array.from(start);
  for (let i = 0; i < leafCount; i++) {
    for (let j = bounds[i]; j < bounds[i + 1]; j++) expected[shuffled[j] * K + k] += values[i];
  }
  const ws = kernels.workspace({
    bins: p.bins,
    nRows: n,
    nFeatures: 1,
    binOffsets: p.binOffsets,
    nChannels: 2,
    monotone: null,
  });
  try {
    for (const [rows, sorted] of [[shuffled, false], [ascending, true]] as const) {
      ws.setRows(rows, n);
      const lent = ws.margins(K);
      assert.equal(ws.margins(K), lent, "the same buffer again");
      for (const margins of [lent, new Float64Array(n * K)]) {
        if (margins === null) continue;
        assert.equal(margins.length, n * K);
        margins.set(start);
        await ws.addLeaves({ margins, nOutputs: K, k, segments, values, leafCount, ascending: sorted });
        assert.deepEqual(margins, expected, `segments ${sorted ? "ascending" : "shuffled"}`);
      }
    }
  } finally {
    ws.release();
  }
});

check("categorical splits and partitions match the reference's", async (kernels) => {
  const n = 3 * 64 + 5, F = 4, C = 2;
  const p = randomBinned(41, n, F, C);
  // Feature 0 (many bins) splits by partitions, feature 2 one-hot when it has fewer than 6.
  const categorical = { mask: Uint8Array.of(1, 0, 1, 0), maxCatToOnehot: 6 };
  const features = Int32Array.from({ length: F }, (_, f) => f);
  let G = 0, H = 0;
  for (let r = 0; r < n; r++) [G, H] = [G + p.values[2 * r], H + p.values[2 * r + 1]];
  const params = splitParams({ sumGrad: G, sumHess: H });
  // The per-node kernels.
  const hist = new Float64Array(p.binOffsets[F] * C);
  await jsTrees.buildHistogram({ ...histogramArgs(p, p.rows, features), hist });
  const splitArgs = {
    hist,
    nChannels: C,
    features,
    featureCount: F,
    binOffsets: p.binOffsets,
    monotone: null,
    categorical,
    params,
  };
  const expected = new Float64Array(F * SPLIT_FIELD_COUNT);
  findSplitsRef({ ...splitArgs, out: expected });
  const actual = new Float64Array(F * SPLIT_FIELD_COUNT);
  await kernels.findSplits({ ...splitArgs, out: actual });
  assert.deepEqual(actual, expected);
  const nBins = p.binOffsets[1] - p.binOffsets[0] - 1;
  const rightBins = new Uint32Array(BIN_SET_WORDS);
  categoryBins(
    hist.subarray(0, (nBins + 1) * C),
    nBins,
    C,
    expected[1],
    params,
    categorical,
    rightBins,
  );
  const partitionArgs = {
    bins: p.bins,
    nRows: n,
    rowBegin: 0,
    rowEnd: n,
    feature: 0,
    splitBin: 0,
    missingBin: nBins,
    defaultLeft: expected[2],
    rightBins,
    scratch: new Int32Array(n),
  };
  const rowsRef = p.rows.slice(), rowsOut = p.rows.slice();
  const nLeft = partitionRef({ ...partitionArgs, rows: rowsRef });
  assert.equal(await kernels.partition({ ...partitionArgs, rows: rowsOut }), nLeft);
  assert.deepEqual(rowsOut, rowsRef);
  // The same through a workspace: one step, then the partition of the root.
  const results = [];
  for (const backend of [jsTrees, kernels]) {
    const ws = backend.workspace({
      bins: p.bins,
      nRows: n,
      nFeatures: F,
      binOffsets: p.binOffsets,
      nChannels: C,
      monotone: null,
      categorical,
    });
    try {
      ws.setValues(p.values);
      ws.setRows(p.rows, n);
      const step = {
        features,
        featureCount: F,
        build: Int32Array.of(0, 0, n),
        buildCount: 1,
        subtract: new Int32Array(0),
        subtractCount: 0,
        search: Int32Array.of(0),
        searchCount: 1,
        params,
        candidates: features,
        candidateOffsets: Int32Array.of(0, F),
        best: new Float64Array(SPLIT_FIELD_COUNT),
        bestFeature: new Int32Array(1),
      };
      await ws.grow(step);
      const partition = {
        nodes: Int32Array.of(0, n, 0, 0, nBins, expected[2]),
        nodeCount: 1,
        nLeft: new Int32Array(1),
        categorical: Uint8Array.of(1),
        rightBins,
      };
      await ws.partition(partition);
      const rows = new Int32Array(n);
      ws.readRows(rows, n);
      results.push({
        best: step.best,
        feature: step.bestFeature[0],
        nLeft: partition.nLeft[0],
        rows,
      });
    } finally {
      ws.release();
    }
  }
  assert.deepEqual(results[1], results[0]);
  assert.equal(results[0].nLeft, nLeft);
  assert.deepEqual(results[0].rows, rowsRef);
});

check("gradients() match the losses' closed forms", async (kernels) => {
  // 70,001 rows: enough for the WASM backend to split them between threads, and odd.
  for (const n of [...ROW_COUNTS, 70001]) {
    for (const [loss, K] of [["logistic", 1], ["softmax", 3], ["softmax", 7]] as const) {
      for (const weighted of [false, true]) {
        const rng = new Rng(n + K);
        // Ordinary margins, and now and then ones far out, where e^x under- or overflows.
        const margins = Float64Array.from({ length: n * K }, () => {
          const u = rng.next();
          return u < 0.02 ? (rng.next() - 0.5) * 1600 : (u - 0.5) * 12;
        });
        const labels = Float64Array.from({ length: n }, () => rng.nextInt(K === 1 ? 2 : K));
        const weights = weighted ? Float64Array.from({ length: n }, () => rng.next() * 2) : null;
        const args = { loss, margins, labels, weights, nOutputs: K, scalePosWeight: 1.5 };
        const expected = gradientsOracle(args);
        const actual = Array.from({ length: K }, () => new Float64Array(2 * n));
        await kernels.gradients({ ...args, out: actual });
        const label = `${loss} K=${K} n=${n} weighted ${weighted}`;
        // The kernels' portable e^x is within 2 ulps of Math.exp: a few ulps of p, absolute.
        expected.forEach((e, k) => {
          for (let i = 0; i < e.length; i++) {
            if (!(Math.abs(actual[k][i] - e[i]) <= 1e-15 * 4 + 1e-13 * Math.abs(e[i]))) {
              assert.fail(`${label}, output ${k}, entry ${i}: ${actual[k][i]} vs ${e[i]}`);
            }
          }
        });
        assertSameBitsAsReference(kernels, actual, () => {
          const reference = Array.from({ length: K }, () => new Float64Array(2 * n));
          gradientsRef({ ...args, out: reference });
          return reference;
        }, label);
        if (n > 0) assert.ok(expected[0].some((v) => v !== 0));
      }
    }
  }
});

/** Registers every check as a test of one backend that needs no set-up (the reference). */
export function registerConformance(kernels: TreesKernels): void {
  for (const { name, run } of CONFORMANCE) {
    Deno.test(`trees kernels (${kernels.name}): ${name}`, () => run(kernels));
  }
}
