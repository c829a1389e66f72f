#!/usr/bin/env python3
"""Label agreement (P@10) of Semblance's LSA and hybrid rankings, and of scikit-learn's LSA.

    swift build -c release
    python3 Benchmarks/relevance/measure_relevance.py corpus.jsonl [more.jsonl …]
        [--alphas 1,0.8,0.65,0.5,0.35,0.2] [--feedback 0,10] [--bench .build/release/semblance-bench]
        [--skip-sklearn] [--json]

For each labelled JSON Lines corpus (every record has a "label"):

  Semblance      `semblance-bench relevance --corpus FILE --alphas … --feedback …`: one index
                 with the default configuration; every paper's top 10 ranked with each α,
                 without relevance feedback and with feedback from the 10 best results
                 (weight 1, the default), exactly as `neighbors(count:)` and
                 `related(to:count:)` rank them (α = 1 is LSA alone, the rest re-rank the top
                 max(100, 10·k) LSA candidates by α·cos_LSA + (1−α)·cos_TFIDF, then with
                 feedback).
  scikit-learn   compare.py's recipe (Benchmarks/peers/compare.py, worker_sklearn):
                 TfidfVectorizer(stop_words='english', sublinear_tf=True, min_df=2, max_df=0.5,
                 ngram_range=(1, 2)) on title + " " + title + " " + abstract, TruncatedSVD(128,
                 random_state=0), rows l2-normalised, exact top-10 by inner product.

P@10 is the mean fraction of a paper's 10 results with its label, over every paper. The script
prints one row per corpus (a Markdown table), then the gains of the default ranking (α = 0.5
with feedback from 10 papers) and of the hybrid without feedback over LSA alone and over
scikit-learn, in percentage points.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_compare():
    """Benchmarks/peers/compare.py as a module, for its recipe and helpers."""
    spec = importlib.util.spec_from_file_location("compare", REPO / "Benchmarks/peers/compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def semblance(bench, corpus, alphas, feedback):
    result = subprocess.run(
        [bench, "relevance", "--corpus", corpus, "--alphas", ",".join(map(str, alphas)),
         "--feedback", ",".join(map(str, feedback)), "--json"],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"semblance-bench relevance failed on {corpus}:\n{result.stderr}")
    return json.loads(result.stdout)


def sklearn_lsa(corpus):
    """P@10 of compare.py's scikit-learn LSA pipeline on the corpus."""
    import numpy as np
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    compare = load_compare()
    titles, abstracts, labels = compare.read_corpus(corpus)
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2, max_df=0.5,
                                 ngram_range=(1, 2))
    x = vectorizer.fit_transform(compare.texts_of(titles, abstracts))
    embeddings = compare.normalize_rows(
        TruncatedSVD(compare.DIMENSIONS, random_state=0).fit_transform(x))
    _, numbers = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)
    return compare.precision_at_k(compare.exact_knn(embeddings), numbers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="+", help="labelled JSON Lines corpora")
    parser.add_argument("--alphas", default="1,0.8,0.65,0.5,0.35,0.2")
    parser.add_argument("--feedback", default="0,10",
                        help="relevance feedback sizes to rank with (0: none)")
    parser.add_argument("--bench", default=os.environ.get("SEMBLANCE_BENCH_BIN")
                        or str(REPO / ".build" / "release" / "semblance-bench"))
    parser.add_argument("--skip-sklearn", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    arguments = parser.parse_args()
    alphas = [float(a) for a in arguments.alphas.split(",")]
    feedback = [int(f) for f in arguments.feedback.split(",")]
    if not (os.path.isfile(arguments.bench) and os.access(arguments.bench, os.X_OK)):
        raise SystemExit(f"error: no semblance-bench at {arguments.bench}: run "
                         "`swift build -c release`, or pass --bench")

    results = []
    for corpus in arguments.corpora:
        print(f"{corpus}: semblance-bench relevance…", file=sys.stderr)
        report = semblance(arguments.bench, corpus, alphas, feedback)
        entry = {"corpus": corpus, "papers": report["papers"], "labels": report["labels"],
                 "semblance": {ranking_key(row): row["precision"] for row in report["rows"]}}
        if not arguments.skip_sklearn:
            print(f"{corpus}: scikit-learn…", file=sys.stderr)
            entry["sklearn"] = sklearn_lsa(corpus)
        results.append(entry)

    if arguments.json:
        print(json.dumps({"alphas": alphas, "feedback": feedback, "corpora": results}, indent=1,
                         sort_keys=True))
        return
    keys = [key for key in results[0]["semblance"]]
    header = ["corpus", "papers", "labels"] + [column_name(key) for key in keys]
    if not arguments.skip_sklearn:
        header.append("scikit-learn LSA")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " for _ in header) + "|")
    for entry in results:
        cells = [os.path.basename(entry["corpus"]), f"{entry['papers']:,}", str(entry["labels"])]
        cells += [f"{entry['semblance'][key]:.4f}" if key in entry["semblance"] else "–"
                  for key in keys]
        if "sklearn" in entry:
            cells.append(f"{entry['sklearn']:.4f}")
        print("| " + " | ".join(cells) + " |")
    print()
    for entry in results:
        scores = entry["semblance"]
        name = os.path.basename(entry["corpus"])
        lsa = scores.get("LSA")
        for key, label in (("α=0.5 feedback=10", "default (α = 0.5, feedback 10)"),
                           ("α=0.5", "hybrid α = 0.5 without feedback")):
            if key not in scores or lsa is None:
                continue
            line = f"{name}: {label} vs LSA {100 * (scores[key] - lsa):+.2f} points"
            if "sklearn" in entry:
                line += f", vs scikit-learn LSA {100 * (scores[key] - entry['sklearn']):+.2f} points"
            print(line)
        best = max(scores, key=scores.get)
        print(f"{name}: best ranking here {column_name(best)} ({scores[best]:.4f})")


def ranking_key(row):
    """"LSA", "α=0.5" or "α=0.5 feedback=10" (weight 1, the default, unless another is given)."""
    if row["alpha"] >= 1:
        return "LSA"
    key = f"α={row['alpha']:g}"
    if row.get("feedback"):
        key += f" feedback={row['feedback']}"
        if abs(row.get("feedbackWeight", 1.0) - 1.0) > 1e-9:
            key += f"×{row['feedbackWeight']:g}"
    return key


def column_name(key):
    """The table's column title for a ranking key."""
    if key == "LSA":
        return "LSA (α = 1)"
    alpha, _, rest = key.partition(" ")
    name = "α = " + alpha.split("=")[1]
    if rest:
        name += ", feedback " + rest.split("=")[1]
    return name


if __name__ == "__main__":
    main()
