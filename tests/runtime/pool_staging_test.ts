/**
 * The pool on copied memory (no SharedArrayBuffer: a page without cross-origin isolation): each
 * task's regions travel in its worker's staging buffer, which grows when a task needs more room
 * and is never held by two shares at once, so calls of any size, one after the other or
 * overlapping on the same workers, all land where they should.
 */
import assert from "node:assert/strict";
import type { Task } from "../../src/runtime/_wasm.ts";
import { wasmRuntimeOf } from "../_wasm_runtime.ts";

/** y[0 .. n) = y + c·ones: reads y and ones, writes y. */
function addTask(y: number, ones: number, n: number, c: number): Task {
  return {
    kernel: "diffusion_combine2_f32",
    args: [y, n, y, 1, ones, c],
    inputs: [[y, n * 4], [ones, n * 4]],
    outputs: [[y, n * 4]],
  };
}

/** How many ArrayBuffers this thread makes (`new ArrayBuffer`, as the pool does) during `work`. */
async function buffersMade(work: () => Promise<unknown>): Promise<number> {
  const Native = globalThis.ArrayBuffer;
  let made = 0;
  globalThis.ArrayBuffer = class extends Native {
    constructor(bytes: number) {
      made++;
      super(bytes);
    }
  } as ArrayBufferConstructor;
  try {
    await work();
  } finally {
    globalThis.ArrayBuffer = Native;
  }
  return made;
}

Deno.test("pool (copied memory): staging buffers grow with the tasks, and overlapping calls each get their own", async () => {
  const rt = await wasmRuntimeOf("simd", 2);
  try {
    assert.equal(rt.shared, false);
    const most = 300_000;
    const ones = rt.heap.alloc(most * 4);
    new Float32Array(rt.memory.buffer, ones, most).fill(1);
    // Sizes up and down across the 64 KiB grain: each worker's buffer grows, then is reused.
    for (const n of [1000, 100_000, 50, most, 10, 70_000]) {
      const a = rt.heap.alloc(n * 4), b = rt.heap.alloc(n * 4);
      new Float32Array(rt.memory.buffer, a, n).fill(2);
      new Float32Array(rt.memory.buffer, b, n).fill(-1);
      await rt.run([addTask(a, ones, n, 3), addTask(b, ones, n, 0.5)]);
      const values = (at: number) => new Set(new Float32Array(rt.memory.buffer, at, n));
      assert.deepEqual(values(a), new Set([5]), `n = ${n}`);
      assert.deepEqual(values(b), new Set([-0.5]), `n = ${n}`);
      rt.heap.free(a);
      rt.heap.free(b);
    }
    // Twelve calls at once on the same two workers, of unequal sizes: call r adds r + 1 to its
    // own two blocks.
    const calls = Array.from({ length: 12 }, (_, r) => {
      const n = [5000, 90_000, 200][r % 3];
      const blocks = [rt.heap.alloc(n * 4), rt.heap.alloc(n * 4)];
      for (const at of blocks) new Float32Array(rt.memory.buffer, at, n).fill(0);
      return { n, blocks, done: rt.run(blocks.map((at) => addTask(at, ones, n, r + 1))) };
    });
    await Promise.all(calls.map((c) => c.done));
    calls.forEach(({ n, blocks }, r) => {
      for (const at of blocks) {
        const values = new Set(new Float32Array(rt.memory.buffer, at, n));
        assert.deepEqual(values, new Set([r + 1]), `call ${r}`);
      }
    });
  } finally {
    await rt.dispose();
  }
});

Deno.test("pool (copied memory): with a small and a large task on the way to each worker at once, the kept staging buffers serve both: no new one after the first round", async () => {
  const rt = await wasmRuntimeOf("simd", 2);
  try {
    const small = 1000, large = 400_000;
    const ones = rt.heap.alloc(large * 4);
    new Float32Array(rt.memory.buffer, ones, large).fill(1);
    const blocks = (n: number) =>
      [0, 1].map(() => {
        const at = rt.heap.alloc(n * 4);
        new Float32Array(rt.memory.buffer, at, n).fill(0);
        return at;
      });
    const [s0, s1] = blocks(small), [l0, l1] = blocks(large);
    const round = () =>
      Promise.all([
        rt.run([addTask(s0, ones, small, 1), addTask(s1, ones, small, 1)]),
        rt.run([addTask(l0, ones, large, 1), addTask(l1, ones, large, 1)]),
      ]);
    await round(); // each worker makes and keeps one buffer of each size
    // No buffer made by this thread (the pool's `new ArrayBuffer`) for a few rounds.
    assert.equal(
      await buffersMade(async () => {
        for (let r = 0; r < 4; r++) await round();
      }),
      0,
    );
    for (const [at, n] of [[s0, small], [s1, small], [l0, large], [l1, large]]) {
      assert.deepEqual(new Set(new Float32Array(rt.memory.buffer, at, n)), new Set([5]), `${at}`);
    }
  } finally {
    await rt.dispose();
  }
});

Deno.test("pool (copied memory): a task that grows by a tenth finds room in the staging buffer it had (learnt shares move from call to call)", async () => {
  const rt = await wasmRuntimeOf("simd", 2);
  try {
    const first = 400_000, grown = 440_000;
    const ones = rt.heap.alloc(grown * 4);
    new Float32Array(rt.memory.buffer, ones, grown).fill(1);
    const a = rt.heap.alloc(grown * 4), b = rt.heap.alloc(grown * 4);
    for (const at of [a, b]) new Float32Array(rt.memory.buffer, at, grown).fill(0);
    const call = (n: number) => rt.run([addTask(a, ones, n, 1), addTask(b, ones, n, 1)]);
    await call(first); // each worker makes a buffer for 3.2 MB of inputs
    // 320 KB more each: past 64 KiB steps, within a quarter of 2^21.
    assert.equal(await buffersMade(() => call(grown)), 0);
    for (const at of [a, b]) {
      const got = new Float32Array(rt.memory.buffer, at, grown);
      assert.deepEqual(new Set(got.subarray(0, first)), new Set([2]));
      assert.deepEqual(new Set(got.subarray(first)), new Set([1]));
    }
  } finally {
    await rt.dispose();
  }
});
