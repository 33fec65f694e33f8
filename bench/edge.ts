/**
 * `npm run bench:edge`: the matmul benchmark inside workerd (an edge runtime) on 127.0.0.1.
 * workerd's clock is coarse and deployed edge workers freeze timers between I/O, so each kernel
 * is timed from the client as the round trip of a request running it `reps` times, less the
 * round trip of an empty request. Prints the same kind of table as `npm run bench`.
 *
 * @module
 */
import { startWorkerd } from "../tests/edge/_workerd.mjs";
import { median, table } from "./_harness.ts";
import { SIZES } from "./matmul_bench.ts";

const edge = await startWorkerd(new URL("./edge_worker.js", import.meta.url));
try {
  const info = await edge.call("info");
  async function roundTrip(op: string, ...args: unknown[]) {
    const t0 = performance.now();
    await edge.call(op, ...args);
    return performance.now() - t0;
  }
  const times = async (op: string, ...args: unknown[]) => {
    for (let i = 0; i < 2; i++) await roundTrip(op, ...args);
    const t: number[] = [];
    for (let i = 0; i < 7; i++) t.push(await roundTrip(op, ...args));
    return median(t);
  };
  const ping = await times("ping");
  const rows = [];
  for (const n of SIZES) {
    const reps = Math.max(1, Math.round(2 ** 28 / n ** 3));
    const gflops = async (backend: string) =>
      (2 * n ** 3 * reps) / Math.max(1e-3, (await times("matmul", { n, backend, reps })) - ping) / 1e6;
    const js = await gflops("js");
    const wasm = await gflops("wasm");
    rows.push([`${n}³`, js, wasm, `${(wasm / js).toFixed(1)}×`]);
  }
  console.log(`# Tessera in workerd — build ${info.wasmVariant}, ${info.threads} thread\n`);
  console.log(table(["size", "TS reference", "WASM SIMD", "WASM / TS"], rows));
  console.log(`\nGFLOP/s, medians of 7 client-timed requests less an empty request (${ping.toFixed(2)} ms).`);
} finally {
  await edge.stop();
}
