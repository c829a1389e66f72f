#!/usr/bin/env python3
"""Reference fixtures for Semblance's clustering tests.

Re-run from the repository root (only needs ``pip install scikit-learn scipy``)::

    python3 Tests/Fixtures/make_clustering_fixtures.py

Deterministic: the points come from a seeded NumPy generator, and floats are
written with 9 significant digits.

clustering.json
    ``points``: 40 x 6 rows, four loose Gaussian groups plus noise, in float32
    precision (so Swift reads exactly the values SciPy saw).
    ``labels``: a 4-way labelling of the rows (the groups, with a few rows moved).
    ``linkage``: ``scipy.cluster.hierarchy.linkage(points, "average",
    metric="cosine")``, rows ``[left, right, distance, size]``.
    ``silhouette``: ``sklearn.metrics.silhouette_score(points, labels,
    metric="cosine")``.
    ``fcluster4``: ``fcluster(linkage, 4, criterion="maxclust")`` (1-based).
"""

import json
import os

import numpy as np
import scipy
import sklearn
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import silhouette_score

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clustering.json")
SIG_DIGITS = 9


def rounded(x):
    return float(f"{float(x):.{SIG_DIGITS}g}")


def main():
    rng = np.random.default_rng(20240607)
    centres = rng.normal(size=(4, 6))
    groups = np.repeat(np.arange(4), 10)
    points = centres[groups] + 0.6 * rng.normal(size=(40, 6))
    points = points.astype(np.float32).astype(np.float64)
    labels = groups.copy()
    labels[[3, 17, 25]] = [1, 2, 0]
    z = linkage(points, "average", metric="cosine")
    fixture = {
        "generator": f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}",
        "points": [[rounded(v) for v in row] for row in points],
        "labels": [int(v) for v in labels],
        "linkage": [[int(r[0]), int(r[1]), rounded(r[2]), int(r[3])] for r in z],
        "silhouette": rounded(silhouette_score(points, labels, metric="cosine")),
        "fcluster4": [int(v) for v in fcluster(z, 4, criterion="maxclust")],
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
