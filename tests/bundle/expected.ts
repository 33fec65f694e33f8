/**
 * Deno's results of the bundle cases (tests/bundle/cases.mjs) from src/, printed as JSON: what
 * the bundle must give in Node, Chromium and workerd. Two sets, one per WASM build: `simd` (what
 * Node 20 and workerd run) and `relaxed` (what Chromium runs; V8 compiles relaxed SIMD the same
 * way for Deno and Chromium on one host). Computed afresh in every test run (by
 * tests/run_all.ts, or by a harness run on its own), so the expectations follow the sources and
 * a stale or miscompiled bundle shows.
 *
 * Usage: deno run -A tests/bundle/expected.ts [--out FILE]
 */
import * as tessera from "../../src/mod.ts";
// @ts-types="./cases.d.mts"
import { runCases } from "./cases.mjs";

const simd = await runCases(tessera, { threads: 1, relaxedSimd: false });
const relaxed = await runCases(tessera, { threads: 1, relaxedSimd: true });
if (simd.info.wasmVariant !== "simd-shared" || relaxed.info.wasmVariant !== "relaxed-shared") {
  throw new Error(`Deno ran ${simd.info.wasmVariant} and ${relaxed.info.wasmVariant}`);
}
const json = JSON.stringify({ simd: simd.results, relaxed: relaxed.results });
const at = Deno.args.indexOf("--out");
if (at >= 0) await Deno.writeTextFile(Deno.args[at + 1], json);
else console.log(json);
