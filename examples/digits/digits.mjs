/**
 * The trained digits denoiser (train.py) behind Tessera's sampler: onnxruntime-web evaluates the
 * raw network F, Tessera adds EDM's preconditioning, classifier-free guidance (one batched
 * network call per step) and the sampler. Runs in Deno and Node ≥ 20; imports the built bundle.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import * as ort from "onnxruntime-web";
import {
  classifierFreeGuidance,
  dispose,
  karrasSigmas,
  preconditionedDenoiser,
  sample,
} from "../../dist/tessera.js";

export { dispose };

/** The label that asks the network for the unconditional denoiser. */
export const NULL_CLASS = 10;
const PIXELS = 64;

let configured = false;

/** Opens one of this folder's ONNX files with onnxruntime-web's WASM backend, one thread. */
export async function openSession(name) {
  if (!configured) {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    configured = true;
  }
  const bytes = await readFile(new URL(`./${name}`, import.meta.url));
  return await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
}

/**
 * The raw network as a Tessera `Network`: F(x_in; c_noise) with row r labelled `labels[r]`.
 * Rows from `info.unconditionalFrom` on (classifier-free guidance's second half) get the null
 * class.
 */
export function digitsNetwork(session, labels) {
  return async (xIn, cNoise, info) => {
    const rows = info.batch, split = info.unconditionalFrom ?? rows;
    const label = new BigInt64Array(rows);
    for (let r = 0; r < rows; r++) {
      label[r] = BigInt(r < split ? labels[r % labels.length] : NULL_CLASS);
    }
    const { f } = await session.run({
      x_in: new ort.Tensor("float32", xIn, [rows, PIXELS]),
      c_noise: new ort.Tensor("float32", new Float32Array(rows).fill(cNoise), [rows]),
      label: new ort.Tensor("int64", label, [rows]),
    });
    return f.data;
  };
}

/**
 * Samples `count` digits. `classLabel`: a digit 0–9 for every row, "all" (default) to cycle
 * 0, 1, …, 9 over the rows, or "none" for the unconditional model. `guidance` is the
 * classifier-free guidance weight (1 = the conditional model alone).
 *
 * @returns count × 64 pixels on scikit-learn's 0–16 scale, and the NFE of the run.
 */
export async function sampleDigits(session, opts) {
  const {
    count,
    sampler = "heun",
    steps = 18,
    classLabel = "all",
    guidance = 1,
    seed = 0,
    signal,
  } = opts;
  const labels = Array.from(
    { length: count },
    (_, r) => classLabel === "all" ? r % 10 : classLabel === "none" ? NULL_CLASS : classLabel,
  );
  const network = preconditionedDenoiser(digitsNetwork(session, labels), "edm");
  const denoiser = guidance === 1 || classLabel === "none"
    ? network
    : classifierFreeGuidance({ batched: network, scale: guidance });
  let nfe = 0;
  const x = await sample({
    denoiser,
    batch: count,
    dim: PIXELS,
    sigmas: karrasSigmas({ steps, sigmaMin: 0.002, sigmaMax: 80 }),
    sampler,
    seed,
    signal,
    onStep: (s) => (nfe = s.nfe),
  });
  const pixels = x.map((v) => Math.min(16, Math.max(0, (v + 1) * 8)));
  return { pixels, nfe };
}

/** The data of train.py's split: images (0–16), labels, and which are training images. */
export async function loadSplit() {
  const bytes = await readFile(new URL("./digits_split.bin", import.meta.url));
  const n = bytes.length / 66;
  const images = Float32Array.from(bytes.subarray(0, n * PIXELS));
  const labels = bytes.subarray(n * PIXELS, n * 65);
  const train = bytes.subarray(n * 65, n * 66);
  return { n, images, labels, train };
}
