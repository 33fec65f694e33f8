import assert from "node:assert/strict";
import { checkNonFiniteRuns, shortRun } from "./_nonfinite_runs.ts";
import { jsDiffusionKernels } from "../../src/backends/js/diffusion.ts";
import {
  GaussianMixture,
  karrasSigmas,
  sample,
  type SampleOptions,
  SAMPLERS,
  type StepInfo,
  vpSigmas,
} from "../../src/diffusion/mod.ts";

const gmm = new GaussianMixture({
  means: [[-1, 0.5], [1.5, -1]],
  variances: [[0.2, 0.3], [0.1, 0.4]],
  weights: [0.4, 0.6],
  backend: "js",
});

function options(sampler: string, extra: Partial<SampleOptions> = {}): SampleOptions {
  return shortRun(
    sampler,
    { denoiser: gmm.denoiser, batch: 3, dim: 2, seed: 11, backend: "js" },
    extra,
  );
}

function counting(denoiser = gmm.denoiser) {
  const counter = {
    calls: 0,
    denoiser: (
      x: Float32Array,
      s: number,
      i: { batch: number; dim: number },
    ) => (counter.calls++, denoiser(x, s, i)),
  };
  return counter;
}

Deno.test("sample() returns batch × dim finite values from every sampler", async () => {
  for (const name of Object.keys(SAMPLERS)) {
    const out = await sample(options(name));
    assert.ok(out instanceof Float32Array, name);
    assert.equal(out.length, 6, name);
    assert.ok(out.every(Number.isFinite), name);
  }
});

Deno.test("sample() reports the same onStep fields from every sampler", async () => {
  for (const name of Object.keys(SAMPLERS)) {
    const steps: StepInfo[] = [];
    const counter = counting();
    await sample(
      options(name, {
        denoiser: counter.denoiser,
        onStep: (s) => steps.push({ ...s, x: s.x.slice(), denoised: s.denoised.slice() }),
      }),
    );
    assert.ok(steps.length > 0, name);
    for (const s of steps) {
      assert.deepEqual(
        Object.keys(s).sort(),
        ["denoised", "nfe", "sigma", "sigmaHat", "step", "x"],
        name,
      );
      assert.ok(Number.isInteger(s.step) && s.sigma > 0 && s.sigmaHat >= s.sigma, name);
      assert.equal(s.x.length, 6, name);
      assert.equal(s.denoised.length, 6, name);
      assert.ok(s.nfe >= 1 && s.nfe <= counter.calls, name);
    }
    for (let i = 1; i < steps.length; i++) {
      assert.ok(
        steps[i].nfe > steps[i - 1].nfe && steps[i].sigma < steps[i - 1].sigma,
        `${name} step ${i}`,
      );
    }
  }
});

Deno.test("sample() makes exactly the documented number of denoiser calls", async () => {
  const n = 7, sigmas = karrasSigmas({ steps: n });
  const expected: Record<string, number> = {
    euler: n,
    heun: 2 * n - 1,
    dpm2: 2 * n - 1,
    lms: n,
    "dpmpp-2m": n,
    "euler-ancestral": n,
    "dpmpp-2m-sde": n,
    ddim: n,
    ddpm: n,
  };
  for (const [name, calls] of Object.entries(expected)) {
    const counter = counting();
    let lastNfe = 0;
    await sample(
      options(name, { sigmas, denoiser: counter.denoiser, onStep: (s) => (lastNfe = s.nfe) }),
    );
    assert.equal(counter.calls, calls, name);
    assert.ok(lastNfe === calls || lastNfe === calls - 1, `${name} reported nfe ${lastNfe}`);
  }
  const vp = vpSigmas({ steps: n });
  const native: [string, Record<string, unknown>, number][] = [
    ["ode", { parameterisation: "vp" }, 2 * n - 1],
    ["ode", { parameterisation: "vp", order: 1 }, n],
    ["reverse-sde", {}, n],
    ["pc", { correctorSteps: 2 }, 3 * n],
    ["annealed-langevin", { langevinSteps: 4 }, 4 * n + 1],
  ];
  for (const [name, samplerOptions, calls] of native) {
    const counter = counting();
    await sample(options(name, { sigmas: vp, samplerOptions, denoiser: counter.denoiser }));
    assert.equal(counter.calls, calls, `${name} ${JSON.stringify(samplerOptions)}`);
  }
});

Deno.test("sample() gives the same result for sync and async denoisers", async () => {
  for (const name of ["heun", "euler-ancestral", "pc"]) {
    const sync = await sample(options(name));
    const viaPromise = await sample(
      options(name, { denoiser: async (x, s, i) => await gmm.denoiser(x, s, i) }),
    );
    assert.deepEqual(viaPromise, sync, name);
  }
});

Deno.test("sample() noise of a sample depends only on (seed, sample), never on the batch", async () => {
  const stochastic: [string, Partial<SampleOptions>][] = [
    ["euler-ancestral", {}],
    ["dpmpp-2m-sde", {}],
    ["ddpm", {}],
    ["ddim", { samplerOptions: { eta: 0.5 } }],
    ["euler", { churn: { sChurn: 10 } }],
    ["heun", { churn: { sChurn: 10, sTmin: 0.05, sTmax: 10 } }],
    ["dpm2", { churn: { sChurn: 5 } }],
    ["reverse-sde", { samplerOptions: { sde: "sub-vp" } }],
    ["pc", {}],
    ["annealed-langevin", {}],
  ];
  for (const [name, extra] of stochastic) {
    const whole = await sample(options(name, { ...extra, batch: 5 }));
    const tail = await sample(options(name, { ...extra, batch: 2, firstSample: 3 }));
    const single = await sample(options(name, { ...extra, batch: 1, firstSample: 1 }));
    assert.deepEqual(tail, whole.subarray(6, 10), name);
    assert.deepEqual(single, whole.subarray(2, 4), name);
    const otherSeed = await sample(options(name, { ...extra, batch: 5, seed: 12 }));
    assert.notDeepEqual(otherSeed, whole, name);
  }
});

Deno.test("sample() from xT continues the seeded run exactly", async () => {
  const sigmas = karrasSigmas({ steps: 6, sigmaMax: 20 });
  const xT = new Float32Array(6);
  jsDiffusionKernels.fillGaussian(xT, 3, 2, 11, 0, 0);
  for (let i = 0; i < 6; i++) xT[i] *= sigmas[0];
  for (const name of ["euler-ancestral", "heun"]) {
    const seeded = await sample(options(name, { sigmas }));
    const fromXT = await sample(options(name, { sigmas, xT }));
    assert.deepEqual(fromXT, seeded, name);
  }
  const untouched = xT.slice();
  await sample(options("euler", { xT }));
  assert.deepEqual(xT, untouched);
});

Deno.test("sample() uses an injected noise function for every draw", async () => {
  const draws: number[] = [];
  const zeros = (
    out: Float32Array,
    info: { batch: number; dim: number; draw: number; firstSample: number },
  ) => {
    assert.deepEqual([info.batch, info.dim, info.firstSample], [3, 2, 4]);
    draws.push(info.draw);
    out.fill(0);
  };
  const xT = Float32Array.from([5, -3, 2, 8, -7, 1]);
  const quiet = await sample(options("euler-ancestral", { xT, noise: zeros, firstSample: 4 }));
  assert.deepEqual(draws, [1, 2, 3, 4, 5]); // no draw 0 (xT given), none on the step to 0
  // With zero noise, ancestral Euler steps are deterministic: rerunning reproduces them.
  assert.deepEqual(
    await sample(options("euler-ancestral", { xT, noise: zeros, firstSample: 4 })),
    quiet,
  );
  assert.notDeepEqual(await sample(options("euler-ancestral", { xT, firstSample: 4 })), quiet);
  draws.length = 0;
  await sample(options("euler", { noise: zeros, firstSample: 4 }));
  assert.deepEqual(draws, [0]); // only the initial state
});

Deno.test("sample() rejects bad sigmas by name", async () => {
  const bad: [unknown, RegExp][] = [
    [[1], /"sigmas" to have at least 2 entries/],
    [[3, NaN, 0], /"sigmas" to hold finite numbers but entry 1 is NaN/],
    [[Infinity, 1, 0], /"sigmas" to hold finite numbers but entry 0/],
    [[3, 3, 0], /"sigmas" to be strictly decreasing but entry 1/],
    [[1, 2, 0], /strictly decreasing/],
    [[2, 1, -1], /"sigmas" to be >= 0/],
    [["2", 1], /"sigmas" to hold finite numbers/],
    [42, /"sigmas" to be an array/],
  ];
  for (const [sigmas, pattern] of bad) {
    await assert.rejects(sample(options("euler", { sigmas: sigmas as never })), pattern);
  }
});

Deno.test("sample() rejects a denoiser that returns the wrong type, length or NaN", async () => {
  const bad: [SampleOptions["denoiser"], RegExp, ErrorConstructor][] = [
    [(x) => new Float32Array(x.length - 1), /"denoiser" to return 6 values .* found 5/, RangeError],
    [
      (x) => new Float32Array(x.length).fill(NaN),
      /"denoiser" to return finite values but found NaN at index 0/,
      RangeError,
    ],
    [(x, s) => new Float32Array(x.length).fill(s < 1 ? Infinity : 0), /found Infinity/, RangeError],
    [(x) => Array.from(x) as never, /"denoiser" to return a Float32Array/, TypeError],
    [
      () => Promise.resolve(undefined) as never,
      /"denoiser" to return a Float32Array but found undefined/,
      TypeError,
    ],
  ];
  for (const [denoiser, pattern, type] of bad) {
    await assert.rejects(
      sample(options("heun", { denoiser })),
      (e: Error) => e instanceof type && pattern.test(e.message),
    );
  }
  await assert.rejects(
    sample(options("heun", { denoiser: "D" as never })),
    /"denoiser" to be a function/,
  );
});

Deno.test("sample() rejects unknown samplers, options and sampler options by name", async () => {
  const cases: [Partial<SampleOptions> & Record<string, unknown>, RegExp, ErrorConstructor][] = [
    [{ sampler: "euler-maruyama" as never }, /"sampler" to be one of/, RangeError],
    [{ steps: 10 }, /Unknown option "steps" in "opts"/, RangeError],
    [{ samplerOptions: { eta: 1 } }, /Unknown option "eta" for sampler "heun"/, RangeError],
    [
      { sampler: "dpmpp-2m", churn: { sChurn: 1 } },
      /Unknown option "churn" for sampler "dpmpp-2m"; it takes no options/,
      RangeError,
    ],
    [{ churn: { sChurn: -1 } }, /"churn.sChurn"/, RangeError],
    [{ churn: { sChurn: 1, sNoise: "1" as never } }, /"churn.sNoise"/, TypeError],
    [{ churn: { sChurn: 1, gamma: 1 } as never }, /Unknown option "gamma" in "churn"/, RangeError],
    [{ sampler: "euler-ancestral", samplerOptions: { eta: -1 } }, /"eta"/, RangeError],
    [{ sampler: "lms", samplerOptions: { order: 5 } }, /"order"/, RangeError],
    [
      { sampler: "ode", samplerOptions: { parameterisation: "karras" } },
      /"parameterisation"/,
      RangeError,
    ],
    [{ sampler: "pc", samplerOptions: { sde: {} } }, /"sde"/, TypeError],
    [{ samplerOptions: [] as never }, /"samplerOptions" to be an options object/, TypeError],
    [{ batch: 0 }, /"batch"/, RangeError],
    [{ dim: 1.5 }, /"dim"/, TypeError],
    [{ seed: -1 }, /"seed"/, RangeError],
    [{ seed: 2 ** 32 }, /"seed"/, RangeError],
    [{ firstSample: 0.5 }, /"firstSample"/, TypeError],
    [{ xT: new Float32Array(5) }, /"xT" to hold batch × dim = 6 values but found 5/, RangeError],
    [{ xT: [1, 2, 3, 4, 5, 6] as never }, /"xT" to be a Float32Array/, TypeError],
    [
      { xT: Float32Array.from([1, 2, NaN, 4, 5, 6]) },
      /"xT" to hold finite values but found NaN at index 2/,
      RangeError,
    ],
    [
      { noise: (out: Float32Array) => out.fill(1).fill(Infinity, 3) },
      /"noise" to write finite values but found Infinity at index 3 \(draw 0\)/,
      RangeError,
    ],
    [{ onStep: 1 as never }, /"onStep" to be a function/, TypeError],
    [{ noise: {} as never }, /"noise" to be a function/, TypeError],
    [{ backend: "cuda" as never }, /"backend"/, RangeError],
  ];
  for (const [extra, pattern, type] of cases) {
    await assert.rejects(
      sample(options("heun", extra)),
      (e: Error) => e instanceof type && pattern.test(e.message),
      pattern.source,
    );
  }
  await assert.rejects(sample(null as never), TypeError);
});

Deno.test("sample() rejects bad options before calling the denoiser", async () => {
  const counter = counting();
  await assert.rejects(
    sample(options("ddim", { denoiser: counter.denoiser, samplerOptions: { eta: "1" } })),
    TypeError,
  );
  assert.equal(counter.calls, 0);
});

Deno.test("sample() blames a non-finite denoiser output on the denoiser, in every sampler", async () => {
  await checkNonFiniteRuns("js");
});

Deno.test("sample() lends its own buffer as info.out, and a denoiser may fill and return it", async () => {
  const seen: (Float32Array | undefined)[] = [];
  const filling: SampleOptions["denoiser"] = (x, sigma, info) => {
    seen.push(info.out);
    assert.notEqual(info.out, x);
    return gmm.denoiser(x, sigma, info);
  };
  const fresh: SampleOptions["denoiser"] = (x, sigma, info) =>
    gmm.denoiser(x, sigma, { batch: info.batch, dim: info.dim });
  for (const sampler of ["euler", "heun", "dpmpp-2m", "euler-ancestral", "lms"]) {
    seen.length = 0;
    const a = await sample(options(sampler, { denoiser: filling }));
    const b = await sample(options(sampler, { denoiser: fresh }));
    assert.deepEqual(a, b, sampler);
    assert.ok(seen.length > 0 && seen.every((o) => o instanceof Float32Array && o.length === 6));
  }
});
