import assert from "node:assert/strict";
import { dispose, init } from "../../src/mod.ts";
import { wasmRuntime } from "../../src/runtime/runtime.ts";
import {
  GaussianMixture,
  karrasSigmas,
  sample,
  type SampleOptions,
  SAMPLERS,
} from "../../src/diffusion/mod.ts";
import { shortRun } from "./_nonfinite_runs.ts";

const gmm = new GaussianMixture({
  means: [[-1, 0.5], [1.5, -1]],
  variances: [[0.2, 0.3], [0.1, 0.4]],
  weights: [0.4, 0.6],
  backend: "js",
});

const isAbortError = (e: unknown) => e instanceof DOMException && e.name === "AbortError";

Deno.test("sample() with an aborted signal rejects with an AbortError before calling the denoiser", async () => {
  let calls = 0;
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    sample({
      denoiser: (x, s, i) => (calls++, gmm.denoiser(x, s, i)),
      batch: 2,
      dim: 2,
      sigmas: karrasSigmas({ steps: 4 }),
      signal: controller.signal,
      backend: "js",
    }),
    isAbortError,
  );
  assert.equal(calls, 0);
});

Deno.test("sample() stops before the next denoiser call once aborted, in every sampler", async () => {
  for (const name of Object.keys(SAMPLERS)) {
    const controller = new AbortController();
    let calls = 0;
    const opts = shortRun(name, {
      denoiser: (x, s, i) => {
        if (++calls === 2) controller.abort(); // mid-run: during the second evaluation
        return gmm.denoiser(x, s, i);
      },
      batch: 3,
      dim: 2,
      seed: 1,
      backend: "js",
      signal: controller.signal,
    });
    await assert.rejects(sample(opts), isAbortError, name);
    assert.equal(calls, 2, name);
  }
});

Deno.test("sample() rejects with the reason given to abort()", async () => {
  const controller = new AbortController();
  const reason = new Error("user left the page");
  await assert.rejects(
    sample({
      denoiser: (x, s, i) => (controller.abort(reason), gmm.denoiser(x, s, i)),
      batch: 1,
      dim: 2,
      sigmas: karrasSigmas({ steps: 4 }),
      signal: controller.signal,
      backend: "js",
    }),
    (e) => e === reason,
  );
});

Deno.test("sample() with a synchronous denoiser still sees an abort from a timer", async () => {
  let calls = 0;
  const busy = (x: Float32Array, s: number, i: { batch: number; dim: number }) => {
    calls++;
    const until = performance.now() + 2;
    while (performance.now() < until) { /* a slow synchronous network */ }
    return gmm.denoiser(x, s, i);
  };
  const steps = 2000; // ≥ 4 s of work if nothing stopped it
  const started = performance.now();
  await assert.rejects(
    sample({
      denoiser: busy,
      batch: 1,
      dim: 2,
      sigmas: karrasSigmas({ steps }),
      sampler: "euler",
      signal: AbortSignal.timeout(50),
      backend: "js",
    }),
    (e) => e instanceof DOMException && e.name === "TimeoutError",
  );
  assert.ok(calls < steps / 2, `${calls} calls`);
  assert.ok(performance.now() - started < 2000);
});

Deno.test("sample() with a signal that never fires gives the same samples", async () => {
  const base: SampleOptions = {
    denoiser: gmm.denoiser,
    batch: 4,
    dim: 2,
    sigmas: karrasSigmas({ steps: 8 }),
    sampler: "euler-ancestral",
    seed: 5,
    backend: "js",
  };
  const plain = await sample(base);
  const watched = await sample({ ...base, signal: new AbortController().signal });
  assert.deepEqual(watched, plain);
});

Deno.test("sample() rejects a signal that is not an AbortSignal", async () => {
  await assert.rejects(
    sample({
      denoiser: gmm.denoiser,
      batch: 1,
      dim: 2,
      sigmas: [1, 0],
      signal: {} as never,
    }),
    /Expected "signal" to be an AbortSignal but found a Object/,
  );
});

Deno.test("sample() frees its WASM workspace when aborted", async () => {
  await init({ threads: 1 });
  try {
    const heap = (await wasmRuntime())!.heap;
    const before = heap.stats.inUse;
    const controller = new AbortController();
    let calls = 0;
    await assert.rejects(
      sample({
        denoiser: (x, s, i) => {
          if (++calls === 3) controller.abort();
          return gmm.denoiser(x, s, i);
        },
        batch: 64,
        dim: 2,
        sigmas: karrasSigmas({ steps: 10 }),
        sampler: "heun",
        signal: controller.signal,
        backend: "wasm",
      }),
      isAbortError,
    );
    assert.equal(calls, 3);
    assert.equal(heap.stats.inUse, before);
  } finally {
    await dispose();
  }
});
