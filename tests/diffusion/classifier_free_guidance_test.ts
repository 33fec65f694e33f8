import assert from "node:assert/strict";
import {
  classifierFreeGuidance,
  type Denoiser,
  type DenoiserInfo,
  karrasSigmas,
  sample,
} from "../../src/diffusion/mod.ts";

// Two Gaussian "classes": D(x; σ) = μ + s²/(s²+σ²)(x − μ) for N(μ, s²).
const gaussian = (mu: number, s: number): Denoiser => (x, sigma) =>
  x.map((v) => mu + ((s * s) / (s * s + sigma * sigma)) * (v - mu));
const cond = gaussian(2, 0.5), uncond = gaussian(0, 1.5);

/** One network for both: rows before info.unconditionalFrom are class 2, the rest null. */
function batchedNetwork(calls: { rows: number[] }): Denoiser {
  return (x, sigma, info) => {
    calls.rows.push(info.batch);
    const split = info.unconditionalFrom ?? info.batch, out = new Float32Array(x.length);
    const c = cond(x, sigma, info) as Float32Array, u = uncond(x, sigma, info) as Float32Array;
    for (let i = 0; i < x.length; i++) out[i] = i < split * info.dim ? c[i] : u[i];
    return out;
  };
}

const info: DenoiserInfo = { batch: 3, dim: 2 };
const x = Float32Array.from([-3, -1, 0, 0.5, 2, 4]);

Deno.test("classifierFreeGuidance() is D_u + w(D_c − D_u) inside the interval and D_c outside", () => {
  const w = 4;
  const guided = classifierFreeGuidance({
    conditional: cond,
    unconditional: uncond,
    scale: w,
    sigmaInterval: [0.5, 3],
  });
  for (const sigma of [0.2, 0.5, 1, 3, 10]) {
    const c = cond(x, sigma, info) as Float32Array, u = uncond(x, sigma, info) as Float32Array;
    const got = guided(x, sigma, info) as Float32Array;
    assert.ok(got instanceof Float32Array, "a synchronous model gives a synchronous denoiser");
    const within = sigma >= 0.5 && sigma <= 3;
    for (let i = 0; i < x.length; i++) {
      const expected = within ? u[i] + w * (c[i] - u[i]) : c[i];
      assert.ok(Math.abs(got[i] - expected) < 1e-5, `σ ${sigma} [${i}]: ${got[i]} vs ${expected}`);
    }
  }
});

Deno.test("classifierFreeGuidance() with scale 1 is exactly the conditional denoiser, 0 the unconditional", () => {
  const one = classifierFreeGuidance({ conditional: cond, unconditional: uncond, scale: 1 });
  assert.deepEqual(one(x, 0.7, info), cond(x, 0.7, info));
  const zero = classifierFreeGuidance({ conditional: cond, unconditional: uncond, scale: 0 });
  const u = uncond(x, 0.7, info) as Float32Array, got = zero(x, 0.7, info) as Float32Array;
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(got[i] - u[i]) < 1e-6);
});

Deno.test("classifierFreeGuidance() batched: one call on 2·batch rows inside the interval, batch rows outside", () => {
  const calls = { rows: [] as number[] };
  const batched = classifierFreeGuidance({
    batched: batchedNetwork(calls),
    scale: 2.5,
    sigmaInterval: [0.5, 3],
  });
  const paired = classifierFreeGuidance({
    conditional: cond,
    unconditional: uncond,
    scale: 2.5,
    sigmaInterval: [0.5, 3],
  });
  for (const sigma of [0.2, 1, 10]) {
    assert.deepEqual(batched(x, sigma, info), paired(x, sigma, info), `σ ${sigma}`);
  }
  assert.deepEqual(calls.rows, [3, 6, 3]);
});

Deno.test("classifierFreeGuidance() under sample(): NFE counts guided calls; model calls follow the interval", async () => {
  const sigmas = karrasSigmas({ steps: 10, sigmaMax: 20 });
  const inside = Array.from(sigmas.subarray(0, 10)).filter((s) => s >= 0.5 && s <= 3).length;
  assert.ok(inside > 0 && inside < 10);
  let c = 0, u = 0, nfe = 0;
  const counted = (d: Denoiser, bump: () => void): Denoiser => (x, s, i) => (bump(), d(x, s, i));
  const guided = classifierFreeGuidance({
    conditional: counted(cond, () => c++),
    unconditional: counted(uncond, () => u++),
    scale: 3,
    sigmaInterval: [0.5, 3],
  });
  const base = {
    batch: 4,
    dim: 2,
    sigmas,
    sampler: "euler" as const,
    seed: 3,
    backend: "js" as const,
  };
  const a = await sample({ ...base, denoiser: guided, onStep: (st) => (nfe = st.nfe) });
  assert.deepEqual([nfe, c, u], [10, 10, inside]);
  const calls = { rows: [] as number[] };
  const b = await sample({
    ...base,
    denoiser: classifierFreeGuidance({
      batched: batchedNetwork(calls),
      scale: 3,
      sigmaInterval: [0.5, 3],
    }),
  });
  assert.equal(calls.rows.length, 10);
  assert.equal(calls.rows.filter((r) => r === 8).length, inside);
  assert.deepEqual(b, a);
});

Deno.test("classifierFreeGuidance() sharpens samples toward the condition as the scale grows", async () => {
  // Guidance with w > 1 extrapolates away from the unconditional model: the mean moves past the
  // conditional mean 2 (away from 0) and the spread shrinks below the conditional 0.5.
  const stats = async (scale: number) => {
    const out = await sample({
      denoiser: classifierFreeGuidance({ conditional: cond, unconditional: uncond, scale }),
      batch: 4000,
      dim: 1,
      sigmas: karrasSigmas({ steps: 30, sigmaMax: 20 }),
      seed: 9,
      backend: "js",
    });
    const mean = out.reduce((p, v) => p + v, 0) / out.length;
    const sd = Math.sqrt(out.reduce((p, v) => p + (v - mean) ** 2, 0) / out.length);
    return { mean, sd };
  };
  const one = await stats(1), three = await stats(3);
  assert.ok(Math.abs(one.mean - 2) < 0.05 && Math.abs(one.sd - 0.5) < 0.03, JSON.stringify(one));
  assert.ok(three.mean > one.mean + 0.05 && three.sd < one.sd, JSON.stringify(three));
});

Deno.test("classifierFreeGuidance() works with async models and lent output buffers", async () => {
  const guided = classifierFreeGuidance({
    conditional: async (x, s, i) => await cond(x, s, i),
    unconditional: (x, s, i) => {
      assert.ok(i.out instanceof Float32Array && i.out.length === x.length);
      return uncond(x, s, i);
    },
    scale: 2,
  });
  const out = new Float32Array(6);
  const pending = guided(x, 1, { ...info, out });
  assert.ok(pending instanceof Promise);
  assert.equal(await pending, out);
  const reference = classifierFreeGuidance({ conditional: cond, unconditional: uncond, scale: 2 });
  assert.deepEqual(out, reference(x, 1, info));
});

Deno.test("classifierFreeGuidance() keeps D_c safe from a model that reuses one output array", () => {
  const shared = new Float32Array(6);
  const reusing = (d: Denoiser): Denoiser => (x, s, i) =>
    shared.set(d(x, s, i) as Float32Array) ?? shared;
  const guided = classifierFreeGuidance({
    conditional: reusing(cond),
    unconditional: reusing(uncond),
    scale: 2,
  });
  const reference = classifierFreeGuidance({ conditional: cond, unconditional: uncond, scale: 2 });
  assert.deepEqual(guided(x, 1, info), reference(x, 1, info));
});

Deno.test("classifierFreeGuidance() rejects bad options by name", () => {
  const cases: [Record<string, unknown>, RegExp, ErrorConstructor][] = [
    [{ unconditional: uncond, scale: 2 }, /"conditional" to be a function/, TypeError],
    [{ conditional: cond, scale: 2 }, /"unconditional" to be a function/, TypeError],
    [{ conditional: cond, unconditional: uncond }, /"scale" to be a finite number/, TypeError],
    [{ conditional: cond, unconditional: uncond, scale: NaN }, /"scale"/, TypeError],
    [{ batched: cond, conditional: cond, scale: 2 }, /either "batched" or/, TypeError],
    [{ batched: 1, scale: 2 }, /"batched" to be a function/, TypeError],
    [
      { conditional: cond, unconditional: uncond, scale: 2, sigmaInterval: [3, 1] },
      /"sigmaInterval" to be \[lo, hi\] .* found \[3, 1\]/,
      RangeError,
    ],
    [
      { conditional: cond, unconditional: uncond, scale: 2, sigmaInterval: [-1, 1] },
      /"sigmaInterval"/,
      RangeError,
    ],
    [
      { conditional: cond, unconditional: uncond, scale: 2, gamma: 1 },
      /Unknown option "gamma"/,
      RangeError,
    ],
  ];
  for (const [opts, pattern, type] of cases) {
    assert.throws(
      () => classifierFreeGuidance(opts as never),
      (e: Error) => e instanceof type && pattern.test(e.message),
      pattern.source,
    );
  }
  const wrong = classifierFreeGuidance({
    conditional: (x) => new Float32Array(x.length - 1),
    unconditional: uncond,
    scale: 2,
  });
  assert.throws(() => wrong(x, 1, info), /"conditional" to return 6 values but found 5/);
});
