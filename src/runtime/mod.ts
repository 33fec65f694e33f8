/**
 * Runtime control: start, inspect, stop.
 *
 * @module
 */
export { dispose, init, type RuntimeInfo, runtimeInfo } from "./runtime.ts";
