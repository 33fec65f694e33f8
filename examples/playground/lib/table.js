// @ts-check
/**
 * Tabular data for the Trees panel: CSV text → typed columns → a features matrix, a target and
 * a seeded train/test split. No DOM, so tests/playground/table_test.ts checks it in Deno.
 *
 * @module
 */

/** Cell texts that mean "missing" (case-insensitive), besides the empty cell. */
const MISSING = new Set(["", "na", "nan", "n/a", "null", "none", "?", "-"]);

/**
 * Splits CSV text into a header and rows: RFC 4180 quoting (doubled quotes, separators and line
 * breaks inside quotes), CRLF or LF, and a separator guessed from the header (comma, semicolon
 * or tab).
 *
 * @param {string} text
 * @returns {{ header: string[]; rows: string[][] }}
 */
export function parseCsv(text) {
  if (typeof text !== "string") {
    throw new TypeError(`Expected "text" to be a string but found ${typeof text}`);
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const firstLine = body.slice(0, body.search(/\r?\n|$/));
  const separator = [",", ";", "\t"]
    .map((s) => ({ s, n: firstLine.split(s).length }))
    .sort((a, b) => b.n - a.n)[0].s;
  /** @type {string[][]} */
  const records = [];
  /** @type {string[]} */
  let record = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === separator) record.push(cell), (cell = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && body[i + 1] === "\n") i++;
      record.push(cell), records.push(record), (record = []), (cell = "");
    } else cell += c;
  }
  if (quoted) {
    throw new RangeError(
      "Expected every quoted CSV cell to be closed but the text ends inside quotes",
    );
  }
  if (cell !== "" || record.length) record.push(cell), records.push(record);
  const nonEmpty = records.filter((r) => !(r.length === 1 && r[0].trim() === ""));
  if (nonEmpty.length < 2) {
    throw new RangeError(
      `Expected a CSV header and at least one row but found ${nonEmpty.length} line(s)`,
    );
  }
  const [header, ...rows] = nonEmpty;
  rows.forEach((r, i) => {
    if (r.length !== header.length) {
      throw new RangeError(
        `Expected ${header.length} cells on every CSV row like the header but row ${
          i + 2
        } has ${r.length}`,
      );
    }
  });
  return { header: header.map((h) => h.trim()), rows };
}

/**
 * @typedef {{ name: string; kind: "numeric"; values: Float64Array }} NumericColumn
 * @typedef {{ name: string; kind: "categorical"; values: Float64Array; categories: string[] }} CategoricalColumn
 *   `values` are codes into `categories` (sorted), NaN where missing.
 * @typedef {NumericColumn | CategoricalColumn} Column
 */

/**
 * Types each column: numeric when every present cell is a number, else categorical.
 *
 * @param {{ header: string[]; rows: string[][] }} csv
 * @returns {Column[]}
 */
export function toColumns({ header, rows }) {
  return header.map((name, j) => {
    const cells = rows.map((r) => r[j].trim());
    const present = cells.filter((c) => !MISSING.has(c.toLowerCase()));
    if (present.every((c) => Number.isFinite(Number(c)))) {
      const values = Float64Array.from(
        cells,
        (c) => (MISSING.has(c.toLowerCase()) ? NaN : Number(c)),
      );
      return { name, kind: "numeric", values };
    }
    const categories = [...new Set(present)].sort();
    const index = new Map(categories.map((c, k) => [c, k]));
    const values = Float64Array.from(cells, (c) => index.get(c) ?? NaN);
    return { name, kind: "categorical", values, categories };
  });
}

/**
 * The task a target column suggests: classification for categories or for at most 20 distinct
 * integers, else regression.
 *
 * @param {Column} column
 * @returns {"classification" | "regression"}
 */
export function guessTask(column) {
  if (column.kind === "categorical") return "classification";
  const distinct = new Set(column.values.filter((v) => !Number.isNaN(v)));
  return distinct.size <= 20 && [...distinct].every(Number.isInteger)
    ? "classification"
    : "regression";
}

/**
 * @typedef {{
 *   X: Float32Array[]; y: Float64Array; featureNames: string[]; categorical: number[];
 *   task: "classification" | "regression"; classNames: string[] | null; dropped: number;
 * }} DataSet
 */

/**
 * Features (every other column; categories as their codes, missing as NaN) and the target;
 * rows whose target is missing are dropped. Classes are numbered 0 … k−1 in sorted order, and
 * named after the target's categories (or its numbers).
 *
 * @param {Column[]} columns
 * @param {string} target
 * @param {"classification" | "regression"} task
 * @returns {DataSet}
 */
export function toDataSet(columns, target, task) {
  const t = columns.find((c) => c.name === target);
  if (!t) {
    throw new RangeError(`Expected "target" to name a column but found ${JSON.stringify(target)}`);
  }
  if (task === "regression" && t.kind === "categorical") {
    throw new RangeError(`Expected a numeric target for regression but "${target}" is categorical`);
  }
  const features = columns.filter((c) => c !== t);
  if (features.length === 0) {
    throw new RangeError("Expected at least one feature column besides the target");
  }
  const keep = [];
  for (let i = 0; i < t.values.length; i++) if (!Number.isNaN(t.values[i])) keep.push(i);
  let y = Float64Array.from(keep, (i) => t.values[i]);
  /** @type {string[] | null} */
  let classNames = null;
  if (task === "classification") {
    const distinct = [...new Set(y)].sort((a, b) => a - b);
    const code = new Map(distinct.map((v, k) => [v, k]));
    classNames = distinct.map((v) => (t.kind === "categorical" ? t.categories[v] : String(v)));
    y = Float64Array.from(y, (v) => /** @type {number} */ (code.get(v)));
  }
  const X = keep.map((i) => Float32Array.from(features, (c) => c.values[i]));
  return {
    X,
    y,
    featureNames: features.map((c) => c.name),
    categorical: features.flatMap((c, j) => (c.kind === "categorical" ? [j] : [])),
    task,
    classNames,
    dropped: t.values.length - keep.length,
  };
}

/**
 * A seeded shuffle of the row indices cut into train and test parts.
 *
 * @param {number} n Rows.
 * @param {number} testFraction In (0, 1).
 * @param {number} seed
 * @returns {{ train: number[]; test: number[] }}
 */
export function trainTestSplit(n, testFraction, seed) {
  const order = Array.from({ length: n }, (_, i) => i);
  const random = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nTest = Math.max(1, Math.round(n * testFraction));
  return { train: order.slice(nTest), test: order.slice(0, nTest) };
}

/**
 * Mulberry32: a small seeded generator of uniform numbers in [0, 1).
 *
 * @param {number} seed
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
