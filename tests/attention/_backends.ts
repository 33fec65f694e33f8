/**
 * Runs a public-API test once per backend (the reference and WASM), each on a fresh
 * single-thread runtime that is disposed afterwards.
 *
 * @module
 */
import { dispose, init } from "../../src/runtime/mod.ts";
import type { Tolerance } from "./_conformance.ts";

/** The backends the attention API is tested on, with the tolerance each meets. */
export const BACKENDS = [
  { backend: "js", tolerance: { atol: 2e-6, rtol: 2e-6 } },
  { backend: "wasm", tolerance: { atol: 2e-5, rtol: 2e-4 } },
] as const;

export type TestedBackend = (typeof BACKENDS)[number]["backend"];

/** Registers `name (backend)` for every backend. */
export function testBackends(
  name: string,
  body: (backend: TestedBackend, tolerance: Tolerance) => Promise<void>,
): void {
  for (const { backend, tolerance } of BACKENDS) {
    Deno.test(`${name} (${backend})`, async () => {
      await init({ threads: 1 });
      try {
        await body(backend, tolerance);
      } finally {
        await dispose();
      }
    });
  }
}
