/**
 * Fault injection in Deno, from src/: a worker terminated mid-call, WASM traps, memory.grow
 * failing, calls too big for WASM memory (tests/runtime/_fault_cases.ts; the same cases run in
 * Node and Chromium from tests/node/faults_test.mjs and tests/browser/faults_test.mjs).
 */
import { faultCases } from "./_fault_cases.ts";

for (const c of await faultCases()) {
  Deno.test(`pool faults: ${c.name}`, c.run);
}
