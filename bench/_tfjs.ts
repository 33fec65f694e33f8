/**
 * tfjs-backend-wasm as a peer: its single-threaded SIMD build, loaded from node_modules.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

let ready: Promise<typeof tf> | null = null;

/** tfjs-core with the WASM backend initialised on one thread. */
export function tfjs(): Promise<typeof tf> {
  ready ??= (async () => {
    const dir = new URL("../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url);
    setWasmPaths(dir.pathname.endsWith("/") ? dir.pathname : `${dir.pathname}/`);
    setThreadsCount(1);
    await tf.setBackend("wasm");
    await tf.ready();
    return tf;
  })();
  return ready;
}
