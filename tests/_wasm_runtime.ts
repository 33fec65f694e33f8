/**
 * A WASM runtime of one build made directly, outside `init()`: for the tests that need a build
 * or a kind of memory the host would not choose, such as workers on private (copied) memory,
 * as on a page without cross-origin isolation, where Deno itself always shares memory.
 */
import assert from "node:assert/strict";
import { loadWasmModule } from "../src/runtime/_assets.ts";
import { init } from "../src/runtime/runtime.ts";
import { detectFeatures } from "../src/runtime/_features.ts";
import { type SharingOptions, type Task, WasmRuntime } from "../src/runtime/_wasm.ts";

/** A runtime of `variant` (e.g. "simd": no shared memory) with `threads` threads. */
export async function wasmRuntimeOf(variant: string, threads: number): Promise<WasmRuntime> {
  return await WasmRuntime.create({
    module: await loadWasmModule(variant),
    variant,
    threads,
    features: await detectFeatures(),
  });
}

/**
 * Runs `fn` with the host reporting `cores` hardware threads (navigator.hardwareConcurrency),
 * for tests of more lanes than this host may have cores: a runtime on copied memory made
 * meanwhile cuts its split calls for at most that many lanes (WasmRuntime.lanes).
 */
export async function withCores<T>(cores: number, fn: () => Promise<T>): Promise<T> {
  const had = Object.getOwnPropertyDescriptor(navigator, "hardwareConcurrency");
  Object.defineProperty(navigator, "hardwareConcurrency", { value: cores, configurable: true });
  try {
    return await fn();
  } finally {
    if (had === undefined) {
      delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
    } else Object.defineProperty(navigator, "hardwareConcurrency", had);
  }
}

/**
 * `init()` as a page without cross-origin isolation sees it: no shared memory (the WASM build
 * without threads' shared memory; workers, if any, get copies).
 */
export async function initUnshared(threads: number): Promise<void> {
  const had = Object.getOwnPropertyDescriptor(globalThis, "crossOriginIsolated");
  Object.defineProperty(globalThis, "crossOriginIsolated", { value: false, configurable: true });
  try {
    const info = await init({ threads });
    assert.equal(info.sharedMemory, false);
  } finally {
    if (had === undefined) {
      delete (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
    } else Object.defineProperty(globalThis, "crossOriginIsolated", had);
  }
}

/**
 * Records each runSharing call of `runtime` from now on: how many tasks it had and whether this
 * thread took a lane of it on copied memory (SharingOptions.copiedLane).
 */
export function watchSplits(runtime: WasmRuntime): Array<[tasks: number, copiedLane: boolean]> {
  return watchCalls(runtime, (tasks, options) => [tasks.length, options?.copiedLane === true]);
}

/** Records `seen(tasks, options)` for each runSharing call of `runtime` from now on. */
export function watchCalls<T>(
  runtime: WasmRuntime,
  seen: (tasks: Task[], options?: SharingOptions) => T,
): T[] {
  const calls: T[] = [];
  const run = runtime.runSharing.bind(runtime);
  runtime.runSharing = (tasks, meanwhile, options) => {
    calls.push(seen(tasks, options));
    return run(tasks, meanwhile, options);
  };
  return calls;
}
