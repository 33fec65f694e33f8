/**
 * Dense linear algebra.
 *
 * @module
 */
export { matmul, type MatmulOptions } from "./matmul.ts";
