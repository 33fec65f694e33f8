/**
 * TreeSHAP throughput: `predictContributions` (WASM kernel, one thread and the pool) against
 * XGBoost 1.7's native `pred_contribs` on one thread, on the same model (trained here, written
 * by `toXGBoostJSON`) and the same rows; `predictInteractions` against `pred_interactions`.
 * The peer runs in `/usr/bin/python3` (bench/_peers/explain_peer.py, Debian's python3-xgboost).
 *
 * Usage: deno run -A bench/explain_bench.ts
 *
 * @module
 */
import { dispose, init, XGBRegressor } from "../src/mod.ts";
import { Rng } from "../src/_random.ts";
import { fmt, machine, medianMs, table } from "./_harness.ts";

const N_TRAIN = 5000, N_ROWS = 2000, N_COLS = 10;

function rows(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from(
    { length: n * N_COLS },
    () => (rng.next() < 0.05 ? NaN : rng.next() * 4 - 2),
  );
}

async function peer(text: string, x: Float32Array) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/model.json`, text);
    await Deno.writeFile(`${dir}/rows.f32`, new Uint8Array(x.buffer));
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [
        new URL("./_peers/explain_peer.py", import.meta.url).pathname,
        `${dir}/model.json`,
        `${dir}/rows.f32`,
        String(N_ROWS),
        String(N_COLS),
      ],
      env: { OMP_NUM_THREADS: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) return null;
    return JSON.parse(new TextDecoder().decode(out.stdout)) as {
      xgboost: string;
      contribsMs: number;
      interactionsMs: number;
    };
  } catch {
    return null;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The table: rows/s of each, and the ratio to XGBoost's native single-thread figure. */
export async function benchExplain(): Promise<string> {
  const train = rows(N_TRAIN, 1);
  const y = Array.from({ length: N_TRAIN }, (_, r) => {
    const v = (c: number) => train[r * N_COLS + c] || 0;
    return v(0) + 2 * v(1) * v(2) - Math.sin(v(3)) + 0.5 * v(4);
  });
  const X = { data: train, shape: [N_TRAIN, N_COLS] };
  const query = { data: rows(N_ROWS, 2), shape: [N_ROWS, N_COLS] };
  const small = { data: query.data.subarray(0, 50 * N_COLS), shape: [50, N_COLS] };
  const out: Array<Array<string | number>> = [];
  let native: Awaited<ReturnType<typeof peer>> = null;
  for (const threads of [1, 2]) {
    await init({ threads });
    try {
      const model = await new XGBRegressor({ nEstimators: 100, maxDepth: 6, seed: 1 }).fit(X, y);
      if (threads === 1) native = await peer(model.toXGBoostJSON(), query.data);
      const ms = await medianMs(() => model.predictContributions(query), { runs: 5 });
      const msInter = await medianMs(() => model.predictInteractions(small), { runs: 3 });
      out.push([
        `Tessera predictContributions, ${threads} thread(s)`,
        fmt(N_ROWS / (ms / 1000), 0),
        native ? fmt(native.contribsMs / ms, 2) : "—",
      ]);
      out.push([
        `Tessera predictInteractions, ${threads} thread(s)`,
        fmt(50 / (msInter / 1000), 0),
        native ? fmt(native.interactionsMs / msInter, 2) : "—",
      ]);
    } finally {
      await dispose();
    }
  }
  if (native !== null) {
    out.unshift(
      [
        `XGBoost ${native.xgboost} pred_contribs, 1 thread`,
        fmt(N_ROWS / (native.contribsMs / 1000), 0),
        "1.00",
      ],
      [
        `XGBoost ${native.xgboost} pred_interactions, 1 thread`,
        fmt(50 / (native.interactionsMs / 1000), 0),
        "1.00",
      ],
    );
  }
  return table(["TreeSHAP, 100 trees of depth 6, 10 features", "rows/s", "vs XGBoost"], out);
}

if (import.meta.main) {
  console.log(`# TreeSHAP — ${machine()}\n`);
  console.log(await benchExplain());
}
