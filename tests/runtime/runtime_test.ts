import assert from "node:assert/strict";
import { dispose, init, matmul, runtimeInfo } from "../../src/mod.ts";

Deno.test("init() reports the detected features and the chosen build", async () => {
  const info = await init({ threads: 2 });
  try {
    assert.equal(info.threads, 2);
    assert.equal(info.simd, true);
    // Deno has SharedArrayBuffer and relaxed SIMD, so the shared relaxed build is chosen.
    assert.equal(info.sharedMemory, true);
    assert.equal(info.relaxedSimd, true);
    assert.equal(info.wasmVariant, "relaxed-shared");
    assert.deepEqual(runtimeInfo(), info);
  } finally {
    await dispose();
  }
});

// (module (func (param v128 v128 v128) (result v128)
//   local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd)), written here apart from the
// runtime's own probe so that a broken probe cannot hide.
const RELAXED_MADD = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11,
  0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
]);

function randomTensor(rows: number, cols: number, seed: number) {
  const data = new Float32Array(rows * cols);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return { data, shape: [rows, cols] };
}

Deno.test("init({ relaxedSimd: true }) runs the relaxed build where the engine has relaxed SIMD", async () => {
  // Deno (V8) has relaxed SIMD on by default: this host must be one that has it.
  assert.equal(WebAssembly.validate(RELAXED_MADD), true, "this Deno validates f32x4.relaxed_madd");
  const a = randomTensor(64, 300, 1), b = randomTensor(300, 48, 2);
  const results: Record<string, Float32Array> = {};
  for (const [threads, relaxedSimd] of [[1, true], [2, true], [1, false]] as const) {
    const info = await init({ threads, relaxedSimd });
    try {
      assert.equal(info.relaxedSimd, relaxedSimd, `threads ${threads}`);
      assert.equal(info.wasmVariant, relaxedSimd ? "relaxed-shared" : "simd-shared");
      results[`${threads} ${relaxedSimd}`] = (await matmul(a, b, { backend: "wasm" })).data;
    } finally {
      await dispose();
    }
  }
  // The builds really differ in what runs: the relaxed one's fused multiply-adds round once,
  // so most of 300-term sums differ from the plain build's in the last bits (and agree across
  // thread counts).
  assert.deepEqual(results["2 true"], results["1 true"]);
  const plain = results["1 false"], relaxed = results["1 true"];
  let differing = 0;
  for (let i = 0; i < plain.length; i++) {
    assert.ok(Math.abs(plain[i] - relaxed[i]) < 1e-4, `element ${i}`);
    if (plain[i] !== relaxed[i]) differing++;
  }
  assert.ok(differing > plain.length / 4, `only ${differing} of ${plain.length} elements differ`);
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
