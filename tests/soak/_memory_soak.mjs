// The memory soak's measurement, the same in Deno, Node and a Chromium page: warm a call family
// up, then repeat it round after round, measuring memory after a full garbage collection at the
// end of each round. Plain JavaScript with no imports; the runtime supplies `measure`.
//
//   warm-up calls | W settling rounds | R measured rounds (≥ `calls` calls in all)
//                   ^ ^ ^ baseline:     … ^ ^ ^ end: the lowest of the last W marks
//                     the lowest mark
//
// Why the lowest of a window, not one mark: the resident set after a collection still moves by
// an MiB or two from round to round (the allocator's free pages, the workers' heaps), only ever
// upwards from what is live. What something keeps raises the floor; the floor is what is
// compared. The settling rounds also cover a one-off rise: in Deno the resident set goes up
// once after the first forced collection of a warm process, whatever the call.

/** Defaults: calls measured per family (after warm-up), warm-up calls, rounds, limit. */
export const DEFAULTS = { calls: 20000, warmup: 5000, rounds: 10, window: 3, limitMiB: 5 };

const MiB = 2 ** 20;

/**
 * Soaks one family. `measure()` collects garbage and returns `{ bytes, detail? }`, where `bytes`
 * is what the limit applies to (the resident set, or the page's UA-specific memory).
 *
 * @returns `{ settling, marks, baseline, end, growth, calls }`, in bytes: `baseline` is the lowest
 *   settling mark, `end` the lowest of the last `window` marks, `growth` their difference, and
 *   `calls` the calls made after the settling rounds.
 */
export async function soakFamily(prepare, lib, measure, opts = {}) {
  const { calls, warmup, rounds, window } = { ...DEFAULTS, ...opts };
  const call = await prepare(lib);
  for (let i = 0; i < warmup; i++) await call();
  const perRound = Math.ceil(calls / rounds);
  const round = async () => {
    for (let i = 0; i < perRound; i++) await call();
    return await measure();
  };
  const settling = [], marks = [];
  for (let r = 0; r < window; r++) settling.push(await round());
  for (let r = 0; r < rounds; r++) marks.push(await round());
  const lowest = (list) => list.reduce((a, b) => (b.bytes < a.bytes ? b : a));
  const baseline = lowest(settling), end = lowest(marks.slice(-window));
  return {
    settling,
    marks,
    baseline,
    end,
    growth: end.bytes - baseline.bytes,
    calls: perRound * rounds,
  };
}

/**
 * Whether memory rose at every mark, settling rounds included, by more than 1 MiB in all: the
 * signature of a leak too small per call to pass the limit within the run (a page that kept
 * ~240 bytes per pooled call rose 4.8 MiB over 20,000 calls, in 12 steps of 0.4–0.5 MiB).
 */
export function risesEveryRound(result) {
  const all = [...result.settling, ...result.marks].map((m) => m.bytes);
  return all.every((b, i) => i === 0 || b > all[i - 1]) && all[all.length - 1] - all[0] > MiB;
}

/**
 * One line per family: the figures and, past the limit, why it failed. A rise at every mark
 * fails too where `exact` (the page's live heaps, which do not move by themselves); on a resident
 * set, which also creeps with the allocator's high-water marks, it is only noted.
 */
export function describe(name, result, limitMiB, { exact = false } = {}) {
  const mib = (b) => (b / MiB).toFixed(1);
  const marks = (list) => list.map((m) => mib(m.bytes)).join(" ");
  const detail = result.end.detail;
  const line = `${name}: ${mib(result.baseline.bytes)} → ${mib(result.end.bytes)} MiB over ` +
    `${result.calls} calls (${result.growth >= 0 ? "+" : ""}${mib(result.growth)} MiB` +
    `${detail ? `; ${detail}` : ""}) [settling ${marks(result.settling)} | ${marks(result.marks)}]`;
  if (result.growth > limitMiB * MiB) {
    return `FAIL ${line}: grew by more than ${limitMiB} MiB after warm-up`;
  }
  if (risesEveryRound(result)) {
    const all = [...result.settling, ...result.marks];
    const calls = (all.length * result.calls) / result.marks.length;
    const perCall = Math.round((all[all.length - 1].bytes - all[0].bytes) / calls);
    return exact
      ? `FAIL ${line}: rose at every mark, ~${perCall} bytes kept per call`
      : `ok ${line} (note: rose at every mark, ~${perCall} bytes per call)`;
  }
  return `ok ${line}`;
}
