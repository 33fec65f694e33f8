/**
 * Boosting where WASM memory is not shared (a page without cross-origin isolation): the growth
 * workspace lends its margins and gradients as host views there too, and the cut search its
 * columns, so the kernels work on them in place; growing the memory mid-fit, which detaches such
 * views, changes no bit of the cuts or the models.
 */
import assert from "node:assert/strict";
import { dispose } from "../../../src/runtime/mod.ts";
import { wasmRuntime } from "../../../src/runtime/runtime.ts";
import { Rng } from "../../../src/_random.ts";
import { XGBClassifier, XGBRegressor } from "../../../src/trees/mod.ts";
import { computeCuts } from "../../../src/trees/_binning.ts";
import { jsTrees } from "../../../src/backends/js/trees.ts";
import { wasmTrees } from "../../../src/backends/wasm/trees.ts";
import { initUnshared, wasmRuntimeOf } from "../../_wasm_runtime.ts";
import { noisyTable } from "../_kernel_conformance.ts";

Deno.test("boosting on unshared WASM memory gives the js backend's models, also when the memory grows mid-fit", async () => {
  const { X, y, classes } = noisyTable(6000, 8, 41);
  const binary = y.map((v) => (v > 0.5 ? 1 : 0));
  // Three classes (three lent gradient buffers), a row sample (margins updated in TypeScript
  // after a kernel call), quantile-refitted leaves (margins read in TypeScript), plain binary.
  const models = (backend: "js" | "wasm") => [
    new XGBClassifier({ nEstimators: 4, maxDepth: 4, backend }),
    new XGBRegressor({ nEstimators: 4, maxDepth: 4, subsample: 0.7, backend }),
    new XGBRegressor({ nEstimators: 4, maxDepth: 3, objective: "reg:absoluteerror", backend }),
    new XGBClassifier({ nEstimators: 5, maxDepth: 5, backend }),
  ];
  const targets = [classes, y, y, binary];
  const fits = async (backend: "js" | "wasm", grow?: () => boolean) => {
    const out: string[] = [];
    for (const [i, model] of models(backend).entries()) {
      let grew = false;
      const onProgress = ({ iteration }: { iteration: number }) => {
        if (grow !== undefined && iteration === 2) grew = grow();
      };
      await model.fit(X, targets[i], { onProgress });
      if (grow !== undefined) assert.ok(grew, `model ${i}: the memory grew during the fit`);
      out.push(JSON.stringify((model.toJSON() as { fitted: unknown }).fitted));
    }
    return out;
  };
  const reference = await fits("js");
  for (const threads of [1, 2]) {
    await initUnshared(threads);
    try {
      const runtime = (await wasmRuntime())!;
      assert.equal(runtime.shared, false);
      // After the second round: take more than the memory holds (it grows, detaching every view
      // of the old buffer), then give it back.
      const grow = () => {
        const before = runtime.memory.buffer;
        runtime.heap.free(runtime.heap.alloc(before.byteLength + (1 << 20)));
        return runtime.memory.buffer !== before;
      };
      const results = await fits("wasm", grow);
      results.forEach((r, i) =>
        assert.equal(r, reference[i], `model ${i} on ${threads} thread(s)`)
      );
    } finally {
      await dispose();
    }
  }
});

Deno.test("the cut search on unshared WASM memory gives the js backend's cuts when the memory grows after each sort", async () => {
  const n = 5000, cols = 11;
  const rng = new Rng(43);
  const x = Float32Array.from(
    { length: n * cols },
    (
      _,
      i,
    ) => (rng.next() < 0.05
      ? NaN
      : Math.fround((i % cols) < 3 ? Math.floor(rng.next() * 40) : rng.next() * 6 - 3)),
  );
  const weights = Float64Array.from({ length: n }, () => 0.5 + rng.next());
  const runtime = await wasmRuntimeOf("simd", 1);
  try {
    assert.equal(runtime.shared, false);
    const kernels = wasmTrees(runtime);
    let grew = 0;
    // Each group's sort is followed by growth, which detaches the columns' views of the old
    // buffer before the search reads the sorted values.
    const growing = {
      ...kernels,
      sortDistinct: async (args: Parameters<typeof kernels.sortDistinct>[0]) => {
        await kernels.sortDistinct(args);
        const before = runtime.memory.buffer;
        runtime.heap.free(runtime.heap.alloc(before.byteLength + (1 << 20)));
        if (runtime.memory.buffer !== before) grew++;
      },
    };
    for (const opts of [{ weights: null, maxBin: 16 }, { weights, maxBin: 64 }]) {
      const expected = await computeCuts(jsTrees, x, n, cols, opts);
      const actual = await computeCuts(growing, x, n, cols, opts);
      assert.deepEqual(actual, expected);
    }
    assert.equal(grew, 4, "the memory grew after each group's sort (two groups, two searches)");
  } finally {
    await runtime.dispose();
  }
});
