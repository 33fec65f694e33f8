import assert from "node:assert/strict";
import { dispose, init } from "../../src/mod.ts";
import {
  GaussianMixture,
  karrasSigmas,
  sample,
  type SampleOptions,
  SAMPLERS,
} from "../../src/diffusion/mod.ts";

// Tied coordinates: each component puts both coordinates at the same place, so knowing the
// first tells the second (the posterior mode), with spread √v around it.
const v = 0.05;
const tied = new GaussianMixture({
  means: [[-2, -2], [2, 2]],
  variances: [[v, v], [v, v]],
  weights: [0.5, 0.5],
  backend: "js",
});

/** Rows alternate known first coordinate +2, −2; the second is generated. */
function halfKnown(batch: number) {
  const known = new Float32Array(batch * 2);
  for (let r = 0; r < batch; r++) known[2 * r] = r % 2 ? -2 : 2;
  return { known, mask: Float32Array.of(1, 0) }; // the mask as one row, broadcast
}

const base = (extra: Partial<SampleOptions> = {}): SampleOptions => ({
  denoiser: tied.denoiser,
  batch: 1000,
  dim: 2,
  sigmas: karrasSigmas({ steps: 20, sigmaMax: 40 }),
  sampler: "euler-ancestral",
  seed: 1,
  backend: "js",
  ...extra,
});

Deno.test("sample({ inpaint }) keeps the known values exactly and finds the posterior mode of the rest", async () => {
  for (const sampler of ["euler-ancestral", "heun", "ddpm", "dpmpp-2s-ancestral"] as const) {
    if (!(sampler in SAMPLERS)) continue;
    const { known, mask } = halfKnown(1000);
    const out = await sample(
      base({ sampler: sampler as never, inpaint: { known, mask, resample: 5 } }),
    );
    let atMode = 0, spread = 0;
    for (let r = 0; r < 1000; r++) {
      assert.equal(out[2 * r], known[2 * r], `${sampler} row ${r}: the known value`);
      const d = out[2 * r + 1] - known[2 * r];
      if (Math.abs(d) < 1) atMode++, spread += d * d;
    }
    assert.ok(atMode >= 995, `${sampler}: ${atMode} of 1000 at the posterior mode`);
    const sd = Math.sqrt(spread / atMode);
    assert.ok(Math.abs(sd - Math.sqrt(v)) < 0.06, `${sampler}: spread ${sd}`);
  }
});

Deno.test("sample({ inpaint }) resampling moves a two-way posterior toward its true odds", async () => {
  // Given x₀ = 2, x₁ is 2 (component 2) or −2 (component 3) with odds 0.35 : 0.15 = 70% : 30%,
  // while the prior alone says 35% : 65%. One pass (r = 1) harmonises poorly; RePaint's
  // resampling closes most of the gap.
  const three = new GaussianMixture({
    means: [[-2, -2], [2, 2], [2, -2]],
    variances: [[v, v], [v, v], [v, v]],
    weights: [0.5, 0.35, 0.15],
    backend: "js",
  });
  const up = async (resample: number) => {
    const out = await sample(base({
      denoiser: three.denoiser,
      batch: 2000,
      inpaint: { known: Float32Array.of(2, 0), mask: Float32Array.of(1, 0), resample },
    }));
    let count = 0;
    for (let r = 0; r < 2000; r++) count += out[2 * r + 1] > 0 ? 1 : 0;
    return count / 2000;
  };
  const once = await up(1), ten = await up(10);
  assert.ok(Math.abs(ten - 0.7) < 0.06, `r = 10: ${ten}`);
  assert.ok(Math.abs(ten - 0.7) < Math.abs(once - 0.7) - 0.1, `r = 1: ${once}, r = 10: ${ten}`);
});

Deno.test("sample({ inpaint }) costs resample × the steps above σ = 0, and jump sets where it goes back", async () => {
  const steps = 8, sigmas = karrasSigmas({ steps });
  const { known, mask } = halfKnown(4);
  const count = async (inpaint: SampleOptions["inpaint"], sampler = "euler" as const) => {
    let calls = 0;
    const reports: number[] = [];
    await sample(base({
      batch: 4,
      sigmas,
      sampler,
      denoiser: (x, s, i) => (calls++, tied.denoiser(x, s, i)),
      onStep: (st) => reports.push(st.step),
      inpaint,
    }));
    return { calls, reports };
  };
  assert.equal((await count({ known, mask })).calls, steps);
  const r3 = await count({ known, mask, resample: 3 });
  assert.equal(r3.calls, 3 * (steps - 1) + 1); // the step to σ = 0 is taken once
  assert.deepEqual(r3.reports.slice(0, 7), [0, 0, 0, 1, 1, 1, 2]);
  // jump 2, r 2: after steps 0-1 (at σ₂, 6 steps from the end) go back to σ₀ once, and so on.
  const j2 = await count({ known, mask, resample: 2, jump: 2 });
  assert.deepEqual(j2.reports, [0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7]);
  assert.equal((await count({ known, mask, resample: 2 }, "heun" as never)).calls, 2 * 2 * 7 + 1);
});

Deno.test("sample({ inpaint }) gives the same samples on the wasm backend, known values exact", async () => {
  await init({ threads: 2 });
  try {
    const { known, mask } = halfKnown(64);
    const opts = base({ batch: 64, inpaint: { known, mask, resample: 2 } });
    const onJs = await sample(opts);
    const onWasm = await sample({ ...opts, backend: "wasm" });
    for (let i = 0; i < onJs.length; i++) {
      assert.ok(Math.abs(onJs[i] - onWasm[i]) < 1e-3, `${i}: ${onJs[i]} vs ${onWasm[i]}`);
      if (i % 2 === 0) assert.equal(onWasm[i], known[i]);
    }
  } finally {
    await dispose();
  }
});

Deno.test("sample({ inpaint }) noise of a sample depends only on (seed, sample)", async () => {
  const { known, mask } = halfKnown(6);
  const opts = base({ batch: 6, inpaint: { known, mask, resample: 2 } });
  const whole = await sample(opts);
  const tail = await sample({
    ...opts,
    batch: 2,
    firstSample: 4,
    inpaint: { known: known.subarray(8), mask, resample: 2 },
  });
  assert.deepEqual(tail, whole.subarray(8));
});

Deno.test("image-to-image: xT = x₀ + σ·z and a schedule that starts at σ", async () => {
  // From a point near the +2 mode, a small starting σ keeps the sample near it; a large one
  // forgets it (either mode).
  const batch = 400, x0 = new Float32Array(batch * 2).fill(1.8);
  const run = async (sigmaStart: number) => {
    const z = new GaussianMixture({ means: [[0, 0]], variances: [[1, 1]], weights: [1] })
      .sample(batch, 3);
    const xT = x0.map((x, i) => x + sigmaStart * z[i]);
    const out = await sample(base({
      batch,
      xT,
      sigmas: karrasSigmas({ steps: 10, sigmaMax: sigmaStart }),
      sampler: "heun",
    }));
    let near = 0;
    for (let r = 0; r < batch; r++) near += out[2 * r] > 0 ? 1 : 0;
    return near / batch;
  };
  assert.equal(await run(0.5), 1);
  const forgotten = await run(40);
  assert.ok(forgotten > 0.4 && forgotten < 0.6, `${forgotten}`);
});

Deno.test("sample({ inpaint }) rejects bad options by name", async () => {
  const { known, mask } = halfKnown(4);
  const cases: [unknown, RegExp, ErrorConstructor, string?][] = [
    [
      { known, mask: new Float32Array(3) },
      /"inpaint.mask" to hold batch × dim = 8 or dim = 2 values but found 3/,
      RangeError,
    ],
    [{ known: [1, 2], mask }, /"inpaint.known" to be a Float32Array/, TypeError],
    [
      { known, mask: Float32Array.of(1, 2) },
      /"inpaint.mask" to hold values in \[0, 1\] but found 2 at index 1/,
      RangeError,
    ],
    [
      { known: known.map((k, i) => i === 2 ? NaN : k), mask },
      /"inpaint.known" to be finite where the mask is set but found NaN at index 2/,
      RangeError,
    ],
    [{ known, mask, resample: 0 }, /"inpaint.resample"/, RangeError],
    [{ known, mask, jump: 1.5 }, /"inpaint.jump"/, TypeError],
    [{ known, mask, every: 2 }, /Unknown option "every" in "inpaint"/, RangeError],
    [
      { known, mask },
      /a sampler that runs step by step with "inpaint" but found "probability-flow"/,
      RangeError,
      "probability-flow",
    ],
    [42, /"inpaint" to be an options object/, TypeError],
  ];
  for (const [inpaint, pattern, type, sampler] of cases) {
    await assert.rejects(
      sample(base({ batch: 4, inpaint: inpaint as never, sampler: (sampler ?? "euler") as never })),
      (e: Error) => e instanceof type && pattern.test(e.message),
      pattern.source,
    );
  }
  // NaN where the mask is 0 is never read.
  const out = await sample(base({
    batch: 4,
    inpaint: { known: known.map((k, i) => i % 2 ? NaN : k), mask },
  }));
  assert.ok(out.every(Number.isFinite));
});
