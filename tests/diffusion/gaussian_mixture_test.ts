import assert from "node:assert/strict";
import { GaussianMixture } from "../../src/diffusion/mod.ts";

const two = () =>
  new GaussianMixture({
    means: [[-2, 1], [3, 0]],
    variances: [[0.5, 0.2], [1, 2]],
    weights: [1, 3],
    backend: "js",
  });

Deno.test("GaussianMixture normalises weights and stores component-major parameters", () => {
  const gmm = two();
  assert.equal(gmm.dim, 2);
  assert.equal(gmm.components, 2);
  assert.deepEqual([...gmm.weights], [0.25, 0.75]);
  assert.deepEqual([...gmm.means], [-2, 1, 3, 0]);
  assert.deepEqual(gmm.variances, Float32Array.from([0.5, 0.2, 1, 2]));
});

Deno.test("GaussianMixture.denoiser is the exact posterior mean of one Gaussian", async () => {
  const gmm = new GaussianMixture({
    means: [[1, -1]],
    variances: [[0.25, 4]],
    weights: [1],
    backend: "js",
  });
  const x = Float32Array.from([3, 2, -1, 0]);
  for (const sigma of [0, 0.5, 10]) {
    const out = await gmm.denoiser(x, sigma, { batch: 2, dim: 2 });
    const expected = [
      1 + (0.25 / (0.25 + sigma ** 2)) * 2,
      -1 + (4 / (4 + sigma ** 2)) * 3,
      1 + (0.25 / (0.25 + sigma ** 2)) * -2,
      -1 + (4 / (4 + sigma ** 2)) * 1,
    ];
    for (let i = 0; i < 4; i++) {
      assert.ok(Math.abs(out[i] - expected[i]) < 1e-6, `σ=${sigma} i=${i}`);
    }
  }
});

Deno.test("GaussianMixture.score() is Tweedie's (D − x)/σ² and the data score at σ = 0", async () => {
  const gmm = two();
  const x = Float32Array.from([0.5, 0.5, -1, 2, 4, -3]);
  for (const sigma of [0.3, 2]) {
    const score = gmm.score(x, sigma);
    const denoised = await gmm.denoiser(x, sigma, { batch: 3, dim: 2 });
    for (let i = 0; i < 6; i++) {
      assert.ok(
        Math.abs(score[i] - (denoised[i] - x[i]) / sigma ** 2) <
          2e-4 * Math.max(1, Math.abs(score[i])),
        `σ=${sigma} i=${i}`,
      );
    }
  }
  // σ = 0, finite differences of log p.
  const logp = (a: number, b: number) =>
    Math.log(
      0.25 * Math.exp(-((a + 2) ** 2) / 1 - ((b - 1) ** 2) / 0.4) / Math.sqrt(0.5 * 0.2) +
        0.75 * Math.exp(-((a - 3) ** 2) / 2 - (b ** 2) / 4) / Math.sqrt(1 * 2),
    );
  const score = gmm.score(Float32Array.from([0.5, 0.5]), 0), h = 1e-5;
  assert.ok(Math.abs(score[0] - (logp(0.5 + h, 0.5) - logp(0.5 - h, 0.5)) / (2 * h)) < 1e-4);
  assert.ok(Math.abs(score[1] - (logp(0.5, 0.5 + h) - logp(0.5, 0.5 - h)) / (2 * h)) < 1e-4);
});

Deno.test("GaussianMixture.sample() draws components by weight with their moments", () => {
  // Means 12 apart on the first axis, so the side of 0 tells the component.
  const gmm = new GaussianMixture({
    means: [[-6, 1], [6, 0]],
    variances: [[0.5, 0.2], [1, 2]],
    weights: [1, 3],
  });
  const n = 20000, out = gmm.sample(n, 3);
  assert.equal(out.length, 2 * n);
  let light = 0;
  const sums = [[0, 0, 0, 0], [0, 0, 0, 0]];
  for (let i = 0; i < n; i++) {
    const a = out[2 * i], b = out[2 * i + 1], k = a < 0 ? 0 : 1;
    if (k === 0) light++;
    sums[k][0] += a, sums[k][1] += b, sums[k][2] += a * a, sums[k][3] += b * b;
  }
  assert.ok(Math.abs(light / n - 0.25) < 0.012, `share ${light / n}`);
  const counts = [light, n - light];
  const expected = [[-6, 1, 0.5, 0.2], [6, 0, 1, 2]];
  for (const k of [0, 1]) {
    const [ma, mb] = [sums[k][0] / counts[k], sums[k][1] / counts[k]];
    const [va, vb] = [sums[k][2] / counts[k] - ma * ma, sums[k][3] / counts[k] - mb * mb];
    assert.ok(
      Math.abs(ma - expected[k][0]) < 0.05 && Math.abs(mb - expected[k][1]) < 0.05,
      `means of ${k}`,
    );
    assert.ok(
      Math.abs(va / expected[k][2] - 1) < 0.06 && Math.abs(vb / expected[k][3] - 1) < 0.06,
      `variances of ${k}: ${va} ${vb}`,
    );
  }
});

Deno.test("GaussianMixture.sample() row i depends only on (seed, i)", () => {
  const gmm = two();
  assert.deepEqual(gmm.sample(4, 7), gmm.sample(10, 7).subarray(0, 8));
  assert.notDeepEqual(gmm.sample(4, 7), gmm.sample(4, 8));
  assert.equal(gmm.sample(0).length, 0);
});

Deno.test("GaussianMixture rejects bad parameters and inputs by name", () => {
  const ok = { means: [[0]], variances: [[1]], weights: [1] };
  assert.throws(
    () => new GaussianMixture({ ...ok, variances: [[1, 2]] }),
    /"variances" to have the shape of "means"/,
  );
  assert.throws(
    () => new GaussianMixture({ ...ok, variances: [[0]] }),
    /"variances" to hold finite numbers > 0/,
  );
  assert.throws(
    () => new GaussianMixture({ ...ok, means: [[NaN]] }),
    /"means" to hold finite numbers/,
  );
  assert.throws(
    () => new GaussianMixture({ ...ok, weights: [1, 2] }),
    /"weights" to have 1 entries/,
  );
  assert.throws(() => new GaussianMixture({ ...ok, weights: [-1] }), /"weights" to be >= 0/);
  assert.throws(
    () => new GaussianMixture({ ...ok, weights: [0] }),
    /"weights" to have a positive sum/,
  );
  assert.throws(() => new GaussianMixture({ ...ok, means: [[0], [1, 2]] }), /row 1/);
  assert.throws(
    () => new GaussianMixture({ ...ok, mean: [[0]] } as never),
    /Unknown option "mean"/,
  );
  const gmm = two();
  assert.throws(() => gmm.score(new Float32Array(3), 1), /"x" to hold whole rows of 2 values/);
  assert.throws(() => gmm.score(new Float32Array(2), -1), /"sigma"/);
  assert.throws(() => gmm.score([1, 2] as never, 1), /"x" to be a Float32Array/);
  assert.throws(() => gmm.denoiser(new Float32Array(4), 1, { batch: 2, dim: 3 }), /"info.dim"/);
  assert.throws(
    () => gmm.denoiser(new Float32Array(4), 1, { batch: 3, dim: 2 }),
    /info.batch × dim = 6/,
  );
  assert.throws(() => gmm.sample(-1), /"n"/);
  assert.throws(() => gmm.sample(1, 1.5), /"seed"/);
});
