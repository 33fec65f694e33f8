// Node 20 runs dist/tessera.js in every area (trees, linear models, attention, diffusion,
// matmul; tests/bundle/cases.mjs) on one thread and on two worker_threads, and each result must
// be the number Deno gets from src/ for the same inputs (the same plain-SIMD WASM, and results
// that do not depend on the thread count). Prints `ok` / `FAIL` lines for tests/run_all.ts.
import assert from "node:assert/strict";
import { test } from "../_harness.mjs";
import { runCases } from "../bundle/cases.mjs";
import { checkCases, denoExpected } from "../bundle/_expected.mjs";

const tessera = await import(new URL("../../dist/tessera.js", import.meta.url));
const expected = await denoExpected();

for (const threads of [1, 2]) {
  const { info, results: actual } = await runCases(tessera, { threads, relaxedSimd: false });
  await test(`node bundle (${threads} thread${threads > 1 ? "s" : ""}): runs the plain SIMD build`, () => {
    assert.equal(info.wasmVariant, "simd-shared");
    assert.equal(info.threads, threads);
  });
  await checkCases(test, `node bundle (${threads} thread${threads > 1 ? "s" : ""})`, actual, expected.simd);
}
