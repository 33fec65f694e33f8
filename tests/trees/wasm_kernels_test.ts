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
import { CONFORMANCE, noisyTable, randomTrees } from "./_kernel_conformance.ts";
import { predictOracle } from "./_oracles.ts";
import { evenRowEnds, wasmTrees } from "../../src/backends/wasm/trees.ts";
import { wasmRuntimeOf, watchSplits } from "../_wasm_runtime.ts";

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
    new XGBRegressor({
      nEstimators: 3,
      growPolicy: "lossguide",
      maxDepth: 0,
      maxLeaves: 12,
      colsampleBytree: 0.8,
      backend,
    }),
    new GradientBoostingClassifier({ nEstimators: 3, maxDepth: 3, backend }),
  ];
  const targets = [y, labels, y, labels];
  // The fitted models as JSON: trees, thresholds, leaf values, gains and covers.
  const fits = async (backend: "js" | "wasm") => {
    const out: string[] = [];
    for (const [i, model] of models(backend).entries()) {
      await model.fit(X, targets[i]);
      const json = model.toJSON() as { fitted: unknown };
      out.push(JSON.stringify(json.fitted));
    }
    return out;
  };
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
