import { jsAttention } from "../../src/backends/js/attention.ts";
import { attentionConformance } from "./_conformance.ts";

// The reference accumulates in float64, so it must agree with the naive definitions closely.
attentionConformance({
  label: "js",
  setup: () => Promise.resolve(jsAttention),
  tolerance: { atol: 2e-6, rtol: 2e-6 },
});
