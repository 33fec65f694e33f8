"""Writes the ONNX graphs used as onnxruntime-web peers in bench/attention_bench.ts.

attention_matmul_softmax.onnx: softmax(Q·Kᵀ·scale)·V spelled as MatMul → Mul → Softmax → MatMul,
  Q, K, V: [B, H, N, D] with symbolic B, H, N, D, scale as a scalar input.
attention_mha.onnx: the com.microsoft MultiHeadAttention contrib op on [B, N, H·D] inputs,
  num_heads = 8 (the benchmark's head count).

Run: /usr/bin/python3 bench/models/make_attention_onnx.py   (needs Debian's python3-onnx)
"""
import os

import onnx
from onnx import TensorProto, helper

here = os.path.dirname(os.path.abspath(__file__))


def matmul_softmax():
    dims = ["B", "H", "N", "D"]
    q = helper.make_tensor_value_info("q", TensorProto.FLOAT, dims)
    k = helper.make_tensor_value_info("k", TensorProto.FLOAT, dims)
    v = helper.make_tensor_value_info("v", TensorProto.FLOAT, dims)
    scale = helper.make_tensor_value_info("scale", TensorProto.FLOAT, [])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, dims)
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["logits"]),
        helper.make_node("Mul", ["logits", "scale"], ["scaled"]),
        helper.make_node("Softmax", ["scaled"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["out"]),
    ]
    graph = helper.make_graph(nodes, "attention", [q, k, v, scale], [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(here, "attention_matmul_softmax.onnx"))


def mha(heads=8):
    dims = ["B", "N", "E"]
    q = helper.make_tensor_value_info("q", TensorProto.FLOAT, dims)
    k = helper.make_tensor_value_info("k", TensorProto.FLOAT, dims)
    v = helper.make_tensor_value_info("v", TensorProto.FLOAT, dims)
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, dims)
    node = helper.make_node(
        "MultiHeadAttention", ["q", "k", "v"], ["out"], domain="com.microsoft", num_heads=heads
    )
    graph = helper.make_graph([node], "mha", [q, k, v], [out])
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
    )
    onnx.save(model, os.path.join(here, "attention_mha.onnx"))


if __name__ == "__main__":
    matmul_softmax()
    mha()
