/**
 * The L2-regularised log loss of LogisticRegression, as scikit-learn's lbfgs solver minimises
 * it: Σᵢ sᵢ·ℓᵢ(W) + ‖coefficients‖² / (2C), intercepts unpenalised, sᵢ the sample weights.
 *
 * Parameters are one row per output, the intercept last when fitted:
 *
 * ```
 *  w   [ coef₀(0..d−1) b₀ | coef₁(0..d−1) b₁ | … ]     stride = d + 1  (d without intercept)
 *  two classes:  one row, z = x·coef + b, ℓ = log(1 + eᶻ) − y·z           (binomial)
 *  K ≥ 3 classes: K rows, zₖ = x·coefₖ + bₖ, ℓ = log Σₖ e^zₖ − z_y         (multinomial)
 * ```
 *
 * @module
 */
import type { Objective } from "./_optimize.ts";

/** The training data of one fit. */
export interface LogisticData {
  /** Row-major features (float32 values). */
  x: Float32Array;
  rows: number;
  cols: number;
  /** Class index of every row. */
  y: Float64Array;
  /** Sample weights, or null for all ones. */
  weights: Float64Array | null;
  nClasses: number;
}

/** log(1 + eᶻ) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** 1 / (1 + e⁻ᶻ) without overflow. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** The objective of one fit; `rowsOut` is 1 for two classes, else the class count. */
export class LogisticLoss implements Objective {
  readonly size: number;
  readonly rowsOut: number;
  readonly stride: number;
  readonly #data: LogisticData;
  readonly #fitIntercept: boolean;
  readonly #penalty: number;
  readonly #z: Float64Array;

  constructor(data: LogisticData, opts: { C: number; fitIntercept: boolean }) {
    this.#data = data;
    this.#fitIntercept = opts.fitIntercept;
    this.#penalty = 1 / opts.C;
    this.rowsOut = data.nClasses === 2 ? 1 : data.nClasses;
    this.stride = data.cols + (opts.fitIntercept ? 1 : 0);
    this.size = this.rowsOut * this.stride;
    this.#z = new Float64Array(this.rowsOut);
  }

  /** The outputs (margins) of row `i` into `z`. */
  margins(w: Float64Array, i: number, z: Float64Array): void {
    const { x, cols } = this.#data;
    const base = i * cols;
    for (let k = 0; k < this.rowsOut; k++) {
      const offset = k * this.stride;
      let s = this.#fitIntercept ? w[offset + cols] : 0;
      for (let j = 0; j < cols; j++) s += x[base + j] * w[offset + j];
      z[k] = s;
    }
  }

  /**
   * Per row, the loss's derivative with respect to each margin (residuals) in `residual`,
   * and the row's loss as the return value.
   */
  #rowResidual(w: Float64Array, i: number, residual: Float64Array): number {
    const z = this.#z;
    this.margins(w, i, z);
    const label = this.#data.y[i];
    if (this.rowsOut === 1) {
      residual[0] = sigmoid(z[0]) - label;
      return softplus(z[0]) - label * z[0];
    }
    let top = -Infinity;
    for (let k = 0; k < this.rowsOut; k++) top = Math.max(top, z[k]);
    let sum = 0;
    for (let k = 0; k < this.rowsOut; k++) {
      residual[k] = Math.exp(z[k] - top);
      sum += residual[k];
    }
    for (let k = 0; k < this.rowsOut; k++) residual[k] = residual[k] / sum - (k === label ? 1 : 0);
    return top + Math.log(sum) - z[label];
  }

  valueAndGradient(w: Float64Array, grad: Float64Array): number {
    const { x, rows, cols, weights } = this.#data;
    grad.fill(0);
    const residual = new Float64Array(this.rowsOut);
    let loss = 0;
    for (let i = 0; i < rows; i++) {
      const s = weights === null ? 1 : weights[i];
      if (s === 0) continue;
      loss += s * this.#rowResidual(w, i, residual);
      const base = i * cols;
      for (let k = 0; k < this.rowsOut; k++) {
        const r = s * residual[k];
        const offset = k * this.stride;
        for (let j = 0; j < cols; j++) grad[offset + j] += r * x[base + j];
        if (this.#fitIntercept) grad[offset + cols] += r;
      }
    }
    return loss + this.#addPenalty(w, grad);
  }

  /** Adds the L2 term's gradient; returns its value. */
  #addPenalty(w: Float64Array, grad: Float64Array): number {
    const cols = this.#data.cols;
    let squares = 0;
    for (let k = 0; k < this.rowsOut; k++) {
      const offset = k * this.stride;
      for (let j = 0; j < cols; j++) {
        squares += w[offset + j] * w[offset + j];
        grad[offset + j] += this.#penalty * w[offset + j];
      }
    }
    return 0.5 * this.#penalty * squares;
  }

  hessian(w: Float64Array): Float64Array {
    const { x, rows, cols, weights } = this.#data;
    const n = this.size, stride = this.stride, outs = this.rowsOut;
    const h = new Float64Array(n * n);
    const z = this.#z;
    const p = new Float64Array(outs);
    const xi = new Float64Array(stride);
    if (this.#fitIntercept) xi[cols] = 1;
    for (let i = 0; i < rows; i++) {
      const s = weights === null ? 1 : weights[i];
      if (s === 0) continue;
      for (let j = 0; j < cols; j++) xi[j] = x[i * cols + j];
      this.margins(w, i, z);
      if (outs === 1) {
        p[0] = sigmoid(z[0]);
      } else {
        let top = -Infinity, sum = 0;
        for (let k = 0; k < outs; k++) top = Math.max(top, z[k]);
        for (let k = 0; k < outs; k++) sum += p[k] = Math.exp(z[k] - top);
        for (let k = 0; k < outs; k++) p[k] /= sum;
      }
      // Block (k, l) gains s·c_kl·xᵢxᵢᵀ; only blocks with l ≥ k, mirrored below.
      for (let k = 0; k < outs; k++) {
        for (let l = k; l < outs; l++) {
          const c = s * (outs === 1 ? p[0] * (1 - p[0]) : (k === l ? p[k] : 0) - p[k] * p[l]);
          if (c === 0) continue;
          for (let a = 0; a < stride; a++) {
            const ca = c * xi[a];
            if (ca === 0) continue;
            const row = (k * stride + a) * n + l * stride;
            for (let b = 0; b < stride; b++) h[row + b] += ca * xi[b];
          }
        }
      }
    }
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < r; c++) h[r * n + c] = h[c * n + r];
    }
    for (let k = 0; k < outs; k++) {
      for (let j = 0; j < cols; j++) h[(k * stride + j) * n + k * stride + j] += this.#penalty;
    }
    return h;
  }

  /**
   * The direction the multinomial objective is flat along (equal shifts of every intercept),
   * or undefined where there is none.
   */
  nullDirection(): Float64Array | undefined {
    if (!this.#fitIntercept || this.rowsOut === 1) return undefined;
    const u = new Float64Array(this.size);
    const norm = 1 / Math.sqrt(this.rowsOut);
    for (let k = 0; k < this.rowsOut; k++) u[k * this.stride + this.#data.cols] = norm;
    return u;
  }
}
