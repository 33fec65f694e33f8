/**
 * Conformance suite of the `diffusion` kernel family: every backend against formulas computed
 * here in float64, on shapes n ∈ {0, 1, lanes − 1, several blocks + tail}.
 */
import assert from "node:assert/strict";
import { checkUpdateFlags } from "./_update_flags.ts";
import {
  type DiffusionKernels,
  type DiffusionWorkspace,
  NONE,
} from "../../src/backends/diffusion.ts";
import {
  cosSinTurnF32,
  gaussianPair,
  jsDiffusionKernels,
  logUniformF32,
} from "../../src/backends/js/diffusion.ts";

const BACKENDS: DiffusionKernels[] = [jsDiffusionKernels];
const SIZES = [0, 1, 3, 37];

function filled(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.sin(seed * 12.9898 + i * 78.233) * 3);
  return out;
}

function assertClose(actual: Float32Array, expected: ArrayLike<number>, tol: number, what: string) {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * scale,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

/** A workspace with the given buffers written in, in order from slot 0. */
function workspaceWith(k: DiffusionKernels, batch: number, dim: number, buffers: Float32Array[]) {
  const ws = k.workspace(batch, dim);
  for (const data of buffers) {
    const slot = ws.buffer();
    ws.write(slot, data);
    assert.equal(ws.firstNonFinite(slot), -1);
  }
  return ws;
}

function readSlot(ws: DiffusionWorkspace, slot: number): Float32Array {
  const out = new Float32Array(ws.size);
  ws.read(slot, out);
  return out;
}

for (const k of BACKENDS) {
  Deno.test(`${k.name}: workspace step kernels match their formulas`, () => {
    for (const n of SIZES.filter((n) => n > 0)) {
      const x = filled(n, 1), d = filled(n, 2), x2 = filled(n, 3), d2 = filled(n, 4);
      const z = filled(n, 5);
      const run = (f: (ws: DiffusionWorkspace) => void) => {
        const ws = workspaceWith(k, 1, n, [x, d, x2, d2, z]);
        try {
          f(ws);
          return readSlot(ws, 0);
        } finally {
          ws.release();
        }
      };
      const expect = (f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
      assertClose(
        run((ws) => ws.eulerStep(0, 1, 2, 0.5)),
        expect((i) => d[i] + 0.25 * (x[i] - d[i])),
        1e-6,
        "euler",
      );
      const into = workspaceWith(k, 1, n, [x, d, x2, d2, z]);
      try {
        into.eulerStep(4, 1, 2, 0.5, 0);
        assertClose(readSlot(into, 0), expect((i) => d[i] + 0.25 * (z[i] - d[i])), 1e-6, "into");
        assert.deepEqual(readSlot(into, 4), z, "euler into another buffer leaves x alone");
      } finally {
        into.release();
      }
      assertClose(
        run((ws) => ws.heunStep(0, 1, 2, 3, 2, 0.5)),
        expect((i) => x[i] - 0.75 * ((x[i] - d[i]) / 2 + (x2[i] - d2[i]) / 0.5)),
        1e-6,
        "heun",
      );
      assertClose(
        run((ws) => ws.derivativeStep(0, 2, 3, 0.8, -0.3)),
        expect((i) => x[i] - 0.3 * (x2[i] - d2[i]) / 0.8),
        1e-6,
        "derivative",
      );
      assertClose(
        run((ws) => ws.ancestralStep(0, 1, 4, 2, 0.4, 0.3)),
        expect((i) => d[i] + 0.2 * (x[i] - d[i]) + 0.3 * z[i]),
        1e-6,
        "ancestral",
      );
      assertClose(
        run((ws) => ws.dpmppStep(0, 1, 3, 4, 0.5, 0.7, -0.2, 0.1)),
        expect((i) => 0.5 * x[i] + 0.7 * d[i] - 0.2 * d2[i] + 0.1 * z[i]),
        1e-6,
        "dpmpp",
      );
      assertClose(
        run((ws) => ws.dpmppStep(0, 1, NONE, NONE, 0.5, 0.7, 9, 9)),
        expect((i) => 0.5 * x[i] + 0.7 * d[i]),
        1e-6,
        "dpmpp without previous or noise",
      );
      assertClose(
        run((ws) => ws.dpmppStep(0, 1, 3, NONE, 0.5, 0.7, -0.2, 9)),
        expect((i) => 0.5 * x[i] + 0.7 * d[i] - 0.2 * d2[i]),
        1e-6,
        "dpmpp without noise",
      );
      assertClose(
        run((ws) => ws.dpmppStep(0, 1, NONE, 4, 0.5, 0.7, 9, 0.1)),
        expect((i) => 0.5 * x[i] + 0.7 * d[i] + 0.1 * z[i]),
        1e-6,
        "dpmpp without previous",
      );
      assertClose(
        run((ws) => ws.axpby(0, 1, -1.5, 2)),
        expect((i) => -1.5 * x[i] + 2 * d[i]),
        1e-6,
        "axpby",
      );
      assertClose(run((ws) => ws.axpby(0, 0, 3, 0)), expect((i) => 3 * x[i]), 1e-6, "scale");
      assertClose(run((ws) => ws.copy(0, 4)), z, 0, "copy");
    }
  });

  Deno.test(`${k.name}: workspace firstNonFinite() finds the first value that is not finite`, () => {
    for (const n of [1, 3, 37, 300, 1030]) {
      const ws = k.workspace(1, n);
      try {
        const slot = ws.buffer(), data = filled(n, 8);
        ws.write(slot, data);
        assert.equal(ws.firstNonFinite(slot), -1);
        assert.deepEqual(readSlot(ws, slot), data);
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (const at of new Set([0, n >> 1, n - 1])) {
            const copy = data.slice();
            copy[at] = bad;
            if (at + 1 < n) copy[n - 1] = NaN; // a later bad value must not win
            ws.write(slot, copy);
            assert.equal(ws.firstNonFinite(slot), at, `n=${n} ${bad} at ${at}`);
          }
        }
      } finally {
        ws.release();
      }
    }
  });

  Deno.test(`${k.name}: every update reports whether all it wrote is finite`, () => {
    checkUpdateFlags(k);
  });

  Deno.test(`${k.name}: workspace fillGaussian() writes the stream of fillGaussian()`, async () => {
    const batch = 3, dim = 37, flat = new Float32Array(batch * dim);
    await k.fillGaussian(flat, batch, dim, 11, 4, 2);
    const ws = k.workspace(batch, dim);
    try {
      const slot = ws.buffer();
      await ws.fillGaussian(slot, 11, 4, 2);
      assert.deepEqual(readSlot(ws, slot), flat);
    } finally {
      ws.release();
    }
  });

  Deno.test(`${k.name}: fillGaussian() reproduces the pinned stream bit for bit`, () => {
    const out = new Float32Array(6), bits = new Uint32Array(out.buffer);
    k.fillGaussian(out, 1, 6, 0, 0, 0);
    assert.deepEqual([...bits], [
      0xbf024b50,
      0x3fb5c83e,
      0x3f12ba5c,
      0xbefd074f,
      0xbe8c8409,
      0xbf83843d,
    ]);
    k.fillGaussian(out, 2, 3, 123, 7, 5);
    assert.deepEqual([...bits], [
      0xbf0ae3ca,
      0xbf6b8a11,
      0xbe701df0,
      0x3ea98d0a,
      0x3f75d76d,
      0x3eafa929,
    ]);
  });

  Deno.test(`${k.name}: fillGaussian() rows depend only on (seed, sample, draw)`, () => {
    const whole = new Float32Array(5 * 7), part = new Float32Array(2 * 7);
    k.fillGaussian(whole, 5, 7, 9, 0, 3);
    k.fillGaussian(part, 2, 7, 9, 2, 3);
    assert.deepEqual(part, whole.subarray(14, 28));
    const otherDraw = new Float32Array(2 * 7);
    k.fillGaussian(otherDraw, 2, 7, 9, 2, 4);
    assert.notDeepEqual(otherDraw, part);
  });

  Deno.test(`${k.name}: fillGaussian() has the moments of N(0, 1)`, () => {
    const batch = 400, dim = 251, out = new Float32Array(batch * dim);
    k.fillGaussian(out, batch, dim, 42, 0, 0);
    const n = out.length;
    let m1 = 0, m2 = 0, m3 = 0, m4 = 0, beyond2 = 0;
    for (const v of out) {
      (m1 += v),
        (m2 += v * v),
        (m3 += v * v * v),
        (m4 += v ** 4),
        (beyond2 += Math.abs(v) > 2 ? 1 : 0);
    }
    m1 /= n, m2 /= n, m3 /= n, m4 /= n;
    assert.ok(Math.abs(m1) < 0.01, `mean ${m1}`);
    assert.ok(Math.abs(m2 - 1) < 0.015, `variance ${m2}`);
    assert.ok(Math.abs(m3) < 0.04, `third moment ${m3}`);
    assert.ok(Math.abs(m4 - 3) < 0.08, `fourth moment ${m4}`);
    assert.ok(Math.abs(beyond2 / n - 0.0455) < 0.003, `P(|z| > 2) ${beyond2 / n}`);
  });

  Deno.test(`${k.name}: mixture() gives the posterior mean and the score`, () => {
    const dim = 3, components = 2;
    const means = Float32Array.from([0, 1, -1, 2, -2, 0.5]);
    const variances = Float32Array.from([0.5, 1, 0.25, 2, 0.1, 1]);
    const w = [0.3, 0.7];
    const logWeights = Float32Array.from(w, Math.log);
    for (const batch of [0, 1, 5]) {
      const x = filled(batch * dim, 7);
      for (const sigma of [0, 0.3, 4]) {
        const expectD: number[] = [], expectS: number[] = [];
        for (let r = 0; r < batch; r++) {
          const lik = w.map((wk, c) => {
            let p = wk;
            for (let j = 0; j < dim; j++) {
              const v = variances[c * dim + j] + sigma * sigma,
                diff = x[r * dim + j] - means[c * dim + j];
              p *= Math.exp(-0.5 * diff * diff / v) / Math.sqrt(2 * Math.PI * v);
            }
            return p;
          });
          const total = lik[0] + lik[1];
          for (let j = 0; j < dim; j++) {
            let dj = 0, sj = 0;
            for (let c = 0; c < components; c++) {
              const v = variances[c * dim + j] + sigma * sigma, mu = means[c * dim + j];
              const diff = x[r * dim + j] - mu;
              dj += (lik[c] / total) * (mu + (variances[c * dim + j] / v) * diff);
              sj += (lik[c] / total) * (-diff / v);
            }
            expectD.push(dj);
            expectS.push(sj);
          }
        }
        const outD = new Float32Array(batch * dim), outS = new Float32Array(batch * dim);
        const mixture = { x, batch, dim, sigma, means, variances, logWeights, components };
        k.mixture({ ...mixture, output: "denoised", out: outD });
        k.mixture({ ...mixture, output: "score", out: outS });
        assertClose(outD, expectD, 1e-5, `denoise σ=${sigma}`);
        assertClose(outS, expectS, 1e-5, `score σ=${sigma}`);
      }
    }
  });

  Deno.test(`${k.name}: mixture() stays finite far from every component`, () => {
    const means = Float32Array.from([-1, 1]), variances = Float32Array.from([0.01, 0.01]);
    const out = new Float32Array(2);
    k.mixture({
      output: "denoised",
      out,
      x: Float32Array.from([1e4, -1e4]),
      batch: 2,
      dim: 1,
      sigma: 0.01,
      means,
      variances,
      logWeights: Float32Array.from([Math.log(0.5), Math.log(0.5)]),
      components: 2,
    });
    // All responsibility goes to the nearer component, whose shrinkage is 0.01 / 0.0101.
    const shrink = 0.01 / (0.01 + 0.01 * 0.01);
    assert.ok(Math.abs(out[0] - (1 + shrink * (1e4 - 1))) < 1e-2, `row 0: ${out[0]}`);
    assert.ok(Math.abs(out[1] - (-1 + shrink * (-1e4 + 1))) < 1e-2, `row 1: ${out[1]}`);
  });
}

Deno.test("logUniformF32() is within 1.5e-7 relative of Math.log over its whole domain", () => {
  let worst = 0;
  const check = (k: number) => {
    const ref = Math.log(k * 2 ** -24), got = logUniformF32(k);
    assert.equal(got, Math.fround(got));
    worst = Math.max(worst, ref === 0 ? Math.abs(got) : Math.abs(got - ref) / Math.abs(ref));
  };
  for (let k = 1; k <= 4096; k++) check(k);
  for (let k = 4096; k <= 1 << 24; k += 211) check(k);
  for (let k = (1 << 24) - 4096; k <= 1 << 24; k++) check(k);
  assert.ok(worst < 1.5e-7, `max relative error ${worst}`);
  assert.ok(worst > 0); // a float32 result cannot be exact everywhere
  assert.equal(logUniformF32(1 << 24), 0);
});

Deno.test("cosSinTurnF32() is within 1e-7 of Math.cos and Math.sin of 2πu", () => {
  let worst = 0;
  for (let k = 0; k < 1 << 24; k += 97) {
    const [c, s] = cosSinTurnF32(k), angle = 2 * Math.PI * k * 2 ** -24;
    worst = Math.max(worst, Math.abs(c - Math.cos(angle)), Math.abs(s - Math.sin(angle)));
  }
  assert.ok(worst < 1e-7, `max absolute error ${worst}`);
  assert.deepEqual(cosSinTurnF32(0), [1, 0]);
  assert.deepEqual(cosSinTurnF32(1 << 22), [-0, 1]); // a quarter turn
});

Deno.test("gaussianPair() matches float64 Box–Muller to float32 accuracy", () => {
  let worst = 0;
  for (let i = 0; i < 20000; i++) {
    const b1 = Math.imul(i, 0x9e3779b9) >>> 0, b2 = Math.imul(i ^ 0x5bd1e995, 0x85ebca6b) >>> 0;
    const u1 = ((b1 >>> 8) + 1) * 2 ** -24, theta = 2 * Math.PI * (b2 >>> 8) * 2 ** -24;
    const r = Math.sqrt(-2 * Math.log(u1));
    const [z0, z1] = gaussianPair(b1, b2);
    worst = Math.max(worst, Math.abs(z0 - r * Math.cos(theta)), Math.abs(z1 - r * Math.sin(theta)));
  }
  assert.ok(worst < 2e-6, `max absolute error ${worst}`);
});
