/**
 * The WASM diffusion kernels against the JS reference: step updates and the mixture to float32
 * rounding, the Gaussian fill bit for bit; both builds (plain and relaxed SIMD), 1/2/4 workers
 * (bit-identical), and sample() / GaussianMixture end to end on backend "wasm".
 */
import assert from "node:assert/strict";
import { checkNonFiniteRuns } from "./_nonfinite_runs.ts";
import { checkUpdateFlags } from "./_update_flags.ts";
import { initUnshared } from "../_wasm_runtime.ts";
import { isLent, markLendable } from "../../src/runtime/_lent.ts";
import { wasmRuntime } from "../../src/runtime/runtime.ts";
import { DIFFUSION } from "../../src/backends/_families.ts";
import {
  type DiffusionKernels,
  type DiffusionWorkspace,
  NONE,
} from "../../src/backends/diffusion.ts";
import { jsDiffusionKernels as js } from "../../src/backends/js/diffusion.ts";
import { selectKernels } from "../../src/backends/_select.ts";
import {
  type DenoiserInfo,
  dispose,
  GaussianMixture,
  init,
  karrasSigmas,
  runtimeInfo,
  sample,
} from "../../src/mod.ts";

/**
 * The first entry where `a` and `b` differ, bit for bit (NaN equals NaN), or −1: an assertion on
 * it names one entry, where a failing deepEqual prints a diff of every entry.
 */
function firstDifference(a: Float32Array, b: Float32Array): number {
  return a.findIndex((value, i) => !Object.is(value, b[i]));
}

/** n ∈ {0, 1, lanes − 1, lanes, several blocks + tail}. */
const SIZES = [0, 1, 3, 4, 67];

function filled(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.sin(seed * 12.9898 + i * 78.233) * 3);
  return out;
}

function assertClose(actual: Float32Array, expected: Float32Array, tol: number, what: string) {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tol * scale)) {
      assert.fail(`${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
    }
  }
}

/** Runs `step` on workspaces holding the same buffers in both backends and compares slot 0. */
function compareStep(
  wasm: DiffusionKernels,
  name: string,
  shape: [number, number],
  buffers: Float32Array[],
  step: (ws: DiffusionWorkspace) => void,
) {
  const results = [js, wasm].map((k) => {
    const ws = k.workspace(...shape);
    try {
      for (const data of buffers) ws.write(ws.buffer(), data);
      step(ws);
      const out = new Float32Array(ws.size);
      ws.read(0, out);
      return out;
    } finally {
      ws.release();
    }
  });
  assertClose(results[1], results[0], 2e-6, name);
}

function stepConformance(wasm: DiffusionKernels) {
  for (const n of SIZES.filter((n) => n > 0)) {
    const buffers = [1, 2, 3, 4, 5].map((seed) => filled(n, seed)); // x, d, x2, d2, z
    const check = (name: string, step: (ws: DiffusionWorkspace) => void) =>
      compareStep(wasm, `${name} n=${n}`, [1, n], buffers, step);
    check("euler", (ws) => ws.eulerStep(0, 1, 2, 0.5));
    check("euler into another buffer", (ws) => ws.eulerStep(4, 1, 2, 0.5, 0));
    check("heun", (ws) => ws.heunStep(0, 1, 2, 3, 2, 0.5));
    check("derivative", (ws) => ws.derivativeStep(0, 2, 3, 0.8, -0.3));
    check("ancestral", (ws) => ws.ancestralStep(0, 1, 4, 2, 0.4, 0.3));
    check("dpmpp", (ws) => ws.dpmppStep(0, 1, 3, 4, 0.5, 0.7, -0.2, 0.1));
    check(
      "dpmpp without previous or noise",
      (ws) => ws.dpmppStep(0, 1, NONE, NONE, 0.5, 0.7, 9, 9),
    );
    check("dpmpp without noise", (ws) => ws.dpmppStep(0, 1, 3, NONE, 0.5, 0.7, -0.2, 9));
    check("dpmpp without previous", (ws) => ws.dpmppStep(0, 1, NONE, 4, 0.5, 0.7, 9, 0.1));
    check("axpby", (ws) => ws.axpby(0, 1, -1.5, 2));
    check("scale in place", (ws) => ws.axpby(0, 0, 3, 0));
    check("copy", (ws) => ws.copy(0, 4));
    check("blend, fractional mask", (ws) => ws.blend(0, 1, 2));
  }
}

/** Each buffer is its own block: writing one leaves its neighbours alone. */
function workspaceIsolation(wasm: DiffusionKernels) {
  const ws = wasm.workspace(3, 5);
  try {
    const slots = [ws.buffer(), ws.buffer(), ws.buffer()];
    slots.forEach((slot, i) => ws.write(slot, new Float32Array(15).fill(i + 1)));
    ws.eulerStep(slots[1], slots[0], 2, 1);
    const read = slots.map((slot) => {
      const out = new Float32Array(15);
      ws.read(slot, out);
      return [...out];
    });
    assert.deepEqual(read[0], Array(15).fill(1));
    assert.deepEqual(read[1], Array(15).fill(1.5)); // 1 + ½(2 − 1)
    assert.deepEqual(read[2], Array(15).fill(3));
    ws.write(slots[2], Float32Array.from({ length: 15 }, (_, i) => i === 7 ? NaN : i));
    assert.equal(ws.firstNonFinite(slots[2]), 7);
  } finally {
    ws.release();
  }
}

async function fillConformance(wasm: DiffusionKernels) {
  const cases = [
    [0, 3, 1, 0, 0],
    [1, 1, 0, 0, 0],
    [1, 2, 0, 0, 1],
    [3, 3, 7, 5, 2],
    [2, 7, 9, 1, 3],
    [5, 8, 123, 7, 5],
    [2, 9, 0xdeadbeef, 0xfffffff0, 1000],
    [3, 16, 42, 3, 0],
    [4, 67, 5, 11, 9],
  ];
  for (const [batch, dim, seed, firstSample, draw] of cases) {
    const a = new Float32Array(batch * dim), b = new Float32Array(batch * dim);
    js.fillGaussian(a, batch, dim, seed, firstSample, draw);
    await wasm.fillGaussian(b, batch, dim, seed, firstSample, draw);
    assert.deepEqual(
      new Uint32Array(b.buffer),
      new Uint32Array(a.buffer),
      `fill ${batch}x${dim} seed ${seed}`,
    );
  }
  // A long stream: every lane position and both quadrant branches many times over.
  const a = new Float32Array(64 * 257), b = new Float32Array(64 * 257);
  js.fillGaussian(a, 64, 257, 77, 0, 4);
  await wasm.fillGaussian(b, 64, 257, 77, 0, 4);
  assert.deepEqual(new Uint32Array(b.buffer), new Uint32Array(a.buffer), "fill 64x257");
}

function mixtureParameters(components: number, dim: number) {
  const means = filled(components * dim, 11);
  const variances = filled(components * dim, 12).map((v) => 0.05 + Math.abs(v));
  const weights = Array.from({ length: components }, (_, k) => 1 + k);
  const total = weights.reduce((p, q) => p + q);
  return { means, variances, logWeights: Float32Array.from(weights, (w) => Math.log(w / total)) };
}

async function mixtureConformance(wasm: DiffusionKernels) {
  for (const [batch, dim, components] of [[0, 3, 2], [1, 1, 1], [3, 3, 2], [5, 4, 3], [7, 67, 8]]) {
    const { means, variances, logWeights } = mixtureParameters(components, dim);
    const x = filled(batch * dim, 13);
    for (const sigma of [0, 0.2, 3, 50]) {
      for (const output of ["denoised", "score"] as const) {
        const a = new Float32Array(batch * dim), b = new Float32Array(batch * dim);
        const args = { output, x, batch, dim, sigma, means, variances, logWeights, components };
        await js.mixture({ ...args, out: a });
        await wasm.mixture({ ...args, out: b });
        assertClose(b, a, 2e-4, `${output} ${batch}x${dim} K=${components} σ=${sigma}`);
      }
    }
  }
}

for (const relaxedSimd of [false, true]) {
  Deno.test(`diffusion kernels: wasm (${relaxedSimd ? "relaxed" : "plain"} SIMD, 1 thread) match the reference`, async () => {
    await init({ threads: 1, relaxedSimd });
    try {
      const wasm = await selectKernels(DIFFUSION, "wasm");
      assert.equal(wasm.name, "wasm");
      stepConformance(wasm);
      checkUpdateFlags(wasm);
      workspaceIsolation(wasm);
      // A private memory may be replaced when it grows, so host views are handed out only
      // over shared memory (used even at one thread where SharedArrayBuffer exists).
      const ws = wasm.workspace(2, 3);
      assert.equal(ws.view(ws.buffer()) === null, !runtimeInfo().sharedMemory);
      ws.release();
      await fillConformance(wasm);
      await mixtureConformance(wasm);
    } finally {
      await dispose();
    }
  });
}

Deno.test("diffusion kernels: wasm gives bit-identical fills and mixtures on 1, 2 and 4 workers", async () => {
  const batch = 4096, dim = 33, components = 8; // above the split threshold of both kernels
  const { means, variances, logWeights } = mixtureParameters(components, dim);
  const x = filled(batch * dim, 21);
  const results: Float32Array[][] = [];
  for (const threads of [1, 2, 4]) {
    await init({ threads });
    try {
      const wasm = await selectKernels(DIFFUSION, "wasm");
      const noise = new Float32Array(batch * dim), denoised = new Float32Array(batch * dim);
      await wasm.fillGaussian(noise, batch, dim, 3, 100, 2);
      // Calls back to back, so that the workers are polling and the calls split; on two
      // threads the rows split as learnt from the last calls' timings, and each lane copies its
      // own rows in and out (a row left uncopied would stay NaN, or keep the last call's x).
      // The calls alternate two inputs; the first two did not split.
      const inputs = [x, x.map((value) => value - 0.5)];
      const outs = [denoised, ...Array.from({ length: 7 }, () => new Float32Array(batch * dim))];
      for (const out of outs.slice(1)) out.fill(NaN);
      for (const [call, out] of outs.entries()) {
        await wasm.mixture({
          output: "denoised",
          out,
          x: inputs[call % 2],
          batch,
          dim,
          sigma: 0.7,
          means,
          variances,
          logWeights,
          components,
        });
      }
      for (const [call, out] of outs.entries()) {
        const at = firstDifference(out, outs[call % 2]);
        assert.equal(at, -1, `mixture call ${call}, ${threads} threads: entry ${at} = ${out[at]}`);
      }
      // The same stream written straight into a workspace, dealt to the workers by rows.
      const ws = wasm.workspace(batch, dim);
      try {
        const slot = ws.buffer(), resident = new Float32Array(batch * dim);
        await ws.fillGaussian(slot, 3, 100, 2);
        ws.read(slot, resident);
        assert.deepEqual(resident, noise, `workspace fill, ${threads} threads`);
        // Over shared memory the host view aliases the buffer.
        const view = ws.view(slot);
        if (runtimeInfo().sharedMemory) assert.deepEqual(view, resident);
        else assert.equal(view === null, true);
      } finally {
        ws.release();
      }
      results.push([noise, denoised]);
    } finally {
      await dispose();
    }
  }
  const reference = new Float32Array(batch * dim);
  js.fillGaussian(reference, batch, dim, 3, 100, 2);
  for (const [t, [noise, denoised]] of results.entries()) {
    assert.deepEqual(noise, reference, `fill, run ${t}`);
    assert.deepEqual(denoised, results[0][1], `mixture, run ${t}`);
  }
});

Deno.test("mixture calls on 2 and 4 threads over shared memory, rows claimed as the lanes go while x is copied in and the results out: the same bits as one thread", async () => {
  // 20,000 × 64 × 8 components: past the split threshold without polling workers; 20,000 rows
  // end in a partial chunk of claimed rows and a partial block of copied ones.
  const batch = 20000, dim = 64, components = 8;
  const { means, variances, logWeights } = mixtureParameters(components, dim);
  const inputs = [filled(batch * dim, 31), filled(batch * dim, 32)];
  const run = async (threads: number) => {
    await init({ threads });
    try {
      const wasm = await selectKernels(DIFFUSION, "wasm");
      const outs: Float32Array[] = [];
      for (const [call, sigma] of [0.2, 20, 0.2, 20].entries()) {
        // A row no lane wrote, or wrote from rows of x not yet copied in, shows here.
        const out = new Float32Array(batch * dim).fill(NaN);
        await wasm.mixture({
          output: call < 2 ? "denoised" : "score",
          out,
          x: inputs[call % 2],
          batch,
          dim,
          sigma,
          means,
          variances,
          logWeights,
          components,
        });
        outs.push(out);
      }
      return outs;
    } finally {
      await dispose();
    }
  };
  const one = await run(1);
  for (const [call, out] of one.entries()) {
    assert.equal(out.findIndex(Number.isNaN), -1, `call ${call}`);
  }
  for (const threads of [2, 4]) {
    const many = await run(threads);
    for (const [call, out] of many.entries()) {
      const at = firstDifference(out, one[call]);
      assert.equal(at, -1, `${threads} threads, call ${call}: entry ${at} = ${out[at]}`);
    }
  }
});

Deno.test("sample() and GaussianMixture on backend wasm agree with js", async () => {
  await init({ threads: 2 });
  try {
    const opts = {
      means: [[-2, 1], [2, -1]],
      variances: [[0.3, 0.2], [0.2, 0.4]],
      weights: [0.3, 0.7],
    };
    const onJs = new GaussianMixture({ ...opts, backend: "js" });
    const onWasm = new GaussianMixture({ ...opts, backend: "wasm" });
    const pending = onWasm.denoiser(Float32Array.from([0.5, 0.5]), 1, { batch: 1, dim: 2 });
    assert.ok(pending instanceof Promise);
    const base = { batch: 64, dim: 2, sigmas: karrasSigmas({ steps: 12 }), seed: 8 };
    for (const sampler of ["heun", "euler-ancestral", "dpmpp-2m-sde"] as const) {
      const a = await sample({ ...base, sampler, denoiser: onJs.denoiser, backend: "js" });
      const b = await sample({ ...base, sampler, denoiser: onWasm.denoiser, backend: "wasm" });
      assertClose(b, a, 2e-3, sampler);
    }
    await assert.rejects(
      sample({ ...base, denoiser: onJs.denoiser, backend: "webgpu" }),
      /no webgpu backend/,
    );
  } finally {
    await dispose();
  }
});

Deno.test("sample() on backend wasm blames a non-finite denoiser output on the denoiser", async () => {
  for (const threads of [1, 2]) {
    await init({ threads });
    try {
      await checkNonFiniteRuns("wasm");
    } finally {
      await dispose();
    }
  }
});

/** GaussianMixture options of mixtureParameters(components, dim), weights 1 … components. */
function mixtureOptions(components: number, dim: number) {
  const { means, variances } = mixtureParameters(components, dim);
  const rows = (a: Float32Array) =>
    Array.from({ length: components }, (_, k) => [...a.subarray(k * dim, (k + 1) * dim)]);
  return {
    means: rows(means),
    variances: rows(variances),
    weights: Array.from({ length: components }, (_, k) => 1 + k),
  };
}

Deno.test("sample(): the newer solvers on wasm match js, bit-identical on 1, 2 and 4 threads", async () => {
  const dim = 16, components = 8, batch = 2048; // the mixture splits across workers at this size
  const opts = mixtureOptions(components, dim);
  const samplers = ["dpmpp-3m-sde", "dpmpp-2s-ancestral", "unipc", "restart", "ipndm"] as const;
  const base = { batch, dim, sigmas: karrasSigmas({ steps: 6, sigmaMax: 20 }), seed: 6 };
  const onJs = new GaussianMixture({ ...opts, backend: "js" });
  const reference: Float32Array[] = [];
  for (const sampler of samplers) {
    reference.push(await sample({ ...base, sampler, denoiser: onJs.denoiser, backend: "js" }));
  }
  const runs: Float32Array[][] = [];
  for (const threads of [1, 2, 4]) {
    await init({ threads });
    try {
      const onWasm = new GaussianMixture({ ...opts, backend: "wasm" });
      const results: Float32Array[] = [];
      for (const sampler of samplers) {
        results.push(
          await sample({ ...base, sampler, denoiser: onWasm.denoiser, backend: "wasm" }),
        );
      }
      runs.push(results);
    } finally {
      await dispose();
    }
  }
  samplers.forEach((sampler, k) => {
    assertClose(runs[0][k], reference[k], 2e-3, `${sampler} wasm vs js`);
    for (const t of [1, 2]) {
      assert.deepEqual(runs[t][k], runs[0][k], `${sampler}: run ${t} differs from 1 thread`);
    }
  });
});

Deno.test("sample() on unshared memory (a plain page) lends the denoiser one host info.out for the run, with the shared runtime's bits", async () => {
  const dim = 16, components = 4, batch = 512;
  const opts = mixtureOptions(components, dim);
  const base = { batch, dim, sigmas: karrasSigmas({ steps: 5, sigmaMax: 20 }), seed: 3 };
  const samplers = ["heun", "euler-ancestral"] as const;
  const runs = async () => {
    const gmm = new GaussianMixture({ ...opts, backend: "wasm" });
    const outs: (Float32Array | undefined)[] = [];
    const denoiser = (x: Float32Array, sigma: number, info: DenoiserInfo) => {
      outs.push(info.out);
      return gmm.denoiser(x, sigma, info);
    };
    const results: Float32Array[] = [];
    for (const sampler of samplers) {
      results.push(await sample({ ...base, sampler, denoiser, backend: "wasm" }));
    }
    return { results, outs };
  };
  await init({ threads: 1 });
  let reference: Float32Array[];
  try {
    reference = (await runs()).results;
  } finally {
    await dispose();
  }
  for (const threads of [1, 2]) {
    await initUnshared(threads);
    try {
      const { results, outs } = await runs();
      results.forEach((r, k) =>
        assert.deepEqual(r, reference[k], `${samplers[k]}, ${threads} threads`)
      );
      // Every call got an out: a host array (not a view of WASM memory), one per run.
      assert.ok(outs.every((o) => o instanceof Float32Array && o.length === batch * dim));
      assert.equal(new Set(outs).size, samplers.length);
    } finally {
      await dispose();
    }
  }
});

Deno.test("sample() on unshared memory lends GaussianMixture.denoiser views of its buffers, renewed when the memory grows mid-call: the shared runtime's bits", async () => {
  const dim = 16, components = 4, batch = 512;
  const opts = mixtureOptions(components, dim);
  const base = { batch, dim, sigmas: karrasSigmas({ steps: 5, sigmaMax: 20 }), seed: 3 };
  const samplers = ["heun", "euler-ancestral"] as const;
  let steps: Float32Array[][] = [];
  // The mixture on either backend: the js one reads and writes the views synchronously.
  const runs = async (backend: "wasm" | "js", grow?: () => void) => {
    const gmm = new GaussianMixture({ ...opts, backend });
    const lent: boolean[] = [];
    // Passes the call on at once, as the mixture's own denoiser, and only then grows the memory
    // (detaching every view of it) while that call awaits its kernels, and again once it is done:
    // at the second call of each sampler's run (the memory grows in steps up to 2 GiB).
    let calls = 0;
    const denoiser = async (x: Float32Array, sigma: number, info: DenoiserInfo) => {
      lent.push(isLent(x) && isLent(info.out!));
      const growing = ++calls === 2 ? grow : undefined;
      const denoised = gmm.denoiser(x, sigma, info);
      growing?.();
      const result = await denoised;
      growing?.();
      return result;
    };
    markLendable(denoiser);
    const results: Float32Array[] = [], seen: Float32Array[] = [];
    for (const sampler of samplers) {
      calls = 0;
      results.push(
        await sample({
          ...base,
          sampler,
          denoiser,
          backend: "wasm",
          // What onStep sees is the run's own copy, whole, whatever the memory did.
          onStep: (step) => seen.push(step.x.slice(), step.denoised.slice()),
        }),
      );
    }
    steps.push(seen);
    return { results, lent };
  };
  for (const backend of ["wasm", "js"] as const) {
    steps = [];
    await init({ threads: 1 });
    let reference: Float32Array[];
    try {
      reference = (await runs(backend)).results;
    } finally {
      await dispose();
    }
    for (const threads of [1, 2]) {
      await initUnshared(threads);
      try {
        const runtime = (await wasmRuntime())!;
        // Blocks of 1 MiB until the memory grows (detaching its buffer), held to the run's end.
        let grew = 0;
        const held: number[] = [];
        const grow = () => {
          const before = runtime.memory.buffer;
          while (before.byteLength > 0) held.push(runtime.heap.alloc(1 << 20));
          grew++;
        };
        const { results, lent } = await runs(backend, grow);
        held.forEach((block) => runtime.heap.free(block));
        assert.equal(grew, 2 * samplers.length, "the memory grew during a call and after it");
        assert.ok(lent.length > 0 && lent.every(Boolean), "every call was lent views");
        results.forEach((r, k) =>
          assert.deepEqual(r, reference[k], `${samplers[k]}, ${threads} threads, ${backend}`)
        );
        steps.at(-1)!.forEach((a, i) => assert.deepEqual(a, steps[0][i], `onStep array ${i}`));
      } finally {
        await dispose();
      }
    }
  }
});

Deno.test("step updates split by rows on 2 workers: the same bits as one thread, flags from every lane, and nothing else runs meanwhile", async () => {
  // 2,048 rows of 64: the size from which steps split while the workers poll (131,072 values).
  const batch = 2048, dim = 64, n = batch * dim;
  const inputs = [1, 2, 3, 4, 5].map((seed) => filled(n, seed));
  // A run of different updates, back to back (awaited) so that the workers poll and steps split.
  const updates: ((ws: DiffusionWorkspace) => unknown)[] = [
    (ws) => ws.eulerStep(0, 1, 2, 0.5),
    (ws) => ws.eulerStep(0, 1, 2, 0.5, 4),
    (ws) => ws.heunStep(0, 1, 2, 3, 2, 0.5),
    (ws) => ws.derivativeStep(0, 2, 3, 0.8, -0.3),
    (ws) => ws.ancestralStep(0, 1, 4, 2, 0.4, 0.3),
    (ws) => ws.dpmppStep(0, 1, 3, 4, 0.5, 0.7, -0.2, 0.1),
    (ws) => ws.dpmppStep(0, 1, 3, NONE, 0.5, 0.7, -0.2, 9),
    (ws) => ws.axpby(0, 1, -0.5, 0.25),
    (ws) => ws.blend(0, 1, 2),
  ];
  // Two threads first, until 20 updates have split (a loaded host, as the suite's files running
  // side by side, misses most of the 2 ms windows that keep the workers polling: 2 of 360 split
  // there once, 13 of 3,600 in a fresh clone's CI run, so it keeps trying past 400 rounds for up
  // to 30 s); then one thread, the same number of rounds. Each round contracts the state.
  const finals: Float32Array[][] = [];
  let rounds = 0;
  for (const threads of [2, 1]) {
    await init({ threads });
    try {
      const wasm = await selectKernels(DIFFUSION, "wasm");
      const ws = wasm.workspace(batch, dim);
      try {
        for (const data of inputs) ws.write(ws.buffer(), data);
        let split = 0;
        const deadline = performance.now() + 30_000;
        const more = (round: number) =>
          threads === 2
            ? (round < 400 || performance.now() < deadline) && split < 20
            : round < rounds;
        for (let round = 0; more(round); round++) {
          for (const update of updates) {
            const result = update(ws);
            if (result instanceof Promise) {
              split++;
              // Until it is done, the workspace refuses every other call.
              assert.throws(() => ws.view(0), /still running: await it/);
            }
            assert.equal(await result, true);
          }
          if (threads === 2) rounds = round + 1;
        }
        if (threads === 1) assert.equal(split, 0);
        else if (runtimeInfo().sharedMemory) assert.ok(split >= 20, `${split} split`);
        // A NaN in this thread's rows, then in the worker's: each turns a split update's flag
        // false (into a sixth buffer, outside the comparison).
        if (threads === 2 && runtimeInfo().sharedMemory) {
          const scratch = ws.buffer(), bad = inputs[1].slice();
          for (const row of [0, batch - 1]) {
            bad[row * dim + 5] = NaN;
            ws.write(scratch, bad);
            let splitResult: unknown = null;
            const until = performance.now() + 30_000;
            for (
              let tries = 0;
              (tries < 3000 || performance.now() < until) && splitResult === null;
              tries++
            ) {
              const result = ws.axpby(scratch, scratch, 1, 0);
              if (result instanceof Promise) splitResult = await result;
              else assert.equal(result, false);
            }
            assert.equal(splitResult, false, `NaN in row ${row}`);
            bad[row * dim + 5] = 0;
          }
        }
        finals.push([0, 1, 2, 3, 4].map((slot) => {
          const out = new Float32Array(n);
          ws.read(slot, out);
          return out;
        }));
      } finally {
        ws.release();
      }
    } finally {
      await dispose();
    }
  }
  for (let slot = 0; slot < 5; slot++) {
    const [one, two] = [finals[0][slot], finals[1][slot]];
    const at = firstDifference(two, one);
    assert.equal(at, -1, `slot ${slot}: entry ${at} = ${two[at]} on 2 threads, ${one[at]} on 1`);
  }
});
