// Command-line options shared by the Deno and Node soak drivers.
import { DEFAULTS } from "./_memory_soak.mjs";

/**
 * `--family TEXT` (the family of that name, else those whose name contains it), `--calls N`, `--warmup N`, `--rounds N`,
 * `--window N` (marks whose lowest is compared), `--limit-mib N`, `--young MiB` (the fixed size of V8's semi-spaces; 0 leaves V8's own sizing)
 * and, in a child, `--child NAME`.
 */
export function parseArgs(argv, defaults = {}) {
  const opts = { ...DEFAULTS, family: "", young: 1, child: null, ...defaults };
  const numbers = {
    "--calls": "calls",
    "--warmup": "warmup",
    "--rounds": "rounds",
    "--window": "window",
    "--limit-mib": "limitMiB",
    "--young": "young",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i], value = argv[++i];
    if (value === undefined) throw new RangeError(`Expected a value after "${flag}"`);
    if (flag in numbers) {
      const n = Number(value);
      if (!(n >= 0) || !Number.isFinite(n)) {
        throw new RangeError(`Expected "${flag}" to be a number >= 0 but found "${value}"`);
      }
      opts[numbers[flag]] = n;
    } else if (flag === "--family") opts.family = value;
    else if (flag === "--child") opts.child = value;
    else throw new RangeError(`Unknown option "${flag}"`);
  }
  return opts;
}

/** The options a child gets: the same, but one family. */
export function childArgs(opts, name) {
  return [
    "--child",
    name,
    "--calls",
    `${opts.calls}`,
    "--warmup",
    `${opts.warmup}`,
    "--rounds",
    `${opts.rounds}`,
    "--window",
    `${opts.window}`,
    "--limit-mib",
    `${opts.limitMiB}`,
    "--young",
    `${opts.young}`,
  ];
}

/**
 * V8 flags of a child: gc() exposed; every collection a full one (`--gc-global`), in every
 * thread: `gc()` reaches the calling thread only, and the pool's workers would otherwise keep
 * their garbage until their own old generation fills (a sawtooth of ~10 MiB over 50,000 pooled
 * calls, measured); and unless `young` is 0, a young generation of fixed size.
 */
export function v8Flags(young) {
  const flags = ["--expose-gc", "--gc-global"];
  if (young > 0) flags.push(`--min-semi-space-size=${young}`, `--max-semi-space-size=${young}`);
  return flags;
}

export const RESULT = "RESULT ";

/** The family named `text`, else those whose name contains it. */
export function selectFamilies(names, text) {
  return names.includes(text) ? [text] : names.filter((name) => name.includes(text));
}
