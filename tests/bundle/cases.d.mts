// Types of tests/bundle/cases.mjs for Deno's type check.
export type CaseResult = { value: unknown } | { error: string };
export const CASES: Record<string, (tessera: unknown) => Promise<unknown>>;
export function runCases(
  tessera: unknown,
  initOptions: { threads?: number; relaxedSimd?: boolean },
): Promise<{ info: Record<string, unknown>; results: Record<string, CaseResult> }>;
export function compareResult(actual: unknown, expected: unknown, rtol: number, path?: string): string | null;
export function splitFitData(): { x: Float32Array; y: Float64Array; n: number; cols: number };
