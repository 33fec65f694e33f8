/**
 * The `forest` kernels: the reference grows the exact builder's (scikit-learn's) tree when every
 * value has its own bin, its chosen root split is the best by brute force, and the WASM kernel
 * grows the reference's trees bit for bit on 1, 2 and 4 threads, for every criterion, growth
 * policy and sampling option.
 */
import assert from "node:assert/strict";
import { dispose, init } from "../../../src/runtime/mod.ts";
import { wasmRuntimeOf } from "../../_wasm_runtime.ts";
import { wasmForest } from "../../../src/backends/wasm/forest.ts";
import { FOREST } from "../../../src/backends/_families.ts";
import { selectKernels } from "../../../src/backends/_select.ts";
import { bootstrapCounts, jsForest } from "../../../src/backends/js/forest.ts";
import {
  type ForestData,
  type ForestKernels,
  GROW_PARAM,
  GROW_PARAM_COUNT,
  type GrownTree,
  portableLog,
} from "../../../src/backends/forest.ts";
import { jsTrees } from "../../../src/backends/js/trees.ts";
import { Rng } from "../../../src/_random.ts";
import { binMatrix } from "../../../src/trees/_binning.ts";
import { forestData, grownToCart, growParams } from "../../../src/trees/cart/_cart_hist.ts";
import { buildExactTree, resolveTreeLimits } from "../../../src/trees/cart/_cart_exact.ts";
import { assertSameTree } from "../../fixtures/ensembles/_cart.ts";
import { loadDataSet, sampleWeights } from "../../fixtures/ensembles/_load.ts";

Deno.test("portableLog() is within one ulp of Math.log and exact at special values", () => {
  const rng = new Rng(5);
  for (let i = 0; i < 20000; i++) {
    const x = Math.exp((rng.next() - 0.5) * 1400) * (1 + rng.next());
    const ulp = Math.abs(Math.log(x)) * Number.EPSILON;
    assert.ok(Math.abs(portableLog(x) - Math.log(x)) <= ulp, `log(${x})`);
  }
  assert.equal(portableLog(1), 0);
  assert.equal(portableLog(2), Math.LN2);
  assert.equal(portableLog(0), -Infinity);
  assert.equal(portableLog(Infinity), Infinity);
  assert.ok(Number.isNaN(portableLog(-1)));
  assert.equal(portableLog(5e-324), Math.log(5e-324));
});

/** A float32 matrix from rows. */
function flat(X: number[][]): Float32Array {
  const cols = X[0].length;
  const x = new Float32Array(X.length * cols);
  X.forEach((row, i) => row.forEach((v, j) => (x[i * cols + j] = v)));
  return x;
}

Deno.test("jsForest grows the exact builder's tree when every value has its own bin", async () => {
  const iris = await loadDataSet("iris");
  const wine = await loadDataSet("wine");
  const diabetes = await loadDataSet("diabetes");
  const cases = [
    { name: "iris gini", X: iris.X, y: iris.y, criterion: "gini", opts: {} },
    {
      name: "iris entropy depth 3",
      X: iris.X,
      y: iris.y,
      criterion: "entropy",
      opts: { maxDepth: 3 },
    },
    {
      name: "wine gini 7 leaves",
      X: wine.X,
      y: wine.y,
      criterion: "gini",
      opts: { maxLeafNodes: 7 },
    },
    {
      name: "wine entropy weighted",
      X: wine.X,
      y: wine.y,
      weights: sampleWeights(wine.y.length),
      criterion: "entropy",
      opts: { minSamplesLeaf: 3 },
    },
    {
      name: "diabetes (200 rows) squared_error",
      X: diabetes.X.slice(0, 200),
      y: diabetes.y.slice(0, 200),
      criterion: "squared_error",
      opts: { minSamplesLeaf: 4 },
    },
  ];
  for (const c of cases) {
    const nRows = c.X.length, nCols = c.X[0].length;
    const x = flat(c.X);
    const classification = c.criterion !== "squared_error";
    const classes = [...new Set(c.y)].sort((a, b) => a - b);
    const y = Float64Array.from(c.y, (v) => (classification ? classes.indexOf(v) : v));
    const nClasses = classification ? classes.length : 0;
    const weights = c.weights ? Float64Array.from(c.weights) : null;
    const total = weights ? weights.reduce((a, b) => a + b, 0) : nRows;
    const limits = resolveTreeLimits(c.opts, nRows, nCols, total);
    const exact = buildExactTree(
      { x, nRows, nCols, y, weights, nClasses },
      { ...limits, criterion: c.criterion },
    );
    const binned = await binMatrix(jsTrees, x, nRows, nCols, { weights, maxBin: 256 });
    const params = growParams(limits, {
      criterion: c.criterion as "gini",
      nClasses,
      minWeightFractionLeaf: 0,
      bootstrap: false,
      nDraws: 0,
      seed: 0,
    });
    const [grown] = await jsForest.open(forestData(binned, { labels: y, nClasses }))
      .grow(params, Int32Array.of(0), weights);
    const hist = grownToCart(grown, binned, nCols, classification ? nClasses : 1, classification);
    const sk = {
      nodeCount: exact.nodeCount,
      feature: Array.from(exact.feature),
      threshold: Array.from(exact.threshold),
      left: Array.from(exact.left),
      right: Array.from(exact.right),
      value: Array.from(
        { length: exact.nodeCount },
        (_, i) => Array.from(exact.value.subarray(i * exact.leafWidth, (i + 1) * exact.leafWidth)),
      ),
      impurity: Array.from(exact.impurity),
      nNodeSamples: Array.from(exact.nNodeSamples),
      weightedNNodeSamples: Array.from(exact.weightedNNodeSamples),
      maxDepth: exact.maxDepth,
    };
    assert.ok(exact.nodeCount > 5, c.name);
    assertSameTree(hist, sk, c.name, { x, nRows, weights });
  }
});

/** A random binned problem with missing values, a few features of few bins and a constant one. */
function problem(n: number, seed: number): ForestData & { weights: Float64Array } {
  const F = 7;
  const rng = new Rng(seed);
  const nBins = Int32Array.of(255, 3, 40, 1, 255, 17, 128);
  const bins = new Uint8Array(n * F);
  for (let f = 0; f < F; f++) {
    for (let r = 0; r < n; r++) {
      bins[f * n + r] = f !== 3 && rng.next() < 0.05 ? nBins[f] : rng.nextInt(nBins[f]);
    }
  }
  const labels = Int32Array.from(
    { length: n },
    (_, r) => (bins[r] + bins[2 * n + r] * 3 + rng.nextInt(60)) % 3,
  );
  const targets = Float64Array.from(
    { length: n },
    (_, r) => Math.floor(bins[r] / 30 + bins[2 * n + r] / 10 + rng.next() * 3),
  );
  const weights = Float64Array.from({ length: n }, () => (rng.next() < 0.1 ? 0 : rng.next() * 2));
  return { bins, nRows: n, nFeatures: F, nBins, labels, targets, weights };
}

function params(settings: Record<string, number>): Float64Array {
  const p = new Float64Array(GROW_PARAM_COUNT);
  const defaults: Record<string, number> = {
    maxDepth: Infinity,
    minSamplesSplit: 2,
    minSamplesLeaf: 1,
    maxFeatures: 7,
    seed: 42,
  };
  for (const [key, value] of Object.entries({ ...defaults, ...settings })) {
    p[GROW_PARAM[key as keyof typeof GROW_PARAM]] = value;
  }
  return p;
}

const CASES: { name: string; task: "labels" | "targets"; p: Float64Array; weighted: boolean }[] = [
  {
    name: "gini, bootstrap, 3 features",
    task: "labels",
    p: params({ criterion: 0, nClasses: 3, bootstrap: 1, nDraws: 900, maxFeatures: 3 }),
    weighted: false,
  },
  {
    name: "entropy, best first, weights",
    task: "labels",
    p: params({ criterion: 1, nClasses: 3, maxLeafNodes: 40 }),
    weighted: true,
  },
  {
    name: "gini, depth 4, min leaf 5, min decrease",
    task: "labels",
    p: params({
      criterion: 0,
      nClasses: 3,
      maxDepth: 4,
      minSamplesLeaf: 5,
      minImpurityDecrease: 0.001,
    }),
    weighted: true,
  },
  {
    name: "squared error, bootstrap half, 2 features",
    task: "targets",
    p: params({
      criterion: 2,
      bootstrap: 1,
      nDraws: 500,
      maxFeatures: 2,
      minWeightFractionLeaf: 0.01,
    }),
    weighted: false,
  },
  {
    name: "poisson, weights",
    task: "targets",
    p: params({ criterion: 3, minSamplesSplit: 10 }),
    weighted: true,
  },
  {
    name: "squared error, best first, bootstrap",
    task: "targets",
    p: params({ criterion: 2, maxLeafNodes: 25, bootstrap: 1, nDraws: 1000, maxFeatures: 4 }),
    weighted: true,
  },
];

function dataFor(d: ReturnType<typeof problem>, task: "labels" | "targets"): ForestData {
  return {
    ...d,
    labels: task === "labels" ? d.labels : null,
    targets: task === "targets" ? d.targets : null,
  };
}

/** Throws naming the first field where two trees differ bit for bit. */
function assertSameGrown(a: GrownTree, b: GrownTree, at: string): void {
  for (const key of Object.keys(a) as (keyof GrownTree)[]) {
    const x = a[key], y = b[key];
    if (typeof x === "number") {
      assert.ok(Object.is(x, y), `${at}: ${key} ${x} vs ${y}`);
      continue;
    }
    const ys = y as typeof x;
    assert.equal(ys.length, x.length, `${at}: ${key} length`);
    for (let i = 0; i < x.length; i++) {
      if (!Object.is(x[i], ys[i])) assert.fail(`${at}: ${key}[${i}] ${x[i]} vs ${ys[i]}`);
    }
  }
}

async function growAll(kernels: ForestKernels, sizes: number[]): Promise<GrownTree[][]> {
  const out: GrownTree[][] = [];
  for (const n of sizes) {
    const d = problem(n, n);
    for (const c of CASES) {
      const session = kernels.open(dataFor(d, c.task));
      try {
        out.push(await session.grow(c.p, Int32Array.of(0, 1, 2, 5), c.weighted ? d.weights : null));
      } finally {
        session.release();
      }
    }
  }
  return out;
}

Deno.test("forest kernels (wasm) grow the reference's trees bit for bit on 1, 2 and 4 threads and copied memory", async () => {
  const sizes = [1, 2, 37, 1000];
  const reference = await growAll(jsForest, sizes);
  assert.ok(reference.some((trees) => trees[0].nodeCount > 100), "trees of some size");
  const check = (grown: GrownTree[][], at: string) =>
    grown.forEach((trees, i) =>
      trees.forEach((tree, t) =>
        assertSameGrown(reference[i][t], tree, `${at}, case ${i}, tree ${t}`)
      )
    );
  for (const threads of [1, 2, 4]) {
    await init({ threads });
    try {
      const kernels = await selectKernels(FOREST, "wasm");
      assert.equal(kernels.name, "wasm");
      check(await growAll(kernels, sizes), `${threads} thread(s)`);
    } finally {
      await dispose();
    }
  }
  // Workers on private memories: each tree's inputs are copied in and its nodes back.
  const copied = await wasmRuntimeOf("simd", 2);
  try {
    check(await growAll(wasmForest(copied), sizes), "2 workers on copied memory");
  } finally {
    copied.dispose();
  }
});

Deno.test("jsForest weights each row by its bootstrap count and leaves out undrawn rows", async () => {
  const d = problem(300, 9);
  const p = params({ criterion: 0, nClasses: 3, bootstrap: 1, nDraws: 300, maxDepth: 0 });
  const [root] = await jsForest.open(dataFor(d, "labels")).grow(p, Int32Array.of(4), null);
  const counts = bootstrapCounts(42, 4, 300, 300, new Float64Array(300));
  const drawn = counts.filter((c) => c > 0).length;
  assert.equal(root.nodeCount, 1);
  assert.equal(root.nNodeSamples[0], drawn);
  assert.equal(root.weightedNNodeSamples[0], 300);
  assert.ok(drawn > 150 && drawn < 230, `${drawn} distinct rows of 300 draws`);
  const byClass = [0, 0, 0];
  for (let r = 0; r < 300; r++) byClass[d.labels![r]] += counts[r];
  assert.deepEqual(Array.from(root.value), byClass);
});

Deno.test("jsForest picks the root split of best gini decrease by brute force", async () => {
  const d = problem(200, 3);
  const p = params({ criterion: 0, nClasses: 3, maxDepth: 1 });
  const [tree] = await jsForest.open(dataFor(d, "labels")).grow(p, Int32Array.of(0), d.weights);
  const gini = (rows: number[]) => {
    const c = [0, 0, 0];
    let w = 0;
    for (const r of rows) {
      c[d.labels![r]] += d.weights[r];
      w += d.weights[r];
    }
    return w * (1 - c.reduce((s, v) => s + v * v, 0) / (w * w));
  };
  const rows = [...Array(200).keys()].filter((r) => d.weights[r] > 0);
  let best = Infinity;
  for (let f = 0; f < d.nFeatures; f++) {
    const nB = d.nBins[f];
    for (let s = 1; s <= nB; s++) {
      for (const missingLeft of [false, true]) {
        const goesLeft = (r: number) => {
          const b = d.bins[f * 200 + r];
          return b === nB ? missingLeft : b < s;
        };
        const left = rows.filter(goesLeft), right = rows.filter((r) => !goesLeft(r));
        if (left.length && right.length) best = Math.min(best, gini(left) + gini(right));
      }
    }
  }
  const w = tree.weightedNNodeSamples, imp = tree.impurity;
  const chosen = w[1] * imp[1] + w[2] * imp[2];
  assert.ok(tree.feature[0] >= 0);
  assert.ok(Math.abs(chosen - best) <= 1e-9 * best, `chosen ${chosen} vs best ${best}`);
});
