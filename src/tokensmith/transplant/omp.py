"""Orthogonal matching pursuit, batched: express targets as sparse combinations of anchor vectors.

For each target t, k greedy steps pick the anchor most correlated (in absolute value) with the residual;
the residual is kept orthogonal to the span of the picked anchors with a Gram-Schmidt basis. The final
coefficients are the least-squares fit of t on the picked anchors. This is the algorithm
mergekit-tokensurgeon applies in the donor model's space (Pati et al. 1993; mergekit ``omp.py``): no
centring or normalisation, signed unconstrained coefficients.
"""

from __future__ import annotations

import numpy as np


def batch_omp(
    targets: np.ndarray, anchors: np.ndarray, k: int, *, batch_size: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Sparse codes of ``targets`` (n x d) over ``anchors`` (m x d).

    Returns:
        ``(indices, coefficients)``, each n x k' with k' = min(k, m, d): anchor rows picked per target and
        their least-squares coefficients (float64).
    """
    import torch

    n, dim = targets.shape
    steps = int(min(k, anchors.shape[0], dim))
    indices = np.zeros((n, steps), dtype=np.int64)
    coefficients = np.zeros((n, steps), dtype=np.float64)
    if n == 0 or steps == 0:
        return indices, coefficients
    dictionary = torch.from_numpy(np.ascontiguousarray(anchors, dtype=np.float32))
    dictionary_t = dictionary.T.contiguous()
    for start in range(0, n, batch_size):
        t = torch.from_numpy(np.ascontiguousarray(targets[start : start + batch_size], dtype=np.float32))
        rows = t.shape[0]
        residual = t.clone()
        basis = torch.zeros((rows, steps, dim), dtype=torch.float32)  # orthonormal directions, row by row
        picked = torch.zeros((rows, steps), dtype=torch.long)
        for step in range(steps):
            # The residual is orthogonal to every picked atom, so they score ~0 and are not picked again.
            choice = (residual @ dictionary_t).abs_().argmax(dim=1)
            picked[:, step] = choice
            atom = dictionary[choice]
            if step:
                # One Gram-Schmidt pass, as mergekit (it re-orthogonalises only every 256 steps): the basis only
                # steers the greedy choice; the final coefficients are solved exactly below.
                q = basis[:, :step]
                atom = atom - ((q @ atom[..., None]).transpose(1, 2) @ q)[:, 0]
            atom = atom / atom.norm(dim=1, keepdim=True).clamp_min_(1e-12)
            basis[:, step] = atom
            residual = residual - atom * (atom * residual).sum(dim=1, keepdim=True)
        # Least squares on the picked atoms through the normal equations in float64 (k x k per target;
        # much faster than a batched SVD solver), with a tiny ridge for atoms that add no new direction.
        chosen = dictionary.double()[picked]  # rows x steps x dim
        gram = chosen @ chosen.transpose(1, 2)
        ridge = 1e-10 * gram.diagonal(dim1=1, dim2=2).mean(dim=1).clamp_min(1e-30)
        gram = gram + ridge[:, None, None] * torch.eye(steps, dtype=torch.float64)
        solution = torch.linalg.solve(gram, chosen @ t.double()[..., None])
        indices[start : start + rows] = picked.numpy()
        coefficients[start : start + rows] = solution[..., 0].numpy()
    return indices, coefficients
