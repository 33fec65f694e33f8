import assert from "node:assert/strict";
import {
  discreteSigmas,
  exponentialSigmas,
  flowMatchingSigmas,
  iddpmSigmas,
  karrasSigmas,
  polyexponentialSigmas,
  SCHEDULES,
  veSigmas,
  vpSigmas,
} from "../../src/diffusion/mod.ts";

function near(actual: number, expected: number, rel = 1e-12) {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-300,
    `${actual} vs ${expected}`,
  );
}

Deno.test("SCHEDULES: every schedule returns steps + 1 strictly decreasing levels ending in 0", () => {
  for (const [name, schedule] of Object.entries(SCHEDULES)) {
    for (const steps of [1, 2, 25]) {
      const sigmas = schedule({ steps });
      assert.equal(sigmas.length, steps + 1, name);
      assert.equal(sigmas[steps], 0, name);
      for (let i = 1; i <= steps; i++) assert.ok(sigmas[i] < sigmas[i - 1], `${name} entry ${i}`);
    }
  }
});

Deno.test("exponentialSigmas() is evenly spaced in log σ", () => {
  const sigmas = exponentialSigmas({ steps: 5, sigmaMin: 0.01, sigmaMax: 100 });
  for (let i = 0; i < 5; i++) near(sigmas[i], 100 * 10 ** -i);
});

Deno.test("polyexponentialSigmas() is polynomial in log σ and exponential at ρ = 1", () => {
  const opts = { steps: 6, sigmaMin: 0.1, sigmaMax: 50 };
  const poly = polyexponentialSigmas({ ...opts, rho: 3 });
  for (let i = 0; i < 6; i++) {
    near(poly[i], Math.exp(Math.log(0.1) + (1 - i / 5) ** 3 * Math.log(500)));
  }
  const one = polyexponentialSigmas({ ...opts, rho: 1 }), exp = exponentialSigmas(opts);
  for (let i = 0; i < 6; i++) near(one[i], exp[i]);
});

Deno.test("vpSigmas() follows σ(t) = √(e^{½β_d t² + β_min t} − 1) on t from 1 to ε_s", () => {
  const sigmas = vpSigmas({ steps: 4 });
  for (let i = 0; i < 4; i++) {
    const t = 1 + (i / 3) * (1e-3 - 1);
    near(sigmas[i], Math.sqrt(Math.exp(0.5 * 19.9 * t * t + 0.1 * t) - 1), 1e-12);
  }
  near(sigmas[0], 152.16697, 1e-6); // the VP σ_max quoted by EDM
});

Deno.test("veSigmas() is geometric from 100 to 0.02 by default", () => {
  const sigmas = veSigmas({ steps: 3 });
  near(sigmas[0], 100);
  near(sigmas[1], Math.sqrt(100 * 0.02));
  near(sigmas[2], 0.02);
});

Deno.test("iddpmSigmas() picks u_j from the iDDPM grid starting at j₀ = 8 (σ ≈ 80)", () => {
  const sigmas = iddpmSigmas({ steps: 4 });
  near(sigmas[0], 80.20370184547417, 1e-9);
  near(sigmas[3], 0.006425412771141183, 1e-9); // u_{M−1}
  // u_{M−1} by hand: ᾱ_{M−1}/ᾱ_M from the cosine schedule, u_M = 0.
  const m = 1000, ab = (j: number) => Math.sin((0.5 * Math.PI * j) / m / 1.008) ** 2;
  near(sigmas[3], Math.sqrt(1 / (ab(m - 1) / ab(m)) - 1), 1e-12);
  assert.throws(() => iddpmSigmas({ steps: 995 }), /"steps"/);
});

Deno.test("flowMatchingSigmas() maps linear t through σ = t/(1−t), and the shift multiplies σ", () => {
  const plain = flowMatchingSigmas({ steps: 4, tMax: 0.8 });
  const ts = [0.8, 0.6, 0.4, 0.2];
  for (let i = 0; i < 4; i++) near(plain[i], ts[i] / (1 - ts[i]));
  const shifted = flowMatchingSigmas({ steps: 4, tMax: 0.8, shift: 3 });
  for (let i = 0; i < 4; i++) {
    const t = (3 * ts[i]) / (1 + 2 * ts[i]);
    near(shifted[i], t / (1 - t));
    near(shifted[i], 3 * plain[i], 1e-12);
  }
  assert.throws(() => flowMatchingSigmas({ steps: 4, tMax: 1 }), /"tMax"/);
  assert.throws(() => flowMatchingSigmas({ steps: 4, shift: 0 }), /"shift"/);
});

Deno.test("discreteSigmas() reproduces the DDPM and Stable Diffusion extremes", () => {
  const ddpm = discreteSigmas({ steps: 1000, spacing: "linspace" });
  near(ddpm[0], 157.40728081040757, 1e-9);
  near(ddpm[999], Math.sqrt(1e-4 / (1 - 1e-4)), 1e-9);
  const sd = discreteSigmas({ steps: 1000, betaSchedule: "scaled-linear", spacing: "linspace" });
  near(sd[0], 14.614641229333643, 1e-9);
  near(sd[999], 0.029167158151720367, 1e-9);
  const cosine = discreteSigmas({ steps: 10, betaSchedule: "cosine", spacing: "trailing" });
  assert.ok(cosine[0] > 100 && cosine[9] > 0 && cosine[10] === 0);
  assert.throws(
    () => discreteSigmas({ steps: 10, betaSchedule: "cosine", betaStart: 0.1 }),
    /"betaStart"/,
  );
  assert.throws(() => discreteSigmas({ steps: 10, betaSchedule: "quadratic" }), /"betaSchedule"/);
});

Deno.test("schedules refuse options whose levels would round to equal, infinite or NaN values", () => {
  // Each was accepted before and gave levels that sample() refuses (found by
  // tests/diffusion/property_test.ts): ε_s = 1 repeats σ(1); a large β_d overflows σ(1); large β
  // underflow ᾱ to 0 (σ = ∞); a tiny ρ turns σ^(1/ρ) into 0 and ∞ (NaN levels); C₁ > 1 takes the
  // square root of a negative number.
  const cases: [() => Float64Array, RegExp][] = [
    [() => vpSigmas({ steps: 4, epsS: 1 }), /"epsS" to give finite, strictly decreasing/],
    [() => vpSigmas({ steps: 4, betaD: 2000 }), /"betaD".*level 0 is Infinity/],
    [() => discreteSigmas({ steps: 10, betaStart: 0.5, betaEnd: 0.9 }), /"betaEnd".*Infinity/],
    [() => discreteSigmas({ steps: 3, betaEnd: 1, spacing: "trailing" }), /"betaEnd".*Infinity/],
    [() => karrasSigmas({ steps: 5, rho: 0.001 }), /"rho".*NaN/],
    [() => iddpmSigmas({ steps: 4, c1: 1.5 }), /"c1".*NaN/],
  ];
  for (const [make, message] of cases) {
    assert.throws(make, (e) => e instanceof RangeError && message.test(e.message));
  }
  // One level from ε_s = 1 is fine: σ(1), then 0.
  assert.equal(vpSigmas({ steps: 1, epsS: 1 }).length, 2);
});
