"""Diversity/relevance from blind second-moment queries: the AAAI worked example, bounds, invariances."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphgen.errors import GraphgenError
from graphgen.valuation import (
    Broker,
    Buyer,
    BuyerQuery,
    BuyerSecret,
    FeaturalScore,
    Seller,
    SellerResponse,
    buyer_query,
    diversity_relevance,
    query_from_second_moment,
    response_from_second_moment,
    seller_response,
)

BUYER_COV = np.array([[1.0, 0.1], [0.1, 0.25]])


@pytest.mark.parametrize(
    ("seller_cov", "expected"),
    [
        ([[0.9, 0.2], [0.2, 0.15]], (0.161, 0.761)),
        ([[0.1, 0.05], [0.05, 2.0]], (0.772, 0.197)),
        ([[0.5, 0.1], [0.1, 0.5]], (0.491, 0.508)),
        (BUYER_COV, (0.0, 1.0)),
        (50 * np.eye(2), (0.987, 0.010)),
    ],
)
def test_reproduces_the_aaai_worked_example(seller_cov, expected):
    query, secret = query_from_second_moment(BUYER_COV)
    d, r = diversity_relevance(secret, response_from_second_moment(query, np.array(seller_cov)))
    assert d == pytest.approx(expected[0], abs=0.005)
    assert r == pytest.approx(expected[1], abs=0.005)


def test_worked_example_eigenvalues_and_answers():
    query, secret = query_from_second_moment(BUYER_COV)
    np.testing.assert_allclose(secret.eigenvalues, [1.0131, 0.2369], atol=1e-4)
    assert abs(query.directions[0] @ [0.99, 0.13]) == pytest.approx(1.0, abs=2e-3)
    seller = np.array([[0.5, 0.1], [0.1, 0.5]])
    answers = response_from_second_moment(query, seller).answers
    # by hand: the norm of C_s u, not the Rayleigh quotient
    np.testing.assert_allclose(answers, [np.linalg.norm(seller @ u) for u in query.directions], rtol=1e-12)
    np.testing.assert_allclose(answers, [0.5346, 0.4840], atol=1e-4)
    rayleigh = response_from_second_moment(query, seller, mode="rayleigh").answers
    np.testing.assert_allclose(rayleigh, [u @ seller @ u for u in query.directions], rtol=1e-12)


def _random_psd(rng, d):
    a = rng.standard_normal((d, d)) * rng.exponential(1.0, size=d)
    return a @ a.T / d


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.sampled_from(["norm", "rayleigh"]))
def test_bounds_hold_on_random_spectra(seed, d, mode):
    rng = np.random.default_rng(seed)
    query, secret = query_from_second_moment(_random_psd(rng, d) + 0.02 * np.eye(d))
    answer = response_from_second_moment(query, _random_psd(rng, d), mode=mode)
    for weighting in ("uniform", "eigenvalue"):
        div, rel = diversity_relevance(secret, answer, weighting=weighting)
        assert 0.0 <= div <= 1.0 and 0.0 <= rel <= 1.0
        assert div + rel <= 1.0 + 1e-9


def test_diversity_grows_to_one_and_relevance_falls_to_zero_with_scale():
    query, secret = query_from_second_moment(BUYER_COV)
    values = [diversity_relevance(secret, response_from_second_moment(query, s * BUYER_COV)) for s in (2, 10, 100, 1e4)]
    divs, rels = zip(*values)
    assert list(divs) == sorted(divs) and list(rels) == sorted(rels, reverse=True)
    assert divs[-1] > 0.999 and rels[-1] < 1e-3


def _data(rng, n=400, d=5):
    return rng.standard_normal((n, d)) @ rng.standard_normal((d, d))


def test_buyer_own_data_scores_zero_diversity_full_relevance():
    x = _data(np.random.default_rng(0))
    buyer = Buyer().fit(x)
    score = Broker().score(buyer.secret_, Seller(x).answer(buyer.query_))
    assert score.diversity < 1e-6 and score.relevance == pytest.approx(1.0, abs=1e-12)


def test_invariant_to_rotation_row_permutation_and_duplication():
    rng = np.random.default_rng(1)
    b, s = _data(rng), _data(rng) + 0.3
    base = _score(b, s)
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    np.testing.assert_allclose(_score(b @ q, s @ q), base, atol=1e-10)
    np.testing.assert_allclose(_score(b, s[rng.permutation(len(s))]), base, atol=1e-12)
    np.testing.assert_allclose(_score(b, np.repeat(s, 3, axis=0)), base, atol=1e-12)
    # ... while duplicating only part of the seller's rows changes the answer (a known weakness)
    partial = np.concatenate([s, np.repeat(s[:50], 5, axis=0)])
    assert abs(_score(b, partial)[0] - base[0]) > 1e-3


def _score(b, s, **kw):
    query, secret = buyer_query(b, **kw)
    return np.array(diversity_relevance(secret, seller_response(query, s)))


def _mixture(means, classes, seed, n=2000, noise=1.0):
    rng = np.random.default_rng(seed)
    y = rng.choice(list(classes), size=n)
    return means[y] + noise * rng.standard_normal((n, means.shape[1]))


def test_class_subset_sellers_order_as_in_the_paper():
    means = np.random.default_rng(0).standard_normal((10, 16)) * 2
    buyer = _mixture(means, range(5), seed=0)
    sellers = [range(5), range(1, 6), range(10), range(3, 10), range(5, 10)]
    scores = np.array([_score(buyer, _mixture(means, c, seed=1 + i)) for i, c in enumerate(sellers)])
    assert np.all(np.diff(scores[:, 0]) > 0), scores  # diversity rises strictly
    assert np.all(np.diff(scores[:, 1]) < 0), scores  # relevance falls strictly
    noise = np.array([_score(buyer, np.random.default_rng(9).standard_normal((2000, 16)) * s) for s in (1, 3, 10)])
    assert np.all(np.diff(noise[:, 0]) > 0), noise


def test_centering_on_the_buyer_mean_closes_the_mean_blind_spot():
    rng = np.random.default_rng(2)
    b = _data(rng)
    shifted = b + 5.0
    own = _score(b, shifted, center="own")
    assert own[0] < 1e-6 and own[1] > 1 - 1e-9  # a translated copy is invisible to the paper's protocol
    buyer_centred = _score(b, shifted, center="buyer")
    assert buyer_centred[0] > 0.5 and buyer_centred[1] < 0.5


def test_weights_and_eps():
    query, secret = query_from_second_moment(BUYER_COV)
    answer = response_from_second_moment(query, np.array([[0.5, 0.1], [0.1, 0.5]]))
    lam, lam_hat = secret.eigenvalues, answer.answers
    w = lam / lam.sum()
    expected = np.prod((np.minimum(lam, lam_hat) / np.maximum(lam, lam_hat)) ** w)
    assert diversity_relevance(secret, answer, weighting="eigenvalue")[1] == pytest.approx(expected, rel=1e-12)
    assert diversity_relevance(secret, answer, weighting=w)[1] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(GraphgenError, match="sum to 1"):
        diversity_relevance(secret, answer, weighting=np.array([0.5, 0.6]))
    own = response_from_second_moment(query, BUYER_COV)
    assert diversity_relevance(secret, own)[0] == pytest.approx(0.0, abs=1e-7)
    assert diversity_relevance(secret, own, eps=1e-4)[0] >= 1e-4 - 1e-12  # the floor softens a zero component


def test_threshold_drops_small_components():
    cov = np.diag([2.0, 0.5, 0.005])
    query, secret = query_from_second_moment(cov)
    assert query.directions.shape == (2, 3) and secret.eigenvalues.tolist() == [2.0, 0.5]
    with pytest.raises(GraphgenError, match="no direction"):
        buyer_query(np.ones((10, 3)))


# --- protocol and privacy -------------------------------------------------------------------


def test_seller_side_never_receives_eigenvalues():
    fields = {f.name for f in dataclasses.fields(BuyerQuery)}
    assert fields == {"directions", "center", "centering", "scale"}
    # two buyers with the same eigenvectors but different eigenvalues send identical queries
    q1, s1 = query_from_second_moment(np.diag([3.0, 1.0]))
    q2, s2 = query_from_second_moment(np.diag([30.0, 0.2]))
    np.testing.assert_array_equal(q1.directions, q2.directions)
    assert not np.array_equal(s1.eigenvalues, s2.eigenvalues)
    seller = Seller(np.random.default_rng(0).standard_normal((50, 2)))
    with pytest.raises(GraphgenError, match="BuyerQuery"):
        seller.answer(s1)  # handing the secret to a seller is refused


def test_broker_returns_only_scalars():
    assert {f.name for f in dataclasses.fields(FeaturalScore)} == {"diversity", "relevance", "value", "num_directions"}
    query, secret = query_from_second_moment(BUYER_COV)
    score = Broker(alpha=0.25).score(secret, response_from_second_moment(query, np.eye(2)))
    assert score.value == pytest.approx(0.25 * score.diversity + 0.75 * score.relevance)
    with pytest.raises(GraphgenError):
        Broker().score(query, SellerResponse(np.ones(2)))


def test_decoys_are_orthonormal_shuffled_and_do_not_change_scores():
    rng = np.random.default_rng(3)
    b, s = _data(rng, d=6), _data(rng, d=6)
    plain = Buyer().fit(b)
    decoyed = Buyer(num_decoys=6, seed=4).fit(b)
    u = decoyed.query_.directions
    assert u.shape == (plain.query_.directions.shape[0] + 6, 6)
    real = decoyed.secret_.real_index
    decoys = np.delete(u, real, axis=0)
    np.testing.assert_allclose(decoys @ decoys.T, np.eye(6), atol=1e-12)  # orthonormal among themselves
    assert Buyer(num_decoys=15, seed=4).fit(b).query_.directions.shape[0] == plain.query_.directions.shape[0] + 15
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, atol=1e-12)
    assert not np.array_equal(np.sort(real), np.arange(real.size))  # the real ones are not all at the front
    a = Broker().score(plain.secret_, Seller(s).answer(plain.query_))
    c = Broker().score(decoyed.secret_, Seller(s).answer(decoyed.query_))
    assert (a.diversity, a.relevance) == pytest.approx((c.diversity, c.relevance), abs=1e-12)


def test_noise_on_answers_vanishes_continuously():
    rng = np.random.default_rng(5)
    b, s = _data(rng), _data(rng)
    buyer = Buyer().fit(b)
    exact = Broker().score(buyer.secret_, Seller(s).answer(buyer.query_))
    tiny = Broker().score(buyer.secret_, Seller(s, noise_std=1e-12).answer(buyer.query_))
    noisy = Broker().score(buyer.secret_, Seller(s, noise_std=0.5).answer(buyer.query_))
    assert tiny.relevance == pytest.approx(exact.relevance, abs=1e-9)
    assert noisy.relevance != pytest.approx(exact.relevance, abs=1e-3)


def test_inputs_are_not_mutated_and_bad_inputs_raise():
    x = np.random.default_rng(6).standard_normal((30, 3))
    copy = x.copy()
    buyer = Buyer().fit(x)
    Seller(x).answer(buyer.query_)
    np.testing.assert_array_equal(x, copy)
    with pytest.raises(GraphgenError, match="features"):
        Seller(np.ones((5, 4))).answer(buyer.query_)
    with pytest.raises(GraphgenError, match="NaN"):
        Buyer().fit(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(GraphgenError, match="2-D"):
        Buyer().fit(np.ones(5))
    with pytest.raises(GraphgenError, match="centering"):
        Buyer(center="median").fit(x)
    assert isinstance(buyer.secret_, BuyerSecret)


def test_standardize_uses_the_buyers_scale_on_both_sides():
    rng = np.random.default_rng(7)
    b = rng.standard_normal((500, 3)) * [100.0, 1.0, 0.01]
    s = rng.standard_normal((500, 3)) * [100.0, 2.0, 0.01]
    query, secret = buyer_query(b, standardize=True)
    np.testing.assert_allclose(query.scale, b.std(axis=0))
    assert secret.eigenvalues.size == 3  # every feature counts once rescaled (only 2 would pass raw)
    assert buyer_query(b)[1].eigenvalues.size == 2
    expected = _score(b / query.scale, s / query.scale)
    np.testing.assert_allclose(diversity_relevance(secret, seller_response(query, s)), expected, atol=1e-12)
