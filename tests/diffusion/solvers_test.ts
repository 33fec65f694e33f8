/**
 * The newer solvers (DPM-Solver++(3M) SDE, DPM-Solver++(2S) ancestral, UniPC, Restart, iPNDM)
 * on the Gaussian-mixture oracles: measured orders of convergence in path (ODE) and in law
 * (exact, see _solver_oracle.ts), the distribution they draw from a multi-modal mixture, and
 * their bookkeeping (NFE, options, batch independence).
 */
import assert from "node:assert/strict";
import { dpmppMultistepWeights } from "../../src/diffusion/_stochastic_samplers.ts";
import { unipcWeights } from "../../src/diffusion/_ode_samplers.ts";
import {
  GaussianMixture,
  karrasSigmas,
  sample,
  type SampleOptions,
  type SamplerName,
} from "../../src/diffusion/mod.ts";
import {
  fittedOrder,
  gaussianLaw,
  gaussianLawError,
  MIXTURE,
  mixturePathError,
} from "./_solver_oracle.ts";

type Case = { sampler: SamplerName; samplerOptions?: Record<string, unknown> };

/** Errors and NFE over a run of step counts. */
async function sweep(
  measure: (c: Case, steps: number) => Promise<{ error: number; nfe: number }>,
  c: Case,
  steps: number[],
) {
  const runs = [];
  for (const n of steps) runs.push(await measure(c, n));
  const order = fittedOrder(runs.map((r) => r.nfe), runs.map((r) => r.error));
  return { order, errors: runs.map((r) => r.error), nfes: runs.map((r) => r.nfe) };
}

const inLaw = (c: Case, steps: number) =>
  gaussianLawError(c.sampler, karrasSigmas({ steps, sigmaMax: 80 }), c.samplerOptions);
const inPath = (c: Case, steps: number) => mixturePathError(c.sampler, steps, c.samplerOptions);

Deno.test("deterministic solvers converge at their order on the mixture's probability-flow ODE", async () => {
  const expected: [Case, number, number][] = [
    [{ sampler: "heun" }, 1.8, 2.4], // the baseline, for scale
    [{ sampler: "dpmpp-2s-ancestral", samplerOptions: { eta: 0 } }, 1.8, 2.4],
    [{ sampler: "unipc", samplerOptions: { order: 2 } }, 2.6, 3.6], // UniC adds one order
    [{ sampler: "unipc", samplerOptions: { order: 2, variant: "bh1" } }, 2.6, 3.6],
    [{ sampler: "unipc", samplerOptions: { order: 3 } }, 3.6, 5],
    [{ sampler: "ipndm" }, 1.8, 2.8],
  ];
  for (const [c, lo, hi] of expected) {
    const { order, errors } = await sweep(inPath, c, [32, 64, 128]);
    assert.ok(order >= lo && order <= hi, `${JSON.stringify(c)}: order ${order}, ${errors}`);
  }
});

Deno.test("third-order multistep solvers beat the second-order ones at equal NFE", async () => {
  // On the Karras grid the first steps of a multistep method are of lower order, which caps the
  // asymptotic order of DPM-Solver++(3M) at about 2 (k-diffusion's does the same), but from
  // ~30 NFE it is well ahead of 2M; UniPC-3's corrector keeps it ahead by far.
  for (const [steps, factor] of [[32, 1.8], [64, 2.5]]) {
    const twoM = (await inPath({ sampler: "dpmpp-2m" }, steps)).error;
    const threeM = (await inPath({ sampler: "dpmpp-3m-sde", samplerOptions: { eta: 0 } }, steps))
      .error;
    const unipc3 = (await inPath({ sampler: "unipc", samplerOptions: { order: 3 } }, steps)).error;
    assert.ok(threeM < twoM / factor, `${steps} steps: 3M ${threeM} vs 2M ${twoM}`);
    assert.ok(unipc3 < twoM / 3, `${steps} steps: UniPC-3 ${unipc3} vs 2M ${twoM}`);
  }
});

Deno.test("stochastic solvers converge in law at their weak order (exact law on a Gaussian)", async () => {
  const expected: [Case, number, number][] = [
    [{ sampler: "euler-ancestral" }, 0.8, 1.15], // the baseline
    [{ sampler: "dpmpp-2s-ancestral" }, 1.7, 2.3],
    [{ sampler: "dpmpp-3m-sde" }, 1.6, 2.4],
    [{ sampler: "dpmpp-3m-sde", samplerOptions: { eta: 0.5 } }, 1.6, 2.4],
    [{ sampler: "restart" }, 1.7, 2.4],
  ];
  for (const [c, lo, hi] of expected) {
    const { order, errors } = await sweep(inLaw, c, [32, 64, 128]);
    assert.ok(order >= lo && order <= hi, `${JSON.stringify(c)}: order ${order}, ${errors}`);
    if (c.sampler !== "euler-ancestral") {
      assert.ok(errors[2] < 3e-3, `${JSON.stringify(c)}: ${errors}`);
    }
  }
});

Deno.test("the exact-law oracle reproduces known laws", async () => {
  // Euler from σ_max to 0 in one step returns D(x_T; σ_max) = μ + s²/(s²+σ²)(x_T − μ): its law
  // is N(μ, s⁴/(s²+σ²)), and the heun ODE converges to N(μ, s²).
  const one = await gaussianLaw("euler", Float64Array.of(3, 0));
  assert.ok(Math.abs(one.mean - 0.3) < 1e-6 && Math.abs(one.sd - 0.25 / Math.hypot(0.5, 3)) < 1e-6);
  const ode = await gaussianLaw("heun", karrasSigmas({ steps: 256, sigmaMax: 80 }));
  assert.ok(Math.abs(ode.sd - 0.5) < 2e-4 && ode.draws === 0, JSON.stringify(ode));
  // Ancestral steps draw once per step above σ = 0.
  assert.equal((await gaussianLaw("euler-ancestral", karrasSigmas({ steps: 10 }))).draws, 9);
});

Deno.test("the new solvers draw the mixture's components in their proportions", async () => {
  const batch = 3000;
  const cases: Case[] = [
    { sampler: "dpmpp-3m-sde" },
    { sampler: "dpmpp-2s-ancestral" },
    { sampler: "unipc" },
    { sampler: "unipc", samplerOptions: { order: 3 } },
    { sampler: "restart" },
    { sampler: "ipndm" },
  ];
  const means = [[-2, 1], [1.5, 2], [2, -1.5], [-0.5, -2]], weights = [0.2, 0.3, 0.35, 0.15];
  for (const c of cases) {
    const out = await sample({
      denoiser: MIXTURE.denoiser,
      batch,
      dim: 2,
      sigmas: karrasSigmas({ steps: 25 }),
      seed: 3,
      backend: "js",
      ...c,
    });
    const counts = [0, 0, 0, 0];
    for (let r = 0; r < batch; r++) {
      const d = means.map(([a, b]) => (out[2 * r] - a) ** 2 + (out[2 * r + 1] - b) ** 2);
      counts[d.indexOf(Math.min(...d))]++;
    }
    for (let k = 0; k < 4; k++) {
      // 4 binomial standard deviations at n = 3000 is at most 0.037.
      assert.ok(
        Math.abs(counts[k] / batch - weights[k]) < 0.037,
        `${JSON.stringify(c)}: ${counts}`,
      );
    }
  }
});

Deno.test("the new solvers make the documented number of denoiser calls", async () => {
  const n = 12, sigmas = karrasSigmas({ steps: n });
  const expected: [Case, number][] = [
    [{ sampler: "dpmpp-3m-sde" }, n],
    [{ sampler: "dpmpp-2s-ancestral" }, 2 * n - 1],
    [{ sampler: "unipc" }, n],
    [{ sampler: "unipc", samplerOptions: { order: 3 } }, n],
    [{ sampler: "ipndm" }, n],
    [{ sampler: "restart" }, 2 * n - 1 + 2 * 2 * 3], // 2 restarts of N/4 = 3 Heun steps
    [{ sampler: "restart", samplerOptions: { restartTimes: 1, restartSteps: 5 } }, 2 * n - 1 + 10],
    [{ sampler: "restart", samplerOptions: { restartTimes: 0 } }, 2 * n - 1],
    [{ sampler: "restart", samplerOptions: { tMin: 1e-4 } }, 2 * n - 1], // never that low
  ];
  for (const [c, calls] of expected) {
    let count = 0;
    await sample({
      denoiser: (x, s, i) => (count++, MIXTURE.denoiser(x, s, i)),
      batch: 2,
      dim: 2,
      sigmas,
      backend: "js",
      ...c,
    });
    assert.equal(count, calls, JSON.stringify(c));
  }
});

Deno.test("restart reproduces heun without restarts, and its excursions start at the first σ ≤ tMin", async () => {
  const base: SampleOptions = {
    denoiser: MIXTURE.denoiser,
    batch: 8,
    dim: 2,
    sigmas: karrasSigmas({ steps: 10 }),
    seed: 2,
    backend: "js",
  };
  assert.deepEqual(
    await sample({ ...base, sampler: "restart", samplerOptions: { restartTimes: 0 } }),
    await sample({ ...base, sampler: "heun" }),
  );
  const levels: number[] = [];
  await sample({
    ...base,
    denoiser: (x, s, i) => (levels.push(s), MIXTURE.denoiser(x, s, i)),
    sampler: "restart",
    samplerOptions: { tMin: 0.5, tMax: 3, restartSteps: 2, restartTimes: 1 },
  });
  const j = Array.from(base.sigmas).findIndex((s) => s > 0 && s <= 0.5);
  // Heun down to σ_j takes 2j evaluations (the last at σ_j, as the second stage of the step
  // before); the excursion's first evaluation is at tMax.
  assert.ok(Math.abs(levels[2 * j] - 3) < 1e-12, `${levels}`);
});

Deno.test("unipcWeights() and dpmppMultistepWeights() have consistent coefficients", () => {
  // Predictor of order 2 is the fixed ρ = ½; first order has no history terms.
  assert.deepEqual(unipcWeights(0.3, [-1], "bh2").predictor, [0.5]);
  assert.deepEqual(unipcWeights(0.3, [], "bh2").corrector, [0.5]);
  // The corrector's ρ solves the Vandermonde system R·ρ = b: ρ on equally spaced nodes.
  const w = unipcWeights(0.2, [-1, -2], "bh2");
  assert.equal(w.corrector.length, 3);
  assert.ok(w.corrector.every(Number.isFinite));
  // Multistep weights: constant D integrates exactly, Σ w = 1 − e^{−H}.
  for (const r of [[], [0.9], [0.9, 1.7]]) {
    const weights = dpmppMultistepWeights(0.4, 0.5, r);
    const sum = weights.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum + Math.expm1(-0.6)) < 1e-12, `${r}: ${sum}`);
  }
});

Deno.test("the new stochastic solvers' noise depends only on (seed, sample)", async () => {
  const gmm = new GaussianMixture({
    means: [[-1, 0.5], [1.5, -1]],
    variances: [[0.2, 0.3], [0.1, 0.4]],
    weights: [0.4, 0.6],
    backend: "js",
  });
  for (const sampler of ["dpmpp-3m-sde", "dpmpp-2s-ancestral", "restart"] as const) {
    const opts: SampleOptions = {
      denoiser: gmm.denoiser,
      batch: 5,
      dim: 2,
      sigmas: karrasSigmas({ steps: 8, sigmaMax: 20 }),
      sampler,
      seed: 4,
      backend: "js",
    };
    const whole = await sample(opts);
    const tail = await sample({ ...opts, batch: 2, firstSample: 3 });
    assert.deepEqual(tail, whole.subarray(6, 10), sampler);
    assert.notDeepEqual(await sample({ ...opts, seed: 5 }), whole, sampler);
  }
});

Deno.test("the new solvers reject bad options by name", async () => {
  const cases: [Case, RegExp, ErrorConstructor][] = [
    [{ sampler: "unipc", samplerOptions: { order: 4 } }, /"order"/, RangeError],
    [
      { sampler: "unipc", samplerOptions: { variant: "bh3" } },
      /"variant" to be one of "bh1", "bh2"/,
      RangeError,
    ],
    [{ sampler: "ipndm", samplerOptions: { order: 0 } }, /"order"/, RangeError],
    [{ sampler: "dpmpp-3m-sde", samplerOptions: { eta: -1 } }, /"eta"/, RangeError],
    [{ sampler: "dpmpp-2s-ancestral", samplerOptions: { sNoise: "1" } }, /"sNoise"/, TypeError],
    [
      { sampler: "restart", samplerOptions: { tMin: 3, tMax: 2 } },
      /"tMax" to be above "tMin" \(3\) but found 2/,
      RangeError,
    ],
    [{ sampler: "restart", samplerOptions: { restartSteps: 0 } }, /"restartSteps"/, RangeError],
    [
      { sampler: "restart", samplerOptions: { churn: 1 } },
      /Unknown option "churn" for sampler "restart"/,
      RangeError,
    ],
  ];
  for (const [c, pattern, type] of cases) {
    await assert.rejects(
      sample({
        denoiser: MIXTURE.denoiser,
        batch: 1,
        dim: 2,
        sigmas: karrasSigmas({ steps: 4 }),
        backend: "js",
        ...c,
      }),
      (e: Error) => e instanceof type && pattern.test(e.message),
      pattern.source,
    );
  }
});
