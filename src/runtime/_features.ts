/**
 * Feature detection: what this JavaScript engine and host offer.
 *
 * @module
 */
import { importNode } from "./_node.ts";

// (module (func (result v128) i32.const 0 i32x4.splat i8x16.popcnt))
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253,
  15, 253, 98, 11,
]);
// (module (func (result v128) i32.const 1 i8x16.splat i32.const 2 i8x16.splat
//   i8x16.relaxed_swizzle))
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253,
  15, 65, 2, 253, 15, 253, 128, 2, 11,
]);

/** What the host supports. */
export interface Features {
  simd: boolean;
  relaxedSimd: boolean;
  /** A shared WebAssembly.Memory can be made and posted to workers. */
  sharedMemory: boolean;
  /**
   * Workers exist: web workers, or `node:worker_threads` (Node, and Deno, whose web workers
   * cannot be told to let the process exit while its `node:worker_threads` ones can).
   */
  workers: "web" | "node" | null;
  hardwareConcurrency: number;
  isNode: boolean;
}

function validate(bytes: Uint8Array): boolean {
  try {
    return WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}

function canShareMemory(): boolean {
  // Browsers allow SharedArrayBuffer transfer only when cross-origin isolated.
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  if (typeof SharedArrayBuffer === "undefined") return false;
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Whether this host has `node:worker_threads` workers that can stop holding the process. */
async function unrefWorkers(): Promise<boolean> {
  try {
    const { Worker } = await importNode("worker_threads");
    return typeof Worker?.prototype?.unref === "function";
  } catch {
    return false;
  }
}

/** Detects the host's features once. */
export async function detectFeatures(): Promise<Features> {
  const g = globalThis as { process?: { versions?: { node?: string } }; Deno?: unknown };
  const isNode = !!g.process?.versions?.node && g.Deno === undefined;
  let workers: Features["workers"] = typeof Worker === "function" ? "web" : null;
  let hardwareConcurrency = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1;
  if (isNode) {
    workers = "node";
    const os = await importNode("os");
    hardwareConcurrency = os.availableParallelism?.() ?? os.cpus().length;
  } else if (g.Deno !== undefined && workers === "web" && await unrefWorkers()) {
    workers = "node";
  }
  return {
    simd: validate(SIMD_PROBE),
    relaxedSimd: validate(RELAXED_SIMD_PROBE),
    sharedMemory: canShareMemory(),
    workers,
    hardwareConcurrency: Math.max(1, hardwareConcurrency | 0),
    isNode,
  };
}
