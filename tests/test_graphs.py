"""genutils.graphs: generator statistics against their known answers, splits, the GCN layer, evaluation heads."""
import math

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, roc_auc_score

from genutils import graphs as G


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_planted_partition_block_edge_counts_match_the_binomial_answer():
    n, k, p_in, p_out = 600, 3, 0.05, 0.005
    g = G.planted_partition(n, k, p_in, p_out, generator=gen(0))
    m = n // k
    same = g.labels[g.pairs[0]] == g.labels[g.pairs[1]]
    n_in, n_out = k * m * (m - 1) / 2, k * (k - 1) / 2 * m * m
    for count, pairs, p in ((int(same.sum()), n_in, p_in), (int((~same).sum()), n_out, p_out)):
        assert abs(count - pairs * p) < 4 * math.sqrt(pairs * p * (1 - p))
    # the same model drawn by networkx gives the same mean degree (within sampling noise)
    nx_deg = np.mean([2 * nx.planted_partition_graph(k, m, p_in, p_out, seed=s).number_of_edges() / n
                      for s in range(5)])
    ours = np.mean([2 * G.planted_partition(n, k, p_in, p_out, generator=gen(s)).pairs.shape[1] / n
                    for s in range(5)])
    expected = p_in * (m - 1) + p_out * (n - m)
    assert ours == pytest.approx(expected, rel=0.05) and nx_deg == pytest.approx(expected, rel=0.05)


def test_dcsbm_is_a_simple_undirected_graph_and_networkx_agrees_on_degrees():
    g = G.dcsbm(500, 5, 6.0, 0.8, degree_exponent=2.5, generator=gen(1))
    assert (g.pairs[0] < g.pairs[1]).all()  # no self-loops, each pair once
    assert len(set(G.pair_ids(g.pairs, 500).tolist())) == g.pairs.shape[1]  # no multi-edges
    h = nx.Graph()
    h.add_nodes_from(range(500))
    h.add_edges_from(g.pairs.t().tolist())
    assert h.number_of_edges() == g.pairs.shape[1]
    assert [d for _, d in sorted(h.degree())] == G.degrees(g.pairs, 500).tolist()
    assert g.edge_index.shape == (2, 2 * g.pairs.shape[1])


def test_dcsbm_expected_degree_is_exact_for_small_graphs():
    n, k, d, hom = 40, 2, 5.0, 0.7
    g = G.dcsbm(n, k, d, hom, degree_exponent=2.5, generator=gen(2))
    th, lab = g.theta.double(), g.labels
    w_in, w_out = hom * d / (n // k), (1 - hom) * d / (n - n // k)
    # calibration scales both block rates by one factor, so their ratio is the designed one
    assert float(g.omega[0, 0] / g.omega[0, 1]) == pytest.approx(w_in / w_out)
    p = th[:, None] * th[None] * g.omega[lab][:, lab]
    p = p.clamp(max=1)
    p.fill_diagonal_(0)
    assert torch.allclose(g.expected_degree, p.sum(1))
    assert float(g.expected_degree.mean()) == pytest.approx(d, rel=1e-3)  # calibrated after clipping
    raw = G.dcsbm(n, k, d, hom, degree_exponent=2.5, generator=gen(2), calibrate=False)
    assert float(raw.omega[0, 0]) == pytest.approx(w_in) and float(raw.expected_degree.mean()) <= d
    assert torch.allclose(th.view(k, -1).mean(1), torch.ones(k, dtype=torch.float64), atol=1e-6)


def test_dcsbm_empirical_degrees_average_to_the_expected_degrees():
    n, draws = 100, 400
    theta = G.pareto_propensities(n, 2.5, gen(3))
    deg = torch.zeros(n, dtype=torch.float64)
    for s in range(draws):
        g = G.dcsbm(n, 4, 6.0, 0.75, theta=theta, generator=gen(100 + s), calibrate=False)
        deg += G.degrees(g.pairs, n)
    mean = deg / draws
    sd = (g.expected_degree / draws).sqrt()  # Poisson-binomial variance <= mean
    assert ((mean - g.expected_degree).abs() < 4.5 * sd + 1e-9).all()
    # degree follows the propensity: the top-θ decile has a higher mean degree than the bottom one
    order = theta.argsort()
    assert mean[order[-10:]].mean() > 2 * mean[order[:10]].mean()


def test_dcsbm_hits_its_mean_degree_and_homophily_on_a_large_graph():
    g = G.dcsbm(3000, 5, 6.0, 0.8, degree_exponent=2.5, generator=gen(4))
    mean_deg = 2 * g.pairs.shape[1] / 3000
    exp_edges = float(g.expected_degree.sum() / 2)
    assert abs(g.pairs.shape[1] - exp_edges) < 4 * math.sqrt(exp_edges)
    assert mean_deg == pytest.approx(6.0, rel=0.05)  # calibrated for the clipping at probability 1
    assert G.edge_homophily(g.pairs, g.labels) == pytest.approx(0.8, abs=0.02)
    # block edge densities: intra-block pairs are denser than inter-block pairs by the designed ratio
    same = g.labels[g.pairs[0]] == g.labels[g.pairs[1]]
    m = 600
    dens_in = float(same.sum()) / (5 * m * (m - 1) / 2)
    dens_out = float((~same).sum()) / (10 * m * m)
    assert dens_in / dens_out == pytest.approx((0.8 * 6 / m) / (0.2 * 6 / 2400), rel=0.15)
    # the expected number of edges of each block pair is the sum of its clipped probabilities
    th = g.theta.double()
    p = (th[:, None] * th[None] * g.omega[g.labels][:, g.labels]).clamp(max=1).triu(1)
    blk = g.labels[:, None] == g.labels[None]
    for mask, count in ((blk, int(same.sum())), (~blk, int((~same).sum()))):
        mu = float(p[mask].sum())
        assert abs(count - mu) < 4 * mu ** 0.5


def test_generators_are_seeded():
    a, b, c = (G.dcsbm(300, 3, 6.0, 0.8, generator=gen(s)) for s in (7, 7, 8))
    assert torch.equal(a.pairs, b.pairs) and torch.equal(a.theta, b.theta)
    assert not torch.equal(a.theta, c.theta)
    xa, ta = G.topic_features(a.labels, 50, 10, 0.5, generator=gen(9))
    xb, tb = G.topic_features(a.labels, 50, 10, 0.5, generator=gen(9))
    assert torch.equal(xa, xb) and torch.equal(ta, tb)


def test_topic_features_word_presence_matches_the_mixture():
    n, k, v, words, signal = 6000, 2, 40, 8, 0.6
    labels = torch.arange(k).repeat_interleave(n // k)
    x, topics = G.topic_features(labels, v, words, signal, generator=gen(5))
    assert torch.allclose(topics.sum(1), torch.ones(k, dtype=torch.float64))
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    q = signal * topics + (1 - signal) / v
    presence = 1 - (1 - q) ** words  # (k, v)
    freq = torch.stack([x[labels == c].mean(0) for c in range(k)]).double()
    sd = (presence * (1 - presence) / (n // k)).sqrt()
    assert ((freq - presence).abs() < 4.5 * sd + 1e-9).all()
    # each class's most frequent word is its topic's heaviest word
    assert torch.equal(freq.argmax(1), topics.argmax(1))
    # with no signal the classes share one distribution: every word at 1 - (1 - 1/v)^words
    x0, _ = G.topic_features(labels, v, words, 0.0, generator=gen(6))
    assert float(x0.mean()) == pytest.approx(1 - (1 - 1 / v) ** words, abs=0.005)


def test_edge_split_is_disjoint_and_negatives_are_non_edges():
    g = G.dcsbm(400, 4, 6.0, 0.8, generator=gen(10))
    sp = G.edge_split(g.pairs, 400, val_frac=0.1, test_frac=0.2, generator=gen(11))
    e = g.pairs.shape[1]
    ids = {k: set(G.pair_ids(v, 400).tolist()) for k, v in sp.items()}
    assert len(ids["val_pos"]) == round(0.1 * e) and len(ids["test_pos"]) == round(0.2 * e)
    assert ids["train_pos"] | ids["val_pos"] | ids["test_pos"] == set(G.pair_ids(g.pairs, 400).tolist())
    assert not ids["train_pos"] & ids["val_pos"] and not ids["train_pos"] & ids["test_pos"]
    edges = set(G.pair_ids(g.pairs, 400).tolist())
    assert not (ids["val_neg"] | ids["test_neg"]) & edges and not ids["val_neg"] & ids["test_neg"]
    assert len(ids["val_neg"]) == len(ids["val_pos"]) and len(ids["test_neg"]) == len(ids["test_pos"])
    assert all((v[0] < v[1]).all() for v in sp.values())


def test_augmentations_drop_the_right_fraction():
    g = G.dcsbm(2000, 4, 8.0, 0.8, generator=gen(12))
    kept = G.drop_edges(g.pairs, 0.3, generator=gen(13)).shape[1] / g.pairs.shape[1]
    assert kept == pytest.approx(0.7, abs=0.02)
    x = torch.ones(50, 1000)
    xm = G.mask_features(x, 0.4, generator=gen(14))
    cols = xm[0] == 0
    assert (xm[:, cols] == 0).all() and (xm[:, ~cols] == 1).all()
    assert float(cols.float().mean()) == pytest.approx(0.4, abs=0.05)


def test_gcn_layer_is_the_normalized_adjacency_product():
    g = G.dcsbm(60, 3, 5.0, 0.8, generator=gen(15))
    ei = g.edge_index
    a = torch.zeros(60, 60)
    a[ei[0], ei[1]] = 1
    a += torch.eye(60)
    dinv = a.sum(1).rsqrt()
    a_hat = dinv[:, None] * a * dinv[None]
    assert torch.allclose(G.normalized_adjacency(ei, 60).to_dense(), a_hat, atol=1e-6)
    x = torch.randn(60, 7, generator=gen(16))
    torch.manual_seed(0)
    fallback = G.gcn_conv(7, 4, use_pyg=False)
    with torch.no_grad():
        fallback.bias.copy_(torch.randn(4))
    expected = a_hat @ x @ fallback.lin.weight.t() + fallback.bias
    assert torch.allclose(fallback(x, ei), expected, atol=1e-5)
    if G.HAS_PYG:  # PyTorch Geometric's GCNConv, run without its optional compiled extensions
        conv = G.gcn_conv(7, 4, use_pyg=True)
        with torch.no_grad():
            conv.lin.weight.copy_(fallback.lin.weight)
            conv.bias.copy_(fallback.bias)
        assert torch.allclose(conv(x, ei), expected, atol=1e-5)
    enc = G.GCN([7, 16, 5])
    assert enc(x, ei).shape == (60, 5)


def test_roc_auc_nmi_ari_match_sklearn():
    r = np.random.default_rng(0)
    s = torch.tensor(np.round(r.normal(size=300), 1))  # ties
    y = torch.tensor(r.integers(0, 2, 300))
    assert G.roc_auc(s, y) == pytest.approx(roc_auc_score(y.numpy(), s.numpy()))
    a, b = torch.tensor(r.integers(0, 4, 500)), torch.tensor(r.integers(0, 5, 500))
    b[:250] = a[:250]
    assert G.nmi(a, b) == pytest.approx(normalized_mutual_info_score(a.numpy(), b.numpy()))
    assert G.ari(a, b) == pytest.approx(adjusted_rand_score(a.numpy(), b.numpy()))
    assert G.nmi(a, a) == pytest.approx(1.0) and G.ari(a, a) == pytest.approx(1.0)


def test_kmeans_recovers_separated_clusters_and_is_seeded():
    g = gen(17)
    centres = torch.randn(4, 6, generator=g) * 10
    lab = torch.arange(4).repeat_interleave(50)
    x = centres[lab] + torch.randn(200, 6, generator=g)
    found = G.kmeans(x, 4, restarts=5, generator=gen(18))
    assert G.ari(found, lab) == pytest.approx(1.0)
    assert torch.equal(found, G.kmeans(x, 4, restarts=5, generator=gen(18)))


def test_logistic_probe_matches_sklearn_at_the_same_penalty():
    g = gen(19)
    n, d, k, l2 = 300, 5, 3, 1e-2
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = (x @ torch.randn(d, k, generator=g, dtype=torch.float64) + torch.randn(n, k, generator=g,
                                                                                 dtype=torch.float64)).argmax(1)
    w, b = G.fit_logistic(x, y, k, l2=l2, steps=500)
    # sklearn minimizes C·Σ loss + ½‖W‖²; ours mean loss + l2‖W‖², i.e. C = 1 / (2·l2·n)
    sk = LogisticRegression(C=1 / (2 * l2 * n), tol=1e-10, max_iter=5000).fit(x.numpy(), y.numpy())
    ours = torch.softmax(x @ w + b, 1).numpy()
    assert np.abs(ours - sk.predict_proba(x.numpy())).max() < 1e-4
    acc = G.logistic_probe(x[:200], y[:200], (x[200:], y[200:]), n_classes=k)[0]
    assert acc == pytest.approx(sk.score(x[200:].numpy(), y[200:].numpy()), abs=0.05)


def test_link_probe_separates_pairs_the_embedding_explains():
    z = torch.randn(200, 8, generator=gen(20))
    lab = torch.arange(2).repeat_interleave(100)
    z[:, 0] = torch.where(lab == 0, 3.0, -3.0)  # same-block pairs have a positive product on coordinate 0
    allp = torch.combinations(torch.arange(200)).t()
    same = lab[allp[0]] == lab[allp[1]]
    pos, neg = allp[:, same][:, torch.randperm(int(same.sum()), generator=gen(21))[:600]], \
        allp[:, ~same][:, torch.randperm(int((~same).sum()), generator=gen(22))[:600]]
    auc = G.link_probe(z, pos[:, :400], neg[:, :400], (pos[:, 400:], neg[:, 400:]))[0]
    assert auc > 0.99
