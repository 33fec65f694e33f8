"""Trains the digits denoiser of examples/digits and exports it to ONNX.

A small class-conditional EDM denoiser (Karras et al. 2022) on scikit-learn's 8x8 digits
(load_digits, 1,797 images, pixels 0-16): the raw network F of EDM's preconditioning
D(x; s) = c_skip(s) x + c_out(s) F(c_in(s) x; c_noise(s), class), trained with EDM's loss
weighting and log-normal noise distribution (P_mean = -1.2, P_std = 1.2), sigma_data = 0.5,
pixels mapped to [-1, 1]. Labels are dropped to a null class (10) 10% of the time, so one
network gives both the conditional and the unconditional denoiser (classifier-free guidance,
Ho & Salimans 2022). Weights are an exponential moving average.

Also exports a small digit classifier (an MLP on the same split) that the example's test uses
to judge samples, and the data split itself.

Writes, next to this file:
  digits_denoiser.onnx    F(x_in [B,64] f32, c_noise [B] f32, label [B] i64) -> [B,64] f32
  digits_classifier.onnx  logits(x [B,64] f32 on the 0-16 scale) -> [B,10] f32
  digits_split.bin        uint8: 1797 images x 64 pixels, then 1797 labels, then 1797 flags
                          (1 = training image, 0 = held out)

Usage: OPENBLAS_CORETYPE=SKYLAKEX /usr/bin/python3 examples/digits/train.py [--steps N]
Debian: apt-get install python3-torch python3-sklearn python3-onnx
"""
import argparse
import copy
import math
import os

import numpy as np
import torch
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))
SIGMA_DATA = 0.5
NULL_CLASS = 10


class Denoiser(torch.nn.Module):
    """F(x_in, c_noise, label): an MLP with the noise level and class added to every block."""

    def __init__(self, width=160, blocks=3, fourier=16):
        super().__init__()
        self.register_buffer("freqs", torch.randn(fourier) * 4.0)
        self.noise = torch.nn.Sequential(
            torch.nn.Linear(2 * fourier, width), torch.nn.SiLU(), torch.nn.Linear(width, width)
        )
        self.label = torch.nn.Embedding(NULL_CLASS + 1, width)
        self.inp = torch.nn.Linear(64, width)
        self.blocks = torch.nn.ModuleList(
            [
                torch.nn.Sequential(
                    torch.nn.LayerNorm(width),
                    torch.nn.Linear(width, 2 * width),
                    torch.nn.SiLU(),
                    torch.nn.Linear(2 * width, width),
                )
                for _ in range(blocks)
            ]
        )
        self.out = torch.nn.Sequential(torch.nn.LayerNorm(width), torch.nn.Linear(width, 64))

    def forward(self, x_in, c_noise, label):
        angles = c_noise[:, None] * self.freqs[None, :] * 2 * math.pi
        cond = self.noise(torch.cat([angles.cos(), angles.sin()], dim=1)) + self.label(label)
        h = self.inp(x_in)
        for block in self.blocks:
            h = h + block(h + cond)
        return self.out(h)


def precondition(sigma):
    s2, d2 = sigma**2, SIGMA_DATA**2
    c_skip = d2 / (s2 + d2)
    c_out = sigma * SIGMA_DATA / (s2 + d2).sqrt()
    c_in = 1 / (s2 + d2).sqrt()
    c_noise = sigma.log() / 4
    return c_skip, c_out, c_in, c_noise


def train_denoiser(x, y, steps, seed):
    torch.manual_seed(seed)
    net = Denoiser()
    ema = copy.deepcopy(net)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.05)
    n = x.shape[0]
    for step in range(steps):
        idx = torch.randint(0, n, (256,))
        x0, label = x[idx], y[idx].clone()
        label[torch.rand(256) < 0.1] = NULL_CLASS
        sigma = (torch.randn(256) * 1.2 - 1.2).exp()
        c_skip, c_out, c_in, c_noise = precondition(sigma)
        noisy = x0 + sigma[:, None] * torch.randn_like(x0)
        target = (x0 - c_skip[:, None] * noisy) / c_out[:, None]
        f = net(c_in[:, None] * noisy, c_noise, label)
        # EDM's weight λ(σ) = 1/c_out² cancels against the target's scale: a plain MSE on F.
        loss = ((f - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for p_ema, p in zip(ema.parameters(), net.parameters()):
                p_ema.mul_(decay).add_(p, alpha=1 - decay)
        if step % 2000 == 0 or step == steps - 1:
            print(f"denoiser step {step}: loss {loss.item():.4f}", flush=True)
    return ema.eval()


def train_classifier(x, y, seed):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(128, 10)
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    for step in range(3000):
        idx = torch.randint(0, x.shape[0], (128,))
        loss = torch.nn.functional.cross_entropy(net(x[idx] / 16), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()

    class OnRawPixels(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, pixels):
            return self.inner(pixels / 16)

    return OnRawPixels(net).eval()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    digits = load_digits()
    images = digits.data.astype(np.float32)  # 0-16
    labels = digits.target.astype(np.int64)
    rng = np.random.default_rng(args.seed)
    train = np.zeros(len(images), dtype=bool)
    train[rng.permutation(len(images))[:1500]] = True

    x = torch.from_numpy(images[train] / 8 - 1)
    y = torch.from_numpy(labels[train])
    denoiser = train_denoiser(x, y, args.steps, args.seed)
    classifier = train_classifier(torch.from_numpy(images[train]), y, args.seed)

    held = torch.from_numpy(images[~train])
    with torch.no_grad():
        probs = classifier(held).softmax(1)
    accuracy = (probs.argmax(1).numpy() == labels[~train]).mean()
    print(f"classifier: held-out accuracy {accuracy:.3f}, mean confidence {probs.max(1).values.mean():.3f}")

    batch = 2
    torch.onnx.export(
        denoiser,
        (torch.zeros(batch, 64), torch.zeros(batch), torch.zeros(batch, dtype=torch.int64)),
        os.path.join(HERE, "digits_denoiser.onnx"),
        input_names=["x_in", "c_noise", "label"],
        output_names=["f"],
        dynamic_axes={"x_in": {0: "batch"}, "c_noise": {0: "batch"}, "label": {0: "batch"}, "f": {0: "batch"}},
        opset_version=13,
    )
    torch.onnx.export(
        classifier,
        (torch.zeros(batch, 64),),
        os.path.join(HERE, "digits_classifier.onnx"),
        input_names=["pixels"],
        output_names=["logits"],
        dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=13,
    )
    with open(os.path.join(HERE, "digits_split.bin"), "wb") as f:
        f.write(images.astype(np.uint8).tobytes())
        f.write(labels.astype(np.uint8).tobytes())
        f.write(train.astype(np.uint8).tobytes())
    for name in ["digits_denoiser.onnx", "digits_classifier.onnx", "digits_split.bin"]:
        print(name, os.path.getsize(os.path.join(HERE, name)), "bytes")


if __name__ == "__main__":
    main()
