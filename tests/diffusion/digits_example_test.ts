/**
 * examples/digits end to end: the trained denoiser (examples/digits/train.py, ONNX through
 * onnxruntime-web) sampled by Tessera, judged by a classifier trained on the real digits of the
 * same split. Imports the built bundle, like the example (tests/run_all.ts builds it first).
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-web";
import { dispose } from "../../dist/tessera.js";
import { loadSplit, openSession, sampleDigits } from "../../examples/digits/digits.mjs";

const here = new URL("../../examples/digits/", import.meta.url);
const split = await loadSplit();
const trainRows: number[] = [], heldRows: number[] = [];
for (let i = 0; i < split.n; i++) (split.train[i] ? trainRows : heldRows).push(i);

/** Euclidean distance (0–16 pixels) from image `at` of `images` to its nearest training image. */
function nearestTraining(images: Float32Array, at: number): number {
  let best = Infinity;
  for (const t of trainRows) {
    let d = 0;
    for (let p = 0; p < 64; p++) d += (images[at * 64 + p] - split.images[t * 64 + p]) ** 2;
    best = Math.min(best, d);
  }
  return Math.sqrt(best);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

/** The classifier's class and confidence (softmax maximum) per digit. */
async function judge(pixels: Float32Array, count: number) {
  const classifier = await openSession("digits_classifier.onnx");
  const { logits } = await classifier.run({
    pixels: new ort.Tensor("float32", pixels, [count, 64]),
  });
  const data = logits.data as Float32Array;
  return Array.from({ length: count }, (_, r) => {
    const row = Array.from(data.subarray(r * 10, r * 10 + 10)), top = Math.max(...row);
    const total = row.reduce((sum, v) => sum + Math.exp(v - top), 0);
    return { digit: row.indexOf(top), confidence: 1 / total };
  });
}

Deno.test("digits example: samples are recognisable, of every class, near the data and not copies", async () => {
  try {
    const session = await openSession("digits_denoiser.onnx");
    const count = 100;
    const { pixels, nfe } = await sampleDigits(session, { count, sampler: "heun", steps: 18 });
    assert.equal(nfe, 35);
    assert.ok(pixels.every((v: number) => v >= 0 && v <= 16));
    const verdicts = await judge(pixels, count);
    const confidence = verdicts.reduce((sum, v) => sum + v.confidence, 0) / count;
    assert.ok(confidence >= 0.9, `mean confidence ${confidence}`);
    assert.equal(new Set(verdicts.map((v) => v.digit)).size, 10);
    // Class labels cycle 0..9 over the rows; the classifier should agree.
    const agree = verdicts.filter((v, r) => v.digit === r % 10).length;
    assert.ok(agree >= 90, `${agree} of ${count} classified as asked`);
    const generated = Array.from({ length: count }, (_, r) => nearestTraining(pixels, r));
    const heldOut = heldRows.map((i) => nearestTraining(split.images, i));
    assert.ok(
      median(generated) <= 1.5 * median(heldOut),
      `median nearest-neighbour distance ${median(generated)} vs held-out ${median(heldOut)}`,
    );
    // Copies would sit at distance ~0 (an image differing by one grey level in every pixel is
    // at 8); the closest real pair of held-out and training images is ~8 apart.
    assert.ok(Math.min(...generated) >= 2.5, `closest sample ${Math.min(...generated)}`);
    assert.ok(median(generated) >= 0.5 * median(heldOut));
  } finally {
    await dispose();
  }
});

Deno.test("digits example: --class with guidance gives that digit", async () => {
  try {
    const session = await openSession("digits_denoiser.onnx");
    for (const [digit, sampler] of [[3, "unipc"], [8, "dpmpp-3m-sde"]] as const) {
      const count = 20;
      const { pixels } = await sampleDigits(session, {
        count,
        sampler,
        steps: 15,
        classLabel: digit,
        guidance: 3,
        seed: 2,
      });
      const verdicts = await judge(pixels, count);
      const hits = verdicts.filter((v) => v.digit === digit).length;
      assert.ok(hits >= 19, `${sampler}: ${hits} of ${count} are ${digit}`);
    }
  } finally {
    await dispose();
  }
});

Deno.test("digits example: the CLI writes N × 64 little-endian float32 pixels from Node", async () => {
  const out = await Deno.makeTempFile({ suffix: ".bin" });
  try {
    const { code, stderr } = await new Deno.Command("node", {
      args: [
        new URL("main.mjs", here).pathname,
        "--count",
        "5",
        "--sampler",
        "euler-ancestral",
        "--steps",
        "10",
        "--out",
        out,
        "--class",
        "7",
        "--guidance",
        "2",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const bytes = await Deno.readFile(out);
    assert.equal(bytes.length, 5 * 64 * 4);
    const pixels = new Float32Array(5 * 64);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < pixels.length; i++) pixels[i] = view.getFloat32(i * 4, true);
    assert.ok(pixels.every((v) => v >= 0 && v <= 16));
    const verdicts = await judge(pixels, 5);
    assert.ok(verdicts.filter((v) => v.digit === 7).length >= 4);
  } finally {
    await Deno.remove(out);
  }
});

Deno.test("digits example: the committed ONNX denoiser is at most 2 MB", async () => {
  const { size } = await Deno.stat(new URL("digits_denoiser.onnx", here));
  assert.ok(size <= 2 * 1024 * 1024, `${size} bytes`);
});
