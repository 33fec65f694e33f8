/**
 * Declarative option tables: each estimator lists its options once with their defaults and
 * constraints; `resolveParams` refuses unknown names, checks every value and fills defaults.
 * `BaseEstimator` is what every estimator (trees, meta-estimators, linear models) builds on:
 * options stored by the constructor and checked against the table, an explicit fitted state,
 * and the serialised form
 *
 * ```
 *  { format: "tessera.trees" | "tessera.linear", version: 1, estimator: "XGBClassifier",
 *    options: { ...as given to the constructor }, fitted: null | { ...the fitted state } }
 * ```
 *
 * @module
 */
import { checkBoolean, checkChoice, checkNumber, show } from "../_validate.ts";

/** The constraint on one option. */
export type Rule =
  | { kind: "int"; min?: number; max?: number }
  | { kind: "number"; min?: number; max?: number; minExclusive?: boolean }
  | { kind: "choice"; choices: readonly string[] }
  | { kind: "boolean" }
  | { kind: "custom"; check: (name: string, value: unknown) => void };

/**
 * Options as `resolveParams` returns them: every option set, except those in `Unset`, whose
 * default is none. (Mapping over `Extract<Unset, PropertyKey>` rather than `Unset` keeps those
 * keys required instead of copying their `?`.)
 */
export type Resolved<O, Unset extends keyof O = never> =
  & Required<Omit<O, Unset>>
  & { [K in Extract<Unset, PropertyKey>]: O[K] | undefined };

/** An option's default (undefined = none) and rule. */
export interface ParamSpec {
  default: unknown;
  rule: Rule;
}

export type ParamTable = Readonly<Record<string, ParamSpec>>;

/** Checks one value against its rule. */
export function checkRule(name: string, value: unknown, rule: Rule): void {
  switch (rule.kind) {
    case "int":
      checkNumber(name, value, { min: rule.min, max: rule.max, integer: true });
      break;
    case "number":
      checkNumber(name, value, { min: rule.min, max: rule.max, minExclusive: rule.minExclusive });
      break;
    case "choice":
      checkChoice(name, value, rule.choices);
      break;
    case "boolean":
      checkBoolean(name, value);
      break;
    case "custom":
      rule.check(name, value);
  }
}

/**
 * The options merged over the table's defaults, after checking every given value.
 *
 * @throws {TypeError} When `opts` is not an object or a value has the wrong type.
 * @throws {RangeError} On an unknown option or a value out of range.
 */
export function resolveParams(
  name: string,
  table: ParamTable,
  opts: unknown,
): Record<string, unknown> {
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) {
    throw new TypeError(`Expected "${name}" to be an options object but found ${show(opts)}`);
  }
  const known = Object.keys(table);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(opts)) {
    if (!(key in table)) {
      throw new RangeError(
        `Unknown option "${key}" in "${name}"; expected one of ${
          known.map((k) => `"${k}"`).join(", ")
        }`,
      );
    }
    if (value !== undefined) checkRule(key, value, table[key].rule);
  }
  for (const key of known) {
    const value = (opts as Record<string, unknown>)[key];
    out[key] = value === undefined ? table[key].default : value;
  }
  return out;
}

/** The base of every estimator: options, one option table, fitted state, serialised form. */
export abstract class BaseEstimator<O extends object, S> {
  /** The options as given to the constructor. */
  readonly options: O;
  protected state: S | null = null;

  constructor(options: O) {
    this.options = { ...options };
  }

  /** The estimator's name in messages and serialised form. */
  protected abstract get estimatorName(): string;
  /** The tag of the serialised form. */
  protected abstract get format(): string;
  /** The option table checked at fit. */
  protected abstract paramTable(): ParamTable;
  /** The fitted state as plain JSON. */
  protected abstract stateToJSON(state: S): Record<string, unknown>;

  /** Options merged over defaults, after checking them. */
  protected resolvedOptions(): Record<string, unknown> {
    return resolveParams("options", this.paramTable(), this.options);
  }

  /** The fitted state; a RangeError before fit. */
  protected fitted(): S {
    if (this.state === null) {
      throw new RangeError(`This ${this.estimatorName} is not fitted yet; call fit() first`);
    }
    return this.state;
  }

  /** The options as plain JSON. */
  protected optionsToJSON(): unknown {
    return structuredClone(this.options);
  }

  /** A plain object with the options and fitted state; `fromJSON` restores it. */
  toJSON(): Record<string, unknown> {
    return {
      format: this.format,
      version: 1,
      estimator: this.estimatorName,
      options: this.optionsToJSON(),
      fitted: this.state === null ? null : this.stateToJSON(this.state),
    };
  }

  /** The fields of a `toJSON()` object after checking its tag and estimator name. */
  protected readSerialised(json: unknown): Record<string, unknown> {
    if (json === null || typeof json !== "object") {
      throw new TypeError(
        `Expected "json" to be an object written by toJSON() but found ${show(json)}`,
      );
    }
    const o = json as Record<string, unknown>;
    if (o.format !== this.format || o.estimator !== this.estimatorName) {
      throw new RangeError(
        `Expected "json" to hold a serialised ${this.estimatorName} but found format ${
          show(o.format)
        }, estimator ${show(o.estimator)}`,
      );
    }
    return o;
  }

  /**
   * Restores options and fitted state written by toJSON into this fresh estimator: the options
   * as `readOptions` reads them, checked, then the state as `readState` rebuilds it.
   */
  protected restoreWith(
    json: unknown,
    readState: (fields: Record<string, unknown>) => S,
    readOptions: (options: unknown) => unknown = (options) => options,
  ): this {
    const o = this.readSerialised(json);
    Object.assign(this.options, readOptions(o.options ?? {}));
    this.resolvedOptions();
    if (o.fitted !== null && o.fitted !== undefined) {
      this.state = readState(o.fitted as Record<string, unknown>);
    }
    return this;
  }
}

/** The largest count serialised state may hold (array lengths and indices are int32). */
export const MAX_COUNT = 2 ** 31 - 1;

/** Reads an integer in [1, 2^31 − 1] (a count) from serialised state. */
export function countFrom(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_COUNT) {
    throw new RangeError(
      `Expected "${name}" to be an integer in [1, ${MAX_COUNT}] but found ${show(value)}`,
    );
  }
  return value;
}

/** Reads the name of an entry of `registry` (a criterion, loss, objective) from serialised state. */
export function registeredName(
  name: string,
  value: unknown,
  registry: object,
  what: string,
): string {
  if (typeof value !== "string" || !Object.hasOwn(registry, value)) {
    throw new RangeError(`Expected "${name}" to be a known ${what} but found ${show(value)}`);
  }
  return value;
}

/**
 * Reads a dense array (no holes) of the given length from serialised state, each entry checked
 * by `entry` (which names it `${name}[i]`).
 */
export function denseList<T>(
  name: string,
  value: unknown,
  length: number | undefined,
  what: string,
  entry: (path: string, v: unknown) => T,
): T[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`Expected "${name}" to be an array of ${what} but found ${show(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`Expected "${name}" to have ${length} entries but found ${value.length}`);
  }
  const out = new Array<T>(value.length);
  for (let i = 0; i < value.length; i++) {
    if (!(i in value)) {
      throw new TypeError(`Expected "${name}[${i}]" to be present but it is a hole`);
    }
    out[i] = entry(`${name}[${i}]`, value[i]);
  }
  return out;
}

/** A finite number from serialised state: TypeError for a non-number, RangeError for NaN or ±∞. */
export function finiteFrom(name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`Expected "${name}" to be a finite number but found ${show(value)}`);
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(`Expected "${name}" to be a finite number but found ${show(value)}`);
  }
  return value;
}

/** A finite float32 (|v| <= 3.4028235e38 once rounded) from serialised state. */
export function float32From(name: string, value: unknown): number {
  const v = finiteFrom(name, value);
  if (!Number.isFinite(Math.fround(v))) {
    throw new RangeError(`Expected "${name}" to be a finite float32 but found ${show(value)}`);
  }
  return v;
}

/** An integer in [min, max] from serialised state. */
export function integerFrom(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`Expected "${name}" to be an integer but found ${show(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Expected "${name}" to be an integer in [${min}, ${max}] but found ${show(value)}`,
    );
  }
  return value;
}

/** Reads an array of finite numbers (of the given length) from serialised state. */
export function numberList(name: string, value: unknown, length?: number): Float64Array {
  return Float64Array.from(denseList(name, value, length, "finite numbers", finiteFrom));
}

/** Reads an array of finite float32 values (of the given length) from serialised state. */
export function float32List(name: string, value: unknown, length?: number): Float32Array {
  return Float32Array.from(denseList(name, value, length, "finite numbers", float32From));
}

/** Reads an array of integers in [min, max] (of the given length) from serialised state. */
export function integerList(
  name: string,
  value: unknown,
  min: number,
  max: number,
  length?: number,
): number[] {
  return denseList(name, value, length, "integers", (p, v) => integerFrom(p, v, min, max));
}

/**
 * Reads class labels from serialised state: at least `min` finite float32 values (predicted
 * labels are float32), increasing.
 */
export function classList(name: string, value: unknown, min = 2): Float64Array {
  const classes = Float64Array.from(
    denseList(name, value, undefined, "class labels", float32From),
  );
  if (classes.length < min) {
    throw new RangeError(
      `Expected "${name}" to hold at least ${min} classes but found ${classes.length}`,
    );
  }
  for (let i = 1; i < classes.length; i++) {
    if (!(classes[i] > classes[i - 1])) {
      throw new RangeError(
        `Expected "${name}" to be increasing but found ${classes[i]} after ${classes[i - 1]}`,
      );
    }
  }
  return classes;
}

/**
 * Runs synchronous work as the body of an async API call: its result, or its error as a
 * rejection, so callers see the same contract as the kernel-backed estimators.
 */
export function asPromise<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}
