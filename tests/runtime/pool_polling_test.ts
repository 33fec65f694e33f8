/**
 * Workers that poll between lists: a worker given lists close together keeps polling after
 * each, and says so; a sleeping worker woken by a prod polls too; then small mixture calls,
 * which stay in one task while the workers sleep, split across them, with the same bits.
 */
import assert from "node:assert/strict";
import { dispose, GaussianMixture, init } from "../../src/mod.ts";
import { wasmRuntime } from "../../src/runtime/runtime.ts";
import { WasmRuntime } from "../../src/runtime/_wasm.ts";
import { SPIN_MS } from "../../src/runtime/_doorbell.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Asks every 0.2 ms (busy-waiting: timers are clamped to ~3 ms here, too far apart to prod)
 * until the workers poll or `ms` pass; true when they did.
 */
function pollsWithin(rt: WasmRuntime, ms: number): boolean {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (rt.workersPolling(2)) return true;
    const next = performance.now() + 0.2;
    while (performance.now() < next) { /* wait */ }
  }
  return false;
}

/**
 * Passes once `attempt` holds, trying up to 20 times: on a loaded host (the suite runs files side
 * by side) a thread may be descheduled past a 2 ms window; broken code fails every attempt. A
 * failed attempt rests 150 ms first: a thread that lost its core three times within 50 ms does
 * not poll for 100 ms or more (PollBudget). On this VM a lone polling thread lost its core for
 * 0.5–9 ms about 20–100 times a second some days, and back-to-back attempts then found a
 * worker's polling paused 46–60 times in 60; resting 200 ms, 15 in 60.
 */
async function attempts(what: string, attempt: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if (await attempt()) return;
    await sleep(150);
  }
  assert.fail(what);
}

Deno.test("pool: workers poll after lists that come close together, sleep after SPIN_MS, and a prod wakes them", async () => {
  await init({ threads: 2 });
  try {
    const rt = (await wasmRuntime())!;
    const n = 64, y = rt.heap.alloc(2 * n * 4), ones = rt.heap.alloc(n * 4);
    new Float32Array(rt.memory.buffer, ones, n).fill(1);
    new Float32Array(rt.memory.buffer, y, 2 * n).fill(0);
    // Adds 1 to block k of y: this thread takes block 0, the worker block 1.
    const add = (k: number) => ({
      kernel: "diffusion_combine2_f32",
      args: [y + k * n * 4, n, y + k * n * 4, 1, ones, 1],
    });
    // Idle since it started: asleep.
    await attempts("a worker idle for longer than SPIN_MS sleeps", async () => {
      await sleep(10 * SPIN_MS);
      return !rt.workersPolling(2);
    });
    // Lists back to back: from the second on the worker polls after each.
    await attempts("polls right after lists close together", async () => {
      for (let i = 0; i < 3; i++) await rt.runSharing([add(0), add(1)]);
      return rt.workersPolling(2);
    });
    const sums = new Float32Array(rt.memory.buffer, y, 2 * n);
    assert.ok(sums[0] >= 3 && sums.every((v) => v === sums[0]), "every list ran once on each half");
    await attempts("sleeps again SPIN_MS after the last list", async () => {
      await sleep(10 * SPIN_MS);
      return !rt.workersPolling(2);
    });
    // Questions close together prod the sleeping worker, which then polls.
    await attempts("a prodded worker polls", () => pollsWithin(rt, 50));
    rt.heap.free(y);
    rt.heap.free(ones);
  } finally {
    await dispose();
  }
});

Deno.test("pool: without Atomics.waitAsync (Firefox) lists still go through the doorbell, the caller hearing their ends by message", async () => {
  // The pool is made while the caller's host lacks Atomics.waitAsync (its workers keep theirs).
  const atomics = Atomics as { waitAsync?: unknown };
  const waitAsync = atomics.waitAsync;
  delete atomics.waitAsync;
  try {
    await init({ threads: 2 });
    const rt = (await wasmRuntime())!;
    // Blocks of 2^20 values: a list lasts long enough that its caller has to wait for it.
    const n = 1 << 20, y = rt.heap.alloc(2 * n * 4), ones = rt.heap.alloc(n * 4);
    new Float32Array(rt.memory.buffer, y, 2 * n).fill(0);
    new Float32Array(rt.memory.buffer, ones, n).fill(1);
    // Adds 1 to each value of block k of y.
    const add = (k: number) => ({
      kernel: "diffusion_combine2_f32",
      args: [y + k * n * 4, n, y + k * n * 4, 1, ones, 1, 0],
    });
    let lists = 0;
    // Lists back to back: the worker polls after them, which only a doorbell does.
    await attempts("polls right after lists close together", async () => {
      for (let i = 0; i < 3; i++, lists++) await rt.runSharing([add(0), add(1)]);
      return rt.workersPolling(2);
    });
    // A worker asleep, then lists for the workers alone: this thread waits without polling,
    // and hears of each end by message.
    for (let i = 0; i < 5; i++, lists++) {
      await sleep(10 * SPIN_MS);
      await rt.run([add(0), add(1)]);
    }
    // Long lists (64 adds on each worker), whose ends come well after this thread asked.
    for (let i = 0; i < 2; i++, lists += 64) {
      await sleep(10 * SPIN_MS);
      await rt.run(Array.from({ length: 128 }, (_, j) => add(j % 2)));
    }
    const values = new Float32Array(rt.memory.buffer, y, 2 * n);
    assert.ok(lists >= 8 + 128);
    assert.ok(values.every((v) => v === lists), "every list ran once on each block");
    rt.heap.free(y);
    rt.heap.free(ones);
  } finally {
    await dispose();
    atomics.waitAsync = waitAsync;
  }
});

Deno.test("pool: lists that ask for a longer poll (a fit's steps) keep the worker polling that long", async () => {
  await init({ threads: 2 });
  try {
    const rt = (await wasmRuntime())!;
    const n = 64, y = rt.heap.alloc(2 * n * 4);
    new Float32Array(rt.memory.buffer, y, 2 * n).fill(0);
    const add = (k: number) => ({
      kernel: "diffusion_combine2_f32",
      args: [y + k * n * 4, n, y + k * n * 4, 1, y + k * n * 4, 0],
    });
    const pollMs = 25 * SPIN_MS;
    // Past SPIN_MS since the last list, the worker still polls; once pollMs have passed, it
    // sleeps. Lists without the option go back to SPIN_MS.
    await attempts("polls 5 × SPIN_MS after lists that asked for 25 × SPIN_MS", async () => {
      for (let i = 0; i < 3; i++) await rt.runSharing([add(0), add(1)], undefined, { pollMs });
      await sleep(5 * SPIN_MS);
      return rt.workersPolling(2);
    });
    await attempts("sleeps once that poll is over", async () => {
      await sleep(2 * pollMs);
      return !rt.workersPolling(2);
    });
    await attempts("sleeps SPIN_MS after lists that did not ask", async () => {
      for (let i = 0; i < 3; i++) await rt.runSharing([add(0), add(1)]);
      await sleep(5 * SPIN_MS);
      return !rt.workersPolling(2);
    });
    rt.heap.free(y);
  } finally {
    await dispose();
  }
});

Deno.test("mixture: back-to-back small calls split once the workers poll, bit-identical to one thread", async () => {
  const dim = 16, batch = 1024, components = 8;
  const wave = (k: number, j: number) => Math.sin(1.7 * k + 0.9 * j);
  const mixture = () =>
    new GaussianMixture({
      means: Array.from({ length: components }, (_, k) => Array.from({ length: dim }, (_, j) => 2 * wave(k, j))),
      variances: Array.from({ length: components }, (_, k) => Array.from({ length: dim }, (_, j) => 0.3 + 0.1 * wave(j, k))),
      weights: Array.from({ length: components }, (_, k) => k + 1),
      backend: "wasm",
    });
  const x = Float32Array.from({ length: batch * dim }, (_, i) => 3 * Math.sin(0.37 * i));
  const info = { batch, dim };
  await init({ threads: 1 });
  const want = await mixture().denoiser(x, 0.5, info);
  await dispose();

  await init({ threads: 2 });
  const original = WasmRuntime.prototype.runSharing;
  let split = 0;
  WasmRuntime.prototype.runSharing = function (tasks, ...rest) {
    // Fixed ranges, or rows claimed as the lanes go (a call where this thread takes a lane).
    if (tasks.length > 1 && tasks[0].kernel.startsWith("diffusion_gmm_")) split++;
    return original.call(this, tasks, ...rest);
  };
  try {
    const denoiser = mixture().denoiser;
    // 3,000 calls or 30 s, until 20 have split: a loaded host (the suite runs files side by
    // side) misses some 2 ms windows, an idle one splits nearly every call after the first few.
    let calls = 0;
    const deadline = performance.now() + 30_000;
    for (; (calls < 3000 || performance.now() < deadline) && split < 20; calls++) {
      const got = await denoiser(x, 0.5, info);
      assert.deepEqual(got, want, `call ${calls}`);
    }
    // 1,024 rows × 16 dims × 8 components stays in one task for a sleeping worker.
    assert.ok(split >= 20, `expected 20 of ${calls} back-to-back calls to split, got ${split}`);
  } finally {
    WasmRuntime.prototype.runSharing = original;
    await dispose();
  }
});
