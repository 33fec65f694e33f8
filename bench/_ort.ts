/**
 * onnxruntime-web (WASM execution provider, one thread) as a peer for the attention benchmark.
 *
 * @module
 */
import * as ort from "onnxruntime-web";

let configured = false;

/** Creates a session for one of bench/models/*.onnx. */
export async function ortSession(name: string): Promise<ort.InferenceSession> {
  if (!configured) {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    const dir = new URL("../node_modules/onnxruntime-web/dist/", import.meta.url);
    ort.env.wasm.wasmPaths = dir.href;
    configured = true;
  }
  const bytes = await Deno.readFile(new URL(`./models/${name}`, import.meta.url));
  return ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
}

export { ort };
