"""Benchmark: environment steps per second of the torch-vectorized gridworld against the step-by-step reference.

Both run the same family (card 42's cpu levels: 9 x 9 with border walls, interior wall density 0.25,
start-goal distance >= 4) under uniformly random actions; layout generation is counted in both.
(a) `GridRefEnv`: one Python env, stepped one action at a time, reset to the next level when an episode ends;
(b) `GridVecEnv`, the way chapters use it: `rollout` over `--envs` levels at once (one reset, then batched
    steps until every episode has ended; the evaluator and the dataset builder work this way);
(c) `GridVecEnv`, continuous: `--envs` episodes stepped together, finished ones reset with a mask every step.
The last line gives the ratios (b)/(a) and (c)/(a) of env steps per second. Usage:

    python benchmarks/gridworld_steps.py [--envs 1024] [--steps 200] [--ref-steps 20000] [--threads 1]
"""
from __future__ import annotations

import argparse
import time

import torch

from genutils import gridworld as gw


def reference(cfg: gw.GridConfig, n_steps: int, seed: int) -> float:
    """Steps per second of one Python env stepped `n_steps` times (episodes reset as they end)."""
    env = gw.GridRefEnv(cfg)
    g = torch.Generator().manual_seed(seed)
    actions = torch.randint(0, 4, (n_steps,), generator=g).tolist()
    levels = iter(gw.level_seeds(seed, n_steps + 1))
    t0 = time.perf_counter()
    env.reset(options={"level": next(levels)})
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset(options={"level": next(levels)})
    return n_steps / (time.perf_counter() - t0)


def vectorized_rollout(cfg: gw.GridConfig, n_envs: int, seed: int, device: str) -> float:
    """Steps per second of `gw.rollout` under random actions over `n_envs` levels (steps actually taken)."""
    g = torch.Generator().manual_seed(seed)
    policy = lambda obs, env: torch.randint(0, 4, (env.num_envs,), generator=g)  # noqa: E731
    levels = gw.level_seeds(seed, n_envs, stream=1)
    t0 = time.perf_counter()
    ro = gw.rollout(cfg, policy, levels, device=device)
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    return int(ro.lengths.sum()) / (time.perf_counter() - t0)


def vectorized(cfg: gw.GridConfig, n_envs: int, n_steps: int, seed: int, device: str) -> float:
    """Steps per second (summed over envs) of `n_envs` episodes stepped together `n_steps` times."""
    env = gw.GridVecEnv(n_envs, cfg, device)
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    env.reset(seed=seed)
    for _ in range(n_steps):
        a = torch.randint(0, 4, (n_envs,), generator=g)
        env.step(a)
        done = env.done
        if bool(done.any()):
            env.reset(options={"reset_mask": done})
    if env.device.type == "cuda":
        torch.cuda.synchronize()
    return n_envs * n_steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--envs", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--ref-steps", type=int, default=20000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = gw.GridConfig(grid=9, n_objects=1, wall_density=0.25, border=True, min_dist=4, max_steps=28)
    vectorized(cfg, min(args.envs, 64), 5, args.seed, args.device)  # warm-up
    ref = reference(cfg, args.ref_steps, args.seed)
    roll = max(vectorized_rollout(cfg, args.envs, args.seed + i, args.device) for i in range(3))
    vec = vectorized(cfg, args.envs, args.steps, args.seed, args.device)
    print(f"torch threads {torch.get_num_threads()}, device {args.device}, grid {cfg.grid}, walls {cfg.wall_density}")
    print(f"reference (GridRefEnv, one step at a time): {ref:,.0f} env steps/s over {args.ref_steps} steps")
    print(f"vectorized rollout (GridVecEnv via gw.rollout, {args.envs} levels at once, best of 3): {roll:,.0f} env steps/s")
    print(f"vectorized continuous ({args.envs} envs, masked resets every step): {vec:,.0f} env steps/s "
          f"over {args.steps} batched steps")
    print(f"vectorized / reference: rollout {roll / ref:.1f}x ({roll:,.0f} vs {ref:,.0f} env steps/s), "
          f"continuous {vec / ref:.1f}x ({vec:,.0f} env steps/s)")


if __name__ == "__main__":
    main()
