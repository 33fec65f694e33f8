/**
 * The WASM `trees` kernels against the reference: every conformance check on one thread (both
 * SIMD builds) and on two workers, where histograms and predictions are split into tasks; and
 * whole fits, which must give the reference's models bit for bit on any thread count.
 */
import { dispose, init } from "../../src/runtime/mod.ts";
import { TREES } from "../../src/backends/_families.ts";
import { selectKernels } from "../../src/backends/_select.ts";
import { Rng } from "../../src/_random.ts";
import { GradientBoostingClassifier, XGBClassifier, XGBRegressor } from "../../src/trees/mod.ts";
import { CONFORMANCE } from "./_kernel_conformance.ts";

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

Deno.test("tree estimators train bit-identical models on js and on wasm with 1 or 2 threads", async () => {
  // Enough cells for histograms split by feature groups across two workers.
  const n = 15000, cols = 9;
  const rng = new Rng(12);
  const data = new Float32Array(n * cols);
  for (let i = 0; i < data.length; i++) {
    data[i] = rng.next() < 0.03 ? NaN : Math.fround(rng.next() * 4 - 2);
  }
  const X = { data, shape: [n, cols] };
  const y = Array.from(
    { length: n },
    (_, r) => (data[r * cols] || 0) + Math.sin(3 * (data[r * cols + 1] || 0)) + rng.next(),
  );
  const labels = y.map((v) => (v > 1.5 ? 2 : v > 0 ? 1 : 0));
  const fits = async (backend: "js" | "wasm") => [
    await (await new XGBRegressor({
      nEstimators: 4,
      maxDepth: 5,
      subsample: 0.8,
      colsampleBynode: 0.7,
      backend,
    }).fit(X, y))
      .predict(X),
    (await (await new XGBClassifier({ nEstimators: 3, maxDepth: 4, backend }).fit(X, labels))
      .predictProba(X)).data,
    (await (await new GradientBoostingClassifier({ nEstimators: 3, maxDepth: 3, backend }).fit(
      X,
      labels,
    )).predictProba(X))
      .data,
  ];
  const reference = await fits("js");
  for (const threads of [1, 2]) {
    await init({ threads });
    try {
      const results = await fits("wasm");
      results.forEach((r, i) => {
        if (!r.every((v, j) => Object.is(v, reference[i][j]))) {
          throw new Error(`model ${i} differs on ${threads} thread(s)`);
        }
      });
    } finally {
      await dispose();
    }
  }
});
