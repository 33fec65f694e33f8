/**
 * Every public entry point that sends data to WASM refuses a call too big for WASM memory with
 * a RangeError naming the argument, before anything is allocated or copied, and the runtime
 * goes on as before. The runtime is capped at 4 MiB (setWasmMaximumPages), so inputs of a few
 * MiB stand for the gigabytes that would not fit in the real 2 GiB maximum; the arithmetic at
 * the real maximum is checked on its own.
 */
import assert from "node:assert/strict";
import {
  dispose,
  GaussianMixture,
  gatedAttentionUnit,
  init,
  karrasSigmas,
  linearAttention,
  matmul,
  mixedChunkAttention,
  sample,
  scaledDotProductAttention,
  scaledDotProductAttentionWithLse,
  type Tensor,
  XGBRegressor,
} from "../../src/mod.ts";
import { setWasmMaximumPages, wasmRuntime } from "../../src/runtime/runtime.ts";
import { MAXIMUM_PAGES } from "../../src/runtime/_wasm.ts";
import { wasmRuntimeOf } from "../_wasm_runtime.ts";

/** 64 pages of 64 KiB: 4 MiB, of which the heap holds 4 MiB − 64 KiB. */
const PAGES = 64;

const tensor = (shape: number[], fill = 0.5): Tensor => ({
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill),
  shape,
});

/** Runs `fn` on a capped runtime of `threads`; then the default runtime comes back. */
async function capped(threads: number, fn: () => Promise<void>): Promise<void> {
  setWasmMaximumPages(PAGES);
  try {
    await init({ threads });
    await fn();
  } finally {
    setWasmMaximumPages(null);
    await dispose();
  }
}

/**
 * `call` rejects with a RangeError naming `name` and about WASM memory, and neither the heap's
 * peak nor the memory's size moved: nothing was allocated.
 */
async function refusedBeforeAllocating(call: () => Promise<unknown>, name: string): Promise<void> {
  const rt = (await wasmRuntime())!;
  rt.heap.resetPeak();
  const size = rt.memory.buffer.byteLength;
  await assert.rejects(call, (error: Error) => {
    assert.ok(error instanceof RangeError, `${error}`);
    assert.match(error.message, new RegExp(`^Expected "${name}" to fit in WASM memory`));
    assert.match(error.message, /split the call or use backend "js"/);
    return true;
  });
  assert.equal(rt.heap.stats.peak, 0, "WASM memory was allocated before the check");
  assert.equal(rt.memory.buffer.byteLength, size, "WASM memory grew before the check");
}

for (const threads of [1, 2]) {
  const where = threads === 1 ? "in-thread" : "2 workers";

  Deno.test(`too big for WASM memory (${where}): matmul, then a call that fits is right`, async () => {
    await capped(threads, async () => {
      const wasm = { backend: "wasm" } as const;
      await refusedBeforeAllocating(
        () => matmul(tensor([1024, 1024]), tensor([1024, 4]), wasm),
        "a",
      );
      await refusedBeforeAllocating(
        () => matmul(tensor([4, 1024]), tensor([1024, 1024]), wasm),
        "b",
      );
      // Small inputs, an output of 4 MiB.
      await refusedBeforeAllocating(
        () => matmul(tensor([1024, 1]), tensor([1, 1024]), wasm),
        "output",
      );
      const a = {
        data: Float32Array.from({ length: 96 * 40 }, (_, i) => (i % 9) - 4),
        shape: [96, 40],
      };
      const b = {
        data: Float32Array.from({ length: 40 * 24 }, (_, i) => (i % 7) - 3),
        shape: [40, 24],
      };
      const [got, want] = [await matmul(a, b, wasm), await matmul(a, b, { backend: "js" })];
      assert.deepEqual(got.data, want.data);
    });
  });

  Deno.test(`too big for WASM memory (${where}): the attention family`, async () => {
    await capped(threads, async () => {
      const wasm = { backend: "wasm" } as const;
      // q, k, v and the output of 1.5 MiB each.
      const qkv = () => tensor([1, 4, 1536, 64]);
      await refusedBeforeAllocating(
        () => scaledDotProductAttention(qkv(), qkv(), qkv(), wasm),
        "q",
      );
      await refusedBeforeAllocating(
        () => scaledDotProductAttentionWithLse(qkv(), qkv(), qkv(), wasm),
        "q",
      );
      await refusedBeforeAllocating(() => linearAttention(qkv(), qkv(), qkv(), wasm), "q");
      await refusedBeforeAllocating(
        () => mixedChunkAttention(qkv(), qkv(), qkv(), { chunkSize: 64, ...wasm }),
        "q",
      );
      // Long keys, short queries: k and v are the big ones.
      const kv = () => tensor([1, 1, 16384, 64]);
      await refusedBeforeAllocating(
        () => scaledDotProductAttention(tensor([1, 1, 4, 64]), kv(), kv(), wasm),
        "k",
      );
      // The gated attention unit derives its q, k and v from x.
      const [d, e, s] = [64, 64, 32];
      const params = {
        uWeight: tensor([d, e], 0.01),
        vWeight: tensor([d, e], 0.01),
        zWeight: tensor([d, s], 0.01),
        qkScale: tensor([2, s], 1),
        qkOffset: tensor([2, s], 0),
        outWeight: tensor([e, d], 0.01),
      };
      await refusedBeforeAllocating(
        () => gatedAttentionUnit(tensor([1, 4096, d]), params, { chunkSize: 64, ...wasm }),
        "x",
      );
      // A call that fits is right.
      const small = () => ({
        data: Float32Array.from({ length: 2 * 3 * 8 }, (_, i) => Math.sin(i)),
        shape: [1, 2, 3, 8],
      });
      const got = await scaledDotProductAttention(small(), small(), small(), wasm);
      const want = await scaledDotProductAttention(small(), small(), small(), { backend: "js" });
      for (let i = 0; i < want.data.length; i++) {
        assert.ok(Math.abs(got.data[i] - want.data[i]) < 1e-6, `element ${i}`);
      }
    });
  });

  Deno.test(`too big for WASM memory (${where}): sample()`, async () => {
    await capped(threads, async () => {
      const denoiser = (x: Float32Array) => new Float32Array(x.length).fill(3);
      const opts = {
        denoiser,
        dim: 1024,
        sigmas: karrasSigmas({ steps: 2 }),
        sampler: "euler" as const,
        seed: 1,
      };
      // 1024 samples of 1024 values: 4 MiB each for the samples and the denoiser's output.
      await refusedBeforeAllocating(
        () => sample({ ...opts, batch: 1024, backend: "wasm" }),
        "batch",
      );
      const out = await sample({ ...opts, batch: 4, backend: "wasm" });
      assert.deepEqual([...new Set(out)], [3]);
    });
  });

  Deno.test(`too big for WASM memory (${where}): the Gaussian-mixture denoiser`, async () => {
    await capped(threads, async () => {
      const options = { means: [[0, 0], [1, 1]], variances: [[1, 1], [1, 1]], weights: [1, 2] };
      const mixture = new GaussianMixture({ ...options, backend: "wasm" });
      // 2^20 rows of 2 values: 8 MiB for x alone.
      const batch = 1 << 20;
      await refusedBeforeAllocating(
        () => Promise.resolve(mixture.denoiser(new Float32Array(batch * 2), 1, { batch, dim: 2 })),
        "x",
      );
      const x = new Float32Array([0.5, -0.5, 2, 1]);
      const got = await mixture.denoiser(x, 1, { batch: 2, dim: 2 });
      const want = await new GaussianMixture({ ...options, backend: "js" }).denoiser(x, 1, { batch: 2, dim: 2 });
      for (let i = 0; i < 4; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `element ${i}`);
    });
  });

  Deno.test(`too big for WASM memory (${where}): tree fit, predict and SHAP`, async () => {
    await capped(threads, async () => {
      const fitOpts = { nEstimators: 2, maxDepth: 2, backend: "wasm" as const };
      // 4.2 million values: their bins alone take 4.2 MB.
      const rows = 1 << 20, cols = 4;
      const X = { data: new Float32Array(rows * cols).map((_, i) => i % 13), shape: [rows, cols] };
      const y = new Float32Array(rows).map((_, i) => i % 5);
      await refusedBeforeAllocating(() => new XGBRegressor(fitOpts).fit(X, y), "X");
      // A small model, then rows too many to predict or explain at once.
      const small = {
        data: new Float32Array(64 * cols).map((_, i) => (i * 7) % 13),
        shape: [64, cols],
      };
      const model = await new XGBRegressor(fitOpts).fit(small, y.subarray(0, 64));
      await refusedBeforeAllocating(() => model.predict(X), "X");
      const many = { data: X.data.subarray(0, 100_000 * cols), shape: [100_000, cols] };
      await refusedBeforeAllocating(() => model.predictContributions(many), "X");
      // Calls that fit are right.
      const [got, want] = [
        await model.predict(small),
        await new XGBRegressor({ ...fitOpts, backend: "js" }).fit(small, y.subarray(0, 64)).then((
          m,
        ) => m.predict(small)),
      ];
      for (let i = 0; i < want.length; i++) {
        assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `row ${i}`);
      }
    });
  });
}

Deno.test("too big for WASM memory: at the real maximum, the check is exact arithmetic", async () => {
  const rt = await wasmRuntimeOf("simd", 1);
  const capacity = MAXIMUM_PAGES * 65536 - 65536;
  assert.equal(rt.heap.capacity, capacity);
  rt.checkFits({ q: capacity / 2, k: capacity / 2 });
  assert.throws(() => rt.checkFits({ q: capacity / 2, k: capacity / 2 + 1 }), {
    name: "RangeError",
    message: `Expected "k" to fit in WASM memory (at most ${capacity} bytes) but the call needs ` +
      `${capacity + 64} bytes, ${
        capacity / 2 + 1
      } of them for "k"; split the call or use backend "js"`,
  });
  // Sizes no typed array here could hold: a [65536, 65536] float32 matrix takes 16 GiB.
  assert.throws(() => rt.checkFits({ a: 65536 * 65536 * 4 }), /"a" to fit in WASM memory/);
  // Sizes that are not sizes never reach the allocator's arithmetic.
  for (const bytes of [NaN, -1, Infinity]) {
    assert.throws(() => rt.heap.alloc(bytes), {
      name: "RangeError",
      message: `Expected a WASM allocation of 0 or more bytes but found ${bytes}`,
    });
  }
  assert.equal(rt.heap.stats.inUse, 0);
  await rt.dispose();
});
