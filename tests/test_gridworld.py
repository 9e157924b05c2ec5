"""The vectorized gridworld against its step-by-step reference; the planner against networkx and a hand-made grid;
the dataset builder's return-to-go on a known episode."""
import networkx as nx
import numpy as np
import pytest
import torch
from gymnasium.vector import VectorEnv

from genutils import gridworld as gw

WALLED = gw.GridConfig(grid=7, n_objects=1, wall_density=0.3, border=True, min_dist=3, max_steps=12)
OPEN = gw.GridConfig(grid=5, n_objects=3, max_steps=8)


@pytest.mark.parametrize("cfg,targets", [(WALLED, None), (OPEN, None), (OPEN, [i % 3 for i in range(24)])])
def test_vectorized_env_matches_step_by_step_reference(cfg, targets):
    levels = gw.level_seeds(3, 24)
    env = gw.GridVecEnv(len(levels), cfg)
    opts = {"levels": levels} if targets is None else {"levels": levels, "targets": targets}
    obs, info = env.reset(options=opts)
    refs = [gw.GridRefEnv(cfg) for _ in levels]
    ref_obs = [r.reset(options={"level": lv, "target": None if targets is None else targets[i]})[0]
               for i, (r, lv) in enumerate(zip(refs, levels))]
    assert info["target"].tolist() == [r.target for r in refs]
    assert np.array_equal(obs.numpy(), np.stack(ref_obs))
    g = torch.Generator().manual_seed(0)
    alive = [True] * len(levels)
    n_term = n_trunc = 0
    for _ in range(cfg.horizon + 2):
        a = torch.randint(0, 4, (len(levels),), generator=g)
        before = env.agent.clone()
        obs, rew, term, trunc, info = env.step(a)
        for i, r in enumerate(refs):
            if alive[i]:
                o, rr, te, tr, inf = r.step(int(a[i]))
                assert np.array_equal(obs[i].numpy(), o), f"env {i}"
                assert rew[i].item() == pytest.approx(rr, abs=1e-6)
                assert (bool(term[i]), bool(trunc[i])) == (te, tr)
                assert int(info["outcome"][i]) == inf["outcome"]
                alive[i] = not (te or tr)
                n_term += te
                n_trunc += tr
            else:  # finished episodes stay frozen
                assert torch.equal(env.agent[i], before[i]) and rew[i] == 0 and not term[i] and not trunc[i]
    assert not any(alive) and bool(env.done.all())
    assert n_term > 0 and (n_trunc > 0 or cfg is OPEN)


def test_vector_env_interface_and_partial_reset():
    env = gw.GridVecEnv(6, WALLED)
    assert isinstance(env, VectorEnv)
    assert env.single_observation_space.shape == (3, 7, 7) and env.channel_names == ["wall", "obj0", "agent"]
    assert env.action_space.shape == (6,)
    obs, _ = env.reset(seed=1)
    assert env.observation_space.contains(obs.numpy())
    levels_before = env.layout.level.clone()
    env.step(env.expert_actions())
    mask = torch.tensor([True, False, True, False, False, False])
    new_levels = gw.level_seeds(9, 6)
    obs, info = env.reset(options={"reset_mask": mask, "levels": new_levels})
    assert info["level"][0] == new_levels[0] and info["level"][1] == levels_before[1]
    assert env.t.tolist() == [0, 1, 0, 1, 1, 1]
    fresh = gw.make_layouts([new_levels[2]], WALLED)
    assert torch.equal(env.layout.walls[2], fresh.walls[0]) and torch.equal(env.agent[2], fresh.agent[0])
    env2 = gw.GridVecEnv(6, WALLED)
    assert torch.equal(env2.reset(seed=1)[0], env.reset(seed=1)[0])


def test_layouts_are_valid_and_do_not_depend_on_the_batch():
    levels = gw.level_seeds(0, 300)
    lay = gw.make_layouts(levels, WALLED)
    part = gw.make_layouts(levels[7:9][::-1], WALLED)
    for j, i in enumerate([8, 7]):
        assert lay.key(i) == part.key(j)
    b = torch.arange(len(levels))
    assert not lay.walls[b, lay.agent[:, 0], lay.agent[:, 1]].any()
    assert not lay.walls[b, lay.objects[:, 0, 0], lay.objects[:, 0, 1]].any()
    assert lay.walls[:, 0].all() and lay.walls[:, :, -1].all()
    assert (lay.shortest >= WALLED.min_dist).all() and (lay.shortest < gw.UNREACHABLE).all()
    assert lay.attempt.max() > 0  # some levels were resampled (walls block or the goal is too close)
    assert len({lay.key(i) for i in range(len(levels))}) == len(levels)
    op = gw.make_layouts(levels, OPEN)
    pos = torch.cat([op.objects, op.agent[:, None]], dim=1)
    flat = pos[..., 0] * OPEN.grid + pos[..., 1]
    assert all(len(set(r)) == 4 for r in flat.tolist())  # objects and agent on distinct cells
    assert set(op.target.tolist()) == {0, 1, 2}


def test_level_seeds_distinct_deterministic_and_streams_differ():
    a, b, c = gw.level_seeds(5, 1000), gw.level_seeds(5, 1000), gw.level_seeds(5, 1000, stream=1)
    assert a == b and len(set(a)) == 1000 and not set(a) & set(c) and all(0 <= s < 2 ** 62 for s in a)


def test_bfs_distance_on_a_hand_made_grid():
    # S . # .
    # . . # .
    # . . . .      distances from the goal G at (0, 3), walls '#'
    walls = torch.tensor([[0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]], dtype=torch.bool)
    src = torch.zeros_like(walls)
    src[0, 3] = True
    d = gw.bfs_distance(~walls[None], src[None])[0]
    U = gw.UNREACHABLE
    assert d.tolist() == [[7, 6, U, 0], [6, 5, U, 1], [5, 4, 3, 2]]
    a = gw.greedy_actions(d[None], torch.tensor([[0, 0]]), walls[None])
    assert a.item() == 1  # down and right both lower the distance from 7 to 6; the tie goes to the first


def test_bfs_distance_matches_networkx():
    g = torch.Generator().manual_seed(0)
    bsz, h, w = 20, 6, 8
    passable = torch.rand(bsz, h, w, generator=g) > 0.3
    src = torch.zeros(bsz, h, w, dtype=torch.bool)
    src[torch.arange(bsz), torch.randint(0, h, (bsz,), generator=g), torch.randint(0, w, (bsz,), generator=g)] = True
    src[::3, 0, 0] = True  # some grids with two sources
    d = gw.bfs_distance(passable, src)
    for i in range(bsz):
        graph = nx.grid_2d_graph(h, w)
        ok = passable[i] | src[i]
        graph.remove_nodes_from([(r, c) for r in range(h) for c in range(w) if not ok[r, c]])
        srcs = [(r, c) for r in range(h) for c in range(w) if src[i, r, c]]
        ref = nx.multi_source_dijkstra_path_length(graph, srcs)
        for r in range(h):
            for c in range(w):
                assert d[i, r, c].item() == ref.get((r, c), gw.UNREACHABLE), (i, r, c)


def test_expert_follows_shortest_paths_and_noise_is_seeded():
    levels = gw.level_seeds(1, 200)
    ro = gw.evaluate(WALLED, gw.Expert(0.0), levels)
    assert ro.success.all() and torch.equal(ro.lengths, ro.shortest)
    assert torch.allclose(ro.returns, ro.optimal_return)
    tg = [i % 3 for i in range(200)]
    ro = gw.evaluate(OPEN, gw.Expert(0.0), levels, targets=tg)
    assert ro.success.all() and ro.target.tolist() == tg and torch.equal(ro.lengths, ro.shortest)
    n1 = gw.evaluate(WALLED, gw.Expert(0.5, seed=3), levels)
    n2 = gw.evaluate(WALLED, gw.Expert(0.5, seed=3), levels)
    assert torch.equal(n1.outcome, n2.outcome) and torch.equal(n1.lengths, n2.lengths)
    assert (n1.lengths > n1.shortest).any()
    logits = lambda obs, env: torch.nn.functional.one_hot(env.expert_actions(), 4).float()  # noqa: E731
    greedy = gw.evaluate(WALLED, logits, levels)  # logits are read greedily (argmax)
    assert greedy.success.all() and torch.equal(greedy.lengths, greedy.shortest)


def test_returns_to_go_on_a_known_episode():
    reward = torch.tensor([0.0, 0.0, 1.0, 0.0, 0.5])
    episode = torch.tensor([0, 0, 0, 1, 1])
    assert gw.returns_to_go(reward, episode).tolist() == [1.0, 1.0, 1.0, 0.5, 0.5]
    assert gw.returns_to_go(reward, episode, gamma=0.9).tolist() == pytest.approx([0.81, 0.9, 1.0, 0.45, 0.5])


def test_dataset_builder_on_a_known_episode():
    # a 4 x 4 open room and the noiseless expert: the episode is known exactly from the start distance n
    cfg = gw.GridConfig(grid=4, n_objects=1, max_steps=10, min_dist=3)
    levels = gw.level_seeds(0, 40)
    lay = gw.make_layouts(levels, cfg)
    ep = gw.collect_episodes(cfg, gw.Expert(0.0), levels)
    i = int(lay.shortest.argmax())           # a level with the longest shortest path
    n = int(lay.shortest[i])
    steps = ep.episode == i
    assert steps.sum() == n and ep.timestep[steps].tolist() == list(range(n))
    r_end = 1 - 0.9 * n / cfg.horizon
    assert ep.reward[steps].tolist() == pytest.approx([0.0] * (n - 1) + [r_end])
    assert ep.rtg[steps].tolist() == pytest.approx([r_end] * n)
    assert ep.done[steps].tolist() == [False] * (n - 1) + [True]
    # the first observation is the rendered start, the agent walks the distance map down by one per step
    assert torch.equal(ep.obs[steps][0], gw.render(lay.index(slice(i, i + 1)), cfg)[0])
    d = lay.dist[i][ep.agent[steps][:, 0], ep.agent[steps][:, 1]]
    assert d.tolist() == list(range(n, 0, -1))
    # every episode: rewards sum to its return, rtg at t = 0 is the return, the last step is the only done
    noisy = gw.collect_episodes(WALLED, gw.Expert(0.3, seed=1), levels * 2)
    sums = torch.zeros(len(noisy.level)).index_add_(0, noisy.episode, noisy.reward)
    assert torch.allclose(sums, noisy.returns) and torch.allclose(noisy.rtg[noisy.timestep == 0], noisy.returns)
    assert torch.equal(torch.bincount(noisy.episode), noisy.lengths)
    assert int(noisy.done.sum()) == len(noisy.level)
    assert len(noisy) == int(noisy.lengths.sum()) and noisy.obs.shape[1:] == (3, 7, 7)
