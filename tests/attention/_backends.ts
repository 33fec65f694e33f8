/**
 * Runs a public-API test once per backend (the reference, WASM, and WebGPU where the host has
 * an adapter, else registered as skipped with the reason), each on a fresh single-thread runtime that is disposed afterwards.
 *
 * @module
 */
import { dispose, init } from "../../src/runtime/mod.ts";
import type { Tolerance } from "./_conformance.ts";
import { skippable } from "../_skip.ts";
import { WEBGPU_SKIP } from "../_webgpu.ts";

export type TestedBackend = "js" | "wasm" | "webgpu";

/** The backends the attention API is tested on, the tolerance each meets, and why one is skipped. */
export const BACKENDS: ReadonlyArray<
  { backend: TestedBackend; tolerance: Tolerance; skip: string | null }
> = [
  { backend: "js", tolerance: { atol: 2e-6, rtol: 2e-6 }, skip: null },
  { backend: "wasm", tolerance: { atol: 2e-5, rtol: 2e-4 }, skip: null },
  { backend: "webgpu", tolerance: { atol: 2e-5, rtol: 2e-4 }, skip: WEBGPU_SKIP },
];

/** Registers `name (backend)` for every backend; where WebGPU is missing, as skipped. */
export function testBackends(
  name: string,
  body: (backend: TestedBackend, tolerance: Tolerance) => Promise<void>,
): void {
  for (const { backend, tolerance, skip } of BACKENDS) {
    Deno.test(skippable(`${name} (${backend})`, skip, async () => {
      await init({ threads: 1 });
      try {
        await body(backend, tolerance);
      } finally {
        await dispose();
      }
    }));
  }
}
