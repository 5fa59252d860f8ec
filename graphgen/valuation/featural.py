"""Diversity and relevance from blind second-moment queries (Amiri, Berdoz & Raskar, AAAI 2023).

A buyer holding data ``B`` (``n_b x d``) and a seller holding ``S`` (``n_s x d``) in the same feature
space learn how *diverse* and how *relevant* the seller's data is for the buyer, without either side
shipping its rows:

1. the buyer eigendecomposes its second moment ``C_b = (1/n_b) B^T B = U diag(lambda) U^T`` and sends
   only the directions ``u_i`` (optionally shuffled among random decoy directions) to the seller;
2. the seller answers ``lambda_hat_i = || C_s u_i ||_2`` with ``C_s = (1/n_s) S^T S`` (the paper's
   choice, the *norm*; ``mode="rayleigh"`` answers ``u_i^T C_s u_i`` instead);
3. the broker, who alone receives the buyer's eigenvalues, computes over the components
   ``i in D`` whose buyer eigenvalue exceeds ``threshold`` (eq. 4 of the paper; 1e-2):

   ``Div = prod_i ( |lambda_i - lambda_hat_i| / max(lambda_i, lambda_hat_i) ) ^ w_i``
   ``Rel = prod_i ( min(lambda_i, lambda_hat_i) / max(lambda_i, lambda_hat_i) ) ^ w_i``

   with weights ``w_i`` summing to 1 (``1/|D|``: the geometric mean of the paper; or proportional to
   ``lambda_i``, the paper's weighted form), and the scalar value ``V = alpha Div + (1 - alpha) Rel``
   (``alpha = 0.5``, the paper's "safe default").

Per component the two ratios sum to 1, so by super-additivity of the weighted geometric mean
``Div + Rel <= 1``; the buyer's own data gives ``Div = 0`` and ``Rel = 1``.

Choices made here (the paper is silent), each tested:

* the products are computed in log space; a component with a zero ratio (``lambda_hat = lambda``
  exactly) makes the product exactly 0, as in the paper. ``eps > 0`` floors every ratio instead,
  so one coinciding component no longer zeroes ``Div`` (the geometric mean's fragility);
* only directions above the threshold are sent (fewer directions, less leakage); decoys are
  uniformly random orthonormal directions (among themselves) shuffled in; the broker knows which
  indices are real;
* centring: ``center="own"`` (the paper: each party subtracts its own mean, so a translated copy of
  the buyer's data is invisible, the "mean blind spot"), ``"buyer"`` (the query carries the buyer's
  mean and the seller centres on it; this reveals the buyer's mean to the seller) or ``"none"``.

Example:
    >>> import numpy as np
    >>> cov_b = np.array([[1.0, 0.1], [0.1, 0.25]])
    >>> query, secret = query_from_second_moment(cov_b)
    >>> answer = response_from_second_moment(query, np.array([[0.5, 0.1], [0.1, 0.5]]))
    >>> [round(float(v), 3) for v in diversity_relevance(secret, answer)]
    [0.491, 0.508]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphgen.errors import GraphgenError
from graphgen.seeding import numpy_rng

__all__ = [
    "BuyerQuery",
    "BuyerSecret",
    "SellerResponse",
    "CENTERINGS",
    "second_moment",
    "query_from_second_moment",
    "buyer_query",
    "response_from_second_moment",
    "seller_response",
    "diversity_relevance",
    "featural_value",
]

CENTERINGS = ("own", "buyer", "none")
RESPONSE_MODES = ("norm", "rayleigh")
WEIGHTINGS = ("uniform", "eigenvalue")


@dataclass(frozen=True)
class BuyerQuery:
    """The only message the seller receives: unit directions, one per row, decoys mixed in.

    ``center`` is the buyer's feature mean, present only when the buyer chose ``center="buyer"``.
    There is deliberately no field for eigenvalues.
    """

    directions: np.ndarray  # (k, d), orthonormal real directions shuffled among decoys
    center: np.ndarray | None = None  # (d,) or None
    centering: str = "own"
    scale: np.ndarray | None = None  # (d,) per-feature divisors both sides apply, or None


@dataclass(frozen=True)
class BuyerSecret:
    """What the buyer gives the broker and never the seller: eigenvalues and which rows are real."""

    eigenvalues: np.ndarray  # (r,) buyer eigenvalues of the real directions, descending
    real_index: np.ndarray  # (r,) rows of BuyerQuery.directions that are real
    num_features: int


@dataclass(frozen=True)
class SellerResponse:
    """The seller's answer: one number per direction of the query (real and decoy alike)."""

    answers: np.ndarray  # (k,)


def _as_matrix(x, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise GraphgenError(f"{what} must be a 2-D array (rows x features), got shape {x.shape}")
    if x.shape[0] == 0:
        raise GraphgenError(f"{what} has no rows")
    if not np.all(np.isfinite(x)):
        raise GraphgenError(f"{what} holds NaN or infinite values")
    return x


def second_moment(x, *, center: str | np.ndarray = "own") -> np.ndarray:
    """``(1/n) X_c^T X_c`` where ``X_c`` is ``x`` centred as asked.

    Args:
        x: ``(n, d)`` data, one row per sample.
        center: ``"own"`` (subtract the column means of ``x``), ``"none"``, or a ``(d,)`` mean to
            subtract (a buyer-provided centre).
    """
    x = _as_matrix(x, "data")
    if isinstance(center, str):
        if center == "own":
            x = x - x.mean(axis=0)
        elif center != "none":
            raise GraphgenError(f"unknown centering {center!r}; choose own, none or a mean vector")
    else:
        mean = np.asarray(center, dtype=np.float64)
        if mean.shape != (x.shape[1],):
            raise GraphgenError(f"centre has shape {mean.shape}, data has {x.shape[1]} features")
        x = x - mean
    return x.T @ x / x.shape[0]


def query_from_second_moment(
    cov: np.ndarray,
    *,
    threshold: float = 1e-2,
    num_decoys: int = 0,
    seed: int | None = 0,
    center: np.ndarray | None = None,
    centering: str = "own",
    scale: np.ndarray | None = None,
) -> tuple[BuyerQuery, BuyerSecret]:
    """Build the buyer's query from its second-moment matrix ``cov`` (``d x d``, symmetric PSD).

    Returns the :class:`BuyerQuery` for the seller and the :class:`BuyerSecret` for the broker.

    Raises:
        GraphgenError: no eigenvalue above ``threshold`` (nothing to compare), bad shapes.
    """
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise GraphgenError(f"second moment must be a square matrix, got shape {cov.shape}")
    if num_decoys < 0:
        raise GraphgenError(f"num_decoys must be >= 0, got {num_decoys}")
    d = cov.shape[0]
    lam, vec = np.linalg.eigh((cov + cov.T) / 2)
    order = np.argsort(-lam, kind="stable")
    lam, vec = lam[order], vec[:, order]
    keep = lam > threshold
    if not keep.any():
        raise GraphgenError(
            f"the buyer's data has no direction with second moment above {threshold:g} "
            "(constant or empty features?); nothing to value against"
        )
    real = vec[:, keep].T  # (r, d)
    rng = numpy_rng(seed)
    if num_decoys:
        gauss = rng.standard_normal((d, num_decoys))
        q, r = np.linalg.qr(gauss)  # orthonormal columns, Haar-distributed after the sign fix
        decoys = (q * np.sign(np.diag(r))[None, : q.shape[1]]).T
        if decoys.shape[0] < num_decoys:  # more decoys than dimensions: several orthonormal blocks
            blocks = [decoys]
            while sum(b.shape[0] for b in blocks) < num_decoys:
                q, r = np.linalg.qr(rng.standard_normal((d, d)))
                blocks.append((q * np.sign(np.diag(r))[None, :]).T)
            decoys = np.concatenate(blocks)[:num_decoys]
        directions = np.concatenate([real, decoys])
        perm = rng.permutation(directions.shape[0])
        directions = directions[perm]
        real_index = np.argsort(perm)[: real.shape[0]]
    else:
        directions, real_index = real, np.arange(real.shape[0])
    query = BuyerQuery(directions=directions, center=center, centering=centering, scale=scale)
    return query, BuyerSecret(eigenvalues=lam[keep], real_index=real_index, num_features=d)


def buyer_query(
    x,
    *,
    threshold: float = 1e-2,
    num_decoys: int = 0,
    center: str = "own",
    standardize: bool = False,
    seed: int | None = 0,
) -> tuple[BuyerQuery, BuyerSecret]:
    """The buyer's side of the protocol on its raw data ``x`` (``n x d``).

    ``center``: ``"own"`` (the paper), ``"buyer"`` (send the buyer's mean with the query; the
    seller centres on it, which closes the mean blind spot but reveals the mean) or ``"none"``.
    ``standardize``: divide every feature by the buyer's standard deviation on both sides (the
    divisors travel with the query, revealing the buyer's per-feature spread). The paper assumes
    normalised data; without a common scale the absolute ``threshold`` means nothing for features
    of very different units (degrees beside clustering coefficients).
    """
    if center not in CENTERINGS:
        raise GraphgenError(f"unknown centering {center!r}; choose one of {', '.join(CENTERINGS)}")
    x = _as_matrix(x, "buyer data")
    scale = None
    if standardize:
        std = x.std(axis=0)
        scale = np.where(std > 0, std, 1.0)
        x = x / scale
    mean = x.mean(axis=0)
    cov = second_moment(x, center="none" if center == "none" else mean)
    return query_from_second_moment(
        cov,
        threshold=threshold,
        num_decoys=num_decoys,
        seed=seed,
        center=mean if center == "buyer" else None,
        centering=center,
        scale=scale,
    )


def response_from_second_moment(
    query: BuyerQuery, cov: np.ndarray, *, mode: str = "norm", noise_std: float = 0.0, seed: int | None = 0
) -> SellerResponse:
    """The seller's answers from its second moment: ``||C_s u||`` (``norm``) or ``u^T C_s u``.

    ``noise_std > 0`` adds Gaussian noise to every answer (a DP-style defence against a buyer
    reconstructing ``C_s`` from many queries; it perturbs the values accordingly).
    """
    if not isinstance(query, BuyerQuery):
        raise GraphgenError(f"a seller answers a BuyerQuery, got {type(query).__name__}")
    if mode not in RESPONSE_MODES:
        raise GraphgenError(f"unknown response mode {mode!r}; choose one of {', '.join(RESPONSE_MODES)}")
    u = query.directions
    if cov.shape != (u.shape[1], u.shape[1]):
        raise GraphgenError(f"seller data has {cov.shape[0]} features, the buyer's query has {u.shape[1]}")
    cu = u @ cov  # (k, d): row i is (C_s u_i)^T since C_s is symmetric
    answers = np.linalg.norm(cu, axis=1) if mode == "norm" else np.einsum("kd,kd->k", cu, u)
    if noise_std > 0:
        answers = np.abs(answers + numpy_rng(seed).normal(0.0, noise_std, size=answers.shape))
    return SellerResponse(answers=answers)


def seller_response(
    query: BuyerQuery, x, *, mode: str = "norm", noise_std: float = 0.0, seed: int | None = 0
) -> SellerResponse:
    """The seller's side on its raw data ``x``, centred as the query says."""
    if not isinstance(query, BuyerQuery):
        raise GraphgenError(f"a seller answers a BuyerQuery, got {type(query).__name__}")
    center = query.center if query.centering == "buyer" else query.centering
    x = _as_matrix(x, "seller data")
    if query.scale is not None:
        if query.scale.shape != (x.shape[1],):
            raise GraphgenError(f"seller data has {x.shape[1]} features, the buyer's query has {query.scale.shape[0]}")
        x = x / query.scale
    cov = second_moment(x, center=center)
    return response_from_second_moment(query, cov, mode=mode, noise_std=noise_std, seed=seed)


def _weights(secret: BuyerSecret, weighting: str | np.ndarray) -> np.ndarray:
    if isinstance(weighting, str):
        if weighting == "uniform":
            return np.full(secret.eigenvalues.shape, 1.0 / secret.eigenvalues.size)
        if weighting == "eigenvalue":
            return secret.eigenvalues / secret.eigenvalues.sum()
        raise GraphgenError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)} or an array")
    w = np.asarray(weighting, dtype=np.float64)
    if w.shape != secret.eigenvalues.shape or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
        raise GraphgenError("weights must be non-negative, one per real direction, and sum to 1")
    return w


def diversity_relevance(
    secret: BuyerSecret, response: SellerResponse, *, weighting: str | np.ndarray = "uniform", eps: float = 0.0
) -> tuple[float, float]:
    """The broker's computation: ``(diversity, relevance)`` in ``[0, 1]`` (see the module docstring).

    Args:
        weighting: ``"uniform"`` (geometric mean, eq. 4), ``"eigenvalue"`` (``w_i`` proportional to
            the buyer's eigenvalue) or an explicit array of weights summing to 1.
        eps: floor on every per-component ratio before the logarithm (0: none, exact products).
    """
    lam = secret.eigenvalues
    lam_hat = np.asarray(response.answers, dtype=np.float64)[secret.real_index]
    w = _weights(secret, weighting)
    top = np.maximum(lam, lam_hat)
    div_ratio = np.abs(lam - lam_hat) / top
    rel_ratio = np.minimum(lam, lam_hat) / top
    return _weighted_geometric_mean(div_ratio, w, eps), _weighted_geometric_mean(rel_ratio, w, eps)


def _weighted_geometric_mean(ratios: np.ndarray, w: np.ndarray, eps: float) -> float:
    ratios = np.maximum(ratios, eps)
    if np.any((ratios <= 0) & (w > 0)):
        return 0.0
    used = w > 0
    return float(np.exp(np.sum(w[used] * np.log(ratios[used]))))


def featural_value(diversity: float, relevance: float, *, alpha: float = 0.5) -> float:
    """``alpha * diversity + (1 - alpha) * relevance`` (alpha = 0.5: the paper's safe default)."""
    if not 0.0 <= alpha <= 1.0:
        raise GraphgenError(f"alpha must lie in [0, 1], got {alpha}")
    return alpha * diversity + (1 - alpha) * relevance
