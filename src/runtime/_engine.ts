/**
 * What a fresh WASM instance is told about the JavaScript engine running it: settings that make
 * its kernels faster there and never change their results.
 *
 * @module
 */

type Kernel = (...args: number[]) => void;

/**
 * Whether this is SpiderMonkey (Firefox): its non-standard `InternalError` constructor, present
 * in pages and workers alike and in no other engine.
 */
export function isSpiderMonkey(): boolean {
  return typeof (globalThis as { InternalError?: unknown }).InternalError === "function";
}

/**
 * Sets a fresh instance up for this engine. On SpiderMonkey the relaxed build's attention
 * kernels take query rows 4 at a time instead of 6 (assembly/attention.ts,
 * `attention_set_wide_rows`): its code generator keeps one of x64's 16 vector registers for
 * itself, and the 6-row kernels then spill. The same bits either way.
 */
export function tuneInstance(
  exports: Record<string, Kernel>,
  spiderMonkey: boolean = isSpiderMonkey(),
): void {
  if (spiderMonkey) exports.attention_set_wide_rows?.(0);
}
