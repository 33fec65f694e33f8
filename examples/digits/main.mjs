/**
 * `npm run example:digits -- --count N --sampler NAME --steps K --out FILE [--class C]
 * [--guidance W] [--seed S] [--png FILE]`: samples N 8×8 digits with the trained denoiser and
 * writes N × 64 little-endian float32 pixels on scikit-learn's 0–16 scale to FILE; `--png`
 * also writes them as an image grid. `--class`: 0–9, "all" (default: 0, 1, …, 9 in turn) or
 * "none" (unconditional).
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { deflateSync } from "node:zlib";

if (!existsSync(new URL("../../dist/tessera.js", import.meta.url))) {
  console.error("examples/digits needs the built bundle: run `npm run build` first");
  process.exit(1);
}
const { dispose, openSession, sampleDigits } = await import("./digits.mjs");

function parseArgs(argv) {
  const opts = { count: 16, sampler: "heun", steps: 18, classLabel: "all", guidance: 1, seed: 0 };
  const names = { "--class": "classLabel" };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i], value = argv[i + 1];
    if (value === undefined) throw new RangeError(`Expected a value after ${key}`);
    const field = names[key] ?? key.replace(/^--/, "");
    if (["count", "steps", "guidance", "seed"].includes(field)) opts[field] = Number(value);
    else if (field === "classLabel") opts.classLabel = /^\d$/.test(value) ? Number(value) : value;
    else if (["sampler", "out", "png"].includes(field)) opts[field] = value;
    else throw new RangeError(`Unknown option ${key}`);
  }
  if (!Number.isInteger(opts.count) || opts.count < 1) {
    throw new RangeError(`Expected --count to be an integer >= 1 but found ${opts.count}`);
  }
  if (!["all", "none"].includes(opts.classLabel) && !Number.isInteger(opts.classLabel)) {
    throw new RangeError(`Expected --class to be 0-9, "all" or "none" but found ${opts.classLabel}`);
  }
  return opts;
}

/** A grayscale PNG of the digits in rows of 10, each pixel drawn 4×4, white on black. */
export function pngGrid(pixels, count, scale = 4) {
  const perRow = Math.min(10, count), rows = Math.ceil(count / perRow), gap = 1;
  const width = perRow * (8 * scale + gap) + gap, height = rows * (8 * scale + gap) + gap;
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw[y * (width + 1)] = 0; // filter: none
  for (let k = 0; k < count; k++) {
    const ox = gap + (k % perRow) * (8 * scale + gap), oy = gap + Math.floor(k / perRow) * (8 * scale + gap);
    for (let p = 0; p < 64; p++) {
      const v = Math.round((pixels[k * 64 + p] / 16) * 255);
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const x = ox + (p % 8) * scale + dx, y = oy + Math.floor(p / 8) * scale + dy;
          raw[y * (width + 1) + 1 + x] = v;
        }
      }
    }
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const out = new Uint8Array(12 + data.length), view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
    return out;
  };
  const header = new Uint8Array(13), hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit grayscale
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const png = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) png.set(p, at), (at += p.length);
  return png;
}

try {
  const opts = parseArgs(process.argv.slice(2));
  const session = await openSession("digits_denoiser.onnx");
  const { pixels, nfe } = await sampleDigits(session, opts);
  if (opts.out) {
    const bytes = new Uint8Array(pixels.length * 4), view = new DataView(bytes.buffer);
    pixels.forEach((v, i) => view.setFloat32(i * 4, v, true));
    await writeFile(opts.out, bytes);
  }
  if (opts.png) await writeFile(opts.png, pngGrid(pixels, opts.count));
  console.log(
    `${opts.count} digits, sampler ${opts.sampler}, ${opts.steps} steps, NFE ${nfe}${
      opts.out ? ` -> ${opts.out}` : ""
    }${opts.png ? ` (grid: ${opts.png})` : ""}`,
  );
} catch (error) {
  if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
  console.error(error.message);
  process.exitCode = 2;
} finally {
  await dispose(); // ends Tessera's worker pool, which would keep the process alive
}
