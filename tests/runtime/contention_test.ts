/**
 * More threads than cores: a thread whose polls keep losing their core stops polling for a while
 * (PollBudget), and a caller told of it, by its own polls or a worker's, deals its calls to half
 * its threads for a while (Pool.contended through WasmRuntime.runSharing), with the same results.
 */
import assert from "node:assert/strict";
import { contentions, Doorbell, PollBudget, pollWhile } from "../../src/runtime/_doorbell.ts";
import type { Task } from "../../src/runtime/_task.ts";
import { wasmRuntimeOf, watchSplits } from "../_wasm_runtime.ts";
import { dispose, GaussianMixture, init, XGBClassifier } from "../../src/mod.ts";
import { wasmRuntime } from "../../src/runtime/runtime.ts";

Deno.test("PollBudget: three polls that lose their core within 50 ms pause polling, longer while it recurs", () => {
  const budget = new PollBudget();
  assert.ok(budget.allowed(0));
  // Two losses, or three spread over more than 50 ms: no pause.
  budget.preempted(0);
  budget.preempted(30);
  assert.ok(budget.allowed(31));
  budget.preempted(90);
  assert.ok(budget.allowed(91), "three losses over 90 ms");
  assert.equal(budget.pauses, 0);
  // Three within 50 ms: a pause of 100 ms.
  budget.preempted(100);
  budget.preempted(110);
  assert.equal(budget.pauses, 1);
  assert.ok(!budget.allowed(111) && !budget.allowed(209) && budget.allowed(210));
  // Again: 200 ms; a poll that keeps its core halves the next pause (400 → 200 ms).
  for (const t of [300, 301, 302]) budget.preempted(t);
  assert.ok(!budget.allowed(501) && budget.allowed(502));
  budget.kept();
  for (const t of [600, 601, 602]) budget.preempted(t);
  assert.ok(!budget.allowed(801) && budget.allowed(802));
  assert.equal(budget.pauses, 3);
});

Deno.test("pollWhile: a poll whose clock jumps (the thread lost its core) ends at once, and three such polls pause polling", () => {
  const words = new Int32Array(new SharedArrayBuffer(16));
  const now = performance.now.bind(performance);
  let looks = 0;
  // The clock jumps 3 ms at each look: as if the thread were descheduled between two looks
  // for a scheduler's slice.
  Object.defineProperty(performance, "now", {
    value: () => now() + 3 * ++looks,
    configurable: true,
  });
  const before = contentions();
  try {
    for (let i = 0; i < 3; i++) {
      const first = looks;
      // Asked to poll for 500 ms of this clock: ~170 looks, were the jumps not noticed.
      pollWhile(words, 0, 0, performance.now() + 500);
      assert.ok(looks - first <= 4, `ended at the first jump (${looks - first} looks)`);
    }
    assert.equal(contentions(), before + 1, "the third poll lost within 50 ms begins a pause");
    // Paused: no polling at all (the poll returns before looking at the clock).
    const first = looks;
    pollWhile(words, 0, 0, performance.now() + 500);
    assert.ok(looks - first <= 2);
  } finally {
    Object.defineProperty(performance, "now", { value: now, configurable: true });
  }
});

Deno.test("pollWhile: a gap shorter than a scheduler's slice (a browser's own threads) ends the poll but never pauses polling", () => {
  const words = new Int32Array(new SharedArrayBuffer(16));
  const now = performance.now.bind(performance);
  // Four seconds on, past any pause that the tests before began; 1 ms at each look.
  let looks = 0;
  Object.defineProperty(performance, "now", {
    value: () => now() + 4000 + ++looks,
    configurable: true,
  });
  const before = contentions();
  try {
    for (let i = 0; i < 5; i++) {
      const first = looks;
      // 20 ms of this clock: the poll ends at its first gap (it gives the core back)...
      assert.equal(pollWhile(words, 0, 0, performance.now() + 20), 0);
      assert.ok(looks - first <= 4, `ended at the first gap (${looks - first} looks)`);
    }
    // ...but five within 50 ms begin no pause: the next poll starts (looks at its clock).
    assert.equal(contentions(), before, "no pause");
    const first = looks;
    pollWhile(words, 0, 0, performance.now() + 20);
    assert.ok(looks - first >= 2, "polled again");
  } finally {
    Object.defineProperty(performance, "now", { value: now, configurable: true });
  }
});

Deno.test("pollWhile: a word that changed while the thread was off its core counts as a lost poll", () => {
  const words = new Int32Array(new SharedArrayBuffer(16));
  const now = performance.now.bind(performance);
  // Two seconds on, past any pause that the test before began.
  let jump = 2000, looks = 0;
  // Right after the poll's look at the clock before its loop (its second: the first asks the
  // budget), the word changes and the thread is away for 3 ms, so the loop's first load finds
  // it changed: with more threads than cores, the list came while another thread had the
  // core. Only a look at the poll's end sees that gap.
  Object.defineProperty(performance, "now", {
    value: () => {
      const time = now() + jump;
      if (++looks === 2) {
        Atomics.store(words, 0, 1);
        jump += 3;
      }
      return time;
    },
    configurable: true,
  });
  const before = contentions();
  try {
    for (let i = 0; i < 3; i++) {
      const until = performance.now() + 500;
      Atomics.store(words, 0, 0);
      looks = 0;
      assert.equal(pollWhile(words, 0, 0, until), 1, "the changed word");
    }
    assert.equal(contentions(), before + 1, "the third such poll within 50 ms begins a pause");
  } finally {
    Object.defineProperty(performance, "now", { value: now, configurable: true });
  }
});

Deno.test("runSharing deals calls to half its threads for a while once a worker finds the cores contended", async () => {
  const rt = await wasmRuntimeOf("simd-shared", 4);
  const contended = Doorbell.prototype.contended;
  let report = false;
  // A worker's report (its CONTENDED word), once.
  Doorbell.prototype.contended = function () {
    const was = report;
    report = false;
    return contended.call(this) || was;
  };
  try {
    const n = 1000, y = rt.heap.alloc(4 * n * 4), ones = rt.heap.alloc(n * 4);
    new Float32Array(rt.memory.buffer, ones, n).fill(1);
    const add = (k: number): Task => ({
      kernel: "diffusion_combine2_f32",
      args: [y + k * n * 4, n, y + k * n * 4, 1, ones, k + 1],
    });
    const tasks = [0, 1, 2, 3].map(add);
    const view = () => new Float32Array(rt.memory.buffer, y, 4 * n);
    view().fill(0);
    assert.equal((await rt.runSharing(tasks)).length, 4, "every thread");
    report = true;
    assert.equal((await rt.runSharing(tasks)).length, 2, "half the threads after the report");
    assert.equal((await rt.runSharing(tasks)).length, 2, "and for a while after it");
    // Every task ran each time, whichever lane ran it.
    for (let k = 0; k < 4; k++) {
      assert.deepEqual(new Set(view().subarray(k * n, (k + 1) * n)), new Set([3 * (k + 1)]));
    }
    // The window (1 s) ends: every thread again.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await rt.runSharing(tasks)).length, 4);
  } finally {
    Doorbell.prototype.contended = contended;
    await rt.dispose();
  }
});

/**
 * Runs `work` on one thread, then on three with every look finding a worker's report (the pool
 * stays at two lanes of three); returns both results and each split call's task count.
 */
async function aloneAndContended<T>(work: () => T | Promise<T>) {
  await init({ threads: 1 });
  const alone = await work();
  await dispose();
  const contended = Doorbell.prototype.contended;
  Doorbell.prototype.contended = () => true;
  try {
    await init({ threads: 3 });
    const splits = watchSplits((await wasmRuntime())!);
    const split = await work();
    return { alone, split, tasks: splits.map(([count]) => count) };
  } finally {
    Doorbell.prototype.contended = contended;
    await dispose();
  }
}

Deno.test("a fit on three threads cuts its calls for the lanes it gets: two while the cores are contended, the same model", async () => {
  const n = 70_000, cols = 8;
  const x = new Float32Array(n * cols), y = new Float64Array(n);
  for (let i = 0; i < n * cols; i++) x[i] = Math.sin(i * 0.7) + Math.cos(i * 0.013);
  for (let r = 0; r < n; r++) y[r] = x[r * cols] + x[r * cols + 1] * x[r * cols + 2] > 0 ? 1 : 0;
  const { alone, split, tasks } = await aloneAndContended(async () => {
    const model = new XGBClassifier({ nEstimators: 3, maxDepth: 3, backend: "wasm" });
    return JSON.stringify((await model.fit({ data: x, shape: [n, cols] }, y)).toJSON());
  });
  assert.equal(split, alone);
  assert.ok(tasks.some((count) => count === 2), `some steps split (${tasks})`);
  // Cut for three lanes, a call's three tasks would leave one of the two lanes two shares (the
  // cut search's sorts are a task a column: eight).
  assert.ok(tasks.every((count) => count === 1 || count % 2 === 0), `tasks a call: ${tasks}`);
});

Deno.test("the mixture denoiser on three threads cuts its rows for the lanes it gets while the cores are contended, the same bits", async () => {
  // rows × dims × components × 4 = 2^25.3: above the split threshold (2^25).
  const dim = 32, batch = 40_000, components = 8;
  const x = Float32Array.from({ length: batch * dim }, (_, i) => Math.cos(i * 0.37) * 2);
  const { alone, split, tasks } = await aloneAndContended(() =>
    new GaussianMixture({
      means: Array.from({ length: components }, (_, k) =>
        Array.from({ length: dim }, (_, j) => Math.sin(k + j))),
      variances: Array.from({ length: components }, () =>
        Array(dim).fill(0.2)),
      weights: Array(components).fill(1),
      backend: "wasm",
    }).denoiser(x, 0.7, { batch, dim })
  );
  assert.deepEqual(split, alone);
  // One range a lane: three ranges would leave one of the two lanes two.
  assert.deepEqual(tasks, [2]);
});
