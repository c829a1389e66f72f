#!/usr/bin/env python3
"""Spherical k-means side by side: semblance, scikit-learn and FAISS on the same embeddings.

    python3 Benchmarks/peers/kmeans_compare.py --semblance .build/release/semblance \\
        --corpus Sources/semblance/Resources/hf-daily-papers.txt -k 8
    python3 Benchmarks/peers/kmeans_compare.py --semblance .build/release/semblance \\
        --synthetic 30000 --topics 40 -k 40

What it does:

1. ``--synthetic N`` writes a deterministic labelled topic-mixture corpus (JSON Lines with
   a ``label`` field: each paper draws most of its words from one dominant topic, some from
   a second topic and the rest from a Zipfian background vocabulary). ``--corpus FILE`` uses
   an existing corpus; its ``label`` field, when present, is the ground truth.
2. ``semblance index`` builds the LSA embeddings (``--dimensions``, default 128) and
   ``semblance export --embeddings`` writes them to .npy, so every tool clusters exactly the
   same l2-normalised float32 rows.
3. Each tool runs with the same k, iteration limit and restarts, ``--repeats`` times
   (interleaved); the table shows the median and best wall time of the k-means fit alone,
   and the median relative to FAISS with its default (random) seeding:
   - semblance: ``semblance cluster -k K --restarts R --max-iterations I --timings`` (the
     "fitting" stage: k-means++ seeding and Lloyd iterations; stops early at a relative
     objective gain below 1e-4);
   - scikit-learn: ``KMeans(n_clusters=K, n_init=R, max_iter=I)`` (Euclidean k-means on the
     unit rows, greedy k-means++ seeding, lloyd; stops early at tol=1e-4);
   - FAISS: ``faiss.Kmeans(d, K, niter=I, nredo=R, spherical=True)`` trained on every point
     (``max_points_per_centroid`` raised from its default of 256, which would subsample),
     with random seeding (its default) and with k-means++ seeding. FAISS always runs all I
     iterations. Its time is ``train`` only; labels come from one more search, not timed.
4. Quality: NMI (``normalized_mutual_info_score``) against the labels when there are any, and
   for every tool the spherical objective, the mean cosine of each point to its cluster's
   normalised mean, computed the same way from each tool's labels.

Needs numpy, scikit-learn and faiss-cpu.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def synthetic_corpus(path, documents, topics, seed):
    """A labelled topic-mixture corpus: pseudo-words, Zipfian frequencies."""
    rng = np.random.default_rng(seed)
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    vocabulary_size = 20000
    words = set()
    while len(words) < vocabulary_size:
        n = rng.integers(2, 5)
        words.add("".join(rng.choice(syllables, size=n)))
    words = sorted(words)
    rng.shuffle(words)
    words = np.array(words)
    zipf = 1.0 / np.arange(1, vocabulary_size + 1) ** 1.07
    background = zipf / zipf.sum()
    topic_size = 400
    topic_words = [rng.choice(vocabulary_size, size=topic_size, replace=False) for _ in range(topics)]
    topic_zipf = 1.0 / np.arange(1, topic_size + 1) ** 0.9
    topic_zipf /= topic_zipf.sum()

    def draw(count, dominant, second):
        shares = rng.dirichlet([6.0, 1.5, 3.0])  # dominant topic, second topic, background
        counts = rng.multinomial(count, shares)
        picks = [
            topic_words[dominant][rng.choice(topic_size, size=counts[0], p=topic_zipf)],
            topic_words[second][rng.choice(topic_size, size=counts[1], p=topic_zipf)],
            rng.choice(vocabulary_size, size=counts[2], p=background),
        ]
        order = np.concatenate(picks)
        rng.shuffle(order)
        return " ".join(words[order])

    with open(path, "w") as f:
        for i in range(documents):
            dominant = int(rng.integers(topics))
            second = int(rng.integers(topics))
            record = {
                "id": f"s{i}",
                "title": draw(int(rng.integers(8, 13)), dominant, second),
                "abstract": draw(int(rng.integers(150, 251)), dominant, second),
                "label": f"topic{dominant}",
            }
            f.write(json.dumps(record) + "\n")


def read_labels(corpus):
    """The `label` field of a JSON Lines corpus by id, or None."""
    if not corpus.endswith((".jsonl", ".ndjson")):
        return None
    labels = {}
    with open(corpus) as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                if "label" not in record:
                    return None
                labels[str(record["id"])] = record["label"]
    return labels


def spherical_objective(x, labels):
    """Mean cosine of each row to the normalised mean of its cluster."""
    total = 0.0
    for c in np.unique(labels):
        s = x[labels == c].astype(np.float64).sum(axis=0)
        total += np.linalg.norm(s)
    return total / len(x)


def run_semblance(binary, index, k, restarts, iterations, seed, positions):
    command = [binary, "cluster", index, "-k", str(k), "--restarts", str(restarts),
               "--max-iterations", str(iterations), "--seed", str(seed), "--json", "--timings"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = None
    for line in result.stderr.splitlines():
        stage, value = line.split("\t")
        if stage == "fitting":
            seconds = float(value.split()[0])
    labels = np.zeros(len(positions), dtype=np.int64)
    for cluster in json.loads(result.stdout)["clusters"]:
        for member in cluster["members"]:
            labels[positions[member]] = cluster["id"]
    return seconds, labels


def run_sklearn(x, k, restarts, iterations, seed):
    from sklearn.cluster import KMeans
    start = time.perf_counter()
    model = KMeans(n_clusters=k, n_init=restarts, max_iter=iterations, random_state=seed).fit(x)
    return time.perf_counter() - start, model.labels_


class quiet_stderr:
    """Silences file descriptor 2 (C++ warnings) inside a with block."""

    def __enter__(self):
        sys.stderr.flush()
        self.saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)

    def __exit__(self, *exc):
        os.dup2(self.saved, 2)
        os.close(self.saved)


def run_faiss(x, k, restarts, iterations, seed, init):
    import faiss
    kmeans = faiss.Kmeans(x.shape[1], k, niter=iterations, nredo=restarts, spherical=True,
                          seed=seed + 1, max_points_per_centroid=len(x), verbose=False)
    if init == "k-means++":
        kmeans.cp.init_method = faiss.ClusteringInitMethod_KMEANS_PLUS_PLUS
    start = time.perf_counter()
    with quiet_stderr():  # FAISS warns about few points per centroid on small corpora
        kmeans.train(x)
    seconds = time.perf_counter() - start
    _, assigned = kmeans.index.search(x, 1)
    return seconds, assigned.ravel()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--semblance", required=True, help="the semblance executable")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", help="a corpus file (txt, jsonl, json, csv, tsv)")
    source.add_argument("--synthetic", type=int, metavar="N", help="generate N labelled papers")
    parser.add_argument("--index", help="an existing index of --corpus (skips indexing)")
    parser.add_argument("--topics", type=int, default=40, help="topics of --synthetic")
    parser.add_argument("-k", type=int, required=True, help="clusters")
    parser.add_argument("--dimensions", type=int, default=128)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()

    from sklearn.metrics import normalized_mutual_info_score

    with tempfile.TemporaryDirectory() as work:
        corpus = args.corpus
        if args.synthetic:
            corpus = os.path.join(work, "synthetic.jsonl")
            synthetic_corpus(corpus, args.synthetic, args.topics, args.seed)
        index = args.index or os.path.join(work, "corpus.idx")
        embeddings = os.path.join(work, "embeddings.npy")
        ids_file = os.path.join(work, "ids.txt")
        if not args.index:
            subprocess.run([args.semblance, "index", corpus, "-o", index, "--dimensions",
                            str(args.dimensions), "--seed", str(args.seed)], check=True,
                           capture_output=True)
        subprocess.run([args.semblance, "export", index, "--embeddings", embeddings,
                        "--ids", ids_file], check=True)
        x = np.ascontiguousarray(np.load(embeddings), dtype=np.float32)
        ids = open(ids_file).read().split("\n")[: len(x)]
        positions = {paper: p for p, paper in enumerate(ids)}
        truth_by_id = read_labels(corpus)
        truth = [truth_by_id[paper] for paper in ids] if truth_by_id else None

        tools = [
            ("semblance", lambda: run_semblance(args.semblance, index, args.k, args.restarts,
                                                args.iterations, args.seed, positions)),
            ("scikit-learn", lambda: run_sklearn(x, args.k, args.restarts, args.iterations, args.seed)),
            ("faiss (random init)", lambda: run_faiss(x, args.k, args.restarts, args.iterations,
                                                      args.seed, "random")),
            ("faiss (k-means++)", lambda: run_faiss(x, args.k, args.restarts, args.iterations,
                                                    args.seed, "k-means++")),
        ]
        # Repeats interleave the tools, so that a busy moment slows them alike.
        times = {name: [] for name, _ in tools}
        labels = {}
        for _ in range(args.repeats):
            for name, run in tools:
                seconds, labels[name] = run()
                times[name].append(seconds)
        rows = []
        for name, _ in tools:
            rows.append({
                "tool": name,
                "seconds": statistics.median(times[name]),
                "best": min(times[name]),
                "nmi": normalized_mutual_info_score(truth, labels[name]) if truth else None,
                "objective": spherical_objective(x, labels[name]),
            })

    reference = next(r["seconds"] for r in rows if r["tool"] == "faiss (random init)")
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{len(x)} papers x {x.shape[1]} dimensions, k = {args.k}, restarts = {args.restarts}, "
          f"iterations <= {args.iterations}, median of {args.repeats}")
    print(f"{'tool':<22}{'NMI':>8}{'objective':>11}{'median ms':>11}{'best ms':>9}{'vs faiss':>10}")
    for r in rows:
        nmi = f"{r['nmi']:.4f}" if r["nmi"] is not None else "-"
        print(f"{r['tool']:<22}{nmi:>8}{r['objective']:>11.4f}{r['seconds'] * 1000:>11.1f}"
              f"{r['best'] * 1000:>9.1f}{r['seconds'] / reference:>9.2f}x")


if __name__ == "__main__":
    sys.exit(main())
