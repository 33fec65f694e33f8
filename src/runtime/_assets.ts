/**
 * Where the WASM bytes and the worker code come from. This file serves the source tree (Deno
 * running src/ directly, after `deno task build` wrote build/*.wasm); build.ts replaces it in
 * dist/tessera.js (worker code inlined, each WASM build a module loaded on demand) and in
 * dist/edge/ (a `.wasm` module import).
 *
 * @module
 */

/** "source": src/ run directly; "bundle": dist/tessera.js; "edge": dist/edge/tessera.js. */
export const ASSET_MODE: "source" | "bundle" | "edge" = "source";

/** The bundled worker's code, in bundle mode only. */
export const WORKER_SOURCE: string | null = null;

/** Compiles one WASM variant (see WASM_VARIANTS in build.ts). */
export async function loadWasmModule(variant: string): Promise<WebAssembly.Module> {
  const url = new URL(`../../build/tessera-${variant}.wasm`, import.meta.url);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(url);
  } catch (cause) {
    throw new Error(`Missing ${url.pathname}: run \`deno task build\` first`, { cause });
  }
  return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
}

/** The worker's module URL in source mode; null where the worker code is inlined. */
export function workerUrl(): URL | null {
  return new URL("./_worker.ts", import.meta.url);
}
