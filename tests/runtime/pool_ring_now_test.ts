/**
 * runSharing's direct ring (Pool.ringNow, then Pool.finish): a call whose workers are idle rings
 * them outside the pool's chain of promises and goes on at once when their lists are done; a
 * worker's list still running when this thread's share ends is waited for as before; a failing
 * list rejects the call with its own kind of error, and the pool stays usable.
 */
import assert from "node:assert/strict";
import { Pool } from "../../src/runtime/_pool.ts";
import type { Task } from "../../src/runtime/_task.ts";
import { wasmRuntimeOf } from "../_wasm_runtime.ts";

Deno.test("pool: runSharing rings idle workers directly, waits for a late one, and reports a worker's trap", async () => {
  const rt = await wasmRuntimeOf("simd-shared", 2);
  const run = Pool.prototype.run;
  let runs = 0;
  Pool.prototype.run = function (...args: Parameters<typeof run>) {
    runs++;
    return run.apply(this, args);
  };
  try {
    // Block k of y gets k + 1 added: the caller runs task 0, the worker task 1.
    const n = 1000, y = rt.heap.alloc(2 * n * 4), ones = rt.heap.alloc(n * 4);
    new Float32Array(rt.memory.buffer, ones, n).fill(1);
    const view = () => new Float32Array(rt.memory.buffer, y, 2 * n);
    const add = (k: number, count = n): Task => ({
      kernel: "diffusion_combine2_f32",
      args: [y + k * n * 4, count, y + k * n * 4, 1, ones, k + 1],
    });
    view().fill(0);
    for (let i = 0; i < 5; i++) await rt.runSharing([add(0), add(1)]);
    assert.deepEqual(new Set(view().subarray(0, n)), new Set([5]));
    assert.deepEqual(new Set(view().subarray(n)), new Set([10]));
    // The first call found the worker idle too (a pool starts with its workers listening).
    assert.equal(runs, 0, "no call went through Pool.run");

    // A worker's list that outlasts this thread's share and its 1 ms of polling: waited for.
    const big = 1 << 22, x = rt.heap.alloc(big * 4), out = rt.heap.alloc(big * 4);
    new Float32Array(rt.memory.buffer, x, big).fill(1);
    const exp = { kernel: "exp_f32_array", args: [x, out, big, 1] };
    for (let i = 0; i < 3; i++) {
      new Float32Array(rt.memory.buffer, out, big).fill(0);
      const lanes = await rt.runSharing([add(0, 1), exp]);
      assert.equal(lanes.length, 2);
      const result = new Float32Array(rt.memory.buffer, out, big);
      assert.ok(result[0] === 2 && result[big - 1] === 2, "2^1 everywhere, at both ends");
    }
    assert.equal(runs, 0);

    // A worker's list that traps: the call rejects with a RuntimeError naming the kernel.
    const trap = { kernel: "exp_f32_array", args: [x, 0x7ffffff0, 1 << 20, 1] };
    await assert.rejects(rt.runSharing([add(0), trap]), (error: Error) => {
      assert.ok(error instanceof WebAssembly.RuntimeError, String(error));
      assert.match(error.message, /exp_f32_array/);
      return true;
    });
    // ... and the pool goes on.
    view().fill(0);
    await rt.runSharing([add(0), add(1)]);
    assert.deepEqual(new Set(view().subarray(n)), new Set([2]));
    assert.equal(runs, 0);
  } finally {
    Pool.prototype.run = run;
    await rt.dispose();
  }
});
