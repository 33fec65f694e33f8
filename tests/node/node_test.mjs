// Node 20 smoke test of the built bundle: dist/tessera.js imported as a plain ES module, WASM
// kernels in-thread and across worker_threads, compared to the TypeScript reference.
// Prints `ok <name>` / `FAIL <name>` lines for tests/run_all.ts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
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

// A user's script that never calls dispose() (tests/runtime/_no_dispose.mjs): idle workers must
// not hold the process. Exiting takes milliseconds; a held process never exits, so the grace
// after its last line only has to stay clear of a slow, loaded machine.
const GRACE_MS = 10_000;

/** Runs the script on the bundle; the child is killed GRACE_MS after it prints `lastLine`. */
function runScript(args, lastLine) {
  const script = fileURLToPath(new URL("../runtime/_no_dispose.mjs", import.meta.url));
  const bundle = fileURLToPath(new URL("../../dist/tessera.js", import.meta.url));
  const child = spawn(process.execPath, [script, bundle, ...args]);
  return new Promise((resolve, reject) => {
    let stdout = "", stderr = "", hung = false, timer;
    const kill = () => {
      hung = true;
      child.kill("SIGKILL");
    };
    const stuck = setTimeout(kill, 20 * GRACE_MS);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (timer === undefined && stdout.split("\n").includes(lastLine)) timer = setTimeout(kill, GRACE_MS);
    });
    child.stderr.on("data", (chunk) => void (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      clearTimeout(stuck);
      resolve({ code, lines: stdout.split("\n").filter(Boolean), stderr, hung });
    });
  });
}

await test("node: a script that never calls dispose() exits by itself with code 0", async () => {
  const run = await runScript([], "done");
  assert.equal(run.hung, false, `still running ${GRACE_MS} ms after its last line`);
  assert.deepEqual(run.lines, ["fit", "attention", "sample", "done"], run.stderr);
  assert.equal(run.code, 0, run.stderr);
});

await test("node: a script that throws after a call exits non-zero with the error", async () => {
  const run = await runScript(["throw"], "fit");
  assert.equal(run.hung, false, `still running ${GRACE_MS} ms after it threw`);
  assert.deepEqual(run.lines, ["fit"]);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /Thrown by the script after a call/);
});

await test("node: calls after dispose() start the runtime again", async () => {
  await init({ threads: 2 });
  await dispose();
  const again = await matmul(a, b, { backend: "wasm" });
  assert.equal(runtimeInfo().threads, Math.min(4, availableParallelism()));
  for (let i = 0; i < again.data.length; i++) {
    assert.ok(Math.abs(again.data[i] - reference.data[i]) < 1e-4, `element ${i}`);
  }
  await dispose();
});
