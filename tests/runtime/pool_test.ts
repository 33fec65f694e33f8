/**
 * The worker pool on shared memory: task lists rung through each worker's doorbell (or sent
 * through comlink where Atomics.waitAsync is missing) run where they should, overlapping calls
 * queue instead of trampling each other's lists, and a kernel that traps rejects the call with
 * the worker's message while the pool stays usable.
 */
import assert from "node:assert/strict";
import { dispose, init } from "../../src/mod.ts";
import { wasmRuntime } from "../../src/runtime/runtime.ts";

Deno.test("pool: overlapping runs and runSharing all land, then a trap rejects and the pool recovers", async () => {
  await init({ threads: 2 });
  try {
    const rt = (await wasmRuntime())!;
    assert.equal(rt.shared, true);
    assert.equal(rt.threads, 2);
    const n = 1000, y = rt.heap.alloc(n * 4 * 8), ones = rt.heap.alloc(n * 4);
    new Float32Array(rt.memory.buffer, ones, n).fill(1);
    const view = () => new Float32Array(rt.memory.buffer, y, n * 8);
    view().fill(0);
    // Eight disjoint blocks, each gets b·1 added by its own task: block k ends at k + 1.
    const task = (k: number) => ({
      kernel: "diffusion_combine2_f32",
      args: [y + k * n * 4, n, y + k * n * 4, 1, ones, k + 1],
    });
    await Promise.all([
      rt.run([task(0), task(1), task(2)]),
      rt.run([task(3), task(4)]),
      rt.runSharing([task(5), task(6), task(7)]),
    ]);
    for (let k = 0; k < 8; k++) {
      assert.deepEqual(
        new Set(view().subarray(k * n, (k + 1) * n)),
        new Set([k + 1]),
        `block ${k}`,
      );
    }
    // Fifty overlapping calls on the same two workers: call r adds to blocks r % 4 and 4 + r % 4,
    // so block k is added to 13, 13, 12, 12 times for k % 4 = 0, 1, 2, 3.
    view().fill(0);
    const calls = [];
    for (let r = 0; r < 50; r++) calls.push(rt.run([task(r % 4), task(4 + (r % 4))]));
    await Promise.all(calls);
    const times = [13, 13, 12, 12];
    for (let k = 0; k < 8; k++) {
      assert.deepEqual(
        new Set(view().subarray(k * n, (k + 1) * n)),
        new Set([times[k % 4] * (k + 1)]),
        `block ${k}`,
      );
    }
    // Out of bounds: the worker's trap reaches the caller.
    const beyond = rt.memory.buffer.byteLength + 4096;
    await assert.rejects(
      rt.run([task(0), {
        kernel: "diffusion_combine2_f32",
        args: [beyond, n, beyond, 1, ones, 1],
      }]),
      /out of bounds/,
    );
    view().fill(0);
    await rt.run([task(0), task(1)]);
    assert.equal(view()[0], 1);
    assert.equal(view()[n], 2);
  } finally {
    await dispose();
  }
});
