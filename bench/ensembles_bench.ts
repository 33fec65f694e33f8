/**
 * Tree ensembles II benchmark: RandomForestClassifier (100 trees), AdaBoostClassifier (100
 * stumps, SAMME) and a single fully grown DecisionTreeClassifier against scikit-learn 1.2 (Debian
 * `python3-sklearn`; forests at n_jobs 1 and 2, the best counted) and the npm peers `ml-cart` and
 * `ml-random-forest`, all in one run on the same rows: a synthetic binary problem of 40,000
 * training and 10,000 test rows × 20 features that this file generates from a fixed seed and
 * writes to a temporary folder for the peers. Fits are the best of two runs (one for the
 * slowest peers); predictions are medians over the test rows.
 *
 * Native peers run in `/usr/bin/python3` (a script written next to the data); the npm peers run
 * in Node (bench/_ensembles_peers/peers.mjs, packages installed there on first use) on the first
 * 2,000 training rows, against Tessera on the same rows, each with a time limit.
 *
 * @module
 */
import {
  AdaBoostClassifier,
  DecisionTreeClassifier,
  dispose,
  init,
  RandomForestClassifier,
  runtimeInfo,
} from "../src/mod.ts";
import { Rng } from "../src/_random.ts";
import { fmt, median, table } from "./_harness.ts";

const N_TRAIN = 40000, N_TEST = 10000, COLS = 20, TREES = 100, STUMPS = 100;
/** Training rows of the npm peers: ml-cart's fit grows with n² (40k rows take many minutes). */
const PEER_ROWS = 2000;
const PEERS = new URL("./_ensembles_peers/", import.meta.url).pathname;
/** Longest time an npm peer may take for one fit before it is stopped. */
const PEER_LIMIT_S = 90;

interface Data {
  x: Float32Array;
  y: Float64Array;
  train: { data: Float32Array; shape: number[] };
  test: { data: Float32Array; shape: number[] };
  ytrain: Float64Array;
  ytest: Float64Array;
}

function gaussian(rng: Rng): number {
  const u = 1 - rng.next(), v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * 20 features (Gaussian, skewed, heavy-tailed, two discrete; no missing values, which
 * scikit-learn 1.2's forests refuse), a binary label from a noisy score with interactions and
 * thresholds; deterministic from the seed.
 */
export function synthetic(nTrain = N_TRAIN, nTest = N_TEST, seed = 11): Data {
  const n = nTrain + nTest, rng = new Rng(seed);
  const x = new Float32Array(n * COLS), y = new Float64Array(n);
  const z = new Float64Array(COLS);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < COLS; f++) {
      const g = gaussian(rng);
      z[f] = f % 5 === 1
        ? Math.exp(0.5 * g)
        : f % 5 === 2
        ? g * g * g / 3
        : f >= 18
        ? Math.round(g * 2)
        : g;
      x[r * COLS + f] = z[f];
    }
    const score = z[0] * z[3] + Math.sin(2 * z[4]) + 0.8 * z[5] - 0.4 * z[6] * z[6] +
      0.7 * Math.tanh(z[8] + z[9]) + 0.3 * (z[10] - z[11]) + (z[18] > 1 ? 0.8 : 0) +
      0.5 * Math.log(z[1]) + 0.6 * gaussian(rng) + 0.2;
    y[r] = score > 0 ? 1 : 0;
  }
  const rowsOf = (begin: number, end: number) => ({
    data: x.subarray(begin * COLS, end * COLS),
    shape: [end - begin, COLS],
  });
  return {
    x,
    y,
    train: rowsOf(0, nTrain),
    test: rowsOf(nTrain, n),
    ytrain: y.subarray(0, nTrain),
    ytest: y.subarray(nTrain),
  };
}

const PYTHON = `
import json, sys, time
import numpy as np
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

folder = sys.argv[1]
meta = json.load(open(folder + "/meta.json"))
x = np.fromfile(folder + "/x.f32", dtype=np.float32).reshape(-1, meta["cols"])
y = np.fromfile(folder + "/y.f64")
n = meta["nTrain"]
xtr, ytr, xte, yte = x[:n], y[:n], x[n:], y[n:]

def run(make, runs):
    fits = []
    for _ in range(runs):
        t = time.perf_counter()
        model = make().fit(xtr, ytr)
        fits.append(time.perf_counter() - t)
    predicts = []
    for _ in range(3):
        t = time.perf_counter()
        p = model.predict(xte)
        predicts.append(time.perf_counter() - t)
    return {"fitMs": 1000 * min(fits), "predictMs": 1000 * sorted(predicts)[1],
            "accuracy": float(np.mean(p == yte))}

out = {}
for jobs in (1, 2):
    out["forest%d" % jobs] = run(lambda: RandomForestClassifier(
        n_estimators=meta["trees"], n_jobs=jobs, random_state=0), 1)
out["adaboost"] = run(lambda: AdaBoostClassifier(
    estimator=DecisionTreeClassifier(max_depth=1), n_estimators=meta["stumps"],
    algorithm="SAMME", random_state=0), 2)
out["tree"] = run(lambda: DecisionTreeClassifier(random_state=0), 2)
# Forest accuracy over seeds 0-2: one seed's test accuracy moves by a few tenths of a percent.
seeds = [out["forest2"]["accuracy"]]
for seed in (1, 2):
    model = RandomForestClassifier(n_estimators=meta["trees"], n_jobs=2, random_state=seed)
    seeds.append(float(np.mean(model.fit(xtr, ytr).predict(xte) == yte)))
out["forestSeeds"] = seeds
print(json.dumps(out))
`;

interface Timing {
  fitMs: number;
  predictMs: number;
  accuracy: number;
}

async function writeData(d: Data): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tessera-ensembles-" });
  await Deno.writeFile(`${dir}/x.f32`, new Uint8Array(d.x.buffer));
  await Deno.writeFile(`${dir}/y.f64`, new Uint8Array(d.y.buffer));
  await Deno.writeTextFile(
    `${dir}/meta.json`,
    JSON.stringify({
      nTrain: N_TRAIN,
      nTest: N_TEST,
      cols: COLS,
      trees: TREES,
      stumps: STUMPS,
      peerRows: PEER_ROWS,
    }),
  );
  await Deno.writeTextFile(`${dir}/peers.py`, PYTHON);
  return dir;
}

interface SklearnResults {
  forest1: Timing;
  forest2: Timing;
  adaboost: Timing;
  tree: Timing;
  forestSeeds: number[];
}

async function sklearn(dir: string): Promise<SklearnResults | null> {
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [`${dir}/peers.py`, dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      console.warn(new TextDecoder().decode(out.stderr));
      return null;
    }
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  } catch {
    return null;
  }
}

/** Installs the npm peers on first use; false when npm is unavailable. */
async function npmPeersReady(): Promise<boolean> {
  try {
    await Deno.stat(`${PEERS}node_modules/ml-random-forest`);
    return true;
  } catch {
    try {
      const out = await new Deno.Command("npm", {
        args: ["install", "--no-audit", "--no-fund"],
        cwd: PEERS,
        stdout: "null",
        stderr: "null",
      }).output();
      return out.success;
    } catch {
      return false;
    }
  }
}

/** One npm peer's fit and predict, or the reason it has none. */
async function npmPeer(dir: string, peer: string): Promise<Timing | string> {
  try {
    const out = await new Deno.Command("node", {
      args: [`${PEERS}peers.mjs`, dir, peer],
      cwd: PEERS,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(PEER_LIMIT_S * 1000),
    }).output();
    if (!out.success) {
      return out.signal ? `stopped after ${PEER_LIMIT_S} s` : "failed";
    }
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  } catch {
    return `stopped after ${PEER_LIMIT_S} s`;
  }
}

function accuracy(predicted: Float32Array, y: Float64Array): number {
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
  return correct / y.length;
}

interface Fittable {
  fit(X: Data["train"], y: Float64Array): Promise<unknown>;
  predict(X: Data["test"]): Promise<Float32Array>;
}

/** The data with only its first `rows` training rows. */
function firstRows(d: Data, rows: number): Data {
  return {
    ...d,
    train: { data: d.train.data.subarray(0, rows * COLS), shape: [rows, COLS] },
    ytrain: d.ytrain.subarray(0, rows),
  };
}

/** Best fit time of `runs` fits, median predict time of 5, and test accuracy. */
async function ours(make: () => Fittable, d: Data, runs: number): Promise<Timing> {
  let best = Infinity, model: Fittable | null = null;
  for (let i = 0; i < runs; i++) {
    const m = make();
    const t0 = performance.now();
    await m.fit(d.train, d.ytrain);
    best = Math.min(best, performance.now() - t0);
    model = m;
  }
  const times: number[] = [];
  let predicted: Float32Array = new Float32Array(0);
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    predicted = await model!.predict(d.test);
    times.push(performance.now() - t0);
  }
  return { fitMs: best, predictMs: median(times), accuracy: accuracy(predicted, d.ytest) };
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Runs the benchmark; returns its markdown tables. */
export async function benchEnsembles(): Promise<string> {
  const d = synthetic();
  const dir = await writeData(d);
  try {
    const info = await init();
    const threads = runtimeInfo().threads;
    const forest = await ours(() => new RandomForestClassifier({ nEstimators: TREES }), d, 2);
    const boost = await ours(() => new AdaBoostClassifier({ nEstimators: STUMPS }), d, 2);
    const tree = await ours(() => new DecisionTreeClassifier(), d, 3);
    const forestSeeds = [forest.accuracy];
    for (const seed of [1, 2]) {
      const model = await new RandomForestClassifier({ nEstimators: TREES, seed }).fit(
        d.train,
        d.ytrain,
      );
      forestSeeds.push(accuracy(await model.predict(d.test), d.ytest));
    }
    const small = firstRows(d, PEER_ROWS);
    const smallForest = await ours(
      () => new RandomForestClassifier({ nEstimators: TREES }),
      small,
      2,
    );
    const smallTree = await ours(() => new DecisionTreeClassifier(), small, 3);
    await dispose();
    await init({ threads: 1 });
    const forest1 = await ours(() => new RandomForestClassifier({ nEstimators: TREES }), d, 1);
    await dispose();
    const sk = await sklearn(dir);
    const peers = (await npmPeersReady())
      ? { cart: await npmPeer(dir, "ml-cart"), forest: await npmPeer(dir, "ml-random-forest") }
      : { cart: "npm unavailable", forest: "npm unavailable" };

    const skForest = sk === null
      ? null
      : sk.forest1.fitMs <= sk.forest2.fitMs
      ? { ...sk.forest1, jobs: 1 }
      : { ...sk.forest2, jobs: 2 };
    const rows: (string | number)[][] = [];
    const row = (
      name: string,
      mine: Timing,
      theirs: (Timing & { jobs?: number }) | null,
      target: number,
    ) => {
      const ratio = theirs ? mine.fitMs / theirs.fitMs : NaN;
      rows.push([
        name,
        fmt(mine.fitMs, 0),
        theirs
          ? `${fmt(theirs.fitMs, 0)}${
            theirs.jobs ? ` (${theirs.jobs} job${theirs.jobs > 1 ? "s" : ""})` : ""
          }`
          : "–",
        theirs ? `**${ratio.toFixed(2)}×** ${ratio <= target ? "≤" : ">"} ${target}×` : "–",
        fmt(mine.predictMs, 1),
        theirs ? fmt(theirs.predictMs, 1) : "–",
        pct(mine.accuracy),
        theirs ? pct(theirs.accuracy) : "–",
      ]);
    };
    row(`RandomForestClassifier, ${TREES} trees, ${threads} threads`, forest, skForest, 0.3);
    row(
      `RandomForestClassifier, ${TREES} trees, 1 thread`,
      forest1,
      sk ? { ...sk.forest1, jobs: 1 } : null,
      0.3,
    );
    row(`AdaBoostClassifier, ${STUMPS} stumps (SAMME)`, boost, sk?.adaboost ?? null, 0.5);
    row("DecisionTreeClassifier, fully grown", tree, sk?.tree ?? null, 0.5);

    const peerRows = [
      ["ml-cart 2.1.1, DecisionTreeClassifier (gini)", peers.cart, smallTree],
      [`ml-random-forest 2.1.0, ${TREES} trees, √features`, peers.forest, smallForest],
    ].map(([name, peer, mine]) => {
      const p = peer as Timing | string, m = mine as Timing;
      const tessera = [fmt(m.fitMs, 0), pct(m.accuracy)];
      return typeof p === "string" ? [name as string, p, "–", "–", ...tessera, "–"] : [
        name as string,
        fmt(p.fitMs, 0),
        fmt(p.predictMs, 1),
        pct(p.accuracy),
        ...tessera,
        `${(m.fitMs / p.fitMs).toFixed(3)}×`,
      ];
    });

    return [
      `Synthetic binary problem, ${N_TRAIN.toLocaleString("en")} training and ${
        N_TEST.toLocaleString("en")
      } test rows × ${COLS} features; Tessera ${info.wasmVariant} (${threads} threads unless noted) against scikit-learn ${
        sk ? "1.2" : "(not available)"
      }. Fit: best of 2 runs (scikit-learn's forest: one run per n_jobs, the faster counted); predict: median, all ${
        N_TEST.toLocaleString("en")
      } test rows. Forest accuracy over seeds 0, 1, 2 (a single seed's moves by ±0.3 %): Tessera ${
        forestSeeds.map(pct).join(", ")
      } (mean ${pct(mean(forestSeeds))}); scikit-learn ${
        sk ? `${sk.forestSeeds.map(pct).join(", ")} (mean ${pct(mean(sk.forestSeeds))})` : "–"
      }.`,
      "",
      table(
        [
          "model",
          "Tessera fit ms",
          "scikit-learn fit ms",
          "fit ratio (target)",
          "Tessera predict ms",
          "scikit-learn predict ms",
          "Tessera accuracy",
          "scikit-learn accuracy",
        ],
        rows,
      ),
      "",
      `npm peers in Node 20, trained on the first ${
        PEER_ROWS.toLocaleString("en")
      } training rows (one fit each, stopped after ${PEER_LIMIT_S} s), against Tessera on the same rows; all ${
        N_TEST.toLocaleString("en")
      } test rows:`,
      "",
      table(
        [
          "peer",
          "peer fit ms",
          "peer predict ms",
          "peer accuracy",
          "Tessera fit ms",
          "Tessera accuracy",
          "Tessera / peer fit",
        ],
        peerRows,
      ),
    ].join("\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) console.log(await benchEnsembles());
