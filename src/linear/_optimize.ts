/**
 * Smooth convex minimisation for the linear models: L-BFGS with a strong-Wolfe line search
 * (Nocedal & Wright, Numerical Optimization, Algorithms 7.4, 3.5 and 3.6) and a damped Newton
 * method whose steps come from a Cholesky solve. Both stop when the largest gradient entry is
 * at most `tol`, as SciPy's L-BFGS-B `gtol` does for scikit-learn.
 *
 * @module
 */
import { solveSpd } from "./_linalg.ts";

/** A twice-differentiable objective over a flat float64 parameter vector. */
export interface Objective {
  /** Number of parameters. */
  size: number;
  /** The objective at `w`; writes its gradient into `grad`. */
  valueAndGradient(w: Float64Array, grad: Float64Array): number;
  /** The Hessian at `w`, size × size row-major (Newton only). */
  hessian?(w: Float64Array): Float64Array;
}

/** Stopping rules. */
export interface SolveOptions {
  maxIter: number;
  tol: number;
}

/** Where a solver stopped. */
export interface SolveResult {
  w: Float64Array;
  value: number;
  nIter: number;
  /** True when the gradient test or the relative-decrease test was met. */
  converged: boolean;
}

const HISTORY = 10;

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A point on the search line: step, value and directional derivative. */
interface LinePoint {
  step: number;
  value: number;
  slope: number;
}

/** Minimiser of the cubic through two line points, kept inside the bracket's safe middle. */
function interpolate(lo: LinePoint, hi: LinePoint): number {
  const d1 = lo.slope + hi.slope - 3 * (lo.value - hi.value) / (lo.step - hi.step);
  const radicand = d1 * d1 - lo.slope * hi.slope;
  let step = (lo.step + hi.step) / 2;
  if (radicand >= 0) {
    const d2 = Math.sign(hi.step - lo.step) * Math.sqrt(radicand);
    const cubic = hi.step -
      (hi.step - lo.step) * (hi.slope + d2 - d1) / (hi.slope - lo.slope + 2 * d2);
    if (Number.isFinite(cubic)) step = cubic;
  }
  const a = Math.min(lo.step, hi.step), b = Math.max(lo.step, hi.step);
  const margin = 0.1 * (b - a);
  return Math.min(Math.max(step, a + margin), b - margin);
}

/**
 * Strong-Wolfe line search along `direction` from `w` (value `f0`, slope `g0` < 0). On
 * success `trial` and `grad` hold the accepted point and its gradient.
 */
function wolfeSearch(
  objective: Objective,
  w: Float64Array,
  direction: Float64Array,
  f0: number,
  g0: number,
  firstStep: number,
  trial: Float64Array,
  grad: Float64Array,
): LinePoint | null {
  const c1 = 1e-4, c2 = 0.9;
  const evaluate = (step: number): LinePoint => {
    for (let i = 0; i < w.length; i++) trial[i] = w[i] + step * direction[i];
    const value = objective.valueAndGradient(trial, grad);
    return { step, value, slope: dot(grad, direction) };
  };
  const origin: LinePoint = { step: 0, value: f0, slope: g0 };
  const sufficient = (p: LinePoint) => p.value <= f0 + c1 * p.step * g0;
  const curvature = (p: LinePoint) => Math.abs(p.slope) <= -c2 * g0;

  const zoom = (lo: LinePoint, hi: LinePoint): LinePoint | null => {
    for (let k = 0; k < 30; k++) {
      const p = evaluate(interpolate(lo, hi));
      if (!Number.isFinite(p.value)) return null;
      if (!sufficient(p) || p.value >= lo.value) {
        hi = p;
      } else {
        if (curvature(p)) return p;
        if (p.slope * (hi.step - lo.step) >= 0) hi = lo;
        lo = p;
      }
      if (Math.abs(hi.step - lo.step) <= 1e-16 * Math.max(1, lo.step)) break;
    }
    // The bracket collapsed: accept the best point found if it decreases the objective.
    if (lo.step > 0 && lo.value < f0) return evaluate(lo.step);
    return null;
  };

  let previous = origin;
  let step = firstStep;
  for (let k = 0; k < 30; k++) {
    const p = evaluate(step);
    if (!Number.isFinite(p.value)) {
      // Overflow: the step is far too long.
      step = (previous.step + step) / 2;
      continue;
    }
    if (!sufficient(p) || (k > 0 && p.value >= previous.value)) return zoom(previous, p);
    if (curvature(p)) return p;
    if (p.slope >= 0) return zoom(p, previous);
    previous = p;
    step *= 2;
  }
  return null;
}

/**
 * Limited-memory BFGS (two-loop recursion, the last 10 pairs). Stops when the largest gradient
 * entry is at most `tol`, when an iteration no longer lowers the objective, or after `maxIter`
 * iterations. Unlike SciPy it has no relative-decrease (`ftol`) exit, so a small `tol` is
 * honoured even on badly scaled data.
 */
export function minimizeLbfgs(
  objective: Objective,
  w0: Float64Array,
  opts: SolveOptions,
): SolveResult {
  const n = objective.size;
  let w = Float64Array.from(w0);
  let grad = new Float64Array(n);
  let value = objective.valueAndGradient(w, grad);
  const sHistory: Float64Array[] = [], yHistory: Float64Array[] = [], rho: number[] = [];
  const direction = new Float64Array(n);
  const alpha = new Float64Array(HISTORY);
  let trial = new Float64Array(n), trialGrad = new Float64Array(n);
  for (let iter = 0; iter < opts.maxIter; iter++) {
    if (maxAbs(grad) <= opts.tol) return { w, value, nIter: iter, converged: true };
    // Two-loop recursion: direction = −H·grad.
    direction.set(grad);
    for (let j = sHistory.length - 1; j >= 0; j--) {
      alpha[j] = rho[j] * dot(sHistory[j], direction);
      const y = yHistory[j];
      for (let i = 0; i < n; i++) direction[i] -= alpha[j] * y[i];
    }
    if (sHistory.length > 0) {
      const last = sHistory.length - 1;
      const gamma = dot(sHistory[last], yHistory[last]) / dot(yHistory[last], yHistory[last]);
      for (let i = 0; i < n; i++) direction[i] *= gamma;
    }
    for (let j = 0; j < sHistory.length; j++) {
      const beta = rho[j] * dot(yHistory[j], direction);
      const s = sHistory[j];
      for (let i = 0; i < n; i++) direction[i] += s[i] * (alpha[j] - beta);
    }
    for (let i = 0; i < n; i++) direction[i] = -direction[i];
    let slope = dot(direction, grad);
    if (!(slope < 0)) {
      // A stale curvature history gave an ascent direction: restart from steepest descent.
      sHistory.length = yHistory.length = rho.length = 0;
      for (let i = 0; i < n; i++) direction[i] = -grad[i];
      slope = dot(direction, grad);
    }
    const firstStep = sHistory.length === 0
      ? Math.min(1, 1 / Math.sqrt(dot(direction, direction)))
      : 1;
    const accepted = wolfeSearch(
      objective,
      w,
      direction,
      value,
      slope,
      firstStep,
      trial,
      trialGrad,
    );
    if (accepted === null) return { w, value, nIter: iter + 1, converged: false };
    const s = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = trial[i] - w[i];
      y[i] = trialGrad[i] - grad[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-10 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (sHistory.length === HISTORY) {
        sHistory.shift();
        yHistory.shift();
        rho.shift();
      }
      sHistory.push(s);
      yHistory.push(y);
      rho.push(1 / sy);
    }
    const previous = value;
    [w, trial] = [trial, w];
    [grad, trialGrad] = [trialGrad, grad];
    value = accepted.value;
    // No decrease at all: rounding noise has the last word, further steps cannot help.
    if (!(value < previous)) {
      return { w, value, nIter: iter + 1, converged: maxAbs(grad) <= opts.tol };
    }
  }
  return { w, value, nIter: opts.maxIter, converged: maxAbs(grad) <= opts.tol };
}

/**
 * Newton's method: each step solves H·d = −g by Cholesky, then halves the step until the
 * Armijo condition holds. Stops when the largest gradient entry is at most `tol` or the Newton
 * decrement falls to rounding level. `nullDirection`, when given, is a direction the objective is flat
 * along (the sum of multinomial intercepts); adding its outer product makes H invertible
 * without changing steps, which stay orthogonal to it because the gradient is.
 */
export function minimizeNewton(
  objective: Objective,
  w0: Float64Array,
  opts: SolveOptions,
  nullDirection?: Float64Array,
): SolveResult {
  const n = objective.size;
  const w = Float64Array.from(w0);
  const grad = new Float64Array(n);
  const trial = new Float64Array(n);
  const trialGrad = new Float64Array(n);
  let value = objective.valueAndGradient(w, grad);
  for (let iter = 0; iter < opts.maxIter; iter++) {
    if (maxAbs(grad) <= opts.tol) return { w, value, nIter: iter, converged: true };
    const step = newtonStep(objective, w, grad, nullDirection);
    if (step === null) return { w, value, nIter: iter, converged: false };
    const slope = dot(step, grad);
    // −gᵀd is the Newton decrement: twice the predicted distance to the optimum's value. Once
    // it is lost in the rounding of the objective, no step can improve the fit.
    if (-slope <= 1e-15 * Math.max(1, Math.abs(value))) {
      return { w, value, nIter: iter, converged: true };
    }
    let t = 1;
    let accepted = false;
    for (let k = 0; k < 40; k++, t /= 2) {
      for (let i = 0; i < n; i++) trial[i] = w[i] + t * step[i];
      const v = objective.valueAndGradient(trial, trialGrad);
      // The second test accepts a step that rounding makes look flat once at the optimum.
      if (v <= value + 1e-4 * t * slope || (v <= value && maxAbs(trialGrad) < maxAbs(grad))) {
        w.set(trial);
        grad.set(trialGrad);
        value = v;
        accepted = true;
        break;
      }
    }
    if (!accepted) return { w, value, nIter: iter + 1, converged: maxAbs(grad) <= opts.tol };
  }
  return { w, value, nIter: opts.maxIter, converged: maxAbs(grad) <= opts.tol };
}

function newtonStep(
  objective: Objective,
  w: Float64Array,
  grad: Float64Array,
  nullDirection?: Float64Array,
): Float64Array | null {
  const n = objective.size;
  const h = objective.hessian!(w);
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, h[i * n + i]);
  if (nullDirection !== undefined) {
    for (let i = 0; i < n; i++) {
      if (nullDirection[i] === 0) continue;
      for (let j = 0; j < n; j++) h[i * n + j] += scale * nullDirection[i] * nullDirection[j];
    }
  }
  // A saturated fit can leave H singular in float64: retry with growing diagonal damping.
  for (let damping = 0; damping <= 1e-2; damping = damping === 0 ? 1e-10 : damping * 100) {
    const a = h.slice();
    for (let i = 0; i < n; i++) a[i * n + i] += damping * Math.max(scale, 1);
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) b[i] = -grad[i];
    if (solveSpd(a, n, b, 1)) return b;
  }
  return null;
}
