/**
 * Resident lanes: on memory that is not shared (a page without cross-origin isolation), a run of
 * `GaussianMixture.denoiser` large enough to split keeps each worker's rows in that worker's own
 * memory for the whole run (WasmWorkspace in src/backends/wasm/diffusion.ts). Every sampler gives
 * the bits of one thread on shared memory, with inpainting, `xT` and a custom noise too; a
 * non-finite denoiser output is blamed exactly as there; a lost worker, an abort and a failed
 * run free the run's memory.
 */
import assert from "node:assert/strict";
import { initUnshared, withCores } from "../_wasm_runtime.ts";
import { shortRun } from "./_nonfinite_runs.ts";
import { wasmRuntime } from "../../src/runtime/runtime.ts";
import { DIFFUSION } from "../../src/backends/_families.ts";
import { selectKernels } from "../../src/backends/_select.ts";
import type { Task, WasmRuntime } from "../../src/runtime/_wasm.ts";
import {
  dispose,
  GaussianMixture,
  init,
  karrasSigmas,
  sample,
  type SampleOptions,
  SAMPLERS,
} from "../../src/mod.ts";

// 4,096 rows of 16 dims and 64 components: 2^24 work units a call, where runs become resident.
const BATCH = 4096, DIM = 16, COMPONENTS = 64;

function mixture(): GaussianMixture {
  const rows = (f: (k: number, j: number) => number) =>
    Array.from({ length: COMPONENTS }, (_, k) => Array.from({ length: DIM }, (_, j) => f(k, j)));
  return new GaussianMixture({
    means: rows((k, j) => 2 * Math.sin(1.3 * k + 0.7 * j)),
    variances: rows((k, j) => 0.05 + 0.1 * ((k * 7 + j * 3) % 5)),
    weights: Array.from({ length: COMPONENTS }, (_, k) => 1 + (k % 3)),
    backend: "wasm",
  });
}

/** The first entry where `a` and `b` differ, bit for bit, or −1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  return a.findIndex((value, i) => !Object.is(value, b[i]));
}

/** Counts the lanes of each call of `kernel` that `runtime` deals, from now on. */
function countLanes(runtime: WasmRuntime, kernel: string): number[] {
  const lanes: number[] = [];
  const note = (tasks: Task[]) => {
    if (tasks[0]?.kernel === kernel) lanes.push(tasks.length);
  };
  const run = runtime.run.bind(runtime), runSharing = runtime.runSharing.bind(runtime);
  runtime.run = (tasks, meanwhile) => (note(tasks), run(tasks, meanwhile));
  runtime.runSharing = (
    tasks,
    meanwhile,
    options,
  ) => (note(tasks), runSharing(tasks, meanwhile, options));
  return lanes;
}

/**
 * Runs `check` on `threads` threads of unshared memory, with the lanes of each mixture call
 * counted; then every run must have freed its memory.
 */
async function onUnshared(threads: number, check: (lanes: number[]) => Promise<void>) {
  // Each thread a lane, whatever this host's cores (see withCores).
  await withCores(8, () => initUnshared(threads));
  try {
    const runtime = (await wasmRuntime())!;
    const before = runtime.heap.stats.inUse;
    await check(countLanes(runtime, "diffusion_gmm_checked_f32"));
    assert.equal(runtime.heap.stats.inUse, before, "every run freed its memory");
  } finally {
    await dispose();
  }
}

/** `opts` sampled on one thread of shared memory: the bits every other run must give. */
async function onOneThread(opts: SampleOptions): Promise<Float32Array> {
  await init({ threads: 1 });
  try {
    return await sample(opts);
  } finally {
    await dispose();
  }
}

/** `opts` sampled on two threads of unshared memory, with the lanes of each call of `kernel`. */
async function onTwoUnshared(
  opts: SampleOptions,
  kernel: string,
): Promise<{ result: Float32Array; lanes: number[] }> {
  await initUnshared(2);
  try {
    const lanes = countLanes((await wasmRuntime())!, kernel);
    return { result: await sample(opts), lanes };
  } finally {
    await dispose();
  }
}

/** The runs compared: every sampler, and heun with inpainting, with xT and with a custom noise. */
function runs(gmm: GaussianMixture): [string, SampleOptions][] {
  const base = {
    denoiser: gmm.denoiser,
    batch: BATCH,
    dim: DIM,
    seed: 5,
    backend: "wasm" as const,
  };
  const list: [string, SampleOptions][] = Object.keys(SAMPLERS).map((
    sampler,
  ) => [sampler, shortRun(sampler, base)]);
  const known = new Float32Array(BATCH * DIM).map((_, i) => Math.cos(i));
  const mask = new Float32Array(BATCH * DIM).map((_, i) => (i % 3 === 0 ? 1 : 0));
  list.push(["heun, inpaint", shortRun("heun", base, { inpaint: { known, mask, resample: 2 } })]);
  list.push(["heun, xT", shortRun("heun", base, { xT: known.map((v) => 20 * v) })]);
  list.push([
    "heun, noise",
    shortRun("heun", base, {
      sampler: "euler-ancestral",
      noise: (out, { draw }) => out.forEach((_, i) => out[i] = Math.sin(i + 17 * draw)),
    }),
  ]);
  return list;
}

/** Each run's result, or its error's message. */
async function results(list: [string, SampleOptions][]): Promise<(Float32Array | string)[]> {
  const out: (Float32Array | string)[] = [];
  for (const [, opts] of list) {
    out.push(await sample(opts).catch((error: Error) => `${error.name}: ${error.message}`));
  }
  return out;
}

Deno.test("sample() on unshared memory keeps the mixture's rows with the workers: every sampler, inpainting, xT and noise give one shared thread's bits", async () => {
  const gmm = mixture(), list = runs(gmm);
  await init({ threads: 1 });
  let reference: (Float32Array | string)[];
  try {
    reference = await results(list);
  } finally {
    await dispose();
  }
  assert.ok(reference.filter((r) => typeof r !== "string").length >= list.length - 1);
  for (const threads of [2, 4]) {
    await onUnshared(threads, async (lanes) => {
      const got = await results(list);
      list.forEach(([name], k) => {
        const [a, b] = [got[k], reference[k]];
        if (typeof a === "string" || typeof b === "string") assert.equal(a, b, name);
        else assert.equal(firstDifference(a, b), -1, `${name}, ${threads} threads`);
      });
      // Every denoiser call ran on the lanes: this thread's and one per worker.
      assert.ok(lanes.length >= 5 * list.length && lanes.every((n) => n === threads), `${lanes}`);
    });
  }
});

Deno.test("sample() on unshared memory, four threads over two cores: the run's rows stay with two lanes, the same bits", async () => {
  const gmm = mixture();
  const opts: SampleOptions = {
    denoiser: gmm.denoiser,
    batch: BATCH,
    dim: DIM,
    sigmas: karrasSigmas({ steps: 3 }),
    sampler: "heun",
    seed: 4,
    backend: "wasm",
  };
  const reference = await onOneThread(opts);
  await withCores(2, () => initUnshared(4));
  try {
    const lanes = countLanes((await wasmRuntime())!, "diffusion_gmm_checked_f32");
    assert.equal(firstDifference(await sample(opts), reference), -1);
    // This thread's rows and one worker's, not four lanes' on two cores.
    assert.deepEqual(lanes, [2, 2, 2, 2, 2]);
  } finally {
    await dispose();
  }
});

Deno.test("sample() on unshared memory: a batch too large for this thread's lane runs on the workers alone, with the same bits", async () => {
  // 2^27 work units a call on 2 threads, beyond RUN_LANE_WORK a lane; rows not a multiple of 2.
  const gmm = mixture();
  const opts: SampleOptions = {
    denoiser: gmm.denoiser,
    batch: 32769,
    dim: DIM,
    sigmas: karrasSigmas({ steps: 2, sigmaMax: 20 }),
    sampler: "heun",
    seed: 9,
    backend: "wasm",
  };
  const reference = await onOneThread(opts);
  const { result, lanes } = await onTwoUnshared(opts, "diffusion_gmm_checked_f32");
  assert.equal(firstDifference(result, reference), -1);
  assert.deepEqual(lanes, [2, 2, 2]);
});

Deno.test("sample() on unshared memory: a non-finite mixture output on a worker's rows is blamed on the denoiser, as on one thread", async () => {
  // Rows so far out that every component's log density is −∞ give NaN: those of the last lane,
  // a worker's, from the first call on; then, with σ so large that σ² overflows the tables,
  // every row.
  const gmm = mixture();
  const xT = new Float32Array(BATCH * DIM).fill(1);
  xT.fill(3e38, (BATCH - 7) * DIM + 5);
  const runs: SampleOptions[] = [
    { sigmas: karrasSigmas({ steps: 4 }), xT, sampler: "heun" as const },
    { sigmas: karrasSigmas({ steps: 4 }), xT, sampler: "dpmpp-2m" as const },
    { sigmas: Float64Array.from([1e20, 1e19, 0]), sampler: "euler" as const },
  ].map((run) => ({ ...run, denoiser: gmm.denoiser, batch: BATCH, dim: DIM, backend: "wasm" }));
  const messages = async () => {
    const out: string[] = [];
    for (const opts of runs) {
      await assert.rejects(sample(opts), (error: Error) => {
        out.push(error.message);
        return error instanceof RangeError;
      });
    }
    return out;
  };
  await init({ threads: 1 });
  let reference: string[];
  try {
    reference = await messages();
  } finally {
    await dispose();
  }
  const first = `found NaN at index ${(BATCH - 7) * DIM} (sigma 80)`; // the whole row
  assert.deepEqual(reference.map((m) => m.includes(first)), [true, true, false]);
  assert.match(
    reference[2],
    /Expected "denoiser" to return finite values but found NaN at index 0/,
  );
  for (const threads of [2, 4]) {
    await onUnshared(threads, async (lanes) => {
      assert.deepEqual(await messages(), reference);
      assert.deepEqual(lanes, [threads, threads, threads]);
    });
  }
});

Deno.test("sample() on unshared memory: a worker lost between calls fails the run by name, and an abort mid-run frees its memory", async () => {
  await initUnshared(2);
  try {
    const runtime = (await wasmRuntime())!;
    const gmm = mixture(), before = runtime.heap.stats.inUse;
    let calls = 0;
    const losses = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(runtime), "workerLosses")!;
    const base: SampleOptions = {
      denoiser: gmm.denoiser,
      batch: BATCH,
      dim: DIM,
      sigmas: karrasSigmas({ steps: 6 }),
      sampler: "heun",
      backend: "wasm",
    };
    // The pool says a worker stopped after the third call's lanes were dealt.
    Object.defineProperty(runtime, "workerLosses", {
      configurable: true,
      get: () => (calls >= 3 ? 1 : 0) + losses.get!.call(runtime),
    });
    const lanes = countLanes(runtime, "diffusion_gmm_checked_f32");
    const counted = runtime.run.bind(runtime);
    runtime.run = (tasks, meanwhile) => counted(tasks, meanwhile);
    const runSharing = runtime.runSharing.bind(runtime);
    runtime.runSharing = (tasks, meanwhile, options) => {
      if (tasks[0]?.kernel === "diffusion_gmm_checked_f32") calls++;
      return runSharing(tasks, meanwhile, options);
    };
    await assert.rejects(sample(base), /A worker of the pool stopped during this sampling run/);
    assert.equal(lanes.length, 3);
    delete (runtime as { workerLosses?: number }).workerLosses;
    assert.equal(runtime.heap.stats.inUse, before, "the failed run freed its memory");

    const controller = new AbortController();
    calls = 0;
    const aborted = sample({
      ...base,
      signal: controller.signal,
      onStep: undefined,
      denoiser: gmm.denoiser,
    });
    const watch = setInterval(() => calls >= 2 && controller.abort(), 0);
    await assert.rejects(aborted, { name: "AbortError" });
    clearInterval(watch);
    assert.equal(runtime.heap.stats.inUse, before, "the aborted run freed its memory");
  } finally {
    await dispose();
  }
});

Deno.test("a resident workspace checks its workers' rows one call late: the next call, or gather(), throws what they found, and release() waits for them", async () => {
  await initUnshared(2);
  try {
    const kernels = await selectKernels(DIFFUSION, "wasm");
    const runtime = (await wasmRuntime())!, before = runtime.heap.stats.inUse;
    const open = () => kernels.workspace(BATCH, DIM, { residentRowWork: DIM * COMPONENTS * 4 });
    // Values that overflow float32 when doubled, in the last row only: a worker's.
    const data = new Float32Array(BATCH * DIM).fill(1);
    data.fill(3e38, (BATCH - 1) * DIM);
    const overflow = /a step on finite denoiser outputs overflowed float32/;

    const state = open();
    assert.equal(state.resident, true);
    const y = state.buffer(), z = state.buffer();
    state.write(y, data);
    assert.equal(await state.axpby(y, y, 2, 0), true, "this thread's rows are finite");
    await assert.rejects(Promise.resolve(state.axpby(z, y, 1, 0)), overflow);
    await state.release();
    assert.equal(runtime.heap.stats.inUse, before);

    for (const which of ["written", "all here"]) {
      const last = open();
      const w = last.buffer(), here = last.buffer();
      last.write(w, data);
      last.write(here, data);
      assert.equal(await last.axpby(w, w, 2, 0), true);
      // The run's last call is checked by gather(), of any buffer.
      await assert.rejects(last.gather(which === "written" ? w : here), overflow, which);
      await last.release();
    }

    const quiet = open();
    const v = quiet.buffer(), u = quiet.buffer();
    quiet.write(v, data);
    quiet.copy(u, v); // returns before the workers are done; release() waits for them
    await quiet.release();
    assert.equal(runtime.heap.stats.inUse, before);
  } finally {
    await dispose();
  }
});

Deno.test("sample() on unshared memory: a mixture on the js backend is called as a function, with no lanes, and gives its one-thread bits", async () => {
  const onJs = new GaussianMixture({ ...mixtureOptionsOf(mixture()), backend: "js" });
  const opts = shortRun("heun", {
    denoiser: onJs.denoiser,
    batch: BATCH,
    dim: DIM,
    seed: 2,
    backend: "wasm",
  });
  const reference = await onOneThread(opts);
  const { result, lanes } = await onTwoUnshared(opts, "diffusion_copy_f32");
  assert.equal(firstDifference(result, reference), -1);
  assert.deepEqual(lanes, [], "no resident lanes (not even their rows' return)");
});

/** The options a GaussianMixture was made with. */
function mixtureOptionsOf(gmm: GaussianMixture) {
  const rows = (a: Float32Array) =>
    Array.from({ length: gmm.components }, (_, k) => [...a.subarray(k * DIM, (k + 1) * DIM)]);
  return { means: rows(gmm.means), variances: rows(gmm.variances), weights: gmm.weights };
}
