/**
 * Attention in the [batch, heads, seq, headDim] layout: exact softmax attention through a
 * FlashAttention-style kernel family, linear attention, and FLASH's mixed-chunk attention and
 * gated attention unit.
 *
 * @module
 */
export * from "./scaled_dot_product_attention.ts";
export * from "./scaled_dot_product_attention_with_lse.ts";
export * from "./linear_attention.ts";
export * from "./mixed_chunk_attention.ts";
export * from "./gated_attention_unit.ts";
