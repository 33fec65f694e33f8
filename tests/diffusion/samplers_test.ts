import assert from "node:assert/strict";
import { lmsCoefficient } from "../../src/diffusion/_ode_samplers.ts";
import {
  denoiserFromVelocity,
  flowMatchingSigmas,
  GaussianMixture,
  karrasSigmas,
  sample,
  type SampleOptions,
  veSigmas,
  vpSigmas,
} from "../../src/diffusion/mod.ts";

// One Gaussian N(μ, s²): D(x; σ) = μ + s²/(s²+σ²)·(x − μ), and the probability-flow ODE maps
// x_T at σ_max to μ + s/√(s²+σ_max²)·(x_T − μ) at σ = 0.
const mu = 0.3, s = 0.5;
const gaussian = (x: Float32Array, sigma: number) =>
  x.map((v) => mu + ((s * s) / (s * s + sigma * sigma)) * (v - mu));
const exactFlow = (xT: number, sigmaMax: number, sigmaEnd = 0) =>
  mu +
  (Math.sqrt(s * s + sigmaEnd * sigmaEnd) / Math.sqrt(s * s + sigmaMax * sigmaMax)) * (xT - mu);

/** Every run here uses the reference kernels; tests/diffusion/wasm_test.ts covers the others. */
const run = (opts: SampleOptions) => sample({ backend: "js", ...opts });

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));

/** Least-squares slope of log(error) against log(1/N). */
function order(ns: number[], errors: number[]): number {
  const xs = ns.map((n) => Math.log(1 / n)), ys = errors.map(Math.log);
  const mx = xs.reduce((a, b) => a + b) / xs.length, my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0, den = 0;
  for (let i = 0; i < xs.length; i++) {
    (num += (xs[i] - mx) * (ys[i] - my)), (den += (xs[i] - mx) ** 2);
  }
  return num / den;
}

const xT = Float32Array.from([-100, -20, 5, 60, 130]);

async function flowErrors(sampler: string, ns: number[], extra: Partial<SampleOptions> = {}) {
  const errors: number[] = [];
  for (const steps of ns) {
    const sigmas = extra.sigmas ?? karrasSigmas({ steps, sigmaMax: 80 });
    const out = await run({
      denoiser: gaussian,
      batch: 5,
      dim: 1,
      sigmas,
      sampler: sampler as never,
      xT,
      ...extra,
    });
    errors.push(maxDiff(out, Array.from(xT, (v) => exactFlow(v, sigmas[0]))));
  }
  return errors;
}

Deno.test("euler converges at order 1, heun, dpm2 and dpmpp-2m at order 2 on a Gaussian", async () => {
  const ns = [16, 32, 64];
  const fits: Record<string, [number, number]> = {
    euler: [0.9, 1.1],
    heun: [1.85, 2.35],
    dpm2: [1.85, 2.35],
    "dpmpp-2m": [1.85, 2.35],
  };
  for (const [name, [lo, hi]] of Object.entries(fits)) {
    const errors = await flowErrors(name, ns);
    const p = order(ns, errors);
    assert.ok(p >= lo && p <= hi, `${name}: order ${p.toFixed(2)}, errors ${errors}`);
  }
  // LMS (order 4 at most) beats every second-order method at N = 64.
  const [lms] = await flowErrors("lms", [64]);
  const [heun] = await flowErrors("heun", [64]);
  assert.ok(lms < heun / 2, `lms ${lms} vs heun ${heun}`);
});

Deno.test("lms of orders 1 to 4 converges at its order; order 1 is euler", async () => {
  // Adams–Bashforth of order k on the Karras grid: global error O(N^−k). The steps begun at a
  // lower order (the first k − 1) sit at large σ, where the flow contracts errors ~σ_max/s-fold.
  const ns = [32, 64, 128, 256];
  const fits: Array<[number, number, number]> = [[1, 0.9, 1.1], [2, 1.8, 2.2], [3, 2.6, 3.2], [4, 3.2, 4.3]];
  for (const [k, lo, hi] of fits) {
    const errors = await flowErrors("lms", k === 4 ? ns.slice(0, 3) : ns, {
      samplerOptions: { order: k },
    });
    const p = order(k === 4 ? ns.slice(0, 3) : ns, errors);
    assert.ok(p >= lo && p <= hi, `lms order ${k}: fitted ${p.toFixed(2)}, errors ${errors}`);
  }
  const [lms1] = await flowErrors("lms", [24], { samplerOptions: { order: 1 } });
  const [euler] = await flowErrors("euler", [24]);
  assert.ok(Math.abs(lms1 - euler) <= 1e-6 * euler, `lms order 1 ${lms1} vs euler ${euler}`);
});

/** σ at sub-VP time t (β_d = 19.9, β_min = 0.1): 2 sinh(B/2), B = ½β_d t² + β_min t. */
const subVpSigma = (t: number) => 2 * Math.sinh(0.5 * (0.5 * 19.9 * t * t + 0.1 * t));

Deno.test("ode converges at order 2 (Heun) and 1 (Euler) in VE, sub-VP, iDDPM and flow time", async () => {
  // Each process on a schedule smooth in its own time (a grid smooth in σ but not in t, such as
  // VP's for sub-VP, where t ∝ √τ near 0, loses an order), ending near t = 0 so that the last
  // Euler step to σ = 0 stays below the error measured.
  const schedules: Record<string, (steps: number) => Float64Array> = {
    ve: (steps) => veSigmas({ steps, sigmaMax: 80 }),
    "sub-vp": (steps) =>
      Float64Array.from(
        { length: steps + 1 },
        (_, i) => (i === steps ? 0 : subVpSigma(1 - ((1 - 1e-3) * i) / (steps - 1))),
      ),
    iddpm: (steps) => karrasSigmas({ steps, sigmaMax: 80 }),
    flow: (steps) => flowMatchingSigmas({ steps }),
  };
  const ns = [32, 64, 128];
  for (const [parameterisation, schedule] of Object.entries(schedules)) {
    for (const [samplerOrder, lo, hi] of [[2, 1.85, 2.4], [1, 0.85, 1.25]]) {
      const errors: number[] = [];
      for (const steps of ns) {
        const sigmas = schedule(steps);
        const out = await run({
          denoiser: gaussian,
          batch: 5,
          dim: 1,
          sigmas,
          sampler: "ode",
          xT,
          samplerOptions: { parameterisation, order: samplerOrder },
        });
        errors.push(maxDiff(out, Array.from(xT, (v) => exactFlow(v, sigmas[0]))));
      }
      const p = order(ns, errors);
      assert.ok(
        p >= lo && p <= hi,
        `${parameterisation} order ${samplerOrder}: fitted ${p.toFixed(2)}, errors ${errors}`,
      );
    }
  }
  // iDDPM's σ(t) = t, s = 1: its native time is sigma space, so ode is heun (and euler) there.
  const sigmas = karrasSigmas({ steps: 20, sigmaMax: 80 });
  const base = { denoiser: gaussian, batch: 5, dim: 1, sigmas, xT } as const;
  for (const [samplerOrder, same] of [[2, "heun"], [1, "euler"]] as const) {
    const ode = await run({
      ...base,
      sampler: "ode",
      samplerOptions: { parameterisation: "iddpm", order: samplerOrder },
    });
    assert.ok(maxDiff(ode, await run({ ...base, sampler: same })) < 1e-5, same);
  }
});

Deno.test("ode in native VP time converges at order 2 (Heun) and 1 (Euler)", async () => {
  const ns = [32, 64, 128];
  for (const [samplerOrder, lo, hi] of [[2, 1.85, 2.3], [1, 0.85, 1.15]]) {
    const errors: number[] = [];
    for (const steps of ns) {
      const sigmas = vpSigmas({ steps });
      const out = await run({
        denoiser: gaussian,
        batch: 5,
        dim: 1,
        sigmas,
        sampler: "ode",
        xT,
        samplerOptions: { parameterisation: "vp", order: samplerOrder },
      });
      errors.push(maxDiff(out, Array.from(xT, (v) => exactFlow(v, sigmas[0]))));
    }
    const p = order(ns, errors);
    assert.ok(
      p >= lo && p <= hi,
      `order ${samplerOrder}: fitted ${p.toFixed(2)}, errors ${errors}`,
    );
  }
});

Deno.test("probability-flow RK45 solves the ODE to its tolerance, then denoises", async () => {
  for (
    const [sde, sigmas] of [["vp", vpSigmas({ steps: 10 })], [
      "ve",
      veSigmas({ steps: 10, sigmaMax: 80 }),
    ], ["sub-vp", vpSigmas({ steps: 10 })]] as const
  ) {
    let nfe = 0;
    const out = await run({
      denoiser: gaussian,
      batch: 5,
      dim: 1,
      sigmas,
      sampler: "probability-flow",
      xT,
      samplerOptions: { sde, rtol: 1e-6, atol: 1e-6 },
      onStep: (st) => (nfe = st.nfe),
    });
    const sigmaEnd = sigmas[sigmas.length - 2];
    const expected = Array.from(xT, (v) => {
      const atEnd = exactFlow(v, sigmas[0], sigmaEnd);
      return mu + ((s * s) / (s * s + sigmaEnd * sigmaEnd)) * (atEnd - mu);
    });
    assert.ok(maxDiff(out, expected) < 2e-4, `${sde}: ${maxDiff(out, expected)}`);
    assert.ok(nfe > 10 && nfe < 2000, `${sde}: ${nfe} evaluations`);
  }
});

Deno.test("ddim with η = 0 is Euler on x/√ᾱ, and with η = 1 matches ddpm and euler-ancestral", async () => {
  const base = {
    denoiser: gaussian,
    batch: 64,
    dim: 4,
    sigmas: karrasSigmas({ steps: 30 }),
    seed: 2,
  } as const;
  const euler = await run({ ...base, sampler: "euler" });
  const ddim = await run({ ...base, sampler: "ddim" });
  assert.ok(maxDiff(ddim, euler) <= 1e-6, `η = 0: ${maxDiff(ddim, euler)}`);
  const ancestral = await run({ ...base, sampler: "euler-ancestral" });
  const ddim1 = await run({ ...base, sampler: "ddim", samplerOptions: { eta: 1 } });
  const ddpm = await run({ ...base, sampler: "ddpm" });
  assert.ok(maxDiff(ddim1, ancestral) <= 1e-5 && maxDiff(ddpm, ancestral) <= 1e-5);
  assert.ok(maxDiff(ancestral, euler) > 0.1); // the noise matters
});

Deno.test("ode with the EDM parameterisation reproduces heun and euler", async () => {
  const base = {
    denoiser: gaussian,
    batch: 16,
    dim: 2,
    sigmas: karrasSigmas({ steps: 12 }),
    seed: 4,
  } as const;
  assert.ok(
    maxDiff(await run({ ...base, sampler: "ode" }), await run({ ...base, sampler: "heun" })) <
      1e-5,
  );
  assert.ok(
    maxDiff(
      await run({ ...base, sampler: "ode", samplerOptions: { order: 1 } }),
      await run({ ...base, sampler: "euler" }),
    ) < 1e-5,
  );
});

Deno.test("euler on flow-matching sigmas with a velocity model is the rectified-flow Euler sampler", async () => {
  const steps = 12, sigmas = flowMatchingSigmas({ steps, shift: 2 });
  const velocity = (xt: Float32Array, t: number) =>
    xt.map((v) => (v - gaussian(Float32Array.of(v / (1 - t)), t / (1 - t))[0]) / t);
  const start = Float32Array.from({ length: 8 }, (_, i) => (i - 3.5) * 1.3 * sigmas[0]);
  const out = await run({
    denoiser: denoiserFromVelocity(velocity),
    batch: 8,
    dim: 1,
    sigmas,
    sampler: "euler",
    xT: start,
  });
  const ts = Array.from(sigmas, (sg) => sg / (1 + sg));
  const byHand = Array.from(start, (v0) => {
    let x = v0 * (1 - ts[0]); // x_t = s(t)·x̂
    for (let i = 0; i < steps; i++) {
      const t = ts[i], x0 = mu + ((s * s) / (s * s + (t / (1 - t)) ** 2)) * (x / (1 - t) - mu);
      x += (ts[i + 1] - t) * ((x - x0) / t);
    }
    return x;
  });
  assert.ok(maxDiff(out, byHand) < 1e-5, `${maxDiff(out, byHand)}`);
});

Deno.test("lmsCoefficient() integrates the Lagrange basis exactly", () => {
  const sigmas = Float64Array.from([10, 6, 3, 1.5, 0.5]);
  assert.ok(Math.abs(lmsCoefficient(1, sigmas, 2, 0) - (1.5 - 3)) < 1e-14);
  // The coefficients of any order sum to the step (they integrate the constant 1) and reproduce
  // ∫ σ dσ over the step for order ≥ 2.
  for (const k of [2, 3, 4]) {
    const i = 3, c = Array.from({ length: k }, (_, j) => lmsCoefficient(k, sigmas, i, j));
    assert.ok(Math.abs(c.reduce((a, b) => a + b) - (0.5 - 1.5)) < 1e-12, `order ${k} sum`);
    const linear = c.reduce((acc, cj, j) => acc + cj * sigmas[i - j], 0);
    assert.ok(Math.abs(linear - (0.5 ** 2 - 1.5 ** 2) / 2) < 1e-12, `order ${k} linear`);
  }
});

/** Mean and variance of all values. */
function moments(values: Float32Array): [number, number] {
  let m = 0, v = 0;
  for (const x of values) m += x;
  m /= values.length;
  for (const x of values) v += (x - m) ** 2;
  return [m, v / (values.length - 1)];
}

Deno.test("stochastic samplers draw from the Gaussian's mean and variance", async () => {
  // Relative variance tolerance: ~3 standard errors of a 3000-sample variance (8%); annealed
  // Langevin keeps a known excess from its finite number of steps per level.
  const cases: [string, Partial<SampleOptions>, number][] = [
    ["euler-ancestral", { sigmas: karrasSigmas({ steps: 300 }) }, 0.08],
    ["dpmpp-2m-sde", { sigmas: karrasSigmas({ steps: 60 }) }, 0.08],
    ["ddpm", { sigmas: karrasSigmas({ steps: 300 }) }, 0.08],
    ["heun", { sigmas: karrasSigmas({ steps: 100 }), churn: { sChurn: 40 } }, 0.08],
    ["reverse-sde", { sigmas: vpSigmas({ steps: 200 }), samplerOptions: { sde: "vp" } }, 0.08],
    ["reverse-sde", {
      sigmas: veSigmas({ steps: 200, sigmaMax: 80 }),
      samplerOptions: { sde: "ve" },
    }, 0.08],
    ["reverse-sde", { sigmas: vpSigmas({ steps: 200 }), samplerOptions: { sde: "sub-vp" } }, 0.08],
    [
      "pc",
      { sigmas: vpSigmas({ steps: 200 }), samplerOptions: { snr: 0.05 }, batch: 100, dim: 32 },
      0.08,
    ],
    // One dimension, where a corrector step sized by the very noise it injects goes wrong.
    ["pc", { sigmas: vpSigmas({ steps: 200 }), samplerOptions: { snr: 0.16 } }, 0.08],
    ["pc", { sigmas: veSigmas({ steps: 200, sigmaMax: 80 }), samplerOptions: { sde: "ve" } }, 0.08],
  ];
  for (const [name, extra, varianceTolerance] of cases) {
    const out = await run({
      denoiser: gaussian,
      batch: 3000,
      dim: 1,
      sigmas: [],
      sampler: name as never,
      seed: 5,
      ...extra,
    });
    const [m, v] = moments(out);
    const standardError = s / Math.sqrt(out.length);
    assert.ok(
      Math.abs(m - mu) < 4 * standardError + 0.005,
      `${name} ${JSON.stringify(extra.samplerOptions ?? {})}: mean ${m}`,
    );
    assert.ok(
      Math.abs(v / (s * s) - 1) < varianceTolerance,
      `${name} ${JSON.stringify(extra.samplerOptions ?? {})}: variance ${v}`,
    );
  }
});

/**
 * Variance of annealed Langevin dynamics on N(μ, s²), exactly: per step at level σ,
 * x' − μ = c·(x − μ) + √α·z with c = 1 − α/(2(s²+σ²)), so Var' = c²·Var + α; the run starts
 * at Var = σ₀² and ends with D(x; σ_L), which scales the spread by s²/(s²+σ_L²).
 */
function annealedLangevinVariance(levels: number[], stepSize: number, steps: number): number {
  const sigmaLast = levels[levels.length - 1];
  let variance = levels[0] ** 2;
  for (const sigma of levels) {
    const alpha = stepSize * sigma * sigma / (sigmaLast * sigmaLast);
    const c = 1 - alpha / (2 * (s * s + sigma * sigma));
    for (let t = 0; t < steps; t++) variance = c * c * variance + alpha;
  }
  return (s * s / (s * s + sigmaLast * sigmaLast)) ** 2 * variance;
}

Deno.test("annealed-langevin matches the exact variance of its chain, excess included", async () => {
  const sigmas = veSigmas({ steps: 10, sigmaMax: 20, sigmaMin: 0.05 });
  const levels = Array.from(sigmas.subarray(0, -1));
  for (const langevinSteps of [100, 400]) {
    const stepSize = 5e-4;
    const out = await run({
      denoiser: gaussian,
      batch: 3000,
      dim: 1,
      sigmas,
      sampler: "annealed-langevin",
      samplerOptions: { stepSize, langevinSteps },
      seed: 5,
    });
    const [, v] = moments(out);
    const expected = annealedLangevinVariance(levels, stepSize, langevinSteps);
    // 100 steps per level leave the chain under-mixed at the last levels: ~7% too wide.
    if (langevinSteps === 100) assert.ok(expected / (s * s) > 1.05, `expected ${expected}`);
    else assert.ok(Math.abs(expected / (s * s) - 1) < 0.01, `expected ${expected}`);
    // Three standard errors of a 3000-sample variance.
    assert.ok(
      Math.abs(v / expected - 1) < 3 * Math.sqrt(2 / 3000),
      `${langevinSteps}: ${v} vs ${expected}`,
    );
  }
});

Deno.test("samplers reproduce the mode proportions of a 2-D mixture", async () => {
  const gmm = new GaussianMixture({
    means: [[-2, -2], [2, 2]],
    variances: [[0.1, 0.1], [0.1, 0.1]],
    weights: [0.25, 0.75],
    backend: "js",
  });
  const batch = 1500;
  for (
    const [sampler, extra] of [
      ["heun", { sigmas: karrasSigmas({ steps: 20 }) }],
      ["dpmpp-2m-sde", { sigmas: karrasSigmas({ steps: 30 }) }],
      ["reverse-sde", { sigmas: vpSigmas({ steps: 100 }) }],
    ] as const
  ) {
    const out = await run({ denoiser: gmm.denoiser, batch, dim: 2, sampler, seed: 9, ...extra });
    let first = 0;
    for (let i = 0; i < batch; i++) if (out[2 * i] + out[2 * i + 1] < 0) first++;
    const share = first / batch, se = Math.sqrt(0.25 * 0.75 / batch);
    assert.ok(Math.abs(share - 0.25) < 4 * se, `${sampler}: share of the light mode ${share}`);
    // Samples sit on the modes, not between them.
    let offMode = 0;
    for (let i = 0; i < batch; i++) if (Math.abs(out[2 * i] + out[2 * i + 1]) < 2) offMode++;
    assert.ok(offMode / batch < 0.01, `${sampler}: ${offMode} samples between the modes`);
  }
});
