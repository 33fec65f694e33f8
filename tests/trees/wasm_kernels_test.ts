/**
 * The WASM `trees` kernels against the reference: every conformance check on one thread (both
 * SIMD builds) and on two workers, where histograms and predictions are split into tasks; and
 * whole fits, which must give the reference's models bit for bit on any thread count.
 */
import assert from "node:assert/strict";
import { dispose, init } from "../../src/runtime/mod.ts";
import { wasmRuntime } from "../../src/runtime/runtime.ts";
import { TREES } from "../../src/backends/_families.ts";
import { selectKernels } from "../../src/backends/_select.ts";
import { Rng } from "../../src/_random.ts";
import { GradientBoostingClassifier, XGBClassifier, XGBRegressor } from "../../src/trees/mod.ts";
import { CONFORMANCE, noisyTable, randomBinned, randomTrees } from "./_kernel_conformance.ts";
import { SPLIT_FIELD_COUNT, SPLIT_PARAM_COUNT } from "../../src/backends/trees.ts";
import { predictOracle } from "./_oracles.ts";
import { evenRowEnds, wasmTrees } from "../../src/backends/wasm/trees.ts";
import {
  initUnshared,
  wasmRuntimeOf,
  watchCalls,
  watchSplits,
  withCores,
} from "../_wasm_runtime.ts";
import { CopiedGrowth } from "../../src/backends/wasm/_copied_growth.ts";
import type { WasmRuntime } from "../../src/runtime/_wasm.ts";

for (const [threads, relaxedSimd] of [[1, false], [1, true], [2, true]] as const) {
  Deno.test(`trees kernels (wasm, ${threads} thread(s), ${relaxedSimd ? "relaxed" : "plain"} SIMD) match the reference`, async (t) => {
    await init({ threads, relaxedSimd });
    try {
      const kernels = await selectKernels(TREES, "wasm");
      for (const { name, run } of CONFORMANCE) await t.step(name, () => run(kernels));
    } finally {
      await dispose();
    }
  });
}

// A page without cross-origin isolation: no shared memory, so predictions and SHAP values go to
// the workers with copies of their rows and of the model (fits stay in the calling thread).
Deno.test("trees kernels on copied memory (2 workers, no shared memory) match the reference", async (t) => {
  const runtime = await wasmRuntimeOf("simd", 2);
  try {
    assert.equal(runtime.shared, false);
    const kernels = wasmTrees(runtime);
    for (const { name, run } of CONFORMANCE) await t.step(name, () => run(kernels));
  } finally {
    await runtime.dispose();
  }
});

Deno.test("predictions on copied memory: the calling thread takes a lane of short calls only, the same bits", async () => {
  const runtime = await wasmRuntimeOf("simd", 2);
  try {
    const lanes = watchSplits(runtime);
    const kernels = wasmTrees(runtime);
    const trees = randomTrees(21, 40, 5, 2, 5);
    const rng = new Rng(22);
    // 9,000 rows of 40 trees fit in a lane of this thread; 120,000 rows go to the workers alone.
    for (const n of [9000, 120_000]) {
      const x = Float32Array.from(
        { length: n * 5 },
        () => (rng.next() < 0.1 ? NaN : rng.next() * 2 - 1),
      );
      const args = { x, nRows: n, nCols: 5, ...trees, treeBegin: 0, treeEnd: 40, nOutputs: 2 };
      const actual = new Float32Array(n * 2);
      await kernels.predict({ ...args, out: actual });
      assert.deepEqual(actual, predictOracle(trees, x, 5, [0, 40], 2, new Float32Array(n * 2)));
    }
    assert.deepEqual(lanes, [[2, true], [2, false]]);
  } finally {
    await runtime.dispose();
  }
});

Deno.test("tree estimators train bit-identical models on js and on wasm with 1, 2 or 4 threads", async () => {
  // Enough cells for growth steps split by feature groups across the workers (the root's and
  // the first levels').
  const { X, y, classes: labels } = noisyTable(36000, 32, 12);
  const models = (backend: "js" | "wasm") => [
    new XGBRegressor({
      nEstimators: 4,
      maxDepth: 5,
      subsample: 0.8,
      colsampleBynode: 0.7,
      backend,
    }),
    new XGBClassifier({ nEstimators: 3, maxDepth: 4, backend }),
    lossguideRegressor(backend),
    new GradientBoostingClassifier({ nEstimators: 3, maxDepth: 3, backend }),
  ];
  const targets = [y, labels, y, labels];
  const fits = (backend: "js" | "wasm") => fittedModels(models(backend), X, targets);
  const reference = await fits("js");
  assert.equal(reference.length, 4);
  for (const threads of [1, 2, 4]) {
    await init({ threads });
    try {
      const results = await fits("wasm");
      results.forEach((r, i) =>
        assert.equal(r, reference[i], `model ${i} on ${threads} thread(s)`)
      );
    } finally {
      await dispose();
    }
  }
});

// A page without cross-origin isolation, four threads on four cores: a tree with a root of at
// least 3·2²⁰ cells grows on this thread and one worker (the copies of more would cost this
// thread more than their lanes save), each building and searching its own features, the worker
// keeping its histograms in its own memory. The models are the reference's bit for bit.
Deno.test("boosting fits on copied memory grow their large trees on the workers too: the same models", async () => {
  const { X, y, classes: labels } = noisyTable(90000, 48, 14);
  // Three columns of category codes 0 … 7, one in this thread's range of features and two in
  // the worker's (whose histograms this thread builds too, for their split search here), and a
  // target that depends on them.
  const categorical = [3, 30, 41];
  const codes = Float32Array.from(X.data);
  for (let r = 0; r < 90000; r++) {
    for (const f of categorical) {
      const v = codes[r * 48 + f];
      codes[r * 48 + f] = v === v ? Math.min(7, Math.floor((v + 2) * 2)) : NaN;
    }
  }
  const withCodes = { data: codes, shape: X.shape };
  const coded = y.map((v, r) => v + ([1, 4, 6].includes(codes[r * 48 + 30]) ? 1.5 : 0));
  const models = (backend: "js" | "wasm") => [
    new XGBClassifier({ nEstimators: 2, maxDepth: 4, backend }),
    new XGBRegressor({
      nEstimators: 3,
      maxDepth: 5,
      subsample: 0.8,
      colsampleBylevel: 0.8,
      colsampleBynode: 0.7,
      monotoneConstraints: Array.from({ length: 48 }, (_, f) => (f === 0 ? 1 : f === 20 ? -1 : 0)),
      backend,
    }),
    lossguideRegressor(backend),
    // Midpoint thresholds read histograms back: its trees stay in this thread.
    new GradientBoostingClassifier({ nEstimators: 2, maxDepth: 3, backend }),
    new XGBRegressor({ nEstimators: 3, maxDepth: 4, categoricalFeatures: categorical, backend }),
  ];
  const inputs = [X, X, X, X, withCodes];
  const targets = [labels, y, y, labels, coded];
  const reference = await fittedModels(models("js"), inputs, targets);
  // Categorical splits are there (split type 1), on the worker's feature 30.
  const categoricalFit = JSON.parse(reference[4]).model;
  const splits = categoricalFit.splitType.flatMap((t: number, i: number) =>
    t === 1 ? [categoricalFit.feature[i]] : []
  );
  assert.ok(splits.includes(30), `categorical splits on ${splits}`);
  await withCores(4, () => initUnshared(4));
  try {
    await asLongFits();
    const runtime = (await wasmRuntime())!;
    assert.equal(runtime.shared, false);
    assert.equal(runtime.lanes(), 4);
    const steps = watchCalls(
      runtime,
      (tasks, options) => {
        const grow = tasks[0].kernel === "trees_grow_step_f64" && options?.copiedLane === true;
        if (grow) assert.equal(tasks.length, 2);
        return grow;
      },
    );
    // The copied steps of each fit.
    const split: number[] = [];
    const results = await fittedModels(models("wasm"), inputs, targets, () => {
      split.push(steps.filter((copied) => copied).length - split.reduce((a, b) => a + b, 0));
    });
    results.forEach((model, i) => assert.equal(model, reference[i], `model ${i}`));
    // Every step of the XGBoost trees (≥ 5 a tree), none of scikit-learn's.
    assert.deepEqual(split.map((count) => count > 0), [true, true, true, false, true]);
    assert.ok(split[1] >= 15, `${split[1]} split steps`);
    // Depth-wise: every step of the 6 trees (3 classes × 2 rounds, depth 4). Loss-guided: the
    // first tree's 12 steps only, as its steps averaged less than 2²⁰ cells (one node each).
    assert.equal(split[0], 24);
    assert.equal(split[2], 12);
  } finally {
    await dispose();
  }
});

Deno.test("a copied fit whose worker is lost between trees sends the new one its columns; lost mid-tree, the fit fails by name", async () => {
  const { X, y } = noisyTable(80000, 40, 15);
  const fit = () => new XGBRegressor({ nEstimators: 3, maxDepth: 3, backend: "wasm" }).fit(X, y);
  const reference = fittedJson(
    await new XGBRegressor({ nEstimators: 3, maxDepth: 3, backend: "js" }).fit(X, y),
  );
  await withCores(2, () => initUnshared(2));
  try {
    await asLongFits();
    const runtime = (await wasmRuntime())!;
    const before = runtime.heap.stats.inUse;
    // Each copied step: the bytes its worker's task copies in.
    const sent = watchCalls(
      runtime,
      (tasks, options) =>
        tasks[0].kernel === "trees_grow_step_f64" && options?.copiedLane === true
          ? (tasks[1].inputs ?? []).reduce((total, [, bytes]) => total + bytes, 0)
          : -1,
    );
    const steps = () => sent.filter((bytes) => bytes >= 0);
    const losses = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(runtime), "workerLosses")!;
    let lostAfter = Infinity;
    Object.defineProperty(runtime, "workerLosses", {
      configurable: true,
      get: () => (steps().length >= lostAfter ? 1 : 0) + losses.get!.call(runtime),
    });
    const model = await fit();
    const perTree = steps().length / 3;
    assert.ok(perTree === 3, `${perTree} steps a tree`);
    // A loss after the first tree: the second's first step sends the columns again.
    sent.length = 0;
    lostAfter = perTree;
    const again = await fit();
    assert.equal(fittedJson(again), reference);
    assert.equal(fittedJson(model), reference);
    const bytes = steps();
    // Each tree's first step: the worker's bin columns (first and after the loss) or not, and
    // the tree's values; 80,000 rows of 20 features' columns are 1.6 MB.
    assert.ok(bytes[perTree] > bytes[2 * perTree] + 1_000_000, `${bytes}`);
    assert.ok(bytes[0] > bytes[2 * perTree] + 1_000_000, `${bytes}`);
    // A loss in the middle of the second tree: its histograms are gone.
    sent.length = 0;
    lostAfter = perTree + 1;
    await assert.rejects(fit(), /A worker of the pool stopped during this fit/);
    delete (runtime as { workerLosses?: number }).workerLosses;
    assert.equal(runtime.heap.stats.inUse, before, "the failed fit freed its memory");
  } finally {
    await dispose();
  }
});

Deno.test("a copied fit whose worker's memory cannot grow at a tree's first step grows its trees here: the same model", async () => {
  const { X, y } = noisyTable(80000, 40, 16);
  const params = { nEstimators: 3, maxDepth: 3 } as const;
  const reference = new XGBRegressor({ ...params, backend: "js" });
  await reference.fit(X, y);
  await withCores(2, () => initUnshared(2));
  try {
    await asLongFits();
    const runtime = (await wasmRuntime())!;
    // The first copied step's worker task also reaches past the largest WASM memory, as a
    // worker whose memory cannot grow sees any: its kernel fails with a RangeError.
    let copied = 0;
    const runSharing = runtime.runSharing.bind(runtime);
    runtime.runSharing = (tasks, meanwhile, options) => {
      if (tasks[0].kernel !== "trees_grow_step_f64" || options?.copiedLane !== true) {
        return runSharing(tasks, meanwhile, options);
      }
      if (++copied > 1) throw new Error("a copied step after the worker's memory failed");
      const [own, theirs] = tasks;
      const beyond: [number, number] = [2 ** 32 - 65536, 65536];
      return runSharing(
        [own, { ...theirs, scratch: [...theirs.scratch ?? [], beyond] }],
        meanwhile,
        options,
      );
    };
    const model = new XGBRegressor({ ...params, backend: "wasm" });
    await model.fit(X, y);
    assert.equal(copied, 1);
    assert.equal(fittedJson(model), fittedJson(reference));
  } finally {
    await dispose();
  }
});

Deno.test("copied growth lanes send each worker its bin columns once, the tree's values once a tree", () => {
  const nRows = 100, F = 6;
  const memory = {
    bins: 1000,
    nRows,
    nFeatures: F,
    values: () => [20000, nRows * 16] as const,
    rows: 30000,
    histBytes: 512,
    gather: [40000, 800] as const,
  };
  const growth = new CopiedGrowth(2, memory, 0);
  growth.beginTree(0);
  // Features 1, 2, 4, 5 this step: lane 0 owns ids 0–2, lane 1 ids 3–5.
  const features = Int32Array.from([1, 2, 4, 5]);
  const k = growth.featureRanges(features, 4);
  assert.deepEqual(k, [0, 2, 4]);
  const step = {
    records: [[50000, 16] as const],
    builds: [[60000, 10, 40] as [number, number, number]],
    hists: [60000, 61000],
    // Node 0's candidates 1, 4, 5; node 1's 2, 5.
    searches: [[0, 3], [3, 5]] as [number, number][],
    candidates: Int32Array.from([1, 4, 5, 2, 5]),
    out: 70000,
  };
  const task = { kernel: "trees_grow_step_f64", args: [] };
  const first = growth.regions(task, 1, k[1], k[2], step);
  assert.deepEqual(first.inputs, [
    [50000, 16],
    [1000 + 3 * nRows, 3 * nRows],
    [20000, nRows * 16],
    [30000 + 40, 30 * 4],
  ]);
  assert.deepEqual(first.outputs, [[70000 + 48, 2 * 48], [70000 + 4 * 48, 48]]);
  assert.deepEqual(first.scratch, [[60000, 512], [61000, 512], [40000, 800]]);
  // The next step: neither columns nor values again.
  assert.deepEqual(growth.regions(task, 1, k[1], k[2], step).inputs, [[50000, 16], [30040, 120]]);
  // New values (the next output's), then a new tree after a lost worker: both again.
  growth.valuesChanged();
  assert.deepEqual(growth.regions(task, 1, k[1], k[2], step).inputs?.length, 3);
  growth.beginTree(1);
  assert.deepEqual(growth.regions(task, 1, k[1], k[2], step).inputs?.length, 4);
  growth.check(1);
  // A worker lost mid-tree: its histograms are gone.
  assert.throws(() => growth.check(2), /stopped during this fit/);
  // A lane without features this step gets an empty task.
  assert.deepEqual(growth.regions(task, 1, 4, 4, step), { ...task, inputs: [], outputs: [] });
});

/**
 * Makes the WASM trees kernels of the current runtime open every fit's workspace as one of
 * unknown length: a copied tree splits only in fits whose trees' roots add up to 2²⁷ cells (a
 * pool's first split fit pays its worker's warm-up), which the few-tree fits of these tests,
 * like fits with an unknown count, are then taken to reach.
 */
async function asLongFits(): Promise<void> {
  const kernels = await selectKernels(TREES, "wasm");
  const open = kernels.workspace.bind(kernels);
  kernels.workspace = (args) => open({ ...args, trees: undefined });
}

Deno.test("a copied fit of few trees stays on one thread: its worker's warm-up would cost more than its trees gain", async () => {
  const { X, y } = noisyTable(90000, 40, 17);
  await withCores(2, () => initUnshared(2));
  try {
    const runtime = (await wasmRuntime())!;
    const steps = watchCalls(
      runtime,
      (tasks, options) => tasks[0].kernel === "trees_grow_step_f64" && options?.copiedLane === true,
    );
    // 3.6M cells a root: 30 trees (108M cells) stay here, 40 (144M) split.
    for (const [trees, split] of [[30, false], [40, true]] as const) {
      steps.length = 0;
      await new XGBRegressor({ nEstimators: trees, maxDepth: 2, backend: "wasm" }).fit(X, y);
      assert.equal(steps.some((copied) => copied), split, `${trees} trees`);
    }
  } finally {
    await dispose();
  }
});

/** The loss-guided regressor of the whole-fit tests: 12 leaves, 80% of the features a tree. */
function lossguideRegressor(backend: "js" | "wasm"): XGBRegressor {
  return new XGBRegressor({
    nEstimators: 3,
    growPolicy: "lossguide",
    maxDepth: 0,
    maxLeaves: 12,
    colsampleBytree: 0.8,
    backend,
  });
}

type Table = { data: Float32Array; shape: number[] };

/** A fitted model as JSON: trees, thresholds, leaf values, gains and covers. */
function fittedJson(model: XGBRegressor | XGBClassifier | GradientBoostingClassifier): string {
  return JSON.stringify((model.toJSON() as { fitted: unknown }).fitted);
}

/**
 * Fits each model on X (or X[i]) and its target in turn (`after(i)` once model i is fitted); the fitted
 * models as JSON (fittedJson).
 */
async function fittedModels(
  models: (XGBRegressor | XGBClassifier | GradientBoostingClassifier)[],
  X: Table | Table[],
  targets: number[][],
  after?: (i: number) => void,
): Promise<string[]> {
  const out: string[] = [];
  for (const [i, model] of models.entries()) {
    await model.fit(Array.isArray(X) ? X[i] : X, targets[i]);
    out.push(fittedJson(model));
    after?.(i);
  }
  return out;
}

Deno.test("fits give back every block of WASM memory they take", async () => {
  await init({ threads: 2 });
  try {
    const runtime = (await wasmRuntime())!;
    const rng = new Rng(5);
    const n = 3000, cols = 6;
    const data = Float32Array.from({ length: n * cols }, () => rng.next() * 2 - 1);
    const X = { data, shape: [n, cols] };
    const labels = Array.from(
      { length: n },
      (_, r) => (data[r * cols] > 0 ? 1 : 0) + (data[r * cols + 1] > 0.5 ? 1 : 0),
    );
    const before = runtime.heap.stats.inUse;
    await new XGBClassifier({ nEstimators: 3, subsample: 0.7, backend: "wasm" }).fit(X, labels);
    await new GradientBoostingClassifier({ nEstimators: 2, maxDepth: 3, backend: "wasm" }).fit(
      X,
      labels,
    );
    assert.equal(runtime.heap.stats.inUse, before);
    assert.ok(runtime.heap.stats.peak > before, "the fits used WASM memory");
  } finally {
    await dispose();
  }
});

Deno.test("the gradients' row ranges end on even rows, cover every row, follow the split", () => {
  for (const n of [0, 1, 2, 7, 8, 65537, 70000]) {
    for (const fractions of [[1], [0.3, 1], [0.5, 1], [0.7, 1], [0.25, 0.5, 0.75, 1]]) {
      const ends = evenRowEnds(n, fractions);
      const label = `n ${n}, fractions ${fractions}`;
      assert.equal(ends.length, fractions.length, label);
      assert.equal(ends[ends.length - 1], n, label);
      ends.forEach((end, i) => {
        if (i < ends.length - 1) assert.equal(end % 2, 0, `${label}: end ${i} is odd`);
        assert.ok(end >= (i === 0 ? 0 : ends[i - 1]), `${label}: ends decrease`);
        // Within one pair of rows of the asked fraction.
        assert.ok(Math.abs(end - n * fractions[i]) <= 2, `${label}: end ${i} = ${end}`);
      });
    }
  }
});

/**
 * A growth step's inputs for trees_grow_step_f64 called straight: a random binned matrix with
 * its rows shuffled (so that the (g, h) pairs are gathered from all over), its features, and
 * `put`, which copies an array into `runtime`'s memory.
 */
function shuffledStep(runtime: WasmRuntime, seed: number, nRows: number, F: number) {
  const p = randomBinned(seed, nRows, F);
  const put = (data: Uint8Array | Int32Array | Float64Array) => {
    const ptr = runtime.heap.alloc(data.byteLength);
    new Uint8Array(runtime.memory.buffer, ptr, data.byteLength)
      .set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return ptr;
  };
  const rows = Int32Array.from(p.rows);
  for (let i = nRows - 1; i > 0; i--) {
    const j = p.rng.nextInt(i + 1);
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return { p, put, rows, features: Int32Array.from({ length: F }, (_, k) => k) };
}

/** A step fixture's arrays in WASM memory (see shuffledStep), by their offsets. */
interface StepPointers {
  bins: number;
  values: number;
  rows: number;
  offsets: number;
  features: number;
  params: number;
  candidates: number;
  candidateOffsets: number;
  scratch: number;
}

/**
 * trees_grow_step_f64 over all F features of a fixture of nRows rows (two channels): `counts`
 * builds, subtractions and searches from the records at `build`, `subtract` and `search`.
 */
function growStep(runtime: WasmRuntime, ptr: StepPointers, step: {
  nRows: number;
  F: number;
  build: number;
  subtract: number;
  search: number;
  out: number;
  counts: [number, number, number];
  scratchRows: number;
  claims: number;
  lane: number;
  lanes: number;
}): void {
  runtime.call(
    "trees_grow_step_f64",
    ptr.bins,
    ptr.values,
    ptr.rows,
    ptr.offsets,
    ptr.features,
    step.build,
    step.subtract,
    step.search,
    ptr.params,
    ptr.candidates,
    ptr.candidateOffsets,
    0,
    step.out,
    step.nRows,
    2,
    0,
    step.F,
    ...step.counts,
    ptr.scratch,
    step.scratchRows,
    step.claims,
    step.lane,
    step.lanes,
  );
}

Deno.test("a claimed growth step's lanes gather the (g, h) pairs together: every chunk where the one-task step puts it", async () => {
  // Builds of 4,000, 3,300 and 1,000 of 12,000 shuffled rows (8,300 pairs: three chunks of
  // 4,096, which straddle the builds) and one of 2,900 that does not fit in the 10,500-row block
  // after them (read in place). The lanes run one after the other in this thread: the first
  // gathers every chunk, the others find none left and read its pairs; each order gives the
  // one-task step's histograms and splits.
  const runtime = await wasmRuntimeOf("relaxed", 1);
  try {
    // 28 features: a share of more than 8 a lane on three lanes too, so every case gathers.
    const nRows = 12000, F = 28, C = 2;
    const { p, put, rows, features } = shuffledStep(runtime, 47, nRows, F);
    const histBytes = p.binOffsets[F] * C * 8;
    const segments = [[0, 4000], [4000, 7300], [7300, 8300], [8300, 11200]];
    const params = new Float64Array(segments.length * SPLIT_PARAM_COUNT);
    segments.forEach((_, i) => {
      params.set(
        [1, 0, 0.5, 0, 0, -Infinity, Infinity, 0.2 * i, 300 + i, 0],
        i * SPLIT_PARAM_COUNT,
      );
    });
    const ptr = {
      bins: put(p.bins),
      values: put(p.values),
      rows: put(rows),
      offsets: put(p.binOffsets),
      features: put(features),
      params: put(params),
      candidates: put(Int32Array.from(segments.flatMap(() => [...features]))),
      candidateOffsets: put(
        Int32Array.from(segments.map((_, i) => i * F).concat(segments.length * F)),
      ),
      scratch: runtime.heap.alloc(10500 * 16),
    };
    const candidateCount = segments.length * F;
    /**
     * One step: the lanes called in the order given, or one task (null); `taken` chunks
     * already claimed by a lane that never finishes them.
     */
    const step = (calls: number[] | null, taken = 0) => {
      const hists = segments.map(() => runtime.heap.alloc(histBytes));
      const out = runtime.heap.alloc(candidateCount * SPLIT_FIELD_COUNT * 8);
      new Float64Array(runtime.memory.buffer, ptr.scratch, 2 * 10500).fill(NaN);
      new Uint8Array(runtime.memory.buffer, out, candidateCount * SPLIT_FIELD_COUNT * 8).fill(0);
      const build = put(Int32Array.from(segments.flatMap(([b, e], i) => [hists[i], b, e])));
      const search = put(Int32Array.from(hists));
      const lanes = calls === null ? 1 : calls.length;
      const claims = runtime.heap.alloc(16 * lanes + 8);
      const words = new Int32Array(runtime.memory.buffer, claims, 4 * lanes + 2);
      const share = Math.ceil(F / lanes);
      for (let l = 0; l < lanes; l++) {
        words.set([Math.min(F, l * share), Math.min(F, (l + 1) * share), 0, 0], 4 * l);
      }
      words.set([taken, 0], 4 * lanes);
      for (const lane of calls ?? [0]) {
        growStep(runtime, ptr, {
          nRows,
          F,
          build,
          subtract: 0,
          search,
          out,
          counts: [segments.length, 0, segments.length],
          scratchRows: 10500,
          claims: calls === null ? 0 : claims,
          lane,
          lanes,
        });
      }
      const counters = Array.from(new Int32Array(runtime.memory.buffer, claims + 16 * lanes, 2));
      const result = {
        hists: hists.map((h) => new Float64Array(runtime.memory.buffer, h, histBytes / 8).slice()),
        out: new Float64Array(runtime.memory.buffer, out, candidateCount * SPLIT_FIELD_COUNT)
          .slice(),
        counters,
      };
      for (const b of [...hists, out, build, search, claims]) runtime.heap.free(b);
      return result;
    };
    const alone = step(null);
    assert.ok(alone.hists.every((h) => h.some((v) => v !== 0)));
    for (const calls of [[0, 1], [1, 0], [2, 0, 1]]) {
      const got = step(calls);
      const label = `lanes ${calls.join(", ")}`;
      got.hists.forEach((h, i) => assert.deepEqual(h, alone.hists[i], `${label}: build ${i}`));
      assert.deepEqual(got.out, alone.out, `${label}: the splits`);
      // Three chunks gathered, and each lane's look past the last counted as taken.
      assert.deepEqual(got.counters, [3 + calls.length, 3], `${label}: the gather's counters`);
    }
    // A lane that took the first chunk and stalled (or was lost): the lanes called copy chunks 2
    // and 3, wait for the first, then each gathers every chunk itself rather than wait forever.
    const stalled = step([1, 0], 1);
    stalled.hists.forEach((h, i) => assert.deepEqual(h, alone.hists[i], `stalled: build ${i}`));
    assert.deepEqual(stalled.out, alone.out, "stalled: the splits");
    assert.deepEqual(stalled.counters, [5, 2], "stalled: the gather's counters");
  } finally {
    await runtime.dispose();
  }
});

Deno.test("a growth step's lanes may take each other's features: the same histograms and splits", async () => {
  // trees_grow_step_f64 called straight, one lane after the other in this thread, so that a
  // lane always finds the others' ranges as the test leaves them: every order of claims gives
  // the bits of the one-task step (histograms, subtractions, searches over every feature).
  const runtime = await wasmRuntimeOf("relaxed", 1);
  try {
    const nRows = 1500, F = 24, C = 2;
    // A left child of 600 rows is built, its sibling made by subtraction from the parent (built
    // beforehand), both searched.
    const { p, put: at, rows, features } = shuffledStep(runtime, 31, nRows, F);
    const slots = p.binOffsets[F];
    const histBytes = slots * C * 8;
    const params = new Float64Array(2 * SPLIT_PARAM_COUNT);
    for (const i of [0, 1]) {
      params.set(
        [1, 0, 0.5, 0, 0, -Infinity, Infinity, 0.3 - i, 400 + i, 0],
        i * SPLIT_PARAM_COUNT,
      );
    }
    const ptr = {
      bins: at(p.bins),
      values: at(p.values),
      rows: at(rows),
      offsets: at(p.binOffsets),
      features: at(features),
      params: at(params),
      candidates: at(Int32Array.from([...features, ...features.filter((k) => k % 3 !== 1)])),
      candidateOffsets: at(Int32Array.from([0, F, F + features.filter((k) => k % 3 !== 1).length])),
      scratch: runtime.heap.alloc(nRows * 16),
    };
    const candidateCount = 2 * F;
    /** One step into fresh histograms; `lanes` calls, given as [lane, claims] in call order. */
    const step = (calls: Array<[number, number[][] | null]>) => {
      const parent = runtime.heap.alloc(histBytes), child = runtime.heap.alloc(histBytes);
      const sibling = runtime.heap.alloc(histBytes);
      const out = runtime.heap.alloc(candidateCount * SPLIT_FIELD_COUNT * 8);
      // No pairs left over from the last step: the lanes must gather them (the first lane to
      // run gathers them all, as the chunk counter is 0; the later ones read its pairs).
      new Float64Array(runtime.memory.buffer, ptr.scratch, 2 * nRows).fill(NaN);
      new Uint8Array(runtime.memory.buffer, out, candidateCount * SPLIT_FIELD_COUNT * 8).fill(0);
      // The parent's histograms, then the step: build the child, subtract, search both.
      runtime.call(
        "trees_hist_build_f64",
        parent,
        ptr.bins,
        ptr.rows,
        ptr.values,
        ptr.offsets,
        ptr.features,
        nRows,
        0,
        nRows,
        C,
        0,
        F,
      );
      new Uint8Array(runtime.memory.buffer, sibling, histBytes)
        .set(new Uint8Array(runtime.memory.buffer, parent, histBytes));
      const build = at(Int32Array.from([child, 200, 800]));
      const subtract = at(Int32Array.from([sibling, child]));
      const search = at(Int32Array.from([child, sibling]));
      const lanes = calls.length;
      // Each lane's claim record, then the gather's two chunk counters.
      const claims = runtime.heap.alloc(16 * lanes + 8);
      const ran: number[] = [];
      for (const [lane, ranges] of calls) {
        if (ranges !== null && lane === calls[0][0]) {
          new Int32Array(runtime.memory.buffer, claims, 4 * lanes + 2)
            .set([...ranges.flatMap(([k0, k1]) => [k0, k1, -1, 0]), 0, 0]);
        }
        growStep(runtime, ptr, {
          nRows,
          F,
          build,
          subtract,
          search,
          out,
          counts: [1, 1, 2],
          scratchRows: nRows,
          claims: ranges === null ? 0 : claims,
          lane,
          lanes,
        });
      }
      if (calls[0][1] !== null) {
        const words = new Int32Array(runtime.memory.buffer, claims, 4 * lanes);
        for (let l = 0; l < lanes; l++) ran.push(words[4 * l + 2]);
      }
      const result = {
        child: new Float64Array(runtime.memory.buffer, child, slots * C).slice(),
        sibling: new Float64Array(runtime.memory.buffer, sibling, slots * C).slice(),
        out: new Float64Array(runtime.memory.buffer, out, candidateCount * SPLIT_FIELD_COUNT)
          .slice(),
        ran,
      };
      for (const b of [parent, child, sibling, out, build, subtract, search, claims]) {
        runtime.heap.free(b);
      }
      return result;
    };
    const alone = step([[0, null]]);
    assert.ok(alone.out.some((v) => v !== 0) && alone.child.some((v) => v !== 0));
    const cases: Array<[string, Array<[number, number[][] | null]>, number[]]> = [
      // Lane 1 first: its own 12, then all of lane 0's, half of what is left at a time.
      ["two lanes, the second first", [[1, [[0, 12], [12, 24]]], [0, [[0, 12], [12, 24]]]], [
        0,
        24,
      ]],
      // Lane 1's range empty: it takes lane 0's from the back.
      ["an empty range", [[1, [[0, 24], [24, 24]]], [0, [[0, 24], [24, 24]]]], [0, 24]],
      ["in order", [[0, [[0, 10], [10, 24]]], [1, [[0, 10], [10, 24]]]], [24, 0]],
      ["three lanes", [[2, [[0, 8], [8, 16], [16, 24]]], [0, [[0, 8], [8, 16], [16, 24]]], [1, [
        [0, 8],
        [8, 16],
        [16, 24],
      ]]], [0, 0, 24]],
    ];
    for (const [label, calls, ran] of cases) {
      const got = step(calls);
      assert.deepEqual(got.child, alone.child, `${label}: the child's histograms`);
      assert.deepEqual(got.sibling, alone.sibling, `${label}: the sibling's histograms`);
      assert.deepEqual(got.out, alone.out, `${label}: the splits`);
      // Indexed by lane.
      assert.deepEqual(got.ran, ran, `${label}: features each lane ran`);
    }
  } finally {
    await runtime.dispose();
  }
});
