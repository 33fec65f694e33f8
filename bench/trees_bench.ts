/**
 * Tree ensembles benchmark: XGBClassifier (100 rounds, depth 6, 256 bins, η 0.3) against native
 * XGBoost 1.7 (`tree_method="hist"`, the same parameters) and scikit-learn's
 * HistGradientBoostingClassifier, on a synthetic 200k × 28 binary problem and on the Statlog
 * Shuttle data (58,000 × 9, 7 classes, exported from R's mlbench: 50,000 rows train, 8,000 test).
 * Each fit runs once per thread count; predictions are medians over the held-out rows (10,000
 * and 8,000). Peak memory is the growth of the
 * process's peak resident set during the fit. A second table runs the JavaScript peers
 * (`ml-xgboost`, `ydf-training`) where they install and run.
 *
 * Native peers run in `/usr/bin/python3` (bench/_peers/trees_peers.py) on the same rows, which
 * this file writes to a temporary folder; the JavaScript peers run in Node
 * (bench/_peers/js_peers.mjs) with their packages from bench/_peers/package.json.
 *
 * @module
 */
import { dispose, init, runtimeInfo, XGBClassifier } from "../src/mod.ts";
import { Rng } from "../src/_random.ts";
import { coresCeiling, fmt, median, pinnableCores, pinThread, table } from "./_harness.ts";

const PARAMS = { nEstimators: 100, maxDepth: 6, learningRate: 0.3, maxBin: 256 };
/** Timed predictions per configuration (after warm-up calls): the median is reported. */
const PREDICT_RUNS = 9;
const PEERS = new URL("./_peers/", import.meta.url).pathname;

/** A classification set: the first nTrain rows train, the next nTest rows test. */
export interface Dataset {
  name: string;
  x: Float32Array;
  y: Float64Array;
  nTrain: number;
  nTest: number;
  nCols: number;
  nClasses: number;
}

/** Standard normal draws by Box–Muller. */
function gaussian(rng: Rng): number {
  const u = 1 - rng.next(), v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A HIGGS-like binary problem: 28 features (Gaussian, skewed and heavy-tailed ones, 2 % missing
 * in four of them), a label from a noisy nonlinear score with interactions.
 */
export function synthetic(nTrain: number, nTest: number, seed = 7): Dataset {
  const nCols = 28, n = nTrain + nTest;
  const rng = new Rng(seed);
  const x = new Float32Array(n * nCols);
  const y = new Float64Array(n);
  const z = new Float64Array(nCols);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < nCols; f++) {
      const g = gaussian(rng);
      z[f] = f % 4 === 1 ? Math.exp(0.5 * g) : f % 4 === 2 ? g * g * g / 3 : g;
      x[r * nCols + f] = f >= 24 && rng.next() < 0.02 ? NaN : z[f];
    }
    const score = z[0] * z[1] + Math.sin(2 * z[2]) + 0.5 * z[3] * z[3] - 0.6 +
      0.8 * Math.tanh(z[4] + z[5]) - 0.3 * z[6] * z[7] + 0.25 * (z[8] + z[9] - z[10]) +
      (z[12] > 1.2 ? 0.7 : 0) + 0.5 * gaussian(rng);
    y[r] = score > 0 ? 1 : 0;
  }
  return {
    name: `synthetic ${nTrain / 1000}k × ${nCols} (${nTest / 1000}k test)`,
    x,
    y,
    nTrain,
    nTest,
    nCols,
    nClasses: 2,
  };
}

/**
 * The Statlog Shuttle data from R's mlbench (Debian's r-cran-mlbench), rows shuffled by a fixed
 * seed, the last 8,000 held out (50,000 train); null when R or the package is missing.
 */
export async function shuttle(): Promise<Dataset | null> {
  const script = "library(mlbench); data(Shuttle); " +
    "write.csv(data.frame(Shuttle[, 1:9], y = as.integer(Shuttle$Class) - 1), stdout(), row.names = FALSE)";
  let text: string;
  try {
    const out = await new Deno.Command("Rscript", {
      args: ["-e", script],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    if (!out.success) return null;
    text = new TextDecoder().decode(out.stdout);
  } catch {
    return null;
  }
  const lines = text.trim().split("\n").slice(1);
  const nCols = 9, n = lines.length, nTest = n - 50000;
  const order = new Rng(11).sampleIndices(n, n);
  const x = new Float32Array(n * nCols), y = new Float64Array(n);
  order.forEach((from, to) => {
    const cells = lines[from].split(",").map(Number);
    x.set(cells.slice(0, nCols), to * nCols);
    y[to] = cells[nCols];
  });
  return {
    name: `Shuttle ${(n - nTest) / 1000}k × ${nCols} (${nTest / 1000}k test)`,
    x,
    y,
    nTrain: n - nTest,
    nTest,
    nCols,
    nClasses: 7,
  };
}

/** Peak-resident-set probe: reset the peak, later read how far it rose. */
function peakProbe(): () => number {
  const status = (field: string) => {
    const line = Deno.readTextFileSync("/proc/self/status").split("\n").find((l) =>
      l.startsWith(field)
    );
    return line ? Number(line.split(/\s+/)[1]) * 1024 : NaN;
  };
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  } catch {
    return () => NaN;
  }
  const before = status("VmRSS:");
  return () => status("VmHWM:") - before;
}

export interface Result {
  fit: Record<string, number>;
  peak: Record<string, number>;
  predict: Record<string, number>;
  accuracy: number;
  version?: string;
  error?: string;
}

function accuracyOf(proba: Float32Array, y: Float64Array, offset: number, k: number): number {
  let right = 0;
  const n = proba.length / k;
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (proba[r * k + c] > proba[r * k + best]) best = c;
    if (best === y[offset + r]) right++;
  }
  return right / n;
}

/** The files and parameters that every peer reads: raw float32 rows and labels. */
interface DataConfig {
  trainX: string;
  trainY: string;
  testX: string;
  testY: string;
  nTrain: number;
  nTest: number;
  nCols: number;
  task: "binary" | "multiclass";
  nClasses: number;
  params: typeof PARAMS;
  /** Thread-scaling runs: the fit alone, no predictions. */
  fitOnly?: boolean;
}

/** Writes the data set's rows into `dir` and returns the config that names them. */
function writeData(ds: Dataset, dir: string, prefix = ""): DataConfig {
  const { nTrain, nTest, nCols } = ds;
  const write = (name: string, data: Float32Array) => {
    const path = `${dir}/${prefix}${name}.f32`;
    Deno.writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return path;
  };
  return {
    trainX: write("train_x", ds.x.subarray(0, nTrain * nCols)),
    trainY: write("train_y", Float32Array.from(ds.y.subarray(0, nTrain))),
    testX: write("test_x", ds.x.subarray(nTrain * nCols, (nTrain + nTest) * nCols)),
    testY: write("test_y", Float32Array.from(ds.y.subarray(nTrain, nTrain + nTest))),
    nTrain,
    nTest,
    nCols,
    task: ds.nClasses === 2 ? "binary" : "multiclass",
    nClasses: ds.nClasses,
    params: PARAMS,
  };
}

function readData(config: DataConfig) {
  const read = (path: string) => {
    const bytes = Deno.readFileSync(path);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
  return {
    x: read(config.trainX),
    y: Float64Array.from(read(config.trainY)),
    tx: read(config.testX),
    ty: Float64Array.from(read(config.testY)),
  };
}

/**
 * One Tessera run in this process (the child of `tessera()`): a small warm-up fit that starts
 * the runtime, a larger one that runs every path of the timed fit, one timed fit, then the
 * median of PREDICT_RUNS predictions of the test rows.
 */
async function fitChild(
  config: DataConfig,
  threads: number | undefined,
  core?: number,
): Promise<Result> {
  const { nTrain, nTest, nCols } = config;
  const data = readData(config);
  await init(threads === undefined ? {} : { threads });
  // This thread alone, after init() has started the workers (a thread starts with its
  // creator's CPUs: pinned first, every worker would share this one core).
  if (core !== undefined) await pinThread(core);
  const key = String(runtimeInfo().threads);
  const small = Math.min(nTrain, 5000);
  await new XGBClassifier({ ...PARAMS, nEstimators: 3 }).fit(
    { data: data.x.subarray(0, small * nCols), shape: [small, nCols] },
    data.y.subarray(0, small),
  );
  // Peak memory from here: the warm-up below needs less than the timed fit.
  const peak = peakProbe();
  // A second warm-up runs the paths the timed fit takes, the split ones too: a fit of 80k rows
  // splits its partitions, margin updates and gradients between threads (from 2^16 rows) and
  // its large growth steps, where the 5,000-row fit ran all of them in one thread, so the timed
  // fit on two threads still paid V8's compiles of that code on the two busy cores (see
  // bench/NOTES.md, "A process's first big fit").
  const warm = Math.min(nTrain, 80000);
  await new XGBClassifier({ ...PARAMS, nEstimators: 20 }).fit(
    { data: data.x.subarray(0, warm * nCols), shape: [warm, nCols] },
    data.y.subarray(0, warm),
  );
  const start = performance.now();
  const model = await new XGBClassifier({ ...PARAMS, backend: "wasm" }).fit(
    { data: data.x, shape: [nTrain, nCols] },
    data.y,
  );
  const fit = (performance.now() - start) / 1000;
  const grown = peak();
  if (config.fitOnly) {
    await dispose();
    return { fit: { [key]: fit }, peak: { [key]: grown }, predict: {}, accuracy: NaN };
  }
  const test = { data: data.tx, shape: [nTest, nCols] };
  // Warm-up calls first (as medianMs does): the workers compile the prediction kernel lazily.
  const times: number[] = [];
  for (let i = 0; i < 3 + PREDICT_RUNS; i++) {
    const t0 = performance.now();
    await model.predictProba(test);
    if (i >= 3) times.push(performance.now() - t0);
  }
  const proba = (await model.predictProba(test)).data as Float32Array;
  await dispose();
  return {
    fit: { [key]: fit },
    peak: { [key]: grown },
    predict: { [key]: median(times) / 1000 },
    accuracy: accuracyOf(proba, data.ty, 0, config.nClasses),
  };
}

/**
 * Runs `command` with `args` (stdout and stderr piped), on CPU `core` alone where one is given
 * (Linux's `taskset`).
 */
function pinned(
  core: number | undefined,
  command: string,
  args: string[],
  env?: Record<string, string>,
) {
  const [cmd, argv] = core === undefined
    ? [command, args]
    : ["taskset", ["-c", String(core), command, ...args]];
  return new Deno.Command(cmd, { args: argv, stdout: "piped", stderr: "piped", env }).output();
}

/**
 * Tessera on each pool size (undefined: the default pool), each in a fresh Deno process, so
 * that one run's memory and compiled code do not flatter the next.
 */
export async function tessera(
  configPath: string,
  threads: (number | undefined)[],
  core?: number,
): Promise<Result> {
  const result: Result = { fit: {}, peak: {}, predict: {}, accuracy: NaN };
  for (const t of threads) {
    // The child pins its own main thread (see pinThread): V8's helper threads keep every core,
    // as in an unpinned one-thread run.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--fit-child",
        configPath,
        String(t ?? ""),
        String(core ?? ""),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const error = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "failed";
      return { ...result, error };
    }
    const r: Result = JSON.parse(new TextDecoder().decode(out.stdout));
    Object.assign(result.fit, r.fit);
    Object.assign(result.peak, r.peak);
    Object.assign(result.predict, r.predict);
    result.accuracy = r.accuracy;
  }
  return result;
}

/** Runs the native peers on the data that `config` names. */
export async function nativePeers(
  config: DataConfig,
  dir: string,
  peers = ["xgboost", "sklearn"],
): Promise<Record<string, Result>> {
  const path = `${dir}/native.json`;
  Deno.writeTextFileSync(
    path,
    JSON.stringify({
      ...config,
      threads: [1, 2],
      // One thread: its OpenMP threads spin at barriers, which takes minutes on a shared 2-core box.
      sklearnThreads: [1],
      repeats: PREDICT_RUNS,
      peers,
    }),
  );
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [`${PEERS}trees_peers.py`, path],
    stdout: "piped",
    stderr: "piped",
    env: { OPENBLAS_CORETYPE: "SKYLAKEX" },
  }).output();
  if (!out.success) {
    const error = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "failed";
    return { xgboost: { error } as Result, sklearn: { error } as Result };
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const best = (r: Record<string, number>) => Math.min(...Object.values(r));
const mib = (bytes: number) => bytes / 2 ** 20;

function rows(ds: Dataset, results: Record<string, Result>): Array<Array<string | number>> {
  const xgb = results["XGBoost"];
  const fitBase = xgb?.fit ? best(xgb.fit) : NaN;
  const predictBase = xgb?.predict ? best(xgb.predict) : NaN;
  const input = ds.nTrain * ds.nCols * 4;
  const out: Array<Array<string | number>> = [];
  for (const [name, r] of Object.entries(results)) {
    if (r.error) {
      out.push([ds.name, name, "–", "–", "–", "–", "–", "–", `error: ${r.error}`]);
      continue;
    }
    for (const threads of Object.keys(r.fit)) {
      const fit = r.fit[threads], predict = r.predict[threads];
      out.push([
        ds.name,
        name,
        threads,
        fmt(fit, 2),
        `${(fit / fitBase).toFixed(2)}×`,
        fmt(predict * 1000, 2),
        `${(predict / predictBase).toFixed(2)}×`,
        `${(100 * r.accuracy).toFixed(2)} %`,
        `${fmt(mib(r.peak[threads]), 0)} MiB (${(r.peak[threads] / input).toFixed(2)}×)`,
      ]);
    }
  }
  return out;
}

/** The JavaScript peers on a subsample, in Node; one line per peer (or why it did not run). */
async function jsPeers(
  ds: Dataset,
  dir: string,
  nRows: number,
): Promise<Array<Array<string | number>>> {
  const nTest = 2000;
  const part: Dataset = {
    ...ds,
    x: Float32Array.from([
      ...ds.x.subarray(0, nRows * ds.nCols),
      ...ds.x.subarray(ds.nTrain * ds.nCols, (ds.nTrain + nTest) * ds.nCols),
    ]),
    y: Float64Array.from([
      ...ds.y.subarray(0, nRows),
      ...ds.y.subarray(ds.nTrain, ds.nTrain + nTest),
    ]),
    nTrain: nRows,
    nTest,
  };
  const config = writeData(part, dir, "js_");
  const path = `${dir}/js_config.json`;
  Deno.writeTextFileSync(path, JSON.stringify(config));
  const ours = await tessera(path, [undefined]);
  const lines: Array<Array<string | number>> = [];
  const fit = ours.error ? NaN : best(ours.fit);
  lines.push([
    "Tessera (XGBClassifier)",
    "as above",
    fmt(fit, 2),
    "1.00×",
    `${(100 * ours.accuracy).toFixed(2)} %`,
    ours.error ? `error: ${ours.error}` : "",
  ]);
  const installed = await installJsPeers();
  if (installed !== null) {
    for (const peer of ["ml-xgboost", "ydf-training"]) {
      lines.push([peer, "", "–", "–", "–", `not run: ${installed}`]);
    }
    return lines;
  }
  const out = await new Deno.Command("node", {
    args: [`${PEERS}js_peers.mjs`, path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "{}";
  let results: Record<string, { fit?: number; accuracy?: number; params?: string; error?: string }>;
  try {
    results = JSON.parse(text);
  } catch {
    results = { "ml-xgboost": { error: "no result" }, "ydf-training": { error: "no result" } };
  }
  for (const [peer, r] of Object.entries(results)) {
    if (r.error || r.fit === undefined) {
      lines.push([peer, r.params ?? "", "–", "–", "–", `did not run: ${r.error}`]);
    } else {
      lines.push([
        peer,
        r.params ?? "",
        fmt(r.fit, 2),
        `${(r.fit / fit).toFixed(2)}×`,
        `${(100 * r.accuracy!).toFixed(2)} %`,
        "",
      ]);
    }
  }
  return lines;
}

/** Installs the JavaScript peers into bench/_peers/node_modules once; returns why not, or null. */
async function installJsPeers(): Promise<string | null> {
  try {
    Deno.statSync(`${PEERS}node_modules/ml-xgboost`);
    Deno.statSync(`${PEERS}node_modules/ydf-training`);
    return null;
  } catch {
    // not installed yet
  }
  try {
    const out = await new Deno.Command("npm", {
      args: ["--prefix", PEERS, "install", "--no-audit", "--no-fund", "--loglevel=error"],
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success
      ? null
      : `npm install failed (${new TextDecoder().decode(out.stderr).trim().split("\n").pop()})`;
  } catch (error) {
    return `npm not available (${(error as Error).message})`;
  }
}

export async function benchTrees(): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "tessera-trees-" });
  try {
    const sets = [synthetic(200000, 10000)];
    const real = await shuttle();
    if (real) sets.push(real);
    const table1: Array<Array<string | number>> = [];
    for (const [i, ds] of sets.entries()) {
      const config = writeData(ds, dir, `set${i}_`);
      const path = `${dir}/set${i}.json`;
      Deno.writeTextFileSync(path, JSON.stringify(config));
      const native = await nativePeers(config, dir);
      const results: Record<string, Result> = {
        Tessera: await tessera(path, [1, undefined]),
        XGBoost: native.xgboost,
        "scikit-learn HGB": native.sklearn,
      };
      table1.push(...rows(ds, results));
    }
    const header = [
      "data",
      "system",
      "threads",
      "fit (s)",
      "fit / XGBoost",
      "predict test rows (ms)",
      "predict / XGBoost",
      "test accuracy",
      "peak memory at fit (× float input)",
    ];
    const jsRows = await jsPeers(sets[0], dir, 20000);
    const note = [
      "",
      `Fit: ${PARAMS.nEstimators} rounds (Shuttle: one tree per class per round), depth ${PARAMS.maxDepth}, ` +
      `${PARAMS.maxBin} bins, η ${PARAMS.learningRate}, λ 1, one run per thread count, including binning ` +
      "(XGBoost: DMatrix construction and its sketch). Ratios are against native XGBoost's best thread " +
      "count. Predict: predict_proba of the held-out rows, median of 9 after 3 warm-up calls; " +
      "XGBoost's best of " +
      "DMatrix + predict and inplace_predict. Tessera's largest thread count is its default pool, " +
      "min(4, hardware threads), each run in a fresh process. Peak memory: growth of the process's peak resident set during the fit " +
      "(Tessera: main thread, workers and WASM memory).",
      real ? "" : "\nShuttle was skipped: `Rscript` with r-cran-mlbench is not installed.",
      "",
      "JavaScript peers, first 20,000 rows of the synthetic set, 2,000 test rows (their fits at 200k rows " +
      "take minutes):",
      "",
      table(["system", "parameters", "fit (s)", "fit / Tessera", "test accuracy", "note"], jsRows),
    ];
    return table(header, table1) + "\n" + note.join("\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * scikit-learn's `make_classification(n, 28, n_informative=14)` (seed 0), the first nTrain rows
 * training, written by /usr/bin/python3 into `dir`; null when scikit-learn is missing.
 */
async function makeClassification(
  dir: string,
  nTrain: number,
  nTest: number,
): Promise<DataConfig | null> {
  const script = [
    "import sys, numpy as np",
    "from sklearn.datasets import make_classification",
    "d, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])",
    "x, y = make_classification(n + m, 28, n_informative=14, random_state=0)",
    "x, y = x.astype('<f4'), y.astype('<f4')",
    "x[:n].tofile(d + '/mc_train_x.f32'); y[:n].tofile(d + '/mc_train_y.f32')",
    "x[n:].tofile(d + '/mc_test_x.f32'); y[n:].tofile(d + '/mc_test_y.f32')",
  ].join("\n");
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", script, dir, String(nTrain), String(nTest)],
    stdout: "null",
    stderr: "piped",
  }).output().catch(() => null);
  if (out === null || !out.success) return null;
  return {
    trainX: `${dir}/mc_train_x.f32`,
    trainY: `${dir}/mc_train_y.f32`,
    testX: `${dir}/mc_test_x.f32`,
    testY: `${dir}/mc_test_y.f32`,
    nTrain,
    nTest,
    nCols: 28,
    task: "binary",
    nClasses: 2,
    params: PARAMS,
  };
}

/** `--name=a,b,c` from the command line as numbers, or the default. */
function listArg(name: string, fallback: number[]): number[] {
  const arg = Deno.args.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : arg.slice(name.length + 3).split(",").map(Number);
}

/**
 * Thread scaling of the XGBClassifier fit (issue 12): for each data set and row count, rounds
 * of one fit per thread count, interleaved (1, 2, …, 1, 2, …) so a busy neighbour weighs on
 * every thread count alike, each in a fresh process, with native XGBoost 1.7's fits on the
 * same rows in each round. Reports median fit times, the median of each round's own ratio
 * (one thread's fit / this one's), and Tessera's best median against XGBoost's best.
 *
 * Where threads can be pinned (Linux's `taskset`), each round runs the one-thread fits once on
 * each core and takes the fastest core's as the round's one thread (see pinnableCores), and the
 * ratios come with the most that many threads could reach on those cores.
 *
 * `--threads=1,2` (default: 1, 2 and 4 where the host has 4), `--repeats=5`,
 * `--rows=200000` (a list sweeps sizes: where the second thread stops paying).
 */
export async function benchScaling(): Promise<string> {
  const hw = navigator.hardwareConcurrency ?? 2;
  const threads = listArg("threads", hw >= 4 ? [1, 2, 4] : [1, 2]);
  const repeats = listArg("repeats", [5])[0];
  const sizes = listArg("rows", [200000]);
  const nTest = 1000;
  // One-thread fits run on each core in turn where they can be pinned (see pinnableCores).
  const cores = threads.includes(1) ? await pinnableCores() : [];
  const dir = Deno.makeTempDirSync({ prefix: "tessera-scaling-" });
  const out: Array<Array<string | number>> = [];
  try {
    for (const nTrain of sizes) {
      const configs: DataConfig[] = [];
      const ds = synthetic(nTrain, nTest);
      configs.push({ ...writeData(ds, dir, `syn${nTrain}_`), fitOnly: true });
      const mc = await makeClassification(dir, nTrain, nTest);
      if (mc) configs.push({ ...mc, fitOnly: true });
      for (const [i, config] of configs.entries()) {
        const name = i === 0
          ? `bench synthetic ${nTrain / 1000}k`
          : `make_classification ${nTrain / 1000}k`;
        const path = `${dir}/scaling${i}.json`;
        Deno.writeTextFileSync(path, JSON.stringify(config));
        const ours = new Fits(threads), theirs = new Fits(threads);
        for (let r = 0; r < repeats; r++) {
          // More threads keep Tessera's calling thread on the core its one thread found fastest
          // (the workers take the others), as the threads bench does.
          let fastCore: number | undefined;
          for (const t of threads) {
            if (t === 1 && cores.length > 0) {
              const each: number[] = [];
              for (const c of cores) each.push((await tessera(path, [1], c)).fit["1"]);
              ours.addCores(each);
              fastCore = cores[each.indexOf(Math.min(...each))];
            } else ours.add(t, (await tessera(path, [t], fastCore)).fit[String(t)]);
          }
          const many = threads.filter((t) => t !== 1 || cores.length === 0);
          const native = many.length > 0 ? (await nativePeersFit(config, dir, many)).fit : {};
          for (const t of many) theirs.add(t, native[String(t)] ?? NaN);
          if (cores.length > 0 && threads.includes(1)) {
            const each: number[] = [];
            for (const c of cores) {
              each.push((await nativePeersFit(config, dir, [1], c)).fit["1"] ?? NaN);
            }
            theirs.addCores(each);
          }
        }
        const bestOurs = Math.min(...threads.map((t) => ours.median(t)));
        const bestTheirs = Math.min(...threads.map((t) => theirs.median(t)));
        for (const t of threads) {
          out.push([
            name,
            String(t),
            ours.cell(t),
            ours.ratioCell(t),
            theirs.cell(t),
            theirs.ratioCell(t),
            t === threads[threads.length - 1] ? `${fmt(bestOurs / bestTheirs, 2)}×` : "",
          ]);
        }
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  const header = [
    "data",
    "threads",
    "Tessera fit (s)",
    `vs ${threads[0]} thread`,
    "XGBoost fit (s)",
    `vs ${threads[0]} thread`,
    "best / XGBoost best",
  ];
  const pinning = cores.length > 0
    ? " One thread: each round's fastest core, the fit run on each of the host's " +
      `${cores.length} cores in turn (\`taskset\`: Tessera's main thread, XGBoost's process; the ` +
      "cell gives each core's median, the fastest first), as a VM's cores run at different " +
      "speeds while other guests share them; Tessera's calling thread then stays on that core " +
      "at more threads (XGBoost's threads are not pinned); in brackets, the most t threads could reach over " +
      "one on those cores (the t fastest cores' speeds summed, the fastest as 1), from the same " +
      "round's pinned fits."
    : "";
  return table(header, out) + "\n\n" +
    `XGBClassifier fit, ${PARAMS.nEstimators} rounds, depth ${PARAMS.maxDepth}, ${PARAMS.maxBin} bins, ` +
    `η ${PARAMS.learningRate}, binning included; medians of ${repeats} interleaved rounds, each fit in ` +
    "a fresh process; ratios are medians of each round's own ratio." + pinning;
}

/**
 * The fits of one library in the scaling rounds: per thread count, one time a round; where the
 * one-thread fits ran on each core, their times by core, and the round's one-thread time is the
 * fastest core's.
 */
class Fits {
  readonly #times = new Map<number, number[]>();
  /** Each round's one-thread times by core, where pinned. */
  readonly #cores: number[][] = [];

  constructor(readonly threads: number[]) {}

  add(t: number, seconds: number): void {
    const list = this.#times.get(t) ?? [];
    list.push(seconds);
    this.#times.set(t, list);
  }

  addCores(seconds: number[]): void {
    this.#cores.push(seconds);
    this.add(1, Math.min(...seconds));
  }

  median(t: number): number {
    return median(this.#times.get(t) ?? [NaN]);
  }

  /** The median fit, with each core's median after it where the one-thread fits were pinned. */
  cell(t: number): string {
    const m = fmt(this.median(t), 2);
    if (t !== 1 || this.#cores.length === 0) return m;
    const byCore = this.#cores[0].map((_, c) => median(this.#cores.map((round) => round[c])));
    return `${m} (cores: ${byCore.sort((a, b) => a - b).map((x) => fmt(x, 2)).join(" / ")})`;
  }

  /**
   * The median over rounds of the first thread count's fit over this one's, with (where the
   * one-thread fits were pinned) the median of each round's ceiling for t threads.
   */
  ratioCell(t: number): string {
    const first = this.#times.get(this.threads[0]) ?? [], mine = this.#times.get(t) ?? [];
    const ratio = `${fmt(median(mine.map((f, r) => first[r] / f)), 2)}×`;
    if (t === 1 || this.#cores.length === 0) return ratio;
    const ceilings = this.#cores.map((round) => coresCeiling(round.map((s) => 1 / s), t));
    return `${ratio} (${fmt(median(ceilings), 2)}×)`;
  }
}

/**
 * Native XGBoost's fits alone on the rows `config` names, one per thread count, on CPU `core`
 * alone where one is given.
 */
async function nativePeersFit(config: DataConfig, dir: string, threads: number[], core?: number) {
  const path = `${dir}/native_scaling.json`;
  Deno.writeTextFileSync(
    path,
    JSON.stringify({ ...config, threads, repeats: 1, peers: ["xgboost"] }),
  );
  const out = await pinned(core, "/usr/bin/python3", [`${PEERS}trees_peers.py`, path], {
    OPENBLAS_CORETYPE: "SKYLAKEX",
  });
  if (!out.success) return { fit: {} as Record<string, number> };
  return JSON.parse(new TextDecoder().decode(out.stdout)).xgboost as Result;
}

if (import.meta.main) {
  const child = Deno.args.indexOf("--fit-child");
  if (child >= 0) {
    const config: DataConfig = JSON.parse(Deno.readTextFileSync(Deno.args[child + 1]));
    const threads = Deno.args[child + 2] ? Number(Deno.args[child + 2]) : undefined;
    const core = Deno.args[child + 3] ? Number(Deno.args[child + 3]) : undefined;
    console.log(JSON.stringify(await fitChild(config, threads, core)));
  } else if (Deno.args.includes("--scaling")) {
    console.log(await benchScaling());
  } else {
    console.log(await benchTrees());
  }
}
