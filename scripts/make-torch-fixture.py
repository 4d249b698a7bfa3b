#!/usr/bin/env python3
"""Writes the TorchScript fixture that policies/tests/torch.rs deploys as a TorchScriptPolicy.

The module is the actor half of a Stable-Baselines3 `ActorCriticPolicy` with the default
`MlpPolicy` network: `mlp_extractor.policy_net` = Linear(17, 64), Tanh, Linear(64, 64), Tanh,
then `action_net` = Linear(64, 2); its output is the Gaussian mean, which SB3's
`predict(deterministic=True)` returns (clipped to the action box). SB3 itself is not needed:
the same torch.nn structure and parameter names are rebuilt here.

Weights: PyTorch's default Linear init under `torch.manual_seed(SEED)`, not SB3's orthogonal
init, whose 0.01 gain on `action_net` would make every action ~1e-2 and a 1e-5 comparison weak.
`action_net` is scaled by 4 so that some fixed inputs give means beyond ±1 and the Rust side's
clipping is exercised too.

Outputs, beside this script's target:
  policies/tests/fixtures/sb3_actor.pt    traced TorchScript module (float32, CPU)
  policies/tests/fixtures/sb3_actor.json  fixed inputs and the module's raw outputs

Run with a Python that has torch 2.13 (e.g. the venv ${SIM2REAL_CACHE:-~/.cache/sim2real}/py-torch):
  python scripts/make-torch-fixture.py
"""

import json
import os
import pathlib
import tempfile

import torch
from torch import nn

SEED = 20260
OBS_DIM = 17
ACTION_DIM = 2
N_INPUTS = 16

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "policies" / "tests" / "fixtures"


class MlpExtractor(nn.Module):
    """SB3's MlpExtractor, policy branch only (the value branch is not part of the actor)."""

    def __init__(self) -> None:
        super().__init__()
        self.policy_net = nn.Sequential(
            nn.Linear(OBS_DIM, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh()
        )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.policy_net(obs)


class Actor(nn.Module):
    """obs -> deterministic action (Gaussian mean), as SB3's ActorCriticPolicy computes it."""

    def __init__(self) -> None:
        super().__init__()
        self.mlp_extractor = MlpExtractor()
        self.action_net = nn.Linear(64, ACTION_DIM)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.action_net(self.mlp_extractor(obs))


def atomic_write_bytes(path: pathlib.Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main() -> None:
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    actor = Actor().eval()
    with torch.no_grad():
        actor.action_net.weight.mul_(4.0)
        actor.action_net.bias.mul_(4.0)

    gen = torch.Generator().manual_seed(SEED + 1)
    inputs = torch.randn(N_INPUTS, OBS_DIM, generator=gen) * 2.0
    inputs[0] = 0.0
    inputs[1] *= 10.0  # large observations: saturated tanh, means beyond ±1

    traced = torch.jit.trace(actor, torch.zeros(1, OBS_DIM))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    pt = OUT_DIR / "sb3_actor.pt"
    fd, tmp = tempfile.mkstemp(dir=OUT_DIR, prefix=".sb3_actor.pt.")
    os.close(fd)
    torch.jit.save(traced, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, pt)

    # Expected values come from the saved file, one observation at a time (as the policy acts).
    loaded = torch.jit.load(str(pt)).eval()
    with torch.no_grad():
        outputs = [loaded(x.unsqueeze(0)).squeeze(0) for x in inputs]
    expected = {
        "generator": "scripts/make-torch-fixture.py",
        "torch_version": torch.__version__,
        "seed": SEED,
        "obs_dim": OBS_DIM,
        "action_dim": ACTION_DIM,
        "inputs": [[float(v) for v in x] for x in inputs],
        "outputs": [[float(v) for v in y] for y in outputs],
    }
    text = json.dumps(expected, indent=1) + "\n"
    atomic_write_bytes(OUT_DIR / "sb3_actor.json", text.encode())
    over = sum(1 for y in outputs for v in y if abs(float(v)) > 1.0)
    print(f"wrote {pt} ({pt.stat().st_size} bytes) and sb3_actor.json; {over} outputs beyond ±1")


if __name__ == "__main__":
    main()
