/**
 * Runs of every sampler whose denoiser goes wrong once, shared by the reference and WASM suites:
 * a NaN or ±∞ in the denoiser's output is blamed on the denoiser with its index, value and σ
 * (whether the check happened at once, for onStep, or was left to the next update), and a state
 * that overflows float32 from finite outputs is named as such.
 */
import assert from "node:assert/strict";
import type { Backend } from "../../src/tensor.ts";
import {
  GaussianMixture,
  karrasSigmas,
  sample,
  type SampleOptions,
  SAMPLERS,
  veSigmas,
  vpSigmas,
} from "../../src/diffusion/mod.ts";

/** Per-sampler settings that keep runs short (also used by sample_test.ts). */
export const SHORT_RUNS: Record<string, Partial<SampleOptions>> = {
  "annealed-langevin": {
    sigmas: veSigmas({ steps: 4, sigmaMax: 5, sigmaMin: 0.1 }),
    samplerOptions: { langevinSteps: 3, stepSize: 1e-3 },
  },
  "reverse-sde": { sigmas: vpSigmas({ steps: 6 }) },
  pc: { sigmas: vpSigmas({ steps: 6 }) },
  "probability-flow": {
    sigmas: vpSigmas({ steps: 6 }),
    samplerOptions: { rtol: 1e-3, atol: 1e-3 },
  },
  ode: { samplerOptions: { parameterisation: "vp" }, sigmas: vpSigmas({ steps: 6 }) },
};

/**
 * Options of a short run of `sampler`: Karras σ from 20 in 6 steps unless the sampler's
 * SHORT_RUNS entry says otherwise; `run` (denoiser, shape, seed, …) and then `extra` on top.
 */
export function shortRun(
  sampler: string,
  run: Pick<SampleOptions, "denoiser" | "batch" | "dim"> & Partial<SampleOptions>,
  extra: Partial<SampleOptions> = {},
): SampleOptions {
  return {
    sigmas: karrasSigmas({ steps: 6, sigmaMax: 20 }),
    sampler: sampler as SampleOptions["sampler"],
    ...run,
    ...SHORT_RUNS[sampler],
    ...extra,
  };
}

export async function checkNonFiniteRuns(backend: Backend): Promise<void> {
  const gmm = new GaussianMixture({
    means: [[-1, 0.5, 0], [1.5, -1, 2]],
    variances: [[0.2, 0.3, 1], [0.1, 0.4, 0.5]],
    weights: [0.4, 0.6],
    backend,
  });
  const base = (sampler: string): SampleOptions =>
    shortRun(sampler, { denoiser: gmm.denoiser, batch: 5, dim: 3, seed: 3, backend });
  for (const sampler of Object.keys(SAMPLERS)) {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const reporting of [false, true]) {
        // The third call writes `bad` at index 7 (into info.out where it is lent).
        let calls = 0, badSigma = NaN;
        const denoiser: SampleOptions["denoiser"] = async (x, sigma, info) => {
          const out = await gmm.denoiser(x, sigma, info);
          if (++calls === 3) {
            out[7] = bad;
            badSigma = sigma;
          }
          return out;
        };
        const what = `${sampler} ${bad}${reporting ? " with onStep" : ""} on ${backend}`;
        let steps = 0;
        await assert.rejects(
          sample({ ...base(sampler), denoiser, onStep: reporting ? () => steps++ : undefined }),
          (e: Error) => {
            assert.ok(e instanceof RangeError, `${what}: ${e}`);
            assert.equal(
              e.message,
              `Expected "denoiser" to return finite values but found ${bad} at index 7 (sigma ${badSigma})`,
              what,
            );
            return true;
          },
          what,
        );
        assert.ok(calls >= 3, what);
        if (reporting) assert.ok(steps <= 2, `${what}: onStep never sees the bad output`);
      }
    }
  }
  // σ_max beyond float32: the first update of the state overflows with no denoiser at fault.
  await assert.rejects(
    sample({ ...base("euler"), sigmas: [1e39, 1, 0] }),
    (e: Error) => e instanceof RangeError && /state to stay finite .* overflowed/.test(e.message),
  );
  // Finite noise (checked as such) that a step scales beyond float32.
  await assert.rejects(
    sample({
      ...base("euler-ancestral"),
      xT: new Float32Array(15).fill(1),
      noise: (out) => void out.fill(3e38),
    }),
    (e: Error) => e instanceof RangeError && /state to stay finite .* overflowed/.test(e.message),
  );
}
