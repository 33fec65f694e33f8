/**
 * The attention family in WGSL. Softmax attention is a FlashAttention-2 style forward pass: one
 * workgroup of 256 invocations owns 32 query rows of one (batch, head) and streams the keys
 * through workgroup memory in tiles of 32, keeping each row's running maximum, running sum and
 * output accumulator in registers; no Nq × Nk buffer exists anywhere.
 *
 * ```
 *  invocation t:  row r = t / 8 of the block, lane = t % 8
 *
 *  per key tile j0 .. j0+31 (causal: the tile loop stops at the block's last visible key)
 *    S  = Q[32 rows] · K[32 keys]ᵀ, 16 dims staged at a time     lane owns keys lane + 8x
 *    m' = max(m, rowmax S)       the 8 lanes of a row meet in redMax[]
 *    P  = 2^(S − m')  → Ps[32][32]                 (logits are in base 2: scale · log2 e)
 *    l  = l · 2^(m − m') + rowsum P                the 8 lanes meet in redSum[]
 *    O  = O · 2^(m − m') + P · V[32 keys], 16 keys staged at a time
 *                                                   lane owns columns 16·lane .. 16·lane + 15
 *  out = O / l,  lse = m · ln 2 + ln l              (l = 0: zeros and −Infinity)
 * ```
 *
 * WGSL lets an implementation assume that no value is infinite, so the shaders never compute
 * with infinities: a hidden logit is the sentinel HIDDEN (−3e38), mask entries below −1e30
 * count as −Infinity, and the host turns a sentinel LSE back into −Infinity.
 *
 * @module
 */
import {
  type AttentionKernels,
  type FlashForwardArgs,
  flashItemCount,
  headItemCount,
  itemRange,
  type LinearForwardArgs,
  type MixedChunkArgs,
} from "../attention.ts";
import { computePipeline, emptyStorageBuffer, storageBuffer, uniformBuffer } from "./_buffers.ts";

/** Query rows per workgroup of the flash shader. */
const FLASH_ROWS = 32;
/** A sentinel LSE at or below this stands for −Infinity. */
const HIDDEN_LIMIT = -1e38;
/** Most workgroups along one dispatch dimension (WebGPU's default limit). */
const MAX_GROUPS = 65535;

/**
 * The flash shader. One shader serves every head and value dimension: a pass covers 128 output
 * columns from `colStart` (the host runs ceil(Dv / 128) passes, each recomputing the logits),
 * so the accumulators are four vec4 registers per invocation whatever Dv is. Few distinct
 * shaders matter on software adapters, where compiling one takes seconds.
 */
const FLASH_SHADER = /* wgsl */ `
struct Params {
  heads: u32, kvHeads: u32, nq: u32, nk: u32,
  headDim: u32, valueDim: u32, hasMask: u32, causal: u32,
  maskBatch: u32, maskHead: u32, maskRow: u32, blocks: u32,
  firstHead: u32, headCount: u32, firstRow: u32, endRow: u32,
  groupsX: u32, colStart: u32, hasLse: u32, scale2: f32,
};
@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<storage, read_write> L: array<f32>;
@group(0) @binding(6) var<uniform> P: Params;

const BR = 32u;       // query rows per workgroup
const BC = 32u;       // keys per tile
const DK = 16u;       // head-dimension slice staged at a time
const LOG2E = 1.4426950408889634;
const LN2 = 0.6931471805599453;
const HIDDEN = -3.0e38;

// Logit phase: Q slice [32 rows][4 vec4] at 0, K slice [32 keys][4 vec4] at 128.
// Value phase: V [16 keys][32 vec4] (128 columns) at 0.
var<workgroup> Stage: array<vec4<f32>, 512>;
var<workgroup> Ps: array<array<f32, 32>, 32>;
var<workgroup> redMax: array<f32, 256>;
var<workgroup> redSum: array<f32, 256>;

/** Four consecutive floats of a row from column c, zero past \`width\`. */
fn load4(buffer: u32, rowStart: u32, c: u32, width: u32) -> vec4<f32> {
  var x = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    if (c + e < width) {
      if (buffer == 0u) { x[e] = Q[rowStart + c + e]; }
      else if (buffer == 1u) { x[e] = K[rowStart + c + e]; }
      else { x[e] = V[rowStart + c + e]; }
    }
  }
  return x;
}

/** scale · q·k (+ mask) in base 2 for key j, or HIDDEN when j is not visible or masked. */
fn logit(dot: f32, j: u32, visibleEnd: u32, maskBase: u32) -> f32 {
  if (j >= visibleEnd) { return HIDDEN; }
  var x = dot * P.scale2;
  if (P.hasMask == 1u) {
    let mk = M[maskBase + j];
    if (mk < -1.0e30) { return HIDDEN; }
    x = fma(mk, LOG2E, x);
  }
  return x;
}

/** 2^(x − rowMax), or 0 for a hidden logit. */
fn weight(x: f32, rowMax: f32) -> f32 {
  if (x > HIDDEN) { return exp2(x - rowMax); }
  return 0.0;
}

/** Sum of the 8 lanes' partial sums of row r, in a fixed order. */
fn laneSum(r: u32) -> f32 {
  let b = r * 8u;
  return ((redSum[b] + redSum[b + 1u]) + (redSum[b + 2u] + redSum[b + 3u])) +
    ((redSum[b + 4u] + redSum[b + 5u]) + (redSum[b + 6u] + redSum[b + 7u]));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let unit = wg.y * P.groupsX + wg.x;
  if (unit >= P.headCount * P.blocks) { return; }
  let bh = P.firstHead + unit / P.blocks;
  let i0 = (unit % P.blocks) * BR;
  let rowBase = bh * P.nq;
  let blockEnd = min(P.nq, i0 + BR);
  if (rowBase + i0 >= P.endRow || rowBase + blockEnd <= P.firstRow) { return; }
  let h = bh % P.heads;
  let b = bh / P.heads;
  let kvBase = (b * P.kvHeads + h / (P.heads / P.kvHeads)) * P.nk;
  let offset = i32(P.nk) - i32(P.nq);
  var keyEnd = P.nk;
  if (P.causal == 1u) { keyEnd = u32(clamp(i32(blockEnd) + offset, 0, i32(P.nk))); }

  // Invocation t: row r of the block, lane 0..7; keys lane + 8x of a tile, columns
  // colStart + 16·lane + 4x .. +3 of the output.
  let r = t / 8u;
  let lane = t % 8u;
  let i = i0 + r;
  let flatRow = rowBase + i;
  let owned = i < P.nq && flatRow >= P.firstRow && flatRow < P.endRow;
  var visibleEnd = keyEnd;
  if (P.causal == 1u) { visibleEnd = u32(clamp(i32(i) + offset + 1, 0, i32(keyEnd))); }
  if (!owned) { visibleEnd = 0u; }
  let maskBase = b * P.maskBatch + h * P.maskHead + i * P.maskRow;
  let stageRow = (t % 128u) / 4u;
  let stageSlice = 4u * (t % 4u);

  var m = HIDDEN;
  var l = 0.0;
  var acc: array<vec4<f32>, 4>;
  for (var j0 = 0u; j0 < keyEnd; j0 += BC) {
    var s = vec4<f32>(0.0);
    for (var d0 = 0u; d0 < P.headDim; d0 += DK) {
      if (t < 128u) {
        var x = vec4<f32>(0.0);
        if (i0 + stageRow < P.nq) {
          x = load4(0u, (rowBase + i0 + stageRow) * P.headDim + d0, stageSlice, P.headDim - d0);
        }
        Stage[t] = x;
      } else {
        var x = vec4<f32>(0.0);
        if (j0 + stageRow < keyEnd) {
          x = load4(1u, (kvBase + j0 + stageRow) * P.headDim + d0, stageSlice, P.headDim - d0);
        }
        Stage[t] = x;
      }
      workgroupBarrier();
      for (var d4 = 0u; d4 < 4u; d4++) {
        let qv = Stage[r * 4u + d4];
        for (var x = 0u; x < 4u; x++) {
          s[x] += dot(qv, Stage[128u + (lane + 8u * x) * 4u + d4]);
        }
      }
      workgroupBarrier();
    }

    // Online softmax in base 2; the 8 lanes of a row meet in redMax and redSum.
    var rowMax = HIDDEN;
    for (var x = 0u; x < 4u; x++) {
      s[x] = logit(s[x], j0 + lane + 8u * x, visibleEnd, maskBase);
      rowMax = max(rowMax, s[x]);
    }
    redMax[t] = rowMax;
    workgroupBarrier();
    var mNew = m;
    for (var e = 0u; e < 8u; e++) { mNew = max(mNew, redMax[r * 8u + e]); }
    var partial = 0.0;
    for (var x = 0u; x < 4u; x++) {
      let p = weight(s[x], mNew);
      Ps[r][lane + 8u * x] = p;
      partial += p;
    }
    redSum[t] = partial;
    var alpha = 1.0;
    if (m > HIDDEN) { alpha = exp2(m - mNew); }
    m = mNew;
    workgroupBarrier();
    l = l * alpha + laneSum(r);
    for (var x = 0u; x < 4u; x++) { acc[x] *= alpha; }

    let kc = min(BC, keyEnd - j0);
    for (var half = 0u; half < kc; half += 16u) {
      for (var e = 0u; e < 2u; e++) {
        let slot = t + 256u * e;
        let kk = slot / 32u;
        var x = vec4<f32>(0.0);
        if (half + kk < kc) {
          x = load4(2u, (kvBase + j0 + half + kk) * P.valueDim + P.colStart, 4u * (slot % 32u),
            P.valueDim - P.colStart);
        }
        Stage[slot] = x;
      }
      workgroupBarrier();
      let count = min(16u, kc - half);
      for (var kk = 0u; kk < count; kk++) {
        let p = vec4<f32>(Ps[r][half + kk]);
        for (var x = 0u; x < 4u; x++) { acc[x] = fma(p, Stage[kk * 32u + lane * 4u + x], acc[x]); }
      }
      workgroupBarrier();
    }
  }

  if (owned) {
    var inv = 0.0;
    if (l > 0.0) { inv = 1.0 / l; }
    for (var x = 0u; x < 4u; x++) {
      for (var e = 0u; e < 4u; e++) {
        let col = P.colStart + 16u * lane + 4u * x + e;
        if (col < P.valueDim) { O[flatRow * P.valueDim + col] = acc[x][e] * inv; }
      }
    }
    if (lane == 0u && P.hasLse == 1u) {
      var lse = HIDDEN;
      if (l > 0.0) { lse = m * LN2 + log(l); }
      L[flatRow] = lse;
    }
  }
}
`;

/** Workgroup grid for `units` workgroups: x up to the per-dimension limit, then y. */
function grid(units: number): [number, number] {
  const x = Math.min(units, MAX_GROUPS);
  return [x, Math.ceil(units / x)];
}

/** Throws a RangeError when a buffer is too big for one storage binding on `device`. */
function checkBindable(device: GPUDevice, name: string, data: { byteLength: number }): void {
  const limit = device.limits.maxStorageBufferBindingSize;
  if (data.byteLength > limit) {
    throw new RangeError(
      `Expected "${name}" to fit one WebGPU storage binding (${limit} bytes) but it has ${data.byteLength} bytes`,
    );
  }
}

/** Encodes the dispatches in order in one submission; each is (pipeline, buffers, groups). */
function submit(
  device: GPUDevice,
  passes: Array<{ pipeline: GPUComputePipeline; buffers: GPUBuffer[]; groups: [number, number] }>,
): void {
  const encoder = device.createCommandEncoder();
  for (const { pipeline, buffers, groups } of passes) {
    if (groups[0] === 0) continue;
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1]);
    pass.end();
  }
  device.queue.submit([encoder.finish()]);
}

/** Copies floats [first, first + count) of `source` back to the host. */
async function readRange(
  device: GPUDevice,
  source: GPUBuffer,
  first: number,
  count: number,
): Promise<Float32Array> {
  if (count === 0) return new Float32Array(0);
  const staging = device.createBuffer({
    size: count * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, first * 4, staging, 0, count * 4);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return new Float32Array(staging.getMappedRange().slice(0));
  } finally {
    staging.destroy();
  }
}

/**
 * Runs `body` with the buffers it creates, surfacing validation errors (a shader that fails to
 * compile, a bad binding) as exceptions and destroying every buffer afterwards.
 */
async function withBuffers<T>(
  device: GPUDevice,
  body: (track: (buffer: GPUBuffer) => GPUBuffer) => Promise<T>,
): Promise<T> {
  const buffers: GPUBuffer[] = [];
  const track = (buffer: GPUBuffer) => {
    buffers.push(buffer);
    return buffer;
  };
  device.pushErrorScope("validation");
  const outcome = await body(track).then(
    (value) => ({ ok: true as const, value }),
    (reason: unknown) => ({ ok: false as const, reason }),
  );
  const error = await device.popErrorScope();
  for (const buffer of buffers) buffer.destroy();
  // A validation error explains a failure better than what it caused downstream.
  if (error) throw new Error(`WebGPU attention kernel failed: ${error.message}`);
  if (!outcome.ok) throw outcome.reason;
  return outcome.value;
}

async function flashOn(
  device: GPUDevice,
  args: FlashForwardArgs,
  firstItem?: number,
  itemCount?: number,
): Promise<void> {
  const [first, end] = itemRange(flashItemCount(args), firstItem, itemCount);
  if (first === end) return;
  const { heads, queryLength, valueDim, queryBlock } = args;
  const items = Math.ceil(queryLength / queryBlock);
  const rowOf = (item: number) =>
    Math.floor(item / items) * queryLength + (item % items) * queryBlock;
  const [r0, r1] = [rowOf(first), Math.min(rowOf(end), args.batch * heads * queryLength)];
  const firstHead = Math.floor(r0 / queryLength);
  const headCount = Math.floor((r1 - 1) / queryLength) + 1 - firstHead;
  const blocks = Math.ceil(queryLength / FLASH_ROWS);
  for (const name of ["q", "k", "v", "mask", "out"] as const) {
    if (args[name] !== null) checkBindable(device, name, args[name]!);
  }
  await withBuffers(device, async (track) => {
    const pipeline = computePipeline(device, FLASH_SHADER);
    const [groupsX, groupsY] = grid(headCount * blocks);
    const out = track(emptyStorageBuffer(device, args.out.byteLength));
    const lse = track(emptyStorageBuffer(device, args.lse === null ? 4 : args.lse.byteLength));
    const inputs = [
      track(storageBuffer(device, args.q)),
      track(storageBuffer(device, args.k)),
      track(storageBuffer(device, args.v)),
      track(storageBuffer(device, args.mask ?? new Float32Array(1))),
    ];
    // One pass per 128 output columns (at least one: the LSE comes from the first).
    const passes = Array.from({ length: Math.max(1, Math.ceil(valueDim / 128)) }, (_, pass) => {
      const params = track(uniformBuffer(device, [
        ["u32", heads],
        ["u32", args.kvHeads],
        ["u32", queryLength],
        ["u32", args.keyLength],
        ["u32", args.headDim],
        ["u32", valueDim],
        ["u32", args.mask === null ? 0 : 1],
        ["u32", args.isCausal ? 1 : 0],
        ["u32", args.maskBatchStride],
        ["u32", args.maskHeadStride],
        ["u32", args.maskRowStride],
        ["u32", blocks],
        ["u32", firstHead],
        ["u32", headCount],
        ["u32", r0],
        ["u32", r1],
        ["u32", groupsX],
        ["u32", 128 * pass],
        ["u32", args.lse !== null && pass === 0 ? 1 : 0],
        ["f32", args.scale * Math.LOG2E],
      ]));
      const groups: [number, number] = [groupsX, groupsY];
      return { pipeline, buffers: [...inputs, out, lse, params], groups };
    });
    submit(device, passes);
    args.out.set(await readRange(device, out, r0 * valueDim, (r1 - r0) * valueDim), r0 * valueDim);
    if (args.lse !== null) {
      const values = await readRange(device, lse, r0, r1 - r0);
      for (let i = 0; i < values.length; i++) {
        args.lse[r0 + i] = values[i] <= HIDDEN_LIMIT ? -Infinity : values[i];
      }
    }
  });
}

/** The attention kernels on a WebGPU device. */
export function webgpuAttention(device: GPUDevice): AttentionKernels {
  return {
    name: "webgpu",
    flashForward: (args, firstItem, itemCount) => flashOn(device, args, firstItem, itemCount),
    linearForward: (args, firstItem, itemCount) => linearOn(device, args, firstItem, itemCount),
    mixedChunkForward: (args, firstItem, itemCount) => mixedOn(device, args, firstItem, itemCount),
  };
}

// Temporary stand-ins while the WGSL versions are written.
import { jsAttention } from "../js/attention.ts";
function linearOn(_d: GPUDevice, args: LinearForwardArgs, f?: number, c?: number) {
  headItemCount(args);
  return jsAttention.linearForward(args, f, c);
}
function mixedOn(_d: GPUDevice, args: MixedChunkArgs, f?: number, c?: number) {
  return jsAttention.mixedChunkForward(args, f, c);
}
