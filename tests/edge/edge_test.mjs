// Edge test: dist/edge/ inside workerd (compiling WASM from bytes is refused there, so the
// bundle imports tessera.wasm as a module; there is no Worker, so everything runs in-thread).
// Every area of the bundle (tests/bundle/cases.mjs) must give Deno's numbers from src/.
// Prints `ok <name>` / `FAIL <name>` for tests/run_all.ts.
import assert from "node:assert/strict";
import { startWorkerd } from "./_workerd.mjs";
import { randomMatrix as random, test } from "../_harness.mjs";
import { checkCases, denoExpected } from "../bundle/_expected.mjs";



const expected = await denoExpected();
const edge = await startWorkerd(new URL("./worker.js", import.meta.url), {
  "cases.mjs": new URL("../bundle/cases.mjs", import.meta.url),
});
try {
  const node = await import(new URL("../../dist/tessera.js", import.meta.url));
  const f32 = (t) => ({ data: new Float32Array(t.data), shape: t.shape });
  const A = random(67, 45, 1), B = random(45, 29, 2);
  await node.init({ threads: 1, relaxedSimd: false });
  const reference = await node.matmul(f32(A), f32(B), { backend: "js" });
  const nodeWasm = await node.matmul(f32(A), f32(B), { backend: "wasm" });
  await node.dispose();

  await test("edge: runtime starts in workerd with the SIMD build, in-thread", async () => {
    const info = await edge.call("info");
    assert.equal(info.simd, true);
    assert.equal(info.threads, 1);
    assert.equal(info.wasmVariant, "simd");
  });
  await test("edge: WASM matmul gives the same numbers as Node's plain SIMD build", async () => {
    const out = await edge.call("matmul", A, B, { backend: "wasm" });
    assert.deepEqual(out.shape, [67, 29]);
    assert.deepEqual(Float32Array.from(out.data), nodeWasm.data);
    for (let i = 0; i < out.data.length; i++) assert.ok(Math.abs(out.data[i] - reference.data[i]) < 1e-4);
  });
  await test("edge: bad input raises a RangeError naming the argument", async () => {
    const { error } = await edge.call("bad-input");
    assert.match(error, /^RangeError: .*"b"/);
  });
  // Every area of the edge bundle: the same plain-SIMD build as Deno's run, so the same numbers.
  let cases = null;
  await test("edge: the bundle cases run in workerd on the SIMD build", async () => {
    cases = await edge.call("cases");
    assert.equal(cases.info.wasmVariant, "simd");
  });
  await checkCases(test, "edge bundle", cases?.results, expected.simd);
} finally {
  await edge.stop();
}
