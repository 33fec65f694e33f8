/**
 * What every sampler shares: the context it runs in, option reading against a declarative
 * table, and the small helpers written once (churn, ancestral split, derivative).
 *
 * @module
 */
import { checkChoice, checkNumber, show } from "../_validate.ts";
import { type DiffusionWorkspace, NONE } from "../backends/diffusion.ts";
import { type ParameterisationName, PARAMETERISATIONS } from "./parameterisations.ts";
import type { ChurnOptions, Parameterisation } from "./types.ts";

/**
 * The services a sampler gets from {@link sample}. The run's state lives in `state`, a
 * workspace in the kernel backend's memory: samplers hold slot numbers, never arrays, so a step
 * runs where the data already is and only the denoiser's input and output cross over.
 */
export interface SamplerContext {
  readonly batch: number;
  readonly dim: number;
  /** batch × dim. */
  readonly size: number;
  /** The run's buffers and the step kernels that work on them. */
  readonly state: DiffusionWorkspace;
  /** Denoiser calls so far. */
  readonly nfe: number;
  /** Evaluates the denoiser on buffer `x` at `sigma`, checks its output and stores it in `out`. */
  denoise(x: number, sigma: number, out: number): Promise<void>;
  /** Fills buffer `out` with the next draw of standard normal noise. */
  noise(out: number): Promise<void>;
  /** Reports a step, with the state and result of the latest denoiser call, to `onStep`. */
  report(step: number, sigma: number, sigmaHat: number): void;
  /** A fresh state-sized buffer's slot (contents undefined). */
  buffer(): number;
}

/**
 * A sampler: integrates from `sigmas[0]` down the schedule, starting from buffer `x` (which it
 * may overwrite), and resolves to the slot of the final state. `options` holds its own options
 * (see each sampler's table) plus `churn` where the caller set it.
 */
export type Sampler = (
  ctx: SamplerContext,
  x: number,
  sigmas: Float64Array,
  options: Readonly<Record<string, unknown>>,
) => Promise<number>;

/** Reads one option: returns its validated value or the default. */
type OptionReader<T> = (name: string, value: unknown) => T;

/** A number option with a default and a range. */
export function numberOption(
  fallback: number,
  range: { min?: number; max?: number; minExclusive?: boolean; integer?: boolean } = {},
): OptionReader<number> {
  return (name, value) => {
    if (value === undefined) return fallback;
    checkNumber(name, value, range);
    return value;
  };
}

/** A parameterisation option: a name from PARAMETERISATIONS (default constants) or an object. */
export function parameterisationOption(
  fallback: ParameterisationName,
): OptionReader<Parameterisation> {
  return (name, value) => {
    if (value === undefined) return PARAMETERISATIONS[fallback]();
    if (typeof value === "string") {
      checkChoice(name, value, Object.keys(PARAMETERISATIONS) as ParameterisationName[]);
      return PARAMETERISATIONS[value]();
    }
    const p = value as Partial<Parameterisation> | null;
    if (
      p === null || typeof p !== "object" ||
      !["sigma", "sigmaDeriv", "sigmaInv", "scale", "scaleDeriv"].every(
        (key) => typeof (p as Record<string, unknown>)[key] === "function",
      )
    ) {
      throw new TypeError(
        `Expected "${name}" to be a parameterisation name or object but found ${show(value)}`,
      );
    }
    return p as Parameterisation;
  };
}

/** Churn resolved to numbers. */
export type Churn = { sChurn: number; sTmin: number; sTmax: number; sNoise: number };

/** The `churn` option (EDM Algorithm 2); absent means no churn. */
export const churnOption: OptionReader<Churn | null> = (name, value) => {
  if (value === undefined) return null;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`Expected "${name}" to be an options object but found ${show(value)}`);
  }
  const known = ["sChurn", "sTmin", "sTmax", "sNoise"];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new RangeError(
        `Unknown option "${key}" in "${name}"; expected one of ${
          known.map((k) => `"${k}"`).join(", ")
        }`,
      );
    }
  }
  const { sChurn, sTmin = 0, sTmax = Infinity, sNoise = 1 } = value as ChurnOptions;
  checkNumber(`${name}.sChurn`, sChurn, { min: 0 });
  checkNumber(`${name}.sTmin`, sTmin, { min: 0 });
  if (sTmax !== Infinity) checkNumber(`${name}.sTmax`, sTmax, { min: sTmin });
  checkNumber(`${name}.sNoise`, sNoise, { min: 0 });
  return { sChurn, sTmin, sTmax, sNoise };
};

/**
 * Validates `options` against a sampler's table: unknown keys are refused by name, each known
 * one is read (or defaulted) by its reader.
 */
export function readOptions<T extends Record<string, unknown>>(
  sampler: string,
  options: Readonly<Record<string, unknown>>,
  table: { [K in keyof T]: OptionReader<T[K]> },
): T {
  const known = Object.keys(table);
  for (const key of Object.keys(options)) {
    if (!known.includes(key) && options[key] !== undefined) {
      const accepted = known.length === 0
        ? "it takes no options"
        : `it accepts ${known.map((k) => `"${k}"`).join(", ")}`;
      throw new RangeError(`Unknown option "${key}" for sampler "${sampler}"; ${accepted}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of known) out[key] = table[key](key, options[key]);
  return out as T;
}

/**
 * EDM's churn (Karras et al. 2022, Algorithm 2, lines 4–6), written once for every sampler
 * that supports it: raises σ to σ̂ = σ(1 + γ) with γ = min(S_churn/N, √2 − 1) inside
 * [S_tmin, S_tmax] and adds noise of variance σ̂² − σ² (scaled by S_noise) to `x`.
 *
 * @returns σ̂ (equal to σ when no churn applies).
 */
export async function applyChurn(
  ctx: SamplerContext,
  x: number,
  sigma: number,
  churn: Churn | null,
  steps: number,
  scratch: number,
): Promise<number> {
  if (churn === null || churn.sChurn === 0 || sigma < churn.sTmin || sigma > churn.sTmax) {
    return sigma;
  }
  const gamma = Math.min(churn.sChurn / steps, Math.SQRT2 - 1);
  const sigmaHat = sigma * (1 + gamma);
  const amplitude = churn.sNoise * Math.sqrt(sigmaHat * sigmaHat - sigma * sigma);
  await ctx.noise(scratch);
  await ctx.state.axpby(x, scratch, 1, amplitude);
  return sigmaHat;
}

/**
 * Splits a step σ → σ_next into a deterministic part down to σ_down and fresh noise σ_up with
 * σ_down² + σ_up² = σ_next² (the ancestral step of Ho et al. 2020 in sigma space, scaled by η as
 * in DDIM: σ_up = min(σ_next, η·σ_next·√(1 − σ_next²/σ²))).
 */
export function ancestralSplit(
  sigma: number,
  sigmaNext: number,
  eta: number,
): { sigmaDown: number; sigmaUp: number } {
  if (eta === 0 || sigmaNext === 0) return { sigmaDown: sigmaNext, sigmaUp: 0 };
  const sigmaUp = Math.min(
    sigmaNext,
    eta *
      Math.sqrt(
        (sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext)) / (sigma * sigma),
      ),
  );
  return { sigmaDown: Math.sqrt(sigmaNext * sigmaNext - sigmaUp * sigmaUp), sigmaUp };
}

/** Writes the ODE derivative `d = (x − D)/σ` (EDM eq. 3 with s ≡ 1) into buffer `out`. */
export async function toDerivative(
  ctx: SamplerContext,
  out: number,
  x: number,
  denoised: number,
  sigma: number,
): Promise<number> {
  ctx.state.copy(out, x);
  await ctx.state.axpby(out, denoised, 1 / sigma, -1 / sigma);
  return out;
}

/** A buffer and its coefficient in a linear combination. */
export type Term = readonly [slot: number, coefficient: number];

/**
 * `out ← Σ c_k·buffer_k` over any number of terms, in passes of the four-buffer update (the
 * multistep samplers' history sums). `out` may appear only as the first term, which is then
 * updated in place; otherwise the first term is copied into `out` first. Terms after the first
 * with coefficient 0 are skipped.
 */
export async function combine(
  state: DiffusionWorkspace,
  out: number,
  terms: readonly Term[],
): Promise<void> {
  const [[first, a0], ...others] = terms;
  if (first !== out) state.copy(out, first);
  const rest = others.filter(([, c]) => c !== 0);
  if (rest.length === 0) {
    if (a0 !== 1) await state.axpby(out, out, a0, 0);
    return;
  }
  let a = a0;
  for (let k = 0; k < rest.length; k += 3) {
    const [t1, t2, t3] = [rest[k], rest[k + 1], rest[k + 2]];
    await state.dpmppStep(
      out,
      t1[0],
      t2?.[0] ?? NONE,
      t3?.[0] ?? NONE,
      a,
      t1[1],
      t2?.[1] ?? 0,
      t3?.[1] ?? 0,
    );
    a = 1;
  }
}

/** Solves the small dense system A·x = b (Gaussian elimination, partial pivoting). */
export function solveSmall(a: number[][], b: number[]): number[] {
  const n = b.length, m = a.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / m[col][col];
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let sum = m[r][n];
    for (let c = r + 1; c < n; c++) sum -= m[r][c] * x[c];
    x[r] = sum / m[r][r];
  }
  return x;
}
