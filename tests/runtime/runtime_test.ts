import assert from "node:assert/strict";
import { dispose, init, runtimeInfo } from "../../src/mod.ts";

Deno.test("init() reports the detected features and the chosen build", async () => {
  const info = await init({ threads: 2 });
  try {
    assert.equal(info.threads, 2);
    assert.equal(info.simd, true);
    // Deno has SharedArrayBuffer and relaxed SIMD, so the shared relaxed build is chosen.
    assert.equal(info.sharedMemory, true);
    assert.equal(info.wasmVariant, info.relaxedSimd ? "relaxed-shared" : "simd-shared");
    assert.deepEqual(runtimeInfo(), info);
  } finally {
    await dispose();
  }
});

Deno.test("init({ relaxedSimd: false }) picks the plain SIMD build, on shared memory even at 1 thread", async () => {
  const info = await init({ threads: 1, relaxedSimd: false });
  assert.equal(info.wasmVariant, "simd-shared");
  assert.equal(info.relaxedSimd, false);
  await dispose();
});

Deno.test("init() rejects bad threads, backends and options, naming them", async () => {
  await assert.rejects(() => init({ threads: 0 }), { name: "RangeError", message: /"threads" to be an integer >= 1 .* found 0/ });
  await assert.rejects(() => init({ threads: 1.5 }), { name: "TypeError", message: /"threads" to be an integer/ });
  await assert.rejects(() => init({ backend: "metal" as never }), { name: "RangeError", message: /"backend"/ });
  await assert.rejects(() => init({ thread: 2 } as never), { name: "RangeError", message: /Unknown option "thread"/ });
});

Deno.test("dispose() can be called twice and the runtime restarts on next use", async () => {
  await init({ threads: 2 });
  await dispose();
  await dispose();
  assert.equal(runtimeInfo().wasmVariant, null);
  const info = await init({ threads: 1 });
  assert.equal(info.threads, 1);
  await dispose();
});
