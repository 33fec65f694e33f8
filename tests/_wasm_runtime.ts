/**
 * A WASM runtime of one build made directly, outside `init()`: for the tests that need a build
 * or a kind of memory the host would not choose, such as workers on private (copied) memory,
 * as on a page without cross-origin isolation, where Deno itself always shares memory.
 */
import { loadWasmModule } from "../src/runtime/_assets.ts";
import { detectFeatures } from "../src/runtime/_features.ts";
import { WasmRuntime } from "../src/runtime/_wasm.ts";

/** A runtime of `variant` (e.g. "simd": no shared memory) with `threads` threads. */
export async function wasmRuntimeOf(variant: string, threads: number): Promise<WasmRuntime> {
  return await WasmRuntime.create({
    module: await loadWasmModule(variant),
    variant,
    threads,
    features: await detectFeatures(),
  });
}
