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
 *    P  = 2^(S − m')  → Ws[32][32]                 (logits are in base 2: scale · log2 e)
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
  attentionBackend,
  type AttentionDims,
  type AttentionKernels,
  type FlashForwardArgs,
  flashRows,
  type LinearForwardArgs,
  type MixedChunkArgs,
  type QueryKeyValueBuffers,
} from "../attention.ts";
import {
  computePipeline,
  emptyStorageBuffer,
  type Pass,
  readBack,
  type ReadRange,
  storageBuffer,
  submit,
  uniformBuffer,
  unroll,
  XYZW,
} from "./_buffers.ts";

/** Query rows per workgroup of the flash shader. */
const FLASH_ROWS = 32;
/** A sentinel LSE at or below this stands for −Infinity. */
const HIDDEN_LIMIT = -1e38;
/** Most workgroups along one dispatch dimension (WebGPU's default limit). */
const MAX_GROUPS = 65535;

// ---------------------------------------------------------------------------------------------
// WGSL shared by the shaders below. The flash and chunk shaders have the same layout: a
// workgroup of 256 invocations owns 32 query rows of one (batch, head), invocation t owns row
// r = t / 8 and lane t % 8, and keys stream through workgroup memory in tiles of 32.

/**
 * Group 0 of a shader: the f32 arrays `read` (read-only) then `readWrite`, bound in that order
 * from 0, then the uniform `P: Params`.
 */
function bindings(read: string[], readWrite: string[]): string {
  const arrays = [
    ...read.map((name) => `var<storage, read> ${name}`),
    ...readWrite.map((name) => `var<storage, read_write> ${name}`),
  ];
  return [
    ...arrays.map((array, i) => `@group(0) @binding(${i}) ${array}: array<f32>;`),
    `@group(0) @binding(${arrays.length}) var<uniform> P: Params;`,
  ].join("\n");
}

/** The opening of the entry point `main`, for workgroups of `size` invocations. */
function entryPoint(size: number): string {
  return `@compute @workgroup_size(${size})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {`;
}

/** Tile sizes, workgroup memory and the lane reduction of the 32-row shaders. */
const TILE_WGSL = /* wgsl */ `
const BR = 32u;       // query rows per workgroup
const BC = 32u;       // keys per tile
const DK = 16u;       // head-dimension slice staged at a time

// Logit phase: Q slice [32 rows][4 vec4] at 0, K slice [32 keys][4 vec4] at 128.
// Value phase: V [16 keys][32 vec4] (128 columns) at 0.
var<workgroup> Stage: array<vec4<f32>, 512>;
// Each row's weights of the tile's keys (softmax numerators or chunk weights).
var<workgroup> Ws: array<array<f32, 32>, 32>;
var<workgroup> redSum: array<f32, 256>;

/** Sum of the 8 lanes' partial sums of row r, in a fixed order. */
fn laneSum(r: u32) -> f32 {
  let b = r * 8u;
  return ((redSum[b] + redSum[b + 1u]) + (redSum[b + 2u] + redSum[b + 3u])) +
    ((redSum[b + 4u] + redSum[b + 5u]) + (redSum[b + 6u] + redSum[b + 7u]));
}
`;

/**
 * `load4`: four consecutive floats of a row of Q, K or V (buffer 0, 1, 2) from column c, zero
 * past `width`; `queryKey` wraps the Q and K reads (the chunk shader's feature map).
 */
function load4Wgsl(queryKey: (read: string) => string): string {
  return /* wgsl */ `
fn load4(buffer: u32, rowStart: u32, c: u32, width: u32) -> vec4<f32> {
  var x = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    if (c + e < width) {
      if (buffer == 0u) { x[e] = ${queryKey("Q[rowStart + c + e]")}; }
      else if (buffer == 1u) { x[e] = ${queryKey("K[rowStart + c + e]")}; }
      else { x[e] = V[rowStart + c + e]; }
    }
  }
  return x;
}
`;
}

/**
 * The start of `main` after the bounds check: the block's (batch, head) `bh`, first row `i0`
 * and row end, and the key/value head it reads.
 */
const BLOCK_WGSL = /* wgsl */ `
  let unit = wg.y * P.groupsX + wg.x;
  if (unit >= P.headCount * P.blocks) { return; }
  let bh = P.firstHead + unit / P.blocks;
  let i0 = (unit % P.blocks) * BR;
  let rowBase = bh * P.nq;
  let blockEnd = min(P.nq, i0 + BR);
  let h = bh % P.heads;
  let b = bh / P.heads;
  let kvIndex = b * P.kvHeads + h / (P.heads / P.kvHeads);
  let kvBase = kvIndex * P.nk;
`;

/** Invocation t's row, lane and staging slot. */
const INVOCATION_WGSL = /* wgsl */ `
  // Invocation t: row r of the block, lane 0..7; keys lane + 8c of a tile, columns
  // colStart + 16·lane + 4c .. +3 of the output.
  let r = t / 8u;
  let lane = t % 8u;
  let i = i0 + r;
  let flatRow = rowBase + i;
  let stageRow = (t % 128u) / 4u;
  let stageSlice = 4u * (t % 4u);
`;

/** s[c] = q_i · k_j for the lane's keys j = j0 + lane + 8c of the tile, 16 dims staged at a time. */
const SCORES_WGSL = /* wgsl */ `
    var s = vec4<f32>(0.0);
    for (var d0 = 0u; d0 < P.headDim; d0 += DK) {
      var x = vec4<f32>(0.0);
      if (t < 128u) {
        if (i0 + stageRow < P.nq) {
          x = load4(0u, (rowBase + i0 + stageRow) * P.headDim + d0, stageSlice, P.headDim - d0);
        }
      } else if (j0 + stageRow < keyEnd) {
        x = load4(1u, (kvBase + j0 + stageRow) * P.headDim + d0, stageSlice, P.headDim - d0);
      }
      Stage[t] = x;
      workgroupBarrier();
      for (var d4 = 0u; d4 < 4u; d4++) {
        let qv = Stage[r * 4u + d4];
        for (var c = 0u; c < 4u; c++) {
          s[c] += dot(qv, Stage[128u + (lane + 8u * c) * 4u + d4]);
        }
      }
      workgroupBarrier();
    }
`;

/**
 * acc += Ws[r] · V over the tile's keys, 16 keys staged at a time; its first barrier also
 * publishes Ws.
 */
const WEIGHTED_VALUES_WGSL = /* wgsl */ `
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
        let w = vec4<f32>(Ws[r][half + kk]);
        for (var c = 0u; c < 4u; c++) { acc[c] = fma(w, Stage[kk * 32u + lane * 4u + c], acc[c]); }
      }
      workgroupBarrier();
    }
`;

/** `body` for each output column `col` of the lane (acc[c][e]) that is within the row. */
function forLaneColumns(body: string): string {
  return /* wgsl */ `
    for (var c = 0u; c < 4u; c++) {
      for (var e = 0u; e < 4u; e++) {
        let col = P.colStart + 16u * lane + 4u * c + e;
        if (col < P.valueDim) { ${body} }
      }
    }`;
}

/**
 * What the flash shaders share: their parameters (one uniform struct, filled by flashDispatch),
 * the constants of base-2 logits, and `logit`, which reads the mask M.
 */
const FLASH_COMMON_WGSL = /* wgsl */ `
struct Params {
  heads: u32, kvHeads: u32, nq: u32, nk: u32,
  headDim: u32, valueDim: u32, hasMask: u32, causal: u32,
  maskBatch: u32, maskHead: u32, maskRow: u32, blocks: u32,
  firstHead: u32, headCount: u32, firstRow: u32, endRow: u32,
  groupsX: u32, colStart: u32, hasLse: u32, scale2: f32,
};
const LOG2E = 1.4426950408889634;
const LN2 = 0.6931471805599453;
const HIDDEN = -3.0e38;

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
`;

/**
 * The flash shader. One shader serves every head and value dimension: a pass covers 128 output
 * columns from `colStart` (the host runs ceil(Dv / 128) passes, each recomputing the logits),
 * so the accumulators are four vec4 registers per invocation whatever Dv is. Few distinct
 * shaders matter on software adapters, where compiling one takes seconds.
 */
const FLASH_SHADER = /* wgsl */ `
${FLASH_COMMON_WGSL}
${bindings(["Q", "K", "V", "M"], ["O", "L"])}
${TILE_WGSL}

var<workgroup> redMax: array<f32, 256>;
${load4Wgsl((read) => read)}
/** 2^(x − rowMax), or 0 for a hidden logit. */
fn weight(x: f32, rowMax: f32) -> f32 {
  if (x > HIDDEN) { return exp2(x - rowMax); }
  return 0.0;
}

${entryPoint(256)}
${BLOCK_WGSL}
  if (rowBase + i0 >= P.endRow || rowBase + blockEnd <= P.firstRow) { return; }
  let offset = i32(P.nk) - i32(P.nq);
  var keyEnd = P.nk;
  if (P.causal == 1u) { keyEnd = u32(clamp(i32(blockEnd) + offset, 0, i32(P.nk))); }
${INVOCATION_WGSL}
  let owned = i < P.nq && flatRow >= P.firstRow && flatRow < P.endRow;
  var visibleEnd = keyEnd;
  if (P.causal == 1u) { visibleEnd = u32(clamp(i32(i) + offset + 1, 0, i32(keyEnd))); }
  if (!owned) { visibleEnd = 0u; }
  let maskBase = b * P.maskBatch + h * P.maskHead + i * P.maskRow;

  var m = HIDDEN;
  var l = 0.0;
  var acc: array<vec4<f32>, 4>;
  for (var j0 = 0u; j0 < keyEnd; j0 += BC) {
${SCORES_WGSL}
    // Online softmax in base 2; the 8 lanes of a row meet in redMax and redSum.
    var rowMax = HIDDEN;
    for (var c = 0u; c < 4u; c++) {
      s[c] = logit(s[c], j0 + lane + 8u * c, visibleEnd, maskBase);
      rowMax = max(rowMax, s[c]);
    }
    redMax[t] = rowMax;
    workgroupBarrier();
    var mNew = m;
    for (var e = 0u; e < 8u; e++) { mNew = max(mNew, redMax[r * 8u + e]); }
    var partial = 0.0;
    for (var c = 0u; c < 4u; c++) {
      let p = weight(s[c], mNew);
      Ws[r][lane + 8u * c] = p;
      partial += p;
    }
    redSum[t] = partial;
    var alpha = 1.0;
    if (m > HIDDEN) { alpha = exp2(m - mNew); }
    m = mNew;
    workgroupBarrier();
    l = l * alpha + laneSum(r);
    for (var c = 0u; c < 4u; c++) { acc[c] *= alpha; }
${WEIGHTED_VALUES_WGSL}
  }

  if (owned) {
    var inv = 0.0;
    if (l > 0.0) { inv = 1.0 / l; }
${forLaneColumns("O[flatRow * P.valueDim + col] = acc[c][e] * inv;")}
    if (lane == 0u && P.hasLse == 1u) {
      var lse = HIDDEN;
      if (l > 0.0) { lse = m * LN2 + log(l); }
      L[flatRow] = lse;
    }
  }
}
`;

/** Query rows per workgroup and keys per tile of the wide shader. */
const WIDE_ROWS = 64;
/** The largest value dimension the wide shader serves (two groups of 64 columns). */
const WIDE_VALUE_DIM = 128;
/** Workgroup memory the wide shader declares: A 16 KiB, B 8 KiB, R 4 KiB. */
const WIDE_WORKGROUP_BYTES = 28 * 1024;


/**
 * The wide flash shader, for head and value dimensions that are multiples of 4, values up to
 * 64 columns (`groups` = 1) or 128 (2). A workgroup of 256 invocations owns 64 query rows and
 * takes 64 keys a tile; invocation t = 16·ty + tx holds a 4 × 4 register block of S and one or
 * two of O:
 *
 * ```
 *  S = Q Kᵀ   rows 4ty .. 4ty+3 × keys 4tx .. 4tx+3        32 dims staged at a time, transposed
 *  O += P V   rows 4ty .. 4ty+3 × columns 64g + 4tx .. +3  32 / groups keys of V staged at a time
 * ```
 *
 * so each step of QKᵀ is two vec4 reads of workgroup memory for 16 FMAs, and each of PV
 * 1 + groups for 16·groups (the general shader reads five for 16). Q, K, V and O are bound as
 * vec4 arrays (one 16-byte load each). A row's 16 invocations meet once a tile for its maximum;
 * each keeps its own share of the row's sum, rescaled alongside the accumulators, and the shares
 * are added once at the end. The register blocks are unrolled in the source (s0 … s3, acc0_0 …
 * acc3_1): an array indexed at run time would live in slow local memory (the GEMM's 8×8 block
 * ran 7× slower that way on an H200).
 */
function wideFlashShader(groups: 1 | 2): string {
  const G = (body: (g: number) => string) => unroll(groups, body);
  const keys = 32 / groups; // keys of V staged at a time
  // acc(row a, group g) + weight of row a · the key's columns of group g
  const weightedValue = (a: number, g: number) =>
    `fma(vec4<f32>(w.${XYZW[a]}), x${g}, acc${a}_${g})`;
  return /* wgsl */ `
${FLASH_COMMON_WGSL}
@group(0) @binding(0) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> K: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> V: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> L: array<f32>;
@group(0) @binding(6) var<uniform> P: Params;

// Logit phase: dim d of the slice × 64 rows of Q at 16·d (a vec4 holds 4 rows), and
// dim d × 64 keys of K at 512 + 16·d. Value phase: key k × 64 rows of weights at 16·k.
var<workgroup> A: array<vec4<f32>, 1024>;
// ${keys} keys of V × ${64 * groups} columns, key k at ${16 * groups}·k (a vec4 holds 4 columns).
var<workgroup> B: array<vec4<f32>, 512>;
// Row r's 16 partials (maxima, then sums) at 4·r .. 4·r + 3.
var<workgroup> R: array<vec4<f32>, 256>;

/** logit() of keys j .. j + 3 from their dot products. */
fn logits(dots: vec4<f32>, j: u32, visibleEnd: u32, maskBase: u32) -> vec4<f32> {
  return vec4<f32>(
    logit(dots.x, j, visibleEnd, maskBase),
    logit(dots.y, j + 1u, visibleEnd, maskBase),
    logit(dots.z, j + 2u, visibleEnd, maskBase),
    logit(dots.w, j + 3u, visibleEnd, maskBase),
  );
}

/** 2^(x − rowMax) of each logit, 0 for a hidden one. */
fn weights(x: vec4<f32>, rowMax: f32) -> vec4<f32> {
  return select(vec4<f32>(0.0), exp2(x - rowMax), x > vec4<f32>(HIDDEN));
}

fn maxOf(x: vec4<f32>) -> f32 { return max(max(x.x, x.y), max(x.z, x.w)); }
fn sumOf(x: vec4<f32>) -> f32 { return (x.x + x.y) + (x.z + x.w); }

/** The maximum and the sum of row r's 16 partials, each in a fixed order. */
fn rowMax(r: u32) -> f32 {
  return maxOf(max(max(R[4u * r], R[4u * r + 1u]), max(R[4u * r + 2u], R[4u * r + 3u])));
}
fn rowSum(r: u32) -> f32 {
  return sumOf((R[4u * r] + R[4u * r + 1u]) + (R[4u * r + 2u] + R[4u * r + 3u]));
}

/** Where row i's visible keys end: 0 for rows this call does not own. */
fn visibleEnd(i: u32, rowBase: u32, keyEnd: u32, offset: i32) -> u32 {
  if (!owns(i, rowBase)) { return 0u; }
  if (P.causal == 1u) { return u32(clamp(i32(i) + offset + 1, 0, i32(keyEnd))); }
  return keyEnd;
}

/** Whether this call writes row i. */
fn owns(i: u32, rowBase: u32) -> bool {
  return i < P.nq && rowBase + i >= P.firstRow && rowBase + i < P.endRow;
}

/** Row i's output columns 4·c4 .. 4·c4 + 3: the accumulators over the row's sum (0 for none). */
fn storeOut(i: u32, rowBase: u32, c4: u32, acc: vec4<f32>, total: f32) {
  if (!owns(i, rowBase) || c4 >= P.valueDim / 4u) { return; }
  var inv = 0.0;
  if (total > 0.0) { inv = 1.0 / total; }
  O[(rowBase + i) * (P.valueDim / 4u) + c4] = acc * inv;
}

/** Row i's LSE, HIDDEN where the row saw no key. */
fn storeLse(i: u32, rowBase: u32, m: f32, total: f32) {
  if (!owns(i, rowBase) || P.hasLse == 0u) { return; }
  var lse = HIDDEN;
  if (total > 0.0) { lse = m * LN2 + log(total); }
  L[rowBase + i] = lse;
}

${entryPoint(256)}
  let unit = wg.y * P.groupsX + wg.x;
  if (unit >= P.headCount * P.blocks) { return; }
  let bh = P.firstHead + unit / P.blocks;
  let i0 = (unit % P.blocks) * 64u;
  let rowBase = bh * P.nq;
  let blockEnd = min(P.nq, i0 + 64u);
  let h = bh % P.heads;
  let b = bh / P.heads;
  let kvBase = (b * P.kvHeads + h / (P.heads / P.kvHeads)) * P.nk;
  if (rowBase + i0 >= P.endRow || rowBase + blockEnd <= P.firstRow) { return; }
  let offset = i32(P.nk) - i32(P.nq);
  var keyEnd = P.nk;
  if (P.causal == 1u) { keyEnd = u32(clamp(i32(blockEnd) + offset, 0, i32(P.nk))); }
  let dq = P.headDim / 4u;
  let dv = P.valueDim / 4u;
  let ty = t / 16u;
  let tx = t % 16u;
${unroll(4, (a) => `  let row${a} = i0 + 4u * ty + ${a}u;
  let visible${a} = visibleEnd(row${a}, rowBase, keyEnd, offset);
  let maskBase${a} = b * P.maskBatch + h * P.maskHead + row${a} * P.maskRow;
  var m${a} = HIDDEN;
  var l${a} = 0.0;
${G((g) => `  var acc${a}_${g} = vec4<f32>(0.0);`)}`)}
  for (var j0 = 0u; j0 < keyEnd; j0 += 64u) {
${unroll(4, (a) => `    var s${a} = vec4<f32>(0.0);`)}
    for (var d0 = 0u; d0 < dq; d0 += 8u) {
      for (var slot = t; slot < 512u; slot += 256u) {
        let rr = slot / 8u;
        let d4 = d0 + slot % 8u;
        var x = vec4<f32>(0.0);
        if (d4 < dq && i0 + rr < P.nq) { x = Q[(rowBase + i0 + rr) * dq + d4]; }
        let at = 64u * (slot % 8u) + rr / 4u;
${unroll(4, (e) => `        A[at + ${e * 16}u][rr % 4u] = x.${XYZW[e]};`)}
      }
      for (var slot = t; slot < 512u; slot += 256u) {
        let rr = slot / 8u;
        let d4 = d0 + slot % 8u;
        var y = vec4<f32>(0.0);
        if (d4 < dq && j0 + rr < keyEnd) { y = K[(kvBase + j0 + rr) * dq + d4]; }
        let at = 512u + 64u * (slot % 8u) + rr / 4u;
${unroll(4, (e) => `        A[at + ${e * 16}u][rr % 4u] = y.${XYZW[e]};`)}
      }
      workgroupBarrier();
      for (var d = 0u; d < 32u; d++) {
        let q = A[16u * d + ty];
        let k = A[512u + 16u * d + tx];
${unroll(4, (a) => `        s${a} = fma(vec4<f32>(q.${XYZW[a]}), k, s${a});`)}
      }
      workgroupBarrier();
    }

    // Online softmax in base 2.
${unroll(4, (a) => `    s${a} = logits(s${a}, j0 + 4u * tx, visible${a}, maskBase${a});
    R[4u * (4u * ty + ${a}u) + tx / 4u][tx % 4u] = maxOf(s${a});`)}
    workgroupBarrier();
${unroll(4, (a) => `    {
      let mNew = max(m${a}, rowMax(4u * ty + ${a}u));
      s${a} = weights(s${a}, mNew);
      var alpha = 1.0;
      if (m${a} > HIDDEN) { alpha = exp2(m${a} - mNew); }
      m${a} = mNew;
      l${a} = l${a} * alpha + sumOf(s${a});
${G((g) => `      acc${a}_${g} *= alpha;`)}
    }`)}
    // The weights transposed: key 4tx + c of rows 4ty .. 4ty + 3.
    let weightsT = transpose(mat4x4<f32>(s0, s1, s2, s3));
${unroll(4, (c) => `    A[16u * (4u * tx + ${c}u) + ty] = weightsT[${c}];`)}

    let kc = min(64u, keyEnd - j0);
    for (var k0 = 0u; k0 < kc; k0 += ${keys}u) {
      for (var slot = t; slot < 512u; slot += 256u) {
        let kk = slot / ${16 * groups}u;
        let c4 = slot % ${16 * groups}u;
        var x = vec4<f32>(0.0);
        if (k0 + kk < kc && c4 < dv) { x = V[(kvBase + j0 + k0 + kk) * dv + c4]; }
        B[slot] = x;
      }
      workgroupBarrier();
      for (var kk = 0u; kk < ${keys}u; kk++) {
        let w = A[16u * (k0 + kk) + ty];
${G((g) => `        let x${g} = B[${16 * groups}u * kk + ${16 * g}u + tx];`)}
${unroll(4, (a) => G((g) => `        acc${a}_${g} = ${weightedValue(a, g)};`))}
      }
      workgroupBarrier();
    }
  }

${unroll(4, (a) => `  R[4u * (4u * ty + ${a}u) + tx / 4u][tx % 4u] = l${a};`)}
  workgroupBarrier();
${unroll(4, (a) => `  {
    let total = rowSum(4u * ty + ${a}u);
${G((g) => `    storeOut(row${a}, rowBase, ${16 * g}u + tx, acc${a}_${g}, total);`)}
    if (tx == 0u) { storeLse(row${a}, rowBase, m${a}, total); }
  }`)}
}
`;
}

/** The wide shader for value dims up to 64 and up to 128. */
const WIDE_FLASH_SHADERS = [wideFlashShader(1), wideFlashShader(2)];

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

/** Which flash shader a call may run: "auto" takes the wide one where it applies. */
export type FlashShader = "auto" | "general";

/** Whether the wide flash shader serves `args` on `device`. */
function wideFlashFits(device: GPUDevice, args: FlashForwardArgs): boolean {
  const { headDim, valueDim } = args;
  return headDim > 0 && valueDim > 0 && valueDim <= WIDE_VALUE_DIM &&
    headDim % 4 === 0 && valueDim % 4 === 0 &&
    device.limits.maxComputeWorkgroupStorageSize >= WIDE_WORKGROUP_BYTES;
}

/** A flash call's encoded passes on the device, and where its results land. */
export interface FlashDispatch {
  passes: Pass[];
  out: GPUBuffer;
  lse: GPUBuffer;
  /** The flat query rows [r0, r1) the passes compute. */
  rows: [number, number];
  shader: "wide" | "general";
}

/**
 * Uploads the inputs of work items [first, end) of a flash call and encodes its passes (one
 * for a wide shader, one per 128 output columns for the general one); every buffer it makes
 * goes through `track`. Submitting the passes again recomputes the same output.
 */
export function flashDispatch(
  device: GPUDevice,
  args: FlashForwardArgs,
  first: number,
  end: number,
  track: (buffer: GPUBuffer) => GPUBuffer,
  shader: FlashShader = "auto",
): FlashDispatch {
  const { heads, queryLength, valueDim } = args;
  const [r0, r1] = flashRows(args, first, end);
  const firstHead = Math.floor(r0 / queryLength);
  const headCount = Math.floor((r1 - 1) / queryLength) + 1 - firstHead;
  const wide = shader === "auto" && wideFlashFits(device, args);
  const blocks = Math.ceil(queryLength / (wide ? WIDE_ROWS : FLASH_ROWS));
  for (const name of ["q", "k", "v", "mask", "out"] as const) {
    if (args[name] !== null) checkBindable(device, name, args[name]!);
  }
  const shaderCode = wide ? WIDE_FLASH_SHADERS[valueDim > 64 ? 1 : 0] : FLASH_SHADER;
  const pipeline = computePipeline(device, shaderCode);
  const [groupsX, groupsY] = grid(headCount * blocks);
  const out = track(emptyStorageBuffer(device, args.out.byteLength));
  const lse = track(emptyStorageBuffer(device, args.lse === null ? 4 : args.lse.byteLength));
  const inputs = [
    track(storageBuffer(device, args.q)),
    track(storageBuffer(device, args.k)),
    track(storageBuffer(device, args.v)),
    track(storageBuffer(device, args.mask ?? new Float32Array(1))),
  ];
  // The general shader takes one pass per 128 output columns (at least one: the LSE comes
  // from the first); the wide one covers all columns in one.
  const passCount = wide ? 1 : Math.max(1, Math.ceil(valueDim / 128));
  const passes = Array.from({ length: passCount }, (_, pass) => {
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
  return { passes, out, lse, rows: [r0, r1], shader: wide ? "wide" : "general" };
}

async function flashOn(
  device: GPUDevice,
  args: FlashForwardArgs,
  first: number,
  end: number,
  shader: FlashShader,
) {
  const { valueDim } = args;
  await withBuffers(device, async (track) => {
    const call = flashDispatch(device, args, first, end, track, shader);
    const [r0, r1] = call.rows;
    submit(device, call.passes);
    const ranges: ReadRange[] = [
      { source: call.out, dest: args.out, first: r0 * valueDim, count: (r1 - r0) * valueDim },
    ];
    if (args.lse !== null) {
      ranges.push({ source: call.lse, dest: args.lse, first: r0, count: r1 - r0 });
    }
    await readBack(device, ranges);
    if (args.lse !== null) {
      for (let i = r0; i < r1; i++) if (args.lse[i] <= HIDDEN_LIMIT) args.lse[i] = -Infinity;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Linear and mixed-chunk attention
//
// Both are "chunked" attention: a quadratic part inside chunks of C rows and a linear part that
// reads a state Σ f(x_j) ⊗ [v_j, 1] summed over other chunks. Three dispatches:
//
//   1. STATE    one invocation per (kv head, chunk, state entry d, e):
//               S[g][d][e] = w · Σ_{j in chunk g} f(x_j)[d] · (e < Dv ? v_j[e] : 1)
//   2. PREFIX   one invocation per (kv head, d, e): causal → exclusive prefix over chunks,
//               so S[g] sums the chunks before g; otherwise the total, into S[0]
//   3. CHUNK    the flash layout (32 rows × 8 lanes per workgroup) without the softmax:
//               W = g(Q Kᵀ) inside the row's chunk, O = W · V + f(q_i) · S[chunk(i)]
//
//  linear (Katharopoulos et al.): f = g = φ, w = 1, C = LINEAR_CHUNK (any C gives the same
//    result up to rounding), out = O / (Σ W + f(q_i) · S[.][·][Dv]), zero where that is 0
//  mixed chunk (FLASH):  x = linK, f(q) = linQ, g(s) = relu(s / C + bias)²,
//    w = 1/C (causal) or 1/N, no denominator
//
// The state holds (N / C) · Dl · (Dv + 1) floats per key/value head: calls are cut into groups
// of heads whose states fit a budget (64 MiB unless the backend is made with another).

/** Chunk length of linear attention on the GPU (its result does not depend on it). */
const LINEAR_CHUNK = 64;
/** Most bytes of chunk states one group of heads may use, unless told otherwise. */
const STATE_BUDGET = 64 * 2 ** 20;

/** Feature maps as the shaders number them: 0 = identity, then FEATURE_MAP_CODES + 1. */
const FEATURE_WGSL = /* wgsl */ `
fn phi(x: f32, map: u32) -> f32 {
  if (map == 1u) {
    if (x > 0.0) { return x + 1.0; }
    return exp(x);
  }
  if (map == 2u) { return max(x, 0.0); }
  return x;
}
`;

const STATE_SHADER = /* wgsl */ `
struct Params {
  kvFirst: u32, nk: u32, width: u32, valueDim: u32,
  chunk: u32, chunks: u32, featureMap: u32, total: u32,
  groupsX: u32, weight: f32, pad0: u32, pad1: u32,
};
${bindings(["X", "V"], ["S"])}
${FEATURE_WGSL}
${entryPoint(64)}
  let id = (wg.y * P.groupsX + wg.x) * 64u + t;
  if (id >= P.total) { return; }
  let entries = P.width * (P.valueDim + 1u);
  let unitChunk = id / entries;
  let d = (id % entries) / (P.valueDim + 1u);
  let e = id % (P.valueDim + 1u);
  let g = unitChunk % P.chunks;
  let kvRow = (P.kvFirst + unitChunk / P.chunks) * P.nk;
  let end = min(P.nk, (g + 1u) * P.chunk);
  var sum = 0.0;
  for (var j = g * P.chunk; j < end; j++) {
    var value = 1.0;
    if (e < P.valueDim) { value = V[(kvRow + j) * P.valueDim + e]; }
    sum = fma(phi(X[(kvRow + j) * P.width + d], P.featureMap), value, sum);
  }
  S[id] = sum * P.weight;
}
`;

const PREFIX_SHADER = /* wgsl */ `
struct Params { units: u32, chunks: u32, entries: u32, causal: u32, groupsX: u32, p0: u32, p1: u32, p2: u32 };
${bindings([], ["S"])}

${entryPoint(64)}
  let id = (wg.y * P.groupsX + wg.x) * 64u + t;
  if (id >= P.units * P.entries) { return; }
  let first = (id / P.entries) * P.chunks * P.entries + id % P.entries;
  var running = 0.0;
  for (var g = 0u; g < P.chunks; g++) {
    let at = first + g * P.entries;
    let chunkSum = S[at];
    if (P.causal == 1u) { S[at] = running; }
    running += chunkSum;
  }
  if (P.causal == 0u) { S[first] = running; }
}
`;

const CHUNK_SHADER = /* wgsl */ `
struct Params {
  heads: u32, kvHeads: u32, nq: u32, nk: u32,
  headDim: u32, valueDim: u32, linearDim: u32, chunk: u32,
  chunks: u32, featureMap: u32, causal: u32, normalise: u32,
  hasLocal: u32, hasGlobal: u32, hasBias: u32, blocks: u32,
  biasBatch: u32, biasHead: u32, biasRow: u32, firstHead: u32,
  headCount: u32, kvFirst: u32, groupsX: u32, colStart: u32,
  mixed: u32, localScale: f32, pad0: u32, pad1: u32,
};
${bindings(["Q", "K", "V", "LQ", "B", "S"], ["O"])}
${TILE_WGSL}
${FEATURE_WGSL}
${load4Wgsl((read) => `phi(${read}, P.featureMap)`)}
/** The in-chunk weight of a score: relu(s / C + bias)² (mixed) or s itself (linear). */
fn localWeight(s: f32, biasAt: u32) -> f32 {
  if (P.mixed == 0u) { return s; }
  var x = s * P.localScale;
  if (P.hasBias == 1u) {
    let bias = B[biasAt];
    if (bias < -1.0e30) { return 0.0; }
    x += bias;
  }
  if (x > 0.0) { return x * x; }
  return 0.0;
}

${entryPoint(256)}
${BLOCK_WGSL}
  let C = P.chunk;
  // Keys of the chunks that the block's rows fall in (causal: none after its last row).
  var keyStart = 0u;
  var keyEnd = 0u;
  if (P.hasLocal == 1u) {
    keyStart = (i0 / C) * C;
    keyEnd = min(P.nk, ((blockEnd - 1u) / C + 1u) * C);
    if (P.causal == 1u) { keyEnd = min(keyEnd, blockEnd); }
  }
${INVOCATION_WGSL}
  let owned = i < P.nq;
  let rowStart = (i / C) * C;
  var rowEnd = min(P.nk, rowStart + C);
  if (P.causal == 1u) { rowEnd = min(rowEnd, i + 1u); }
  if (!owned) { rowEnd = 0u; }
  let biasBase = b * P.biasBatch + h * P.biasHead + (i - rowStart) * P.biasRow;

  var partial = 0.0;
  var acc: array<vec4<f32>, 4>;
  for (var j0 = keyStart; j0 < keyEnd; j0 += BC) {
${SCORES_WGSL}
    for (var c = 0u; c < 4u; c++) {
      let j = j0 + lane + 8u * c;
      var w = 0.0;
      if (j >= rowStart && j < rowEnd) { w = localWeight(s[c], biasBase + j - rowStart); }
      Ws[r][lane + 8u * c] = w;
      partial += w;
    }
${WEIGHTED_VALUES_WGSL}
  }

  // The linear part: f(q_i) · S[chunk], with S's last column feeding the denominator.
  var globalDen = 0.0;
  if (P.hasGlobal == 1u && owned) {
    var slot = 0u;
    if (P.causal == 1u) { slot = i / C; }
    let stride = P.valueDim + 1u;
    let base = ((kvIndex - P.kvFirst) * P.chunks + slot) * P.linearDim * stride;
    for (var d = 0u; d < P.linearDim; d++) {
      var f = 0.0;
      if (P.mixed == 1u) { f = LQ[flatRow * P.linearDim + d]; }
      else { f = phi(Q[flatRow * P.headDim + d], P.featureMap); }
      let row = base + d * stride;
${forLaneColumns("acc[c][e] = fma(f, S[row + col], acc[c][e]);")}
      globalDen = fma(f, S[row + P.valueDim], globalDen);
    }
  }
  redSum[t] = partial;
  workgroupBarrier();
  if (owned) {
    let den = laneSum(r) + globalDen;
    var inv = 1.0;
    if (P.normalise == 1u) {
      inv = 0.0;
      if (den != 0.0) { inv = 1.0 / den; }
    }
${forLaneColumns("O[flatRow * P.valueDim + col] = acc[c][e] * inv;")}
  }
}
`;

/** One linear or mixed-chunk call in the shaders' terms. */
interface ChunkedCall extends QueryKeyValueBuffers, AttentionDims {
  /** Mixed: linQ / linK (null: no linear part). Linear: null, the features come from q / k. */
  linQ: Float32Array | null;
  linK: Float32Array | null;
  bias: Float32Array | null;
  linearDim: number;
  chunk: number;
  isCausal: boolean;
  mixed: boolean;
  /** 0 = identity, 1 = elu+1, 2 = relu. */
  featureMap: number;
  hasLocal: boolean;
  hasGlobal: boolean;
  /** Factor of every state term. */
  stateWeight: number;
  biasStrides: [number, number, number];
}

/** The first and last key/value head read by query heads [firstHead, endHead). */
function kvHeadRange(call: ChunkedCall, firstHead: number, endHead: number): [number, number] {
  const kvOf = (bh: number) => {
    const h = bh % call.heads, b = (bh - h) / call.heads;
    return b * call.kvHeads + Math.floor(h / (call.heads / call.kvHeads));
  };
  return [kvOf(firstHead), kvOf(endHead - 1)];
}

async function chunkedOn(
  device: GPUDevice,
  call: ChunkedCall,
  first: number,
  end: number,
  stateBudget: number,
) {
  const { valueDim, linearDim, chunk, queryLength } = call;
  if (valueDim === 0 || queryLength === 0) return;
  for (const name of ["q", "k", "v", "linQ", "linK", "bias", "out"] as const) {
    if (call[name] !== null) checkBindable(device, name, call[name]!);
  }
  const chunks = Math.max(1, Math.ceil(call.keyLength / chunk));
  const stateBytes = call.hasGlobal ? chunks * linearDim * (valueDim + 1) * 4 : 0;
  if (stateBytes > device.limits.maxStorageBufferBindingSize) {
    throw new RangeError(
      `Expected the chunk states of one head (${stateBytes} bytes for ${chunks} chunks) to fit one WebGPU storage binding; use a larger "chunkSize"`,
    );
  }
  const headsPerGroup = stateBytes === 0
    ? end - first
    : Math.max(1, Math.floor(stateBudget / stateBytes));
  await withBuffers(device, async (track) => {
    const buffers = {
      q: track(storageBuffer(device, call.q)),
      k: track(storageBuffer(device, call.k)),
      v: track(storageBuffer(device, call.v)),
      linQ: track(storageBuffer(device, call.linQ ?? new Float32Array(1))),
      linK: call.linK === null ? null : track(storageBuffer(device, call.linK)),
      bias: track(storageBuffer(device, call.bias ?? new Float32Array(1))),
      out: track(emptyStorageBuffer(device, call.out.byteLength)),
    };
    for (let groupStart = first; groupStart < end; groupStart += headsPerGroup) {
      const groupEnd = Math.min(end, groupStart + headsPerGroup);
      submit(device, chunkedPasses(device, call, buffers, groupStart, groupEnd, chunks, track));
    }
    const [r0, r1] = [first * queryLength, end * queryLength];
    await readBack(device, [
      { source: buffers.out, dest: call.out, first: r0 * valueDim, count: (r1 - r0) * valueDim },
    ]);
  });
}

/** The STATE, PREFIX and CHUNK dispatches for query heads [firstHead, endHead). */
function chunkedPasses(
  device: GPUDevice,
  call: ChunkedCall,
  buffers: Record<"q" | "k" | "v" | "linQ" | "bias" | "out", GPUBuffer> & {
    linK: GPUBuffer | null;
  },
  firstHead: number,
  endHead: number,
  chunks: number,
  track: (buffer: GPUBuffer) => GPUBuffer,
) {
  const { valueDim, linearDim, chunk } = call;
  const passes: Pass[] = [];
  const [kvFirst, kvLast] = kvHeadRange(call, firstHead, endHead);
  const kvUnits = kvLast - kvFirst + 1;
  const entries = linearDim * (valueDim + 1);
  let state = track(emptyStorageBuffer(device, 4));
  if (call.hasGlobal) {
    state = track(emptyStorageBuffer(device, kvUnits * chunks * entries * 4));
    const total = kvUnits * chunks * entries;
    const [sx, sy] = grid(Math.ceil(total / 64));
    passes.push({
      pipeline: computePipeline(device, STATE_SHADER),
      buffers: [
        call.mixed ? buffers.linK! : buffers.k,
        buffers.v,
        state,
        track(uniformBuffer(device, [
          ["u32", kvFirst],
          ["u32", call.keyLength],
          ["u32", linearDim],
          ["u32", valueDim],
          ["u32", chunk],
          ["u32", chunks],
          ["u32", call.featureMap],
          ["u32", total],
          ["u32", sx],
          ["f32", call.stateWeight],
          ["u32", 0],
          ["u32", 0],
        ])),
      ],
      groups: [sx, sy],
    });
    const [px, py] = grid(Math.ceil((kvUnits * entries) / 64));
    passes.push({
      pipeline: computePipeline(device, PREFIX_SHADER),
      buffers: [
        state,
        track(uniformBuffer(device, [
          ["u32", kvUnits],
          ["u32", chunks],
          ["u32", entries],
          ["u32", call.isCausal ? 1 : 0],
          ["u32", px],
          ["u32", 0],
          ["u32", 0],
          ["u32", 0],
        ])),
      ],
      groups: [px, py],
    });
  }
  const blocks = Math.ceil(call.queryLength / FLASH_ROWS);
  const [gx, gy] = grid((endHead - firstHead) * blocks);
  for (let colStart = 0; colStart < valueDim; colStart += 128) {
    const params = track(uniformBuffer(device, [
      ["u32", call.heads],
      ["u32", call.kvHeads],
      ["u32", call.queryLength],
      ["u32", call.keyLength],
      ["u32", call.headDim],
      ["u32", valueDim],
      ["u32", linearDim],
      ["u32", chunk],
      ["u32", chunks],
      ["u32", call.featureMap],
      ["u32", call.isCausal ? 1 : 0],
      ["u32", call.mixed ? 0 : 1],
      ["u32", call.hasLocal ? 1 : 0],
      ["u32", call.hasGlobal ? 1 : 0],
      ["u32", call.bias === null ? 0 : 1],
      ["u32", blocks],
      ["u32", call.biasStrides[0]],
      ["u32", call.biasStrides[1]],
      ["u32", call.biasStrides[2]],
      ["u32", firstHead],
      ["u32", endHead - firstHead],
      ["u32", kvFirst],
      ["u32", gx],
      ["u32", colStart],
      ["u32", call.mixed ? 1 : 0],
      ["f32", 1 / chunk],
      ["u32", 0],
      ["u32", 0],
    ]));
    passes.push({
      pipeline: computePipeline(device, CHUNK_SHADER),
      buffers: [
        buffers.q,
        buffers.k,
        buffers.v,
        buffers.linQ,
        buffers.bias,
        state,
        buffers.out,
        params,
      ],
      groups: [gx, gy],
    });
  }
  return passes;
}

function linearCall(args: LinearForwardArgs): ChunkedCall {
  return {
    ...args,
    linQ: null,
    linK: null,
    bias: null,
    linearDim: args.headDim,
    chunk: LINEAR_CHUNK,
    mixed: false,
    featureMap: args.featureMap + 1,
    hasLocal: args.isCausal,
    hasGlobal: true,
    stateWeight: 1,
    biasStrides: [0, 0, 0],
  };
}

/** A mixed-chunk call in the chunk shaders' terms. */
function mixedCall(args: MixedChunkArgs): ChunkedCall {
  return {
    ...args,
    queryLength: args.length,
    keyLength: args.length,
    chunk: args.chunkSize,
    mixed: true,
    featureMap: 0,
    hasLocal: true,
    hasGlobal: args.linQ !== null && args.linearDim > 0,
    stateWeight: args.isCausal ? 1 / args.chunkSize : 1 / args.length,
    biasStrides: [args.biasBatchStride, args.biasHeadStride, args.biasRowStride],
  };
}

/**
 * The attention kernels on a WebGPU device. `stateBudget` caps the bytes of linear and
 * mixed-chunk states per dispatch group (default 64 MiB); calls over it run in head groups.
 * `flashShader: "general"` keeps softmax attention off the wide shader (for tests and the
 * bench's baseline).
 */
export function webgpuAttention(
  device: GPUDevice,
  { stateBudget = STATE_BUDGET, flashShader = "auto" }: {
    stateBudget?: number;
    flashShader?: FlashShader;
  } = {},
): AttentionKernels {
  return attentionBackend("webgpu", {
    flash: (args, first, end) => flashOn(device, args, first, end, flashShader),
    linear: (args, first, end) => chunkedOn(device, linearCall(args), first, end, stateBudget),
    mixedChunk: (args, first, end) => chunkedOn(device, mixedCall(args), first, end, stateBudget),
  });
}
