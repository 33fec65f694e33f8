/**
 * The discrete noise levels u_0 > u_1 > … > u_M = 0 of improved DDPM (Nichol & Dhariwal 2021)
 * as tabulated by EDM (Karras et al. 2022, Table 1):
 * `u_{j−1} = √((u_j² + 1) / max(ᾱ_{j−1}/ᾱ_j, C₁) − 1)`, `ᾱ_j = sin²(π/2 · j / (M(C₂ + 1)))`.
 *
 * @module
 */

const cache = new Map<string, Float64Array>();

/** The levels u_0 … u_M (index j), cached per (M, C₁, C₂). */
export function iddpmLevels(m: number, c1: number, c2: number): Float64Array {
  const key = `${m}:${c1}:${c2}`;
  let u = cache.get(key);
  if (u === undefined) {
    const alphaBar = (j: number) => Math.sin((0.5 * Math.PI * j) / m / (c2 + 1)) ** 2;
    u = new Float64Array(m + 1);
    for (let j = m; j > 0; j--) {
      u[j - 1] = Math.sqrt((u[j] * u[j] + 1) / Math.max(alphaBar(j - 1) / alphaBar(j), c1) - 1);
    }
    cache.set(key, u);
  }
  return u;
}

/** The index j minimising |u_j − sigma| (u is decreasing). */
export function nearestLevel(u: Float64Array, sigma: number): number {
  let lo = 0, hi = u.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (u[mid] >= sigma) lo = mid;
    else hi = mid;
  }
  return Math.abs(u[lo] - sigma) <= Math.abs(u[hi] - sigma) ? lo : hi;
}
