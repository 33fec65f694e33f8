/**
 * Property tests (fast-check) of the `diffusion` family: random batch sizes (0 where valid, 1,
 * lanes − 1, several blocks + tail, now and then enough rows for the work to be split across the
 * workers), dims, Gaussian mixtures, every schedule with random parameters and every sampler in
 * the registry with random steps and options. The WASM backend is compared with the JS reference
 * (the Gaussian fill bit for bit, the mixture and whole runs within the tolerances of
 * tests/diffusion/wasm_test.ts), and at one thread and at two: every case runs at both, with the
 * same seed, and the two runs must give the same bits. Schedules must be finite, strictly
 * decreasing and end in 0 with their documented end points; bad options must be a TypeError or
 * RangeError naming the argument.
 *
 * `TESSERA_PROPERTY_RUNS` scales the cases (default 1,000: 1,050 cases for the family in
 * `npm test`, each property's share below); `TESSERA_PROPERTY_SEED` replays a run (a failure
 * prints fast-check's seed and path too).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { DIFFUSION } from "../../src/backends/_families.ts";
import type { DiffusionKernels } from "../../src/backends/diffusion.ts";
import { jsDiffusionKernels as js } from "../../src/backends/js/diffusion.ts";
import { selectKernels } from "../../src/backends/_select.ts";
import { Rng } from "../../src/_random.ts";
import {
  dispose,
  GaussianMixture,
  init,
  sample,
  type SampleOptions,
  SAMPLERS,
  SCHEDULES,
} from "../../src/mod.ts";

const RUNS = Number(Deno.env.get("TESSERA_PROPERTY_RUNS") ?? 1000);
const SEED = Number(Deno.env.get("TESSERA_PROPERTY_SEED") ?? 20261203);

/**
 * Runs `check` on `share` of RUNS cases with the WASM kernels, the same cases at one thread and
 * at two; what `check` returns for a case at one thread must come back bit for bit at two.
 */
function property<T>(
  name: string,
  share: number,
  arbitrary: fc.Arbitrary<T>,
  check: (wasm: DiffusionKernels, value: T) => Promise<Float32Array | void>,
) {
  Deno.test(name, async () => {
    const atOneThread = new Map<string, Float32Array>();
    for (const threads of [1, 2]) {
      await init({ threads });
      try {
        const wasm = await selectKernels(DIFFUSION, "wasm");
        assert.equal(wasm.name, "wasm");
        await fc.assert(
          fc.asyncProperty(arbitrary, async (value) => {
            const result = await check(wasm, value);
            if (result === undefined) return;
            const key = fc.stringify(value);
            if (threads === 1) atOneThread.set(key, result);
            const first = atOneThread.get(key);
            // Cases met only while shrinking a failure at two threads have no partner.
            if (threads === 2 && first !== undefined) {
              assertSameBits(result, first, `${key}: 2 threads vs 1`);
            }
          }),
          { numRuns: Math.max(5, Math.round(RUNS * share)), seed: SEED },
        );
      } finally {
        await dispose();
      }
    }
  });
}

function assertSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, label);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.fail(`${label}: entry ${i} is ${actual[i]}, not ${expected[i]}`);
  }
}

/** Within `tol` relative to max(1, |expected|) (the measure of tests/diffusion/wasm_test.ts), plus `atol`. */
function assertClose(
  actual: Float32Array,
  expected: Float32Array,
  tol: number,
  label: string,
  atol = 0,
) {
  assert.equal(actual.length, expected.length, label);
  for (let i = 0; i < actual.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tol * scale + atol)) {
      assert.fail(`${label}: entry ${i} is ${actual[i]}, the reference ${expected[i]}`);
    }
  }
}

/** Batch sizes: 0 (where valid), 1, lanes − 1, lanes, blocks + tail, any; `large` now and then. */
function batchSize(min: number, large: number) {
  const edges = [0, 1, 3, 4, 5, 17, 67].filter((n) => n >= min);
  return fc.oneof(
    { weight: 20, arbitrary: fc.oneof(fc.constantFrom(...edges), fc.integer({ min, max: 40 })) },
    { weight: 1, arbitrary: fc.constant(large) },
  );
}
const dimension = fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 8, 67), fc.integer({ min: 1, max: 20 }));
const u32 = fc.integer({ min: 0, max: 0xffffffff });

// ---------------------------------------------------------------------------------------------
// Kernels: the Gaussian fill and the mixture.

const fillCase = fc.record({
  batch: batchSize(0, 1031), // 1031 × 67: enough values for the fill to be split
  dim: dimension,
  seed: u32,
  firstSample: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff - 1100 })),
  draw: fc.oneof(fc.constantFrom(0, 1, 2), fc.nat(100_000)),
  row: fc.nat(),
});

property(
  "fillGaussian() gives the reference's bits, and row r depends on (seed, firstSample + r) only",
  0.25,
  fillCase,
  async (wasm, c) => {
    const n = c.batch * c.dim;
    const actual = new Float32Array(n).fill(7), expected = new Float32Array(n).fill(7);
    await wasm.fillGaussian(actual, c.batch, c.dim, c.seed, c.firstSample, c.draw);
    js.fillGaussian(expected, c.batch, c.dim, c.seed, c.firstSample, c.draw);
    const label = fc.stringify(c);
    assertSameBits(actual, expected, label);
    assert.ok(actual.every(Number.isFinite), label);
    if (c.batch > 0) {
      // One row drawn alone (a batch of 1 starting at that sample) is the same row.
      const r = c.row % c.batch, alone = new Float32Array(c.dim);
      await wasm.fillGaussian(alone, 1, c.dim, c.seed, c.firstSample + r, c.draw);
      assertSameBits(alone, actual.subarray(r * c.dim, (r + 1) * c.dim), `${label}: row ${r}`);
    }
    return actual;
  },
);

const mixtureCase = fc.record({
  batch: batchSize(0, 1031),
  dim: dimension,
  components: fc.oneof(fc.constantFrom(1, 2, 8), fc.integer({ min: 1, max: 8 })),
  sigma: fc.oneof(
    fc.constantFrom(0, 1e-3, 0.5, 80, 1e4),
    fc.double({ min: 0, max: 200, noNaN: true }),
  ),
  output: fc.constantFrom("denoised" as const, "score" as const),
  zeroWeight: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

/** A random mixture: means in [−3, 3], variances in [0.01, 2], positive weights (one maybe 0). */
function mixtureParameters(components: number, dim: number, seed: number, zeroWeight: boolean) {
  const rng = new Rng(seed);
  const means = Array.from(
    { length: components },
    () => Array.from({ length: dim }, () => rng.next() * 6 - 3),
  );
  const variances = Array.from(
    { length: components },
    () => Array.from({ length: dim }, () => 0.01 + rng.next() * 2),
  );
  const weights = Array.from(
    { length: components },
    (_, k) => (zeroWeight && k === 1 ? 0 : 0.1 + rng.next()),
  );
  return { means, variances, weights, rng };
}

property(
  "mixture() on wasm follows the reference for random mixtures, σ and batches",
  0.25,
  mixtureCase,
  async (wasm, c) => {
    const { means, variances, weights, rng } = mixtureParameters(
      c.components,
      c.dim,
      c.seed,
      c.zeroWeight,
    );
    const total = weights.reduce((a, b) => a + b);
    const args = {
      output: c.output,
      // Rows near a component, noised by σ (up to 3 of its standard deviations away): far
      // from every component, at small σ in many dims, the log-likelihoods reach 1e5, beyond
      // what float32 resolves, and which component a row belongs to is a coin toss in any
      // float32 kernel.
      x: Float32Array.from({ length: c.batch * c.dim }, (_, i) => {
        const k = Math.floor(i / c.dim) % c.components, j = i % c.dim;
        const spread = Math.sqrt(variances[k][j] + c.sigma * c.sigma);
        return means[k][j] + spread * (rng.next() * 6 - 3);
      }),
      batch: c.batch,
      dim: c.dim,
      sigma: c.sigma,
      means: Float32Array.from(means.flat()),
      variances: Float32Array.from(variances.flat()),
      logWeights: Float32Array.from(weights, (w) => Math.log(w / total)),
      components: c.components,
    };
    const actual = new Float32Array(c.batch * c.dim), expected = new Float32Array(c.batch * c.dim);
    await wasm.mixture({ ...args, out: actual });
    await js.mixture({ ...args, out: expected });
    const label = fc.stringify(c);
    assert.ok(expected.every(Number.isFinite), `${label}: the reference is not finite`);
    assertClose(actual, expected, 2e-4, label);
    return actual;
  },
);

// ---------------------------------------------------------------------------------------------
// Schedules.

type ScheduleName = keyof typeof SCHEDULES;
const SCHEDULE_NAMES = Object.keys(SCHEDULES) as ScheduleName[];

/** A σ range: σ_min in [1e−4, 2], σ_max at least 1.5 times it. */
const sigmaRange = fc.record({
  sigmaMin: fc.double({ min: 1e-4, max: 2, noNaN: true }),
  ratio: fc.oneof(fc.constantFrom(1.5, 10, 4e4), fc.double({ min: 1.5, max: 1e5, noNaN: true })),
}).map(({ sigmaMin, ratio }) => ({ sigmaMin, sigmaMax: sigmaMin * ratio }));

const steps = (max: number) => fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 1, max }));

/** Random valid options of each schedule. */
const SCHEDULE_OPTIONS: Record<ScheduleName, fc.Arbitrary<Record<string, unknown>>> = {
  karras: fc.record({
    steps: steps(60),
    range: sigmaRange,
    rho: fc.double({ min: 0.5, max: 10, noNaN: true }),
  })
    .map(({ range, ...o }) => ({ ...o, ...range })),
  exponential: fc.record({ steps: steps(60), range: sigmaRange }).map(({ range, ...o }) => ({
    ...o,
    ...range,
  })),
  polyexponential: fc.record({
    steps: steps(60),
    range: sigmaRange,
    rho: fc.double({ min: 0.3, max: 5, noNaN: true }),
  }).map(({ range, ...o }) => ({ ...o, ...range })),
  ve: fc.record({ steps: steps(60), range: sigmaRange }).map(({ range, ...o }) => ({
    ...o,
    ...range,
  })),
  vp: fc.record({
    steps: steps(60),
    betaD: fc.double({ min: 0.5, max: 40, noNaN: true }),
    betaMin: fc.double({ min: 0, max: 1, noNaN: true }),
    epsS: fc.double({ min: 1e-5, max: 0.5, noNaN: true }),
  }),
  iddpm: fc.record({
    m: fc.integer({ min: 10, max: 2000 }),
    c1: fc.double({ min: 1e-4, max: 0.01, noNaN: true }),
    c2: fc.double({ min: 0, max: 0.02, noNaN: true }),
    j0frac: fc.double({ min: 0, max: 0.5, noNaN: true }),
    stepsFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  }).map(({ m, c1, c2, j0frac, stepsFrac }) => {
    const j0 = Math.floor(j0frac * m);
    return { m, c1, c2, j0, steps: 1 + Math.floor(stepsFrac * Math.min(60, m - j0 - 1)) };
  }),
  "flow-matching": fc.record({
    steps: steps(60),
    shift: fc.oneof(fc.constant(1), fc.double({ min: 0.1, max: 10, noNaN: true })),
    tMax: fc.oneof(fc.constant(0.999), fc.double({ min: 0.05, max: 0.999, noNaN: true })),
  }),
  discrete: fc.record({
    trainSteps: fc.oneof(fc.constant(1000), fc.integer({ min: 2, max: 1000 })),
    betaSchedule: fc.constantFrom("linear", "scaled-linear", "cosine"),
    spacing: fc.constantFrom("leading", "trailing", "linspace"),
    stepsFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  }).map(({ stepsFrac, trainSteps, ...o }) => ({
    ...o,
    trainSteps,
    steps: 1 + Math.floor(stepsFrac * Math.min(60, trainSteps - 1)),
  })),
};

/**
 * Options anywhere in their documented ranges, extremes included (σ_min ≈ σ_max over many
 * steps, σ ratios up to 1e300, a tiny or huge ρ, β_d up to 5,000, ε_s = 1, C₁ > 1, shifts up to
 * 1e9, β up to 1, offsets): each schedule must either give valid levels or say which options
 * cannot.
 */
const wide = (small: number, large: number) =>
  fc.oneof(
    fc.double({ min: small, max: large, noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(small, large),
  ).filter((v) => v > 0);
const wideRange = fc.record({
  sigmaMin: wide(1e-300, 1e3),
  ratio: fc.oneof(fc.constantFrom(1 + 2 ** -52, 1 + 1e-12, 1e300), wide(1, 1e30)),
}).map(({ sigmaMin, ratio }) => ({ sigmaMin, sigmaMax: sigmaMin * ratio }))
  .filter((r) => Number.isFinite(r.sigmaMax) && r.sigmaMax > r.sigmaMin);
const WIDE_OPTIONS: Record<ScheduleName, fc.Arbitrary<Record<string, unknown>>> = {
  karras: fc.record({ steps: steps(200), range: wideRange, rho: wide(1e-4, 1e3) })
    .map(({ range, ...o }) => ({ ...o, ...range })),
  exponential: fc.record({ steps: steps(200), range: wideRange })
    .map(({ range, ...o }) => ({ ...o, ...range })),
  polyexponential: fc.record({ steps: steps(200), range: wideRange, rho: wide(1e-4, 1e3) })
    .map(({ range, ...o }) => ({ ...o, ...range })),
  ve: fc.record({ steps: steps(200), range: wideRange })
    .map(({ range, ...o }) => ({ ...o, ...range })),
  vp: fc.record({
    steps: steps(200),
    betaD: wide(1e-6, 5000),
    betaMin: fc.oneof(fc.constant(0), wide(1e-6, 100)),
    epsS: fc.oneof(fc.constant(1), wide(1e-12, 1)),
  }),
  iddpm: fc.record({
    m: fc.integer({ min: 2, max: 3000 }),
    c1: wide(1e-12, 3),
    c2: fc.oneof(fc.constant(0), wide(1e-9, 10)),
    j0frac: fc.double({ min: 0, max: 0.99, noNaN: true }),
    stepsFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  }).map(({ m, c1, c2, j0frac, stepsFrac }) => {
    const j0 = Math.floor(j0frac * m);
    return { m, c1, c2, j0, steps: 1 + Math.floor(stepsFrac * (m - j0 - 1)) };
  }),
  "flow-matching": fc.record({
    steps: steps(200),
    shift: wide(1e-6, 1e9),
    tMax: fc.oneof(fc.constantFrom(1 - 2 ** -53, 1e-300), wide(1e-9, 0.999999)),
  }),
  discrete: fc.record({
    trainSteps: fc.oneof(fc.constant(1000), fc.integer({ min: 1, max: 3000 })),
    betaSchedule: fc.constantFrom("linear", "scaled-linear", "cosine"),
    betaStart: fc.option(wide(1e-9, 1), { nil: undefined }),
    betaEnd: fc.option(wide(1e-9, 1), { nil: undefined }),
    spacing: fc.constantFrom("leading", "trailing", "linspace"),
    offset: fc.oneof(fc.constant(0), fc.nat(60)),
    stepsFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  }).map(({ stepsFrac, trainSteps, betaSchedule, betaStart, betaEnd, ...o }) => ({
    ...o,
    trainSteps,
    betaSchedule,
    // The cosine schedule takes no β.
    ...(betaSchedule === "cosine" ? {} : { betaStart, betaEnd }),
    steps: 1 + Math.floor(stepsFrac * (trainSteps - 1)),
  })),
};

const scheduleCase = fc.constantFrom(...SCHEDULE_NAMES).chain((name) =>
  fc.oneof(SCHEDULE_OPTIONS[name], WIDE_OPTIONS[name]).map((options) => ({ name, options }))
);

/** The documented first and last non-zero levels, where a schedule documents them. */
function documentedEnds(
  name: ScheduleName,
  o: Record<string, number>,
): [number, number, number?] | null {
  switch (name) {
    case "karras":
    case "exponential":
    case "polyexponential":
    case "ve":
      return [o.sigmaMax, o.sigmaMin];
    case "vp": {
      // t = 1 + r(ε_s − 1) rounds at 1's scale: relative to a small ε_s, the last t (and σ) is
      // off by about 2⁻⁵³/ε_s.
      const sigma = (t: number) => Math.sqrt(Math.expm1(0.5 * o.betaD * t * t + o.betaMin * t));
      return [sigma(1), sigma(o.epsS), 1e-12 + 2 ** -52 / o.epsS];
    }
    case "flow-matching": {
      const shifted = (o.shift * o.tMax) / (1 + (o.shift - 1) * o.tMax);
      return [shifted / (1 - shifted), NaN]; // the last level is σ at tMax / steps
    }
    default:
      return null;
  }
}

Deno.test("every schedule gives steps + 1 finite, strictly decreasing levels ending in 0 at its documented ends, or a RangeError naming its options", () => {
  fc.assert(
    fc.property(scheduleCase, ({ name, options }) => {
      const label = fc.stringify({ name, options });
      let sigmas: Float64Array;
      try {
        sigmas = (SCHEDULES[name] as (o: Record<string, unknown>) => Float64Array)(options);
      } catch (error) {
        // Options in their ranges whose levels cannot be represented: a RangeError naming them.
        if (!(error instanceof RangeError)) throw error;
        const named = Object.keys(options).filter((k) => error.message.includes(`"${k}"`));
        assert.ok(named.length > 0, `${label}: "${error.message}" names none of the options`);
        return;
      }
      const n = options.steps as number;
      assert.equal(sigmas.length, n + 1, label);
      assert.equal(sigmas[n], 0, `${label}: ends in 0`);
      for (let i = 0; i < n; i++) {
        if (!(Number.isFinite(sigmas[i]) && sigmas[i] > sigmas[i + 1])) {
          assert.fail(`${label}: level ${i} is ${sigmas[i]}, level ${i + 1} ${sigmas[i + 1]}`);
        }
      }
      const ends = documentedEnds(name, options as Record<string, number>);
      if (ends !== null) {
        const rtol = ends[2] ?? 1e-12;
        const near = (a: number, b: number) => Math.abs(a - b) <= rtol * b;
        assert.ok(near(sigmas[0], ends[0]), `${label}: first level ${sigmas[0]}, not ${ends[0]}`);
        if (n > 1 && !Number.isNaN(ends[1])) {
          assert.ok(
            near(sigmas[n - 1], ends[1]),
            `${label}: last level ${sigmas[n - 1]}, not ${ends[1]}`,
          );
        }
      }
    }),
    { numRuns: Math.max(5, Math.round(RUNS * 0.25)), seed: SEED },
  );
});

// ---------------------------------------------------------------------------------------------
// sample(): every sampler, on wasm against the reference.

type SamplerName = keyof typeof SAMPLERS;
const SAMPLER_NAMES = Object.keys(SAMPLERS) as SamplerName[];
const parameterisation = fc.constantFrom("vp", "sub-vp", "ve", "iddpm", "edm", "flow");
const noiseOptions = fc.record(
  {
    eta: fc.double({ min: 0, max: 1.5, noNaN: true }),
    sNoise: fc.double({ min: 0.5, max: 1.2, noNaN: true }),
  },
  { requiredKeys: [] },
);
const churn = fc.option(
  fc.record({
    sChurn: fc.double({ min: 0, max: 40, noNaN: true }),
    sTmin: fc.constantFrom(0, 0.05),
    sTmax: fc.constantFrom(Infinity, 50),
    sNoise: fc.constantFrom(1, 1.003),
  }),
  { nil: undefined },
);

/** Random options of each sampler (`churn` for the ones that take it). */
const SAMPLER_OPTIONS: Record<SamplerName, fc.Arbitrary<Record<string, unknown>>> = {
  euler: fc.record({ churn }),
  heun: fc.record({ churn }),
  dpm2: fc.record({ churn }),
  lms: fc.record({ order: fc.integer({ min: 1, max: 4 }) }, { requiredKeys: [] }),
  "dpmpp-2m": fc.constant({}),
  unipc: fc.record({
    order: fc.integer({ min: 1, max: 3 }),
    variant: fc.constantFrom("bh1", "bh2"),
  }, {
    requiredKeys: [],
  }),
  ipndm: fc.record({ order: fc.integer({ min: 1, max: 4 }) }, { requiredKeys: [] }),
  "euler-ancestral": noiseOptions,
  "dpmpp-2s-ancestral": noiseOptions,
  "dpmpp-2m-sde": noiseOptions,
  "dpmpp-3m-sde": noiseOptions,
  restart: fc.record({
    tMin: fc.double({ min: 0.05, max: 0.5, noNaN: true }),
    tMax: fc.double({ min: 0.6, max: 5, noNaN: true }),
    restartSteps: fc.integer({ min: 1, max: 4 }),
    restartTimes: fc.integer({ min: 0, max: 3 }),
    sNoise: fc.constantFrom(1, 1.003),
  }, { requiredKeys: [] }),
  ddim: fc.record({ eta: fc.double({ min: 0, max: 1, noNaN: true }) }, { requiredKeys: [] }),
  ddpm: fc.constant({}),
  ode: fc.record({ parameterisation, order: fc.integer({ min: 1, max: 2 }) }, { requiredKeys: [] }),
  "probability-flow": fc.record({
    sde: parameterisation,
    rtol: fc.constantFrom(1e-4, 1e-3, 1e-2),
    atol: fc.constantFrom(1e-4, 1e-3, 1e-2),
  }, { requiredKeys: ["rtol", "atol"] }),
  "reverse-sde": fc.record({ sde: parameterisation }, { requiredKeys: [] }),
  pc: fc.record({
    sde: parameterisation,
    snr: fc.double({ min: 0, max: 0.3, noNaN: true }),
    correctorSteps: fc.integer({ min: 0, max: 2 }),
  }, { requiredKeys: [] }),
  // 100 Langevin steps per level by default: a few keep a case short. The step is ε·σ_i²/σ_L²
  // on a score of size 1/σ_i², so ε must be small against σ_L² (NCSN: ε/σ_L² = 0.2) or the
  // iteration amplifies rounding: `stepSize` here is that fraction, scaled in runOptions.
  "annealed-langevin": fc.record({
    stepSize: fc.double({ min: 1e-3, max: 0.5, noNaN: true }),
    langevinSteps: fc.integer({ min: 1, max: 4 }),
  }),
};

/** Short schedules for whole runs (few steps; σ_max ≤ 80 where it is an option). */
const runSchedule = fc.constantFrom(...SCHEDULE_NAMES).chain((name) =>
  SCHEDULE_OPTIONS[name].map((options) => {
    const short = { ...options, steps: Math.min(options.steps as number, 6) };
    if ("sigmaMax" in options) {
      const sigmaMax = Math.min(options.sigmaMax as number, 80);
      Object.assign(short, {
        sigmaMax,
        sigmaMin: Math.min(options.sigmaMin as number, sigmaMax / 1.5),
      });
    }
    return { name, options: short };
  })
);

const sampleCase = fc.constantFrom(...SAMPLER_NAMES).chain((sampler) =>
  fc.record({
    sampler: fc.constant(sampler),
    options: SAMPLER_OPTIONS[sampler],
    schedule: runSchedule,
    batch: batchSize(1, 1031),
    dim: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(67)),
    components: fc.integer({ min: 1, max: 3 }),
    mixtureSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    seed: u32,
    firstSample: fc.oneof(fc.constant(0), fc.nat(1000)),
  })
).filter((c) => c.batch * c.dim <= 1031 * 67 && steepestDrop(c.schedule) <= 1e3);

/**
 * The largest σ_i/σ_{i+1} of a schedule (above 0). A step that drops 10⁴-fold (Karras with
 * ρ < 1) lands next to the data from far away, where the mixture's component is decided by
 * log-likelihood differences float32 cannot resolve: such runs differ between any two float32
 * kernels by the distance between components, so they are left out.
 */
function steepestDrop(schedule: { name: ScheduleName; options: Record<string, unknown> }): number {
  const sigmas = (SCHEDULES[schedule.name] as (o: Record<string, unknown>) => Float64Array)(
    schedule.options,
  );
  let drop = 1;
  for (let i = 0; i + 1 < sigmas.length && sigmas[i + 1] > 0; i++) {
    drop = Math.max(drop, sigmas[i] / sigmas[i + 1]);
  }
  return drop;
}

type SampleCase = typeof sampleCase extends fc.Arbitrary<infer T> ? T : never;

function runOptions(c: SampleCase, backend: "js" | "wasm"): SampleOptions {
  const { means, variances, weights } = mixtureParameters(
    c.components,
    c.dim,
    c.mixtureSeed,
    false,
  );
  const mixture = new GaussianMixture({ means, variances, weights, backend });
  const { churn, ...samplerOptions } = c.options;
  const sigmas = (SCHEDULES[c.schedule.name] as (o: Record<string, unknown>) => Float64Array)(
    c.schedule.options,
  );
  if (c.sampler === "annealed-langevin" && samplerOptions.stepSize !== undefined) {
    const last = sigmas[sigmas.length - 2]; // σ_L, the last level above 0
    samplerOptions.stepSize = (samplerOptions.stepSize as number) * last * last;
  }
  return {
    denoiser: mixture.denoiser,
    batch: c.batch,
    dim: c.dim,
    sigmas,
    sampler: c.sampler,
    samplerOptions,
    ...(churn === undefined ? {} : { churn: churn as SampleOptions["churn"] }),
    seed: c.seed,
    firstSample: c.firstSample,
    backend,
  };
}

property(
  "sample() on wasm follows the reference for every sampler, schedule and option",
  0.15,
  sampleCase,
  async (_wasm, c) => {
    const label = fc.stringify(c);
    const actual = await sample(runOptions(c, "wasm"));
    assert.ok(actual.every(Number.isFinite), `${label}: not finite`);
    // Rows are independent (noise depends on (seed, sample) only), so the first rows of a large
    // run are a small run. Large runs are here for the work split across the workers (the same
    // bits at one thread and at two, checked by `property`); against the reference only their
    // first 64 rows: among thousands of 67-dim rows, one now and then sits on a likelihood tie
    // between two components at some step, where float32 kernels may take either branch.
    const rows = Math.min(c.batch, c.batch * c.dim > 4096 ? 64 : c.batch);
    const expected = await sample({ ...runOptions(c, "js"), batch: rows });
    assert.ok(expected.every(Number.isFinite), `${label}: the reference is not finite`);
    // The mixture's outputs differ from the reference's by float32 roundings (2e−4 above); a
    // few steps carry them to the tolerance of wasm_test.ts's whole runs. The state starts at
    // σ₀·z, where float32 rounding is absolute (about 2⁻²⁴·σ₀·|z| an operation), and a step to
    // σ = 0 cancels it down to the data's scale: a large σ₀ (iDDPM's reach 1e4) adds that.
    // Second-order corrections and multistep terms read (x − D)/σ_{i+1}, where one float32 ulp
    // of D (backends round the mixture differently) is amplified up to σ_i/σ_{i+1}-fold: a
    // schedule dropping from 0.5 to 5e−6 in one step (vp with a small ε_s) adds that.
    const sigmas = runOptions(c, "js").sigmas as Float64Array;
    let drop = 1;
    for (let i = 0; i + 1 < sigmas.length && sigmas[i + 1] > 0; i++) {
      drop = Math.max(drop, sigmas[i] / sigmas[i + 1]);
    }
    const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
    const head = actual.subarray(0, rows * c.dim);
    assertClose(head, expected, 2e-3, label, 2 ** -18 * sigmas[0] + 2 ** -20 * drop * scale);
    return actual;
  },
);

// ---------------------------------------------------------------------------------------------
// Bad options.

const mixtureDenoiser =
  new GaussianMixture({ means: [[0, 1]], variances: [[1, 0.5]], weights: [1] }).denoiser;
const validRun = (): SampleOptions => ({
  denoiser: mixtureDenoiser,
  batch: 3,
  dim: 2,
  sigmas: SCHEDULES.karras({ steps: 4 }),
  sampler: "heun",
  seed: 1,
});

/** A bad value of one argument: what to change, and the name the error must show. */
type BadOption = { argument: string; run: (at: number, value: number) => unknown };

const withSigma = (at: number, value: number) => {
  const sigmas = Array.from(SCHEDULES.karras({ steps: 4 }));
  sigmas[at % sigmas.length] = value;
  return sigmas;
};
const run = (change: Partial<Record<keyof SampleOptions, unknown>>, backend: "js" | "wasm") =>
  sample({ ...validRun(), backend, ...change } as SampleOptions);

const BAD_SAMPLE_OPTIONS: Record<string, BadOption & { backend?: true }> = {
  "a non-finite σ": {
    argument: "sigmas",
    run: (at, v) => withSigma(at, [NaN, Infinity, -Infinity][v % 3]),
  },
  "a negative σ": { argument: "sigmas", run: (at) => withSigma(at, -0.5) },
  "σ going up": { argument: "sigmas", run: (at) => withSigma(at % 4 + 1, 1e6) },
  "one σ": { argument: "sigmas", run: () => [80] },
  "σ not numbers": { argument: "sigmas", run: () => ["80", 0] },
  "an unknown sampler": {
    argument: "sampler",
    run: (_, v) => ["euler_a", "Heun", "", "dpm++"][v % 4],
  },
  "a bad batch": { argument: "batch", run: (_, v) => [0, -1, 1.5, NaN, Infinity][v % 5] },
  "a bad dim": { argument: "dim", run: (_, v) => [0, -2, 0.5, NaN][v % 4] },
  "a bad seed": { argument: "seed", run: (_, v) => [-1, 2 ** 32, 0.5, NaN][v % 4] },
  "a bad firstSample": { argument: "firstSample", run: (_, v) => [-1, 2 ** 32, 1.5][v % 3] },
  "a bad backend": { argument: "backend", run: (_, v) => ["cuda", "WASM", 1][v % 3] },
  "a denoiser that is no function": { argument: "denoiser", run: () => ({}) },
  "xT of the wrong length": { argument: "xT", run: (at) => new Float32Array(6 + 1 + (at % 5)) },
  "xT not finite": {
    argument: "xT",
    run: (at) => new Float32Array(6).fill(1).fill(NaN, at % 6, at % 6 + 1),
  },
};

/** Bad sampler options: sampler, options, and the name the error must show. */
const BAD_SAMPLER_OPTIONS: [SamplerName, Record<string, unknown>, string][] = [
  ["lms", { order: 5 }, "order"],
  ["lms", { order: 0 }, "order"],
  ["unipc", { variant: "bh3" }, "variant"],
  ["euler-ancestral", { eta: -1 }, "eta"],
  ["dpmpp-2m-sde", { sNoise: NaN }, "sNoise"],
  ["restart", { restartSteps: -2 }, "restartSteps"],
  ["restart", { tMin: 2, tMax: 1 }, "tMax"],
  ["ode", { parameterisation: "cosine" }, "parameterisation"],
  ["probability-flow", { rtol: 0 }, "rtol"],
  ["pc", { correctorSteps: -1 }, "correctorSteps"],
  ["annealed-langevin", { langevinSteps: 0 }, "langevinSteps"],
  ["heun", { order: 2 }, "order"], // unknown for heun
  ["euler", { churn: { sChurn: -1 } }, "churn.sChurn"],
  ["dpm2", { churn: { sChurn: 1, sNoise: -1 } }, "churn.sNoise"],
];

/** Bad schedule options: schedule, options, and the name the error must show. */
const BAD_SCHEDULE_OPTIONS: [ScheduleName, Record<string, unknown>, string][] = [
  ["karras", { steps: -3 }, "steps"],
  ["karras", { steps: 0 }, "steps"],
  ["exponential", { steps: 2.5 }, "steps"],
  ["ve", { steps: NaN }, "steps"],
  ["vp", { steps: Infinity }, "steps"],
  ["karras", { steps: 4, sigmaMin: 2, sigmaMax: 1 }, "sigmaMax"],
  ["exponential", { steps: 4, sigmaMin: 0 }, "sigmaMin"],
  ["polyexponential", { steps: 4, sigmaMax: NaN }, "sigmaMax"],
  ["karras", { steps: 4, rho: 0 }, "rho"],
  ["ve", { steps: 4, sigmaMin: -1 }, "sigmaMin"],
  ["vp", { steps: 4, epsS: 0 }, "epsS"],
  ["vp", { steps: 4, betaD: -1 }, "betaD"],
  ["iddpm", { steps: 4, m: 1 }, "m"],
  ["flow-matching", { steps: 4, tMax: 1 }, "tMax"],
  ["flow-matching", { steps: 4, shift: -2 }, "shift"],
  ["discrete", { steps: 4, betaSchedule: "quadratic" }, "betaSchedule"],
  ["discrete", { steps: 2000 }, "steps"],
];

/** Bad mixtures and the name the error must show. */
const BAD_MIXTURES: [Record<string, unknown>, string][] = [
  [{ means: [[0, 1]], variances: [[0, 1]], weights: [1] }, "variances"],
  [{ means: [[0, 1]], variances: [[1, NaN]], weights: [1] }, "variances"],
  [{ means: [[0, 1], [1]], variances: [[1, 1], [1, 1]], weights: [1, 1] }, "means"],
  [{ means: [[0, Infinity]], variances: [[1, 1]], weights: [1] }, "means"],
  [{ means: [[0, 1]], variances: [[1, 1]], weights: [-1] }, "weights"],
  [{ means: [[0, 1], [1, 0]], variances: [[1, 1], [1, 1]], weights: [0, 0] }, "weights"],
];

const badCase = fc.record({
  kind: fc.constantFrom("sample", "sampler", "schedule", "mixture"),
  which: fc.nat(),
  at: fc.nat(),
  value: fc.nat(),
  backend: fc.constantFrom("js" as const, "wasm" as const),
});

/** Passes when `call` throws or rejects with a TypeError or RangeError naming `argument`. */
async function assertNamedError(call: () => unknown, argument: string, label: string) {
  let error: unknown = undefined;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  if (!(error instanceof TypeError || error instanceof RangeError)) {
    assert.fail(
      `${label}: expected a TypeError or RangeError naming "${argument}" but got ${error}`,
    );
  }
  assert.ok(
    error.message.includes(`"${argument}"`),
    `${label}: "${error.message}" does not name "${argument}"`,
  );
  assert.match(error.message, /^[A-Z]/, `${label}: sentence case`);
}

property(
  "bad options are a TypeError or RangeError naming the argument",
  0.15,
  badCase,
  async (_wasm, c) => {
    const label = fc.stringify(c);
    switch (c.kind) {
      case "sample": {
        const entries = Object.entries(BAD_SAMPLE_OPTIONS);
        const [what, bad] = entries[c.which % entries.length];
        const value = bad.run(c.at, c.value);
        await assertNamedError(
          () => run({ [bad.argument]: value }, c.backend),
          bad.argument,
          `${label} (${what})`,
        );
        break;
      }
      case "sampler": {
        const [sampler, options, argument] =
          BAD_SAMPLER_OPTIONS[c.which % BAD_SAMPLER_OPTIONS.length];
        const { churn, ...samplerOptions } = options;
        const change = churn === undefined
          ? { sampler, samplerOptions }
          : { sampler, samplerOptions, churn };
        await assertNamedError(() => run(change, c.backend), argument, label);
        break;
      }
      case "schedule": {
        const [name, options, argument] =
          BAD_SCHEDULE_OPTIONS[c.which % BAD_SCHEDULE_OPTIONS.length];
        const schedule = SCHEDULES[name] as (o: Record<string, unknown>) => Float64Array;
        await assertNamedError(() => schedule(options), argument, label);
        break;
      }
      case "mixture": {
        const [options, argument] = BAD_MIXTURES[c.which % BAD_MIXTURES.length];
        await assertNamedError(
          () => new GaussianMixture({ ...options, backend: c.backend } as never),
          argument,
          label,
        );
        break;
      }
    }
  },
);
