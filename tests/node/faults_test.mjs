// Fault injection in Node 20 (worker_threads): the cases of tests/runtime/_fault_cases.ts, bundled
// from src/ (tests/runtime/_fault_bundle.mjs): a worker terminated mid-call, WASM traps,
// memory.grow failing, calls too big for WASM memory, on copied and shared memory.
// Prints `ok <name>` / `FAIL <name>` lines for tests/run_all.ts.
import { writeFile } from "node:fs/promises";
import { test } from "../_harness.mjs";
import { faultBundle } from "../runtime/_fault_bundle.mjs";

/** Each case's limit: a pool that hangs fails its case (they take well under a second). */
const LIMIT_MS = 60_000;

const file = new URL("../../build/fault_cases.mjs", import.meta.url);
await writeFile(file, await faultBundle());
const { runFaultCases } = await import(file);
for (const result of await runFaultCases(LIMIT_MS)) {
  await test(`node faults: ${result.name}`, () => {
    if (!result.ok) throw new Error(result.error);
  });
}
