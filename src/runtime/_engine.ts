/**
 * What a fresh WASM instance is told about the JavaScript engine running it: settings that make
 * its kernels faster there and never change their results.
 *
 * @module
 */

type Kernel = (...args: number[]) => number | void;

/** The engines whose instances get settings of their own (tuneInstance); V8 is "other". */
export type Engine = "spidermonkey" | "javascriptcore" | "other";

/**
 * Whether this is SpiderMonkey (Firefox): its non-standard `InternalError` constructor, present
 * in pages and workers alike and in no other engine.
 */
export function isSpiderMonkey(): boolean {
  return typeof (globalThis as { InternalError?: unknown }).InternalError === "function";
}

/**
 * Whether this is JavaScriptCore (Safari, WebKit): its errors carry their own `line` and
 * `column` from the moment they are made, in pages and workers alike; V8's carry neither,
 * SpiderMonkey's have `lineNumber` and `columnNumber` instead.
 */
export function isJavaScriptCore(): boolean {
  const error = new Error() as Error & { line?: unknown; column?: unknown };
  return typeof error.line === "number" && typeof error.column === "number";
}

/** This engine, as tuneInstance needs to know it. */
export function currentEngine(): Engine {
  return isSpiderMonkey() ? "spidermonkey" : isJavaScriptCore() ? "javascriptcore" : "other";
}

/**
 * Sets a fresh instance up for this engine. On SpiderMonkey the relaxed build's attention
 * kernels take query rows 4 at a time instead of 6 (assembly/attention.ts,
 * `attention_set_wide_rows`): its code generator keeps one of x64's 16 vector registers for
 * itself, and the 6-row kernels then spill. On JavaScriptCore over an x86 processor (the sign of
 * the instance's own 0 / 0, `simd_nan_sign`) the 4-row micro-kernels of matmul and attention
 * splat by scalar loads (assembly/_simd.ts, `simd_set_scalar_splats`): 1.2× their speed there,
 * where V8 runs that form slower (JavaScriptCore on Arm keeps the default, unmeasured). The same
 * bits either way.
 */
export function tuneInstance(
  exports: Record<string, Kernel>,
  engine: Engine = currentEngine(),
): void {
  if (engine === "spidermonkey") exports.attention_set_wide_rows?.(0);
  if (engine === "javascriptcore" && exports.simd_nan_sign?.(0) === 1) {
    exports.simd_set_scalar_splats?.(1);
  }
}
