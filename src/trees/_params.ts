/**
 * Declarative option tables: each estimator lists its options once with their defaults and
 * constraints; `resolveParams` refuses unknown names, checks every value and fills defaults.
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
