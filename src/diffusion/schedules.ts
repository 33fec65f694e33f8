import { discreteSigmas } from "./discrete_sigmas.ts";
import { exponentialSigmas } from "./exponential_sigmas.ts";
import { flowMatchingSigmas } from "./flow_matching_sigmas.ts";
import { iddpmSigmas } from "./iddpm_sigmas.ts";
import { karrasSigmas } from "./karras_sigmas.ts";
import { polyexponentialSigmas } from "./polyexponential_sigmas.ts";
import { vpSigmas } from "./vp_sigmas.ts";
import { veSigmas } from "./ve_sigmas.ts";

/**
 * Every noise schedule by name. Each takes an options object with at least `steps` and returns
 * `steps + 1` decreasing levels ending in 0, ready for {@link sample}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCHEDULES } from "./mod.ts";
 * for (const schedule of Object.values(SCHEDULES)) {
 *   const sigmas = schedule({ steps: 5 });
 *   assert.equal(sigmas.length, 6);
 *   assert.equal(sigmas[5], 0);
 * }
 * ```
 */
export const SCHEDULES: {
  readonly karras: typeof karrasSigmas;
  readonly exponential: typeof exponentialSigmas;
  readonly polyexponential: typeof polyexponentialSigmas;
  readonly vp: typeof vpSigmas;
  readonly ve: typeof veSigmas;
  readonly iddpm: typeof iddpmSigmas;
  readonly "flow-matching": typeof flowMatchingSigmas;
  readonly discrete: typeof discreteSigmas;
} = Object.freeze({
  karras: karrasSigmas,
  exponential: exponentialSigmas,
  polyexponential: polyexponentialSigmas,
  vp: vpSigmas,
  ve: veSigmas,
  iddpm: iddpmSigmas,
  "flow-matching": flowMatchingSigmas,
  discrete: discreteSigmas,
});

/** The names of {@link SCHEDULES}. */
export type ScheduleName = keyof typeof SCHEDULES;
