/**
 * Deno's results of the bundle cases (tests/bundle/cases.mjs) from src/, printed as JSON: what
 * the bundle must give in Node, Chromium and workerd. Computed afresh in every test run (by
 * tests/run_all.ts, or by a harness run on its own), so the expectations follow the sources and
 * a stale or miscompiled bundle shows.
 *
 * Usage: deno run -A tests/bundle/expected.ts [--out FILE]
 */
import * as tessera from "../../src/mod.ts";
// @ts-types="./cases.d.mts"
import { runCases } from "./cases.mjs";

// One thread and the plain SIMD build: what workerd and Node 20 run.
const { results } = await runCases(tessera, { threads: 1, relaxedSimd: false });
const json = JSON.stringify(results);
const at = Deno.args.indexOf("--out");
if (at >= 0) await Deno.writeTextFile(Deno.args[at + 1], json);
else console.log(json);
