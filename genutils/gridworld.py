"""A torch-vectorized gridworld behind gymnasium's vector-env API, a BFS planner, offline data and evaluation.

The model is MiniGrid's "go to object" family: a `grid`×`grid` room (optionally with border walls and
random interior walls), `n_objects` objects of distinct types at distinct cells, one of them the
episode's **target**, and the agent at another free cell. Actions 0 up, 1 down, 2 left, 3 right; a move
into a wall or off the grid stays put. Stepping onto any object ends the episode (terminated, the
outcome is that object's id); reaching the target pays MiniGrid's reward ``1 - 0.9 * t / max_steps``
(t counts the steps taken, this one included), any other object pays 0; after `max_steps` steps
without an object the episode is truncated (outcome ``TIMEOUT``).

A **level** is one non-negative integer seed: `make_layouts` maps it to (walls, objects, agent,
target) with a counter-based hash, so a level's layout does not depend on which other levels share
its batch, on the device, or on how often it was drawn before. Layouts are resampled (attempt 1, 2,
...) until the target is reachable from the agent without crossing a wall or another object, at BFS
distance at least `min_dist`.

Observations are channel images (C, grid, grid) of float32: ``wall`` (when the config has walls),
``obj0 … obj{n-1}``, ``agent``; `GridVecEnv.channel_names` lists them. What a chapter adds to them
(an instruction, a style channel, a view) stays in the chapter.

`GridVecEnv` steps a batch of episodes at once with torch ops; autoreset is disabled (gymnasium's
``AutoresetMode.DISABLED``): a finished episode stays frozen (reward 0, no flags) until
``reset(options={"reset_mask": mask})``. `GridRefEnv` is the step-by-step reference, a plain
`gymnasium.Env` in Python, used by the tests and the benchmark.

Planner: `bfs_distance` (batched distance maps), `greedy_actions` and `Expert` (the shortest-path
expert with ε-noise). Data: `rollout` runs any policy closed-loop over a list of levels,
`collect_episodes` turns the episodes into flat (obs, action, reward, done, return-to-go) tensors,
`evaluate` is the greedy evaluator (outcome codes and returns per episode).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

TIMEOUT = -1          # outcome code of a truncated episode
RUNNING = -2          # outcome code while an episode is still running
UNREACHABLE = 1 << 30  # distance of a cell that no source reaches
ACTIONS = ("up", "down", "left", "right")
_DELTA = ((-1, 0), (1, 0), (0, -1), (0, 1))
_M32 = 0xFFFFFFFF


@dataclass(frozen=True)
class GridConfig:
    """One gridworld family. `max_steps` None means ``4 * grid``."""

    grid: int = 7
    n_objects: int = 1
    wall_density: float = 0.0
    border: bool = False
    min_dist: int = 1
    max_steps: int | None = None
    max_attempts: int = 200

    def __post_init__(self):
        inner = self.grid - 2 if self.border else self.grid
        if self.grid < 2 or inner < 1:
            raise ValueError(f"grid too small: {self.grid} (border={self.border})")
        if self.n_objects < 1 or self.n_objects + 1 > inner * inner:
            raise ValueError(f"n_objects must be in [1, {inner * inner - 1}], got {self.n_objects}")
        if not 0.0 <= self.wall_density < 1.0:
            raise ValueError(f"wall_density must be in [0, 1), got {self.wall_density}")
        if self.min_dist < 1:
            raise ValueError(f"min_dist must be >= 1, got {self.min_dist}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")

    @property
    def horizon(self) -> int:
        """Steps before truncation."""
        return self.max_steps if self.max_steps is not None else 4 * self.grid

    @property
    def has_walls(self) -> bool:
        return self.border or self.wall_density > 0

    @property
    def channel_names(self) -> list[str]:
        return (["wall"] if self.has_walls else []) + [f"obj{i}" for i in range(self.n_objects)] + ["agent"]


# ----------------------------------------------------------------------------------------------------------------
# counter-based hashing: per-level random numbers without per-level generators


def _mulmod32(x: torch.Tensor, c: int) -> torch.Tensor:
    """(x * c) mod 2**32 for 0 <= x < 2**32, in int64 without overflow."""
    lo, hi = c & 0xFFFF, c >> 16
    return (x * lo + (((x * hi) & 0xFFFF) << 16)) & _M32


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash (Wellons' lowbias32) on int64 tensors holding values in [0, 2**32)."""
    x = x & _M32
    x = x ^ (x >> 16)
    x = _mulmod32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mulmod32(x, 0x846CA68B)
    return x ^ (x >> 16)


def _uniform(key: torch.Tensor, n: int) -> torch.Tensor:
    """(B, n) float64 uniforms in [0, 1) from per-row keys (B,) int64."""
    idx = _mix32(torch.arange(n, device=key.device, dtype=torch.int64) + 0x85EBCA6B)
    return _mix32(key[:, None] ^ idx[None, :]).double() / 2.0 ** 32


def level_seeds(seed: int, n: int, stream: int = 0) -> list[int]:
    """`n` distinct level seeds (non-negative ints < 2**62) of one stream of a base seed.

    Different streams (e.g. 0 for training levels, 1 for test levels) are independent draws; two
    streams share a level only with probability about n**2 / 2**62. Check layouts if that matters.
    """
    if seed < 0 or stream < 0 or n < 0:
        raise ValueError(f"seed, stream and n must be non-negative, got {seed}, {stream}, {n}")
    ss = np.random.SeedSequence([seed, stream, 0x6C65766C])
    out: list[int] = []
    seen: set[int] = set()
    extra = 0
    while len(out) < n:
        for s in (ss.generate_state(n + extra, dtype=np.uint64) >> np.uint64(2)).tolist():
            if s not in seen and len(out) < n:
                seen.add(s)
                out.append(int(s))
        extra += n
    return out


# ----------------------------------------------------------------------------------------------------------------
# planner


def bfs_distance(passable: torch.Tensor, sources: torch.Tensor) -> torch.Tensor:
    """Shortest 4-neighbour path lengths to the nearest source, for a batch of grids.

    `passable` and `sources` are (B, H, W) bool; a source counts as passable. Returns (B, H, W) int64,
    `UNREACHABLE` where no path exists (including impassable cells).
    """
    if passable.shape != sources.shape or passable.ndim != 3:
        raise ValueError(f"passable and sources must both be (B, H, W), got {tuple(passable.shape)}, "
                         f"{tuple(sources.shape)}")
    bsz, h, w = passable.shape
    open_ = passable & ~sources                                  # passable cells not reached yet
    dist = torch.full(passable.shape, UNREACHABLE, dtype=torch.int64, device=passable.device)
    dist.masked_fill_(sources, 0)
    pad = torch.zeros(bsz, h + 2, w + 2, dtype=torch.bool, device=passable.device)
    pad[:, 1:-1, 1:-1] = sources
    for k in range(1, h * w + 1):
        nb = pad[:, :-2, 1:-1] | pad[:, 2:, 1:-1] | pad[:, 1:-1, :-2] | pad[:, 1:-1, 2:]
        nb &= open_
        if not bool(nb.any()):
            break
        open_ &= ~nb
        dist.masked_fill_(nb, k)
        pad[:, 1:-1, 1:-1] = nb
    return dist


def neighbour_distances(dist: torch.Tensor, agent: torch.Tensor, walls: torch.Tensor) -> torch.Tensor:
    """(B, 4) distance after each action from `agent` (B, 2); a blocked move keeps the agent's own distance."""
    b = torch.arange(dist.shape[0], device=dist.device)
    h, w = dist.shape[-2:]
    delta = torch.tensor(_DELTA, device=dist.device)
    pos = agent[:, None, :] + delta[None]                      # (B, 4, 2)
    inside = (pos[..., 0] >= 0) & (pos[..., 0] < h) & (pos[..., 1] >= 0) & (pos[..., 1] < w)
    pos = torch.where(inside[..., None], pos, agent[:, None, :])
    blocked = walls[b[:, None], pos[..., 0], pos[..., 1]]
    pos = torch.where(blocked[..., None], agent[:, None, :], pos)
    return dist[b[:, None], pos[..., 0], pos[..., 1]]


def greedy_actions(dist: torch.Tensor, agent: torch.Tensor, walls: torch.Tensor) -> torch.Tensor:
    """(B,) the action that lowers the distance most (ties: the first in up, down, left, right)."""
    return neighbour_distances(dist, agent, walls).argmin(dim=1)


# ----------------------------------------------------------------------------------------------------------------
# layouts


@dataclass
class Layout:
    """A batch of levels: walls (B,H,W) bool, objects (B,n,2), agent (B,2), target (B,), distance map to the target
    with walls and the other objects as obstacles (B,H,W), shortest start distance (B,), level seeds and attempts."""

    walls: torch.Tensor
    objects: torch.Tensor
    agent: torch.Tensor
    target: torch.Tensor
    dist: torch.Tensor
    shortest: torch.Tensor
    level: torch.Tensor
    attempt: torch.Tensor

    def __len__(self) -> int:
        return self.walls.shape[0]

    def index(self, i) -> "Layout":
        return Layout(**{k: getattr(self, k)[i] for k in self.__dataclass_fields__})

    def key(self, i: int) -> tuple:
        """A hashable description of level i (walls, objects, agent, target), to compare layouts."""
        return (self.walls[i].cpu().numpy().tobytes(), tuple(self.objects[i].flatten().tolist()),
                tuple(self.agent[i].tolist()), int(self.target[i]))


def _obstacles(walls: torch.Tensor, objects: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(passable, target cell mask) for the planner: walls and non-target objects block."""
    bsz, h, w = walls.shape
    b = torch.arange(bsz, device=walls.device)
    passable = ~walls.clone()
    n = objects.shape[1]
    for i in range(n):
        passable[b, objects[:, i, 0], objects[:, i, 1]] = False
    src = torch.zeros_like(walls)
    tpos = objects[b, target]
    src[b, tpos[:, 0], tpos[:, 1]] = True
    return passable, src


def _draw(cfg: GridConfig, level: torch.Tensor, attempt: torch.Tensor, target: torch.Tensor | None):
    h = w = cfg.grid
    lo, hi = level & _M32, (level >> 32) & _M32
    base = _mix32(lo ^ _mix32(hi ^ 0x9E3779B9))
    base = _mix32(base ^ _mix32(attempt + 0x632BE5AB))
    keys = [_mix32(base ^ c) for c in (0x1B873593, 0xCC9E2D51, 0xE6546B64)]
    bsz = level.shape[0]
    walls = torch.zeros(bsz, h, w, dtype=torch.bool, device=level.device)
    if cfg.border:
        walls[:, 0, :] = walls[:, -1, :] = walls[:, :, 0] = walls[:, :, -1] = True
    if cfg.wall_density > 0:
        inner = torch.zeros(h, w, dtype=torch.bool, device=level.device)
        if cfg.border:
            inner[1:-1, 1:-1] = True
        else:
            inner[:] = True
        walls |= (_uniform(keys[0], h * w).view(bsz, h, w) < cfg.wall_density) & inner
    cell_key = _uniform(keys[1], h * w).masked_fill(walls.view(bsz, -1), 2.0)
    order = torch.argsort(cell_key, dim=1, stable=True)[:, :cfg.n_objects + 1]
    enough = cell_key.gather(1, order)[:, -1] < 2.0
    pos = torch.stack([order // w, order % w], dim=-1)
    objects, agent = pos[:, :cfg.n_objects], pos[:, cfg.n_objects]
    if target is None:
        target = (_uniform(keys[2], 1)[:, 0] * cfg.n_objects).long().clamp(max=cfg.n_objects - 1)
    passable, src = _obstacles(walls, objects, target)
    dist = bfs_distance(passable, src)
    b = torch.arange(bsz, device=level.device)
    shortest = dist[b, agent[:, 0], agent[:, 1]]
    ok = enough & (shortest < UNREACHABLE) & (shortest >= cfg.min_dist)
    return Layout(walls, objects, agent, target, dist, shortest, level, attempt.clone()), ok


def make_layouts(levels: Sequence[int] | torch.Tensor, cfg: GridConfig, targets: Sequence[int] | torch.Tensor | None = None,
                 device: torch.device | str = "cpu") -> Layout:
    """The layouts of a batch of level seeds (all at once, resampling invalid ones until every level is valid).

    `targets` (one object id per level) overrides the level's own target draw; validity (a path to the
    target avoiding walls and the other objects, at distance >= `cfg.min_dist`) is checked for it.
    Raises if some level has no valid layout within `cfg.max_attempts` attempts.
    """
    level = torch.as_tensor(list(levels) if not torch.is_tensor(levels) else levels, dtype=torch.int64).to(device)
    if level.ndim != 1 or (level < 0).any():
        raise ValueError("levels must be a 1-d sequence of non-negative integer seeds")
    tgt = None
    if targets is not None:
        tgt = torch.as_tensor(list(targets) if not torch.is_tensor(targets) else targets, dtype=torch.int64).to(device)
        if tgt.shape != level.shape or (tgt < 0).any() or (tgt >= cfg.n_objects).any():
            raise ValueError(f"targets must be one object id in [0, {cfg.n_objects}) per level")
    attempt = torch.zeros_like(level)
    out, ok = _draw(cfg, level, attempt, tgt)
    per_round = 8   # later rounds try 8 attempts of every unresolved level at once and keep the first valid one
    nxt = 1
    while not bool(ok.all()):
        if nxt >= cfg.max_attempts:
            raise RuntimeError(f"{int((~ok).sum())} level(s) without a valid layout after {cfg.max_attempts} "
                               f"attempts (grid {cfg.grid}, walls {cfg.wall_density}, min_dist {cfg.min_dist})")
        bad = (~ok).nonzero().flatten()
        k = min(per_round, cfg.max_attempts - nxt)
        att = (nxt + torch.arange(k, device=level.device)).repeat(bad.numel())
        new, ok_new = _draw(cfg, level[bad].repeat_interleave(k), att,
                            None if tgt is None else tgt[bad].repeat_interleave(k))
        ok_new = ok_new.view(-1, k)
        found = ok_new.any(dim=1)
        first = ok_new.float().argmax(dim=1)                   # first valid attempt of each level
        pick = torch.arange(bad.numel(), device=level.device) * k + first
        sel, rows = pick[found], bad[found]
        for name in Layout.__dataclass_fields__:
            getattr(out, name)[rows] = getattr(new, name)[sel]
        ok[rows] = True
        nxt += k
    return out


def render(layout: Layout, cfg: GridConfig, agent: torch.Tensor | None = None) -> torch.Tensor:
    """(B, C, H, W) float32 channel images in `cfg.channel_names` order (agent at `agent`, default the start)."""
    return _render(layout, layout.agent if agent is None else agent, cfg.has_walls)


def _render(layout: Layout, agent: torch.Tensor, with_walls: bool) -> torch.Tensor:
    bsz, h, w = layout.walls.shape
    n = layout.objects.shape[1]
    c0 = 1 if with_walls else 0
    obs = torch.zeros(bsz, c0 + n + 1, h, w, device=layout.walls.device)
    b = torch.arange(bsz, device=obs.device)
    if with_walls:
        obs[:, 0] = layout.walls.float()
    for i in range(n):
        obs[b, c0 + i, layout.objects[:, i, 0], layout.objects[:, i, 1]] = 1.0
    obs[b, c0 + n, agent[:, 0], agent[:, 1]] = 1.0
    return obs


# ----------------------------------------------------------------------------------------------------------------
# the vectorized environment


class GridVecEnv(VectorEnv):
    """`num_envs` gridworld episodes stepped at once with torch ops (gymnasium `VectorEnv`, autoreset disabled).

    ``reset(seed=s)`` draws level seeds from `s`; ``reset(options={"levels": [...], "targets": [...]})``
    uses the given levels (one per env); ``options={"reset_mask": m}`` resets only the envs where `m`
    is true (levels from ``options["levels"]`` at those envs, else fresh draws). Observations, rewards
    and flags are torch tensors on `device`; actions may be a tensor, an array or a list.
    `info` holds ``outcome`` (RUNNING, TIMEOUT or the reached object id), ``target``, ``level``, ``t``.
    """

    metadata = {"autoreset_mode": AutoresetMode.DISABLED, "render_modes": []}

    def __init__(self, num_envs: int, cfg: GridConfig = GridConfig(), device: torch.device | str = "cpu"):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.num_envs, self.cfg, self.device = num_envs, cfg, torch.device(device)
        self.channel_names = cfg.channel_names
        shape = (len(self.channel_names), cfg.grid, cfg.grid)
        self.single_observation_space = gym.spaces.Box(0.0, 1.0, shape, dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(4)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._delta = torch.tensor(_DELTA, device=self.device)
        self._seed_rng = np.random.default_rng(0)
        self.layout: Layout | None = None

    # -- state --------------------------------------------------------------------------------------------------
    def _info(self) -> dict[str, Any]:
        return {"outcome": self.outcome.clone(), "target": self.layout.target.clone(),
                "level": self.layout.level.clone(), "t": self.t.clone()}

    def render_obs(self) -> torch.Tensor:
        """The current observations (B, C, H, W)."""
        obs = self._static.clone()
        b = torch.arange(self.num_envs, device=self.device)
        obs[b, -1, self.agent[:, 0], self.agent[:, 1]] = 1.0
        return obs

    @property
    def done(self) -> torch.Tensor:
        return self.outcome != RUNNING

    @property
    def target(self) -> torch.Tensor:
        return self.layout.target

    def expert_actions(self) -> torch.Tensor:
        """(B,) shortest-path actions towards each env's target (the planner's greedy action)."""
        return greedy_actions(self.layout.dist, self.agent, self.layout.walls)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Reset all envs (or those in ``options["reset_mask"]``); returns (obs, info)."""
        options = dict(options or {})
        if seed is not None:
            self._seed_rng = np.random.default_rng(seed)
        mask = options.get("reset_mask")
        if mask is None or self.layout is None:
            idx = torch.arange(self.num_envs, device=self.device)
        else:
            idx = torch.as_tensor(mask, device=self.device).bool().nonzero().flatten()
        levels = options.get("levels")
        if levels is None:
            lv = torch.as_tensor(self._seed_rng.integers(0, 2 ** 62, size=self.num_envs, dtype=np.int64))
        else:
            lv = torch.as_tensor(levels, dtype=torch.int64)
            if lv.shape != (self.num_envs,):
                raise ValueError(f"options['levels'] must hold one level per env ({self.num_envs}), got {tuple(lv.shape)}")
        tg = options.get("targets")
        if tg is not None:
            tg = torch.as_tensor(tg, dtype=torch.int64)
            if tg.shape != (self.num_envs,):
                raise ValueError(f"options['targets'] must hold one object id per env ({self.num_envs})")
            tg = tg.to(self.device)[idx]
        if idx.numel() == 0:
            return self.render_obs(), self._info()
        new = make_layouts(lv.to(self.device)[idx], self.cfg, tg, self.device)
        if self.layout is None or idx.numel() == self.num_envs:
            self.layout = new
            self.agent = new.agent.clone()
            self.t = torch.zeros(self.num_envs, dtype=torch.int64, device=self.device)
            self.outcome = torch.full((self.num_envs,), RUNNING, dtype=torch.int64, device=self.device)
            self.ret = torch.zeros(self.num_envs, device=self.device)
            self._static = _render(new, new.agent, self.cfg.has_walls)
            self._static[:, -1] = 0.0
            b = torch.arange(self.num_envs, device=self.device)
            self._objmap = torch.full(new.walls.shape, -1, dtype=torch.int64, device=self.device)
            for i in range(self.cfg.n_objects):
                self._objmap[b, new.objects[:, i, 0], new.objects[:, i, 1]] = i
        else:
            for k in Layout.__dataclass_fields__:
                getattr(self.layout, k)[idx] = getattr(new, k)
            self.agent[idx] = new.agent
            self.t[idx] = 0
            self.outcome[idx] = RUNNING
            self.ret[idx] = 0.0
            st = _render(new, new.agent, self.cfg.has_walls)
            st[:, -1] = 0.0
            self._static[idx] = st
            om = torch.full(new.walls.shape, -1, dtype=torch.int64, device=self.device)
            bb = torch.arange(idx.numel(), device=self.device)
            for i in range(self.cfg.n_objects):
                om[bb, new.objects[:, i, 0], new.objects[:, i, 1]] = i
            self._objmap[idx] = om
        return self.render_obs(), self._info()

    def step(self, actions):
        """One step of every running env: (obs, reward, terminated, truncated, info). Finished envs stay frozen."""
        a = torch.as_tensor(actions, device=self.device).long().flatten()
        if a.shape != (self.num_envs,):
            raise ValueError(f"need one action per env ({self.num_envs}), got shape {tuple(a.shape)}")
        if bool(((a < 0) | (a > 3)).any()):
            raise ValueError("actions must be in {0, 1, 2, 3}")
        g, b = self.cfg.grid, torch.arange(self.num_envs, device=self.device)
        active = self.outcome == RUNNING
        new = self.agent + self._delta[a]
        inside = ((new >= 0) & (new < g)).all(dim=1)
        new = torch.where(inside[:, None], new, self.agent)
        blocked = self.layout.walls[b, new[:, 0], new[:, 1]] | ~active
        new = torch.where(blocked[:, None], self.agent, new)
        self.agent = new
        self.t = self.t + active.long()
        hit = torch.where(active, self._objmap[b, new[:, 0], new[:, 1]], -1)
        terminated = hit >= 0
        truncated = active & ~terminated & (self.t >= self.cfg.horizon)
        reward = torch.where(terminated & (hit == self.layout.target),
                             1.0 - 0.9 * self.t.float() / self.cfg.horizon, torch.zeros((), device=self.device))
        self.ret = self.ret + reward
        self.outcome = torch.where(terminated, hit, torch.where(truncated, TIMEOUT, self.outcome))
        return self.render_obs(), reward, terminated, truncated, self._info()


# ----------------------------------------------------------------------------------------------------------------
# the step-by-step reference


class GridRefEnv(gym.Env):
    """One gridworld episode in plain Python (the reference `GridVecEnv` is tested against).

    ``reset(options={"level": s, "target": k})``; the layout comes from `make_layouts` (the same levels
    give the same layouts), the dynamics, rewards and rendering are written here cell by cell.
    """

    metadata = {"render_modes": []}

    def __init__(self, cfg: GridConfig = GridConfig()):
        self.cfg = cfg
        self.observation_space = gym.spaces.Box(0.0, 1.0, (len(cfg.channel_names), cfg.grid, cfg.grid), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(4)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        level = options.get("level")
        if level is None:
            level = int(self.np_random.integers(0, 2 ** 62))
        target = options.get("target")
        lay = make_layouts([int(level)], self.cfg, None if target is None else [int(target)])
        self.walls = lay.walls[0].tolist()
        self.objects = [tuple(p) for p in lay.objects[0].tolist()]
        self.agent = tuple(lay.agent[0].tolist())
        self.target = int(lay.target[0])
        self.level = int(level)
        self.t = 0
        return self._obs(), {"target": self.target, "level": self.level}

    def _obs(self) -> np.ndarray:
        g, n = self.cfg.grid, self.cfg.n_objects
        obs = np.zeros((len(self.cfg.channel_names), g, g), dtype=np.float32)
        c0 = 1 if self.cfg.has_walls else 0
        for r in range(g):
            for c in range(g):
                if c0 and self.walls[r][c]:
                    obs[0, r, c] = 1.0
        for i, (r, c) in enumerate(self.objects):
            obs[c0 + i, r, c] = 1.0
        obs[c0 + n, self.agent[0], self.agent[1]] = 1.0
        return obs

    def step(self, action: int):
        dr, dc = _DELTA[int(action)]
        r, c = self.agent[0] + dr, self.agent[1] + dc
        g = self.cfg.grid
        if 0 <= r < g and 0 <= c < g and not self.walls[r][c]:
            self.agent = (r, c)
        self.t += 1
        hit = self.objects.index(self.agent) if self.agent in self.objects else -1
        terminated = hit >= 0
        truncated = not terminated and self.t >= self.cfg.horizon
        reward = 1.0 - 0.9 * self.t / self.cfg.horizon if hit == self.target else 0.0
        outcome = hit if terminated else (TIMEOUT if truncated else RUNNING)
        return self._obs(), float(reward), terminated, truncated, {"outcome": outcome}


# ----------------------------------------------------------------------------------------------------------------
# policies, rollouts, datasets, evaluation

Policy = Callable[[torch.Tensor, GridVecEnv], torch.Tensor]


class Expert:
    """The shortest-path expert with ε-noise: with probability `eps` a uniformly random action instead.

    The noise comes from its own CPU generator (seeded by `seed`), so the actions do not depend on the device.
    """

    def __init__(self, eps: float = 0.0, seed: int = 0):
        if not 0.0 <= eps <= 1.0:
            raise ValueError(f"eps must be in [0, 1], got {eps}")
        self.eps, self.gen = eps, torch.Generator().manual_seed(seed)

    def __call__(self, obs: torch.Tensor, env: GridVecEnv) -> torch.Tensor:
        a = env.expert_actions()
        if self.eps > 0:
            n = a.shape[0]
            noisy = torch.rand(n, generator=self.gen) < self.eps
            rand = torch.randint(0, 4, (n,), generator=self.gen)
            a = torch.where(noisy.to(a.device), rand.to(a.device), a)
        return a


def _to_actions(out: torch.Tensor) -> torch.Tensor:
    """A policy's output as actions: logits (B, 4) -> argmax (greedy), integer (B,) as given."""
    if out.is_floating_point():
        if out.ndim != 2 or out.shape[1] != 4:
            raise ValueError(f"a policy returns actions (B,) or logits (B, 4), got {tuple(out.shape)}")
        return out.argmax(dim=1)
    return out.long()


@dataclass
class Rollout:
    """Per-episode results (B,) and, if recorded, per-step tensors (T, B, ...) with an `alive` mask."""

    outcome: torch.Tensor
    returns: torch.Tensor
    lengths: torch.Tensor
    target: torch.Tensor
    level: torch.Tensor
    shortest: torch.Tensor
    layout: Layout
    horizon: int
    steps: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def success(self) -> torch.Tensor:
        """Reached the target."""
        return self.outcome == self.target

    @property
    def optimal_return(self) -> torch.Tensor:
        """The shortest path's return, ``1 - 0.9 * shortest / horizon`` (for normalized returns)."""
        return 1.0 - 0.9 * self.shortest.float() / self.horizon


def rollout(cfg: GridConfig, policy: Policy, levels: Sequence[int] | torch.Tensor,
            targets: Sequence[int] | torch.Tensor | None = None, record: bool = False,
            device: torch.device | str = "cpu") -> Rollout:
    """Run `policy(obs, env)` closed-loop on one episode per level, all at once, until every episode ends.

    The policy returns actions (B,) or logits (B, 4) (greedy: argmax). With `record`, ``steps`` holds
    obs (T, B, C, H, W), agent (T, B, 2), action, reward, done (T, B) and alive (T, B): step t of env b
    happened iff alive[t, b].
    """
    n = len(levels)
    env = GridVecEnv(n, cfg, device)
    opts = {"levels": levels if torch.is_tensor(levels) else list(levels)}
    if targets is not None:
        opts["targets"] = targets if torch.is_tensor(targets) else list(targets)
    obs, _ = env.reset(options=opts)
    rec: dict[str, list[torch.Tensor]] = {k: [] for k in ("obs", "agent", "action", "reward", "done", "alive")}
    for _ in range(cfg.horizon):
        alive = ~env.done
        if not bool(alive.any()):
            break
        a = _to_actions(policy(obs, env)).to(env.device)
        if record:
            rec["obs"].append(obs)
            rec["agent"].append(env.agent.clone())
            rec["alive"].append(alive)
        obs, r, term, trunc, _ = env.step(a)
        if record:
            rec["action"].append(a)
            rec["reward"].append(r)
            rec["done"].append(term | trunc)
    steps = {k: torch.stack(v) for k, v in rec.items()} if record else {}
    return Rollout(outcome=env.outcome.clone(), returns=env.ret.clone(), lengths=env.t.clone(),
                   target=env.layout.target.clone(), level=env.layout.level.clone(),
                   shortest=env.layout.shortest.clone(), layout=env.layout, horizon=cfg.horizon,
                   steps=steps)


def returns_to_go(reward: torch.Tensor, episode: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """Discounted return from each step to its episode's end, for flat episode-major steps (N,).

    `episode` (N,) labels each step's episode; the steps of an episode are contiguous and in time order.
    """
    if reward.shape != episode.shape or reward.ndim != 1:
        raise ValueError("reward and episode must both be flat (N,)")
    rl, el = reward.double().tolist(), episode.tolist()
    vals, acc, prev = [0.0] * len(rl), 0.0, None
    for i in range(len(rl) - 1, -1, -1):   # a reverse scan; a few thousand steps, fast enough in Python
        if el[i] != prev:
            acc, prev = 0.0, el[i]
        acc = rl[i] + gamma * acc
        vals[i] = acc
    return torch.tensor(vals, dtype=torch.float32, device=reward.device)


@dataclass
class Episodes:
    """An offline dataset, flat and episode-major: per step obs (N,C,H,W), agent (N,2), action, reward, done,
    rtg (return-to-go), timestep, episode (N,); per episode (E,) level, target, outcome, returns, lengths,
    shortest; `layout` the episodes' layouts (index with `episode`)."""

    obs: torch.Tensor
    agent: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    done: torch.Tensor
    rtg: torch.Tensor
    timestep: torch.Tensor
    episode: torch.Tensor
    level: torch.Tensor
    target: torch.Tensor
    outcome: torch.Tensor
    returns: torch.Tensor
    lengths: torch.Tensor
    shortest: torch.Tensor
    layout: Layout

    def __len__(self) -> int:
        return self.action.shape[0]


def collect_episodes(cfg: GridConfig, policy: Policy, levels: Sequence[int] | torch.Tensor,
                     targets: Sequence[int] | torch.Tensor | None = None, gamma: float = 1.0,
                     device: torch.device | str = "cpu") -> Episodes:
    """One episode of `policy` per level (levels may repeat: each repeat is its own episode), as flat tensors."""
    ro = rollout(cfg, policy, levels, targets, record=True, device=device)
    s = ro.steps
    if not s:
        raise RuntimeError("no step was taken")
    alive = s["alive"].T                                        # (B, T), episode-major after transposing
    tlen = alive.shape[1]
    flat = lambda x: x.transpose(0, 1)[alive]                   # noqa: E731
    b = alive.shape[0]
    episode = torch.arange(b, device=alive.device)[:, None].expand(b, tlen)[alive]
    timestep = torch.arange(tlen, device=alive.device)[None, :].expand(b, tlen)[alive]
    reward = flat(s["reward"])
    return Episodes(obs=flat(s["obs"]), agent=flat(s["agent"]), action=flat(s["action"]), reward=reward,
                    done=flat(s["done"]), rtg=returns_to_go(reward, episode, gamma), timestep=timestep,
                    episode=episode, level=ro.level, target=ro.target, outcome=ro.outcome, returns=ro.returns,
                    lengths=ro.lengths, shortest=ro.shortest, layout=ro.layout)


def evaluate(cfg: GridConfig, policy: Policy, levels: Sequence[int] | torch.Tensor,
             targets: Sequence[int] | torch.Tensor | None = None, device: torch.device | str = "cpu") -> Rollout:
    """The batched greedy closed-loop evaluator: one episode per level; per-episode `outcome` (the reached
    object's id or TIMEOUT), `returns`, `lengths`, `success`, `shortest`, `optimal_return`."""
    return rollout(cfg, policy, levels, targets, record=False, device=device)


__all__ = ["ACTIONS", "Episodes", "Expert", "GridConfig", "GridRefEnv", "GridVecEnv", "Layout", "Rollout", "RUNNING",
           "TIMEOUT", "UNREACHABLE", "bfs_distance", "collect_episodes", "evaluate", "greedy_actions", "level_seeds",
           "make_layouts", "neighbour_distances", "render", "returns_to_go", "rollout"]
