// Node 20 smoke test of the built bundle: dist/tessera.js imported as a plain ES module, WASM
// kernels in-thread and across worker_threads, compared to the TypeScript reference.
// Prints `ok <name>` / `FAIL <name>` lines for tests/run_all.ts.
import assert from "node:assert/strict";
import { randomTensor as random, test } from "../_harness.mjs";


const tessera = await import(new URL("../../dist/tessera.js", import.meta.url));
const { init, dispose, matmul, runtimeInfo } = tessera;


const a = random(190, 150, 1), b = random(150, 170, 2);

await test("node: the bundle exports the public API", () => {
  for (const name of ["init", "dispose", "runtimeInfo", "matmul"]) {
    assert.equal(typeof tessera[name], "function", name);
  }
});

let reference;
await test("node: in-thread WASM matmul matches the reference", async () => {
  const info = await init({ threads: 1 });
  assert.equal(info.simd, true);
  reference = await matmul(a, b, { backend: "js" });
  const got = await matmul(a, b, { backend: "wasm" });
  for (let i = 0; i < got.data.length; i++) {
    assert.ok(Math.abs(got.data[i] - reference.data[i]) < 1e-4, `element ${i}`);
  }
});

await test("node: worker_threads WASM matmul is bit-identical to one thread", async () => {
  const one = await matmul(a, b, { backend: "wasm" });
  const big = random(256, 256, 3);
  const oneBig = await matmul(big, big, { backend: "wasm" });
  const info = await init({ threads: 2 });
  assert.equal(info.threads, 2);
  assert.equal(runtimeInfo().sharedMemory, true);
  const two = await matmul(a, b, { backend: "wasm" });
  const twoBig = await matmul(big, big, { backend: "wasm" });
  assert.deepEqual(two.data, one.data);
  assert.deepEqual(twoBig.data, oneBig.data);
});

await test("node: bad input raises a RangeError naming the argument", async () => {
  await assert.rejects(() => init({ threads: 0 }), { name: "RangeError", message: /"threads"/ });
  await assert.rejects(() => matmul(a, a), { name: "RangeError", message: /"b"/ });
});

await dispose();
