/**
 * Skips that say why. Deno's `ignore` carries no reason and its JUnit report has none, so a
 * skipped test carries its reason at the end of its name, `… (skipped: no WebGPU adapter on this
 * host)`, which tests/run_all.ts lists under "skipped:" and counts.
 *
 * @module
 */

/** The reason WebGPU cases are skipped, or null where the host has an adapter. */
export const NO_WEBGPU = "no WebGPU adapter on this host";

/**
 * A Deno.test definition that runs `fn`, or, when `skipReason` is a string, is registered as
 * ignored with the reason in its name.
 */
export function skippable(
  name: string,
  skipReason: string | null,
  fn: (t: Deno.TestContext) => void | Promise<void>,
): Deno.TestDefinition {
  return skipReason === null
    ? { name, fn }
    : { name: `${name} (skipped: ${skipReason})`, ignore: true, fn };
}
