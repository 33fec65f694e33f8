/**
 * Runs a public-API test once per backend (the reference, WASM, and WebGPU where the host has
 * an adapter), each on a fresh single-thread runtime that is disposed afterwards.
 *
 * @module
 */
import { dispose, init } from "../../src/runtime/mod.ts";
import { gpuDevice, releaseGpu } from "../../src/runtime/_gpu.ts";
import type { Tolerance } from "./_conformance.ts";

export type TestedBackend = "js" | "wasm" | "webgpu";

/** Whether this host has a WebGPU adapter (Deno has a software one); probed once. */
export const HAS_WEBGPU = await (async () => {
  const found = (await gpuDevice()) !== null;
  await releaseGpu();
  if (!found) console.warn("no WebGPU adapter on this host: webgpu attention cases are skipped");
  return found;
})();

/** The backends the attention API is tested on, with the tolerance each meets. */
export const BACKENDS: ReadonlyArray<{ backend: TestedBackend; tolerance: Tolerance }> = [
  { backend: "js", tolerance: { atol: 2e-6, rtol: 2e-6 } },
  { backend: "wasm", tolerance: { atol: 2e-5, rtol: 2e-4 } },
  ...(HAS_WEBGPU ? [{ backend: "webgpu" as const, tolerance: { atol: 2e-5, rtol: 2e-4 } }] : []),
];

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
