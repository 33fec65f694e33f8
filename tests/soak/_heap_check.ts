/**
 * One family of _memory_cases.mjs, soaked briefly on src/mod.ts with the live JS heap after a full
 * GC as the measure (deterministic, unlike the resident set). Run by heap_growth_test.ts as
 * `deno run -A --v8-flags=--expose-gc tests/soak/_heap_check.ts NAME CALLS`; prints the result
 * of soakFamily as one JSON line.
 *
 * @module
 */
import { FAMILIES } from "./_memory_cases.mjs";
import { soakFamily } from "./_memory_soak.mjs";
import * as lib from "../../src/mod.ts";

const [name, calls] = Deno.args;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("Run with --v8-flags=--expose-gc");
type Prepare = (lib: unknown) => unknown;
const families = FAMILIES as Record<string, Prepare>;
if (!(name in families)) throw new RangeError(`Unknown family "${name}"`);

function measure() {
  for (let i = 0; i < 3; i++) gc!();
  return Promise.resolve({ bytes: Deno.memoryUsage().heapUsed });
}

await lib.init({ threads: 2 });
const result = await soakFamily(families[name], lib, measure, {
  calls: Number(calls),
  warmup: 300,
  rounds: 6,
  window: 2,
});
await lib.dispose();
console.log(JSON.stringify(result));
