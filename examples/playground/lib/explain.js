// @ts-check
/**
 * A waterfall of one row's SHAP contributions (a tree model's `predictContributions`, exact
 * TreeSHAP in XGBoost's layout: [n, F + 1] with the bias last, or [n, K, F + 1] for several
 * outputs): the bias, then the features with the largest |contribution| in that order, the rest
 * summed, ending at the model's raw output. No DOM (the plot is an SVG string), so
 * tests/playground/explain_test.ts checks it in Deno.
 *
 * @module
 */

/**
 * @typedef {{ data: ArrayLike<number>; shape: number[] }} Tensor
 * @typedef {{
 *   kind: "bias" | "feature" | "rest" | "output";
 *   label: string;
 *   value: number;
 *   start: number;
 *   end: number;
 *   feature?: number;
 *   count?: number;
 * }} Step
 */

/**
 * The output a row's explanation shows: the largest raw output (the predicted class of a
 * classifier with one output per class), or the only one.
 *
 * @param {Tensor} raw The model's raw outputs, [n, K] (or [n] / [n, 1]).
 * @param {number} row
 * @returns {number}
 */
export function explainedOutput(raw, row) {
  const k = raw.shape.length > 1 ? raw.shape[1] : 1;
  let best = 0;
  for (let j = 1; j < k; j++) if (raw.data[row * k + j] > raw.data[row * k + best]) best = j;
  return best;
}

/**
 * One row's contributions for one output, F + 1 values with the bias last.
 *
 * @param {Tensor} phi From predictContributions: [n, F + 1] or [n, K, F + 1].
 * @param {number} row
 * @param {number} output Ignored for [n, F + 1].
 * @returns {Float64Array}
 */
export function contributionsOf(phi, row, output = 0) {
  const width = phi.shape[phi.shape.length - 1];
  const outputs = phi.shape.length === 3 ? phi.shape[1] : 1;
  if (!(Number.isInteger(row) && row >= 0 && row < phi.shape[0])) {
    throw new RangeError(
      `Expected "row" to be an integer in [0, ${phi.shape[0] - 1}] but found ${row}`,
    );
  }
  if (!(Number.isInteger(output) && output >= 0 && (output < outputs || outputs === 1))) {
    throw new RangeError(
      `Expected "output" to be an integer in [0, ${outputs - 1}] but found ${output}`,
    );
  }
  const begin = (row * outputs + (outputs === 1 ? 0 : output)) * width;
  return Float64Array.from({ length: width }, (_, j) => phi.data[begin + j]);
}

/**
 * The waterfall's steps: bias, the `top` features of largest |φ| (ties by column), the other
 * features summed (when any), and the output: Σφ, compared with the model's own raw output.
 *
 * @param {ArrayLike<number>} phi F + 1 contributions, bias last.
 * @param {string[]} names F feature names.
 * @param {{ top?: number; output: number; outputLabel?: string; values?: ArrayLike<number> }} opts
 *   `output`: the model's raw output for the row; `values`: the row's features, shown by name.
 * @returns {{ steps: Step[]; sum: number; output: number; difference: number; tolerance: number }}
 *   `tolerance`: 1e-4 · (1 + Σ|φ|), float32 contributions of a float32 model.
 */
export function waterfallSteps(phi, names, opts) {
  const F = phi.length - 1;
  if (names.length !== F) {
    throw new RangeError(`Expected ${F} feature names but found ${names.length}`);
  }
  const top = Math.max(0, Math.min(F, opts.top ?? 10));
  const order = Array.from({ length: F }, (_, j) => j)
    .sort((a, b) => Math.abs(phi[b]) - Math.abs(phi[a]) || a - b);
  const show = (
    /** @type {number} */ x,
  ) => (Number.isNaN(x) ? "missing" : Number(x.toPrecision(4)).toString());
  /** @type {Step[]} */
  const steps = [];
  let at = phi[F], magnitude = Math.abs(phi[F]);
  steps.push({ kind: "bias", label: "bias (expected output)", value: phi[F], start: 0, end: at });
  for (const j of order.slice(0, top)) {
    const label = opts.values ? `${names[j]} = ${show(opts.values[j])}` : names[j];
    steps.push({ kind: "feature", label, value: phi[j], start: at, end: at + phi[j], feature: j });
    at += phi[j], magnitude += Math.abs(phi[j]);
  }
  if (top < F) {
    let rest = 0;
    for (const j of order.slice(top)) rest += phi[j], magnitude += Math.abs(phi[j]);
    const count = F - top;
    steps.push({
      kind: "rest",
      label: `${count} other feature${count === 1 ? "" : "s"}`,
      value: rest,
      start: at,
      end: at + rest,
      count,
    });
    at += rest;
  }
  steps.push({ kind: "output", label: opts.outputLabel ?? "output", value: at, start: 0, end: at });
  return {
    steps,
    sum: at,
    output: opts.output,
    difference: Math.abs(at - opts.output),
    tolerance: 1e-4 * (1 + magnitude),
  };
}

const escapeXml = (/** @type {string} */ s) =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A short signed number: +0.123, −1.5e-5.
 *
 * @param {number} x
 */
export function signed(x) {
  const s = Math.abs(x) >= 1e-3 || x === 0
    ? Number(x.toPrecision(3)).toString()
    : x.toExponential(1);
  return x < 0 ? `−${s.slice(1)}` : `+${s}`;
}

/**
 * The waterfall as an SVG string: one bar a step, red when a feature raises the output, blue
 * when it lowers it, grey for the bias and the output, with a dashed line at 0.
 *
 * @param {Step[]} steps
 * @param {{ width?: number; label?: number }} opts Width in px (default 640); `label`: the label
 *   column's width (default a third of it); longer labels are cut with "…".
 * @returns {string}
 */
export function waterfallSvg(steps, opts = {}) {
  const width = opts.width ?? 640, labelWidth = opts.label ?? Math.round(width / 3);
  const valueWidth = 64, maxChars = Math.max(8, Math.floor(labelWidth / 7.2));
  const row = 22, top = 8, height = top + steps.length * row + 18;
  let lo = 0, hi = 0;
  for (const s of steps) lo = Math.min(lo, s.start, s.end), hi = Math.max(hi, s.start, s.end);
  if (hi === lo) hi = lo + 1;
  const x0 = labelWidth + 4, x1 = width - valueWidth;
  const x = (/** @type {number} */ v) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0);
  const color = { bias: "#6b7280", rest: "#9ca3af", output: "#111827" };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" ` +
    `role="img" aria-label="Waterfall of the row's contributions" font-size="12" ` +
    `font-family="system-ui, sans-serif">`,
    `<line x1="${x(0).toFixed(1)}" x2="${x(0).toFixed(1)}" y1="${top - 4}" y2="${
      height - 14
    }" stroke="#9ca3af" stroke-dasharray="3 3"/>`,
  ];
  steps.forEach((s, i) => {
    const y = top + i * row;
    const left = x(Math.min(s.start, s.end)), right = x(Math.max(s.start, s.end));
    const fill = s.kind === "feature"
      ? (s.value >= 0 ? "#dc2626" : "#2563eb")
      : s.kind === "rest"
      ? (s.value >= 0 ? "#fca5a5" : "#93c5fd")
      : color[s.kind];
    const text = s.kind === "output" || s.kind === "bias"
      ? Number(s.value.toPrecision(4)).toString()
      : signed(s.value);
    parts.push(
      `<g data-kind="${s.kind}"${s.feature === undefined ? "" : ` data-feature="${s.feature}"`}>` +
        `<title>${escapeXml(`${s.label}: ${text}`)}</title>` +
        `<text x="${labelWidth}" y="${y + 15}" text-anchor="end"${
          s.kind === "output" ? ' font-weight="600"' : ""
        }>${
          escapeXml(s.label.length > maxChars ? `${s.label.slice(0, maxChars - 1)}…` : s.label)
        }</text>` +
        `<rect x="${left.toFixed(1)}" y="${y + 3}" width="${
          Math.max(1, right - left).toFixed(1)
        }" height="${row - 6}" fill="${fill}"/>` +
        (i > 0 && s.kind !== "output"
          ? `<line x1="${x(s.start).toFixed(1)}" x2="${x(s.start).toFixed(1)}" y1="${y - 3}" y2="${
            y + 3
          }" stroke="#6b7280"/>`
          : "") +
        `<text x="${(right + 4).toFixed(1)}" y="${y + 15}">${escapeXml(text)}</text></g>`,
    );
  });
  const tick = (/** @type {number} */ v) =>
    `<text x="${x(v).toFixed(1)}" y="${height - 2}" text-anchor="middle" fill="#6b7280">${
      escapeXml(Number(v.toPrecision(3)).toString())
    }</text>`;
  parts.push(tick(lo), lo !== 0 && hi !== 0 ? tick(0) : "", tick(hi), "</svg>");
  return parts.join("");
}
