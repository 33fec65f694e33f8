/** The four model adapters, each fed the exact model of a Gaussian N(μ, s²). */
import assert from "node:assert/strict";
import {
  denoiserFromEpsilon,
  denoiserFromScore,
  denoiserFromVelocity,
  denoiserFromVPrediction,
  preconditionedDenoiser,
} from "../../src/diffusion/mod.ts";

const mu = 0.7, s2 = 0.36;
const exactD = (x: number, sigma: number) => mu + (s2 / (s2 + sigma * sigma)) * (x - mu);
const info = { batch: 3, dim: 1 };
const x = Float32Array.from([-3, 0.2, 5]);

async function assertExact(
  denoise: (x: Float32Array, s: number, i: typeof info) => unknown,
  sigma: number,
) {
  const out = (await denoise(x, sigma, info)) as Float32Array;
  for (let i = 0; i < x.length; i++) {
    assert.ok(
      Math.abs(out[i] - exactD(x[i], sigma)) < 2e-5 * Math.max(1, Math.abs(exactD(x[i], sigma))),
      `σ=${sigma} i=${i}: ${out[i]}`,
    );
  }
}

Deno.test("denoiserFromEpsilon() recovers D from the exact ε-prediction of a VP model", async () => {
  // x_t = x/√(1+σ²); E[ε | x_t] = (x − D(x; σ))/σ.
  const model = (xt: Float32Array, sigma: number) =>
    xt.map((v) => {
      const xs = v * Math.sqrt(1 + sigma * sigma);
      return (xs - exactD(xs, sigma)) / sigma;
    });
  for (const sigma of [0.05, 1, 20]) await assertExact(denoiserFromEpsilon(model), sigma);
  // A timestep map reaches the model.
  let seen = -1;
  const probe = denoiserFromEpsilon((xt, t) => ((seen = t), new Float32Array(xt.length)), {
    timestep: (s) => 10 * s,
  });
  probe(x, 2, info);
  assert.equal(seen, 20);
});

Deno.test("denoiserFromVPrediction() recovers D from the exact v-prediction", async () => {
  // v = α·ε − σ_t·x₀ with α = 1/√(1+σ²), σ_t = σα.
  const model = (xt: Float32Array, sigma: number) =>
    xt.map((v) => {
      const alpha = 1 / Math.sqrt(1 + sigma * sigma), xs = v / alpha, d = exactD(xs, sigma);
      return alpha * ((xs - d) / sigma) - sigma * alpha * d;
    });
  for (const sigma of [0.05, 1, 20]) await assertExact(denoiserFromVPrediction(model), sigma);
});

Deno.test("denoiserFromScore() recovers D by Tweedie's formula", async () => {
  const model = (xs: Float32Array, sigma: number) =>
    xs.map((v) => -(v - mu) / (s2 + sigma * sigma));
  for (const sigma of [0.05, 1, 20]) await assertExact(denoiserFromScore(model), sigma);
});

Deno.test("denoiserFromVelocity() recovers D from the exact flow-matching velocity", async () => {
  // x_t = (1−t)x₀ + tε, v = ε − x₀ = (x_t − E[x₀|x_t])/t with σ = t/(1−t), x̂ = x_t/(1−t).
  const times: number[] = [];
  const model = (xt: Float32Array, t: number) => {
    times.push(t);
    return Promise.resolve(xt.map((v) => (v - exactD(v / (1 - t), t / (1 - t))) / t));
  };
  for (const sigma of [0.05, 1, 20]) await assertExact(denoiserFromVelocity(model), sigma);
  assert.ok(Math.abs(times[1] - 0.5) < 1e-15); // σ = 1 ⇔ t = ½
});

Deno.test("model adapters reject non-functions and unknown options", () => {
  for (
    const adapter of [
      denoiserFromEpsilon,
      denoiserFromVPrediction,
      denoiserFromScore,
      denoiserFromVelocity,
    ]
  ) {
    assert.throws(() => adapter(42 as never), /"model"/);
    assert.throws(() => adapter((v) => v, { scale: 2 } as never), /Unknown option "scale"/);
    assert.throws(() => adapter((v) => v, { timestep: 3 } as never), /"timestep"/);
  }
});

Deno.test("adapters and preconditionedDenoiser() write into info.out and accept a network that returns it", async () => {
  const epsilon = (xt: Float32Array, sigma: number) =>
    xt.map((v) => {
      const xs = v * Math.sqrt(1 + sigma * sigma);
      return (xs - exactD(xs, sigma)) / sigma;
    });
  // The same model, writing its output into the lent buffer (the adapter then combines in place).
  const inPlace = (xt: Float32Array, sigma: number, i: { out?: Float32Array }) => {
    const out = i.out!;
    out.set(epsilon(xt, sigma));
    return out;
  };
  for (const model of [epsilon, inPlace]) {
    const out = new Float32Array(3);
    const result = await denoiserFromEpsilon(model)(x, 1, { ...info, out });
    assert.equal(result, out, "the result is info.out");
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(out[i] - exactD(x[i], 1)) < 2e-5, `${i}`);
  }
  const network = (input: Float32Array) => input.map((v) => 2 * v);
  const out = new Float32Array(3);
  const result = await preconditionedDenoiser(network, "edm")(x, 0.5, { ...info, out });
  assert.equal(result, out);
  const fresh = await preconditionedDenoiser(network, "edm")(x, 0.5, info);
  assert.deepEqual(out, fresh);
  assert.throws(
    () => denoiserFromEpsilon(epsilon)(x, 1, { ...info, out: new Float32Array(2) }),
    /"info.out" to be a Float32Array of 3 values/,
  );
});
