#!/usr/bin/env python3
"""Run Semblance, scikit-learn, gensim and FAISS on the same corpus file, side by side.

    python3 Benchmarks/peers/compare.py corpus.jsonl [--repeat 3] [--json]

Every pipeline gets the same recipe (DESIGN.md §4 defaults):
  text        title + " " + title + " " + abstract (the title counts twice)
  analysis    scikit-learn's English stop words, words of 2+ word characters, 1- and 2-grams
  weighting   sublinear tf, min_df=2, max_df=0.5, l2-normalised rows
  LSA         128 dimensions, rows l2-normalised
  kNN         exact top-10 by inner product, the paper itself excluded

Pipelines:
  semblance   `semblance index CORPUS -o X.idx` timed as a whole process (binary from
              $SEMBLANCE_BIN, else .build/release/semblance), `semblance neighbors` when
              that subcommand exists, and `semblance export --embeddings` so P@10 of its
              embeddings is computed here exactly as for everyone else.
  sklearn     TfidfVectorizer(stop_words='english', sublinear_tf=True, min_df=2, max_df=0.5,
              ngram_range=(1, 2)) + TruncatedSVD(128) (randomized, its defaults), then exact
              kNN by blocked numpy matrix products.
  gensim      the same tokens (scikit-learn's analyzer), Dictionary.filter_extremes(no_below=2,
              no_above=0.5, keep_n=None), TfidfModel(smartirs='ltc'), LsiModel(num_topics=128).
  faiss       IndexFlatIP on Semblance's and on scikit-learn's embeddings, all-pairs search
              with k=11, the paper itself dropped.

Each pipeline runs in its own Python process, so its peak RSS (from wait4) is its own. Times
are time.perf_counter wall times; with --repeat R each is the median of R runs, and P@10 and
memory come from the first run. P@10 is label agreement: the fraction of a paper's 10 nearest
neighbours with the same "label" field, averaged over all papers.

The script never changes BLAS or threading environment variables; it prints the ones that are
set and threadpoolctl's view of the BLAS libraries each pipeline loaded.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DIMENSIONS = 128
K = 10
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# ----------------------------------------------------------------------------------------------
# Shared helpers (run in the worker processes)

def read_corpus(path):
    """Titles, abstracts and labels of a JSON Lines corpus, in file order."""
    titles, abstracts, labels = [], [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            titles.append(record.get("title", ""))
            abstracts.append(record.get("abstract", ""))
            labels.append(record.get("label"))
    return titles, abstracts, labels


def texts_of(titles, abstracts):
    return [t + " " + t + " " + a for t, a in zip(titles, abstracts)]


def normalize_rows(matrix):
    import numpy as np
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return (matrix / norms).astype(np.float32)


def exact_knn(embeddings, k=K, block=1024):
    """Top-k rows by inner product for every row, the row itself excluded (blocked matmul)."""
    import numpy as np
    e = np.ascontiguousarray(embeddings, dtype=np.float32)
    n = e.shape[0]
    result = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, block):
        stop = min(n, start + block)
        scores = e[start:stop] @ e.T
        scores[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        part = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
        result[start:stop] = np.take_along_axis(part, order, axis=1)
    return result


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [{key: entry.get(key) for key in
                 ("user_api", "internal_api", "version", "num_threads", "architecture",
                  "threading_layer", "filepath")} for entry in threadpool_info()]
    except ImportError:
        return [{"note": "threadpoolctl is not installed (pip install threadpoolctl)"}]


# ----------------------------------------------------------------------------------------------
# Workers: one pipeline per process; print one JSON object on stdout.

def worker_sklearn(corpus, outdir, knn="knn"):
    import numpy as np
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    stages = {}
    start = time.perf_counter()
    titles, abstracts, _ = read_corpus(corpus)
    stages["read"] = time.perf_counter() - start

    start = time.perf_counter()
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2, max_df=0.5,
                                 ngram_range=(1, 2))
    x = vectorizer.fit_transform(texts_of(titles, abstracts))
    stages["analyze"] = time.perf_counter() - start

    start = time.perf_counter()
    embeddings = normalize_rows(TruncatedSVD(DIMENSIONS, random_state=0).fit_transform(x))
    stages["svd"] = time.perf_counter() - start

    np.save(os.path.join(outdir, "sklearn-embeddings.npy"), embeddings)
    if knn == "no-knn":
        return {"stages": stages, "terms": int(x.shape[1]), "nonzeros": int(x.nnz),
                "blas": blas_info()}
    start = time.perf_counter()
    neighbours = exact_knn(embeddings)
    stages["knn"] = time.perf_counter() - start
    np.save(os.path.join(outdir, "sklearn-knn.npy"), neighbours)
    return {"stages": stages, "terms": int(x.shape[1]), "nonzeros": int(x.nnz),
            "neighbours": "sklearn-knn.npy", "blas": blas_info()}


def worker_gensim(corpus, outdir):
    import numpy as np
    from gensim import matutils
    from gensim.corpora import Dictionary
    from gensim.models import LsiModel, TfidfModel
    from sklearn.feature_extraction.text import TfidfVectorizer
    stages = {}
    start = time.perf_counter()
    titles, abstracts, _ = read_corpus(corpus)
    stages["read"] = time.perf_counter() - start

    start = time.perf_counter()
    analyze = TfidfVectorizer(stop_words="english", ngram_range=(1, 2)).build_analyzer()
    tokens = [analyze(text) for text in texts_of(titles, abstracts)]
    dictionary = Dictionary(tokens)
    dictionary.filter_extremes(no_below=2, no_above=0.5, keep_n=None)
    bows = [dictionary.doc2bow(doc) for doc in tokens]
    del tokens
    tfidf = TfidfModel(bows, dictionary=dictionary, smartirs="ltc")
    weighted = tfidf[bows]
    stages["analyze"] = time.perf_counter() - start

    start = time.perf_counter()
    lsi = LsiModel(weighted, id2word=dictionary, num_topics=DIMENSIONS)
    embeddings = matutils.corpus2dense(lsi[weighted], num_terms=DIMENSIONS,
                                       num_docs=len(bows)).T
    embeddings = normalize_rows(embeddings)
    stages["svd"] = time.perf_counter() - start

    start = time.perf_counter()
    neighbours = exact_knn(embeddings)
    stages["knn"] = time.perf_counter() - start

    np.save(os.path.join(outdir, "gensim-knn.npy"), neighbours)
    return {"stages": stages, "terms": len(dictionary), "neighbours": "gensim-knn.npy",
            "blas": blas_info()}


def worker_faiss(embeddings_path, outdir, name):
    import faiss
    import numpy as np
    embeddings = np.ascontiguousarray(np.load(embeddings_path), dtype=np.float32)
    start = time.perf_counter()
    index = faiss.IndexFlatIP(embeddings.shape[1])
    index.add(embeddings)
    _, found = index.search(embeddings, K + 1)
    stages = {"knn": time.perf_counter() - start}
    # Drop the paper itself; when ties hide it, drop the last hit instead.
    n = embeddings.shape[0]
    neighbours = np.empty((n, K), dtype=np.int64)
    for row in range(n):
        hits = [h for h in found[row] if h != row]
        neighbours[row] = hits[:K]
    np.save(os.path.join(outdir, name + "-knn.npy"), neighbours)
    return {"stages": stages, "neighbours": name + "-knn.npy", "threads": faiss.omp_get_max_threads(),
            "blas": blas_info()}


def worker_numpy_knn(embeddings_path, outdir, name):
    import numpy as np
    embeddings = np.load(embeddings_path)
    start = time.perf_counter()
    neighbours = exact_knn(embeddings)
    stages = {"knn": time.perf_counter() - start}
    np.save(os.path.join(outdir, name + "-knn.npy"), neighbours)
    return {"stages": stages, "neighbours": name + "-knn.npy", "blas": blas_info()}


def run_worker(arguments):
    kind, *rest = arguments
    if kind == "sklearn":
        result = worker_sklearn(*rest)
    elif kind == "gensim":
        result = worker_gensim(*rest)
    elif kind == "faiss":
        result = worker_faiss(*rest)
    elif kind == "numpy-knn":
        result = worker_numpy_knn(*rest)
    else:
        raise SystemExit(f"unknown worker {kind}")
    print(json.dumps(result))


# ----------------------------------------------------------------------------------------------
# The driver

def spawn_measured(command):
    """Runs a command and returns (wall seconds, its own peak RSS in bytes, status, stdout, stderr)."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=out, stderr=err)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return seconds, peak, process.returncode, out.read().decode(), err.read().decode()


def run_pipeline(worker_arguments):
    seconds, peak, status, stdout, stderr = spawn_measured(
        [sys.executable, os.path.abspath(__file__), "--worker", *worker_arguments])
    if status != 0:
        raise RuntimeError(f"worker {worker_arguments[0]} failed ({status}):\n{stderr}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["process_seconds"] = seconds
    result["peak_rss"] = peak
    return result


def precision_at_k(neighbours, labels, k=K):
    import numpy as np
    labels = np.asarray(labels)
    top = np.asarray(neighbours)[:, :k]
    return float((labels[top] == labels[:, None]).mean())


def semblance_binary():
    path = os.environ.get("SEMBLANCE_BIN") or str(REPO / ".build" / "release" / "semblance")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise SystemExit(
            f"error: no semblance binary at {path}: run `swift build -c release` or set SEMBLANCE_BIN")
    return path


def has_subcommand(binary, name):
    return subprocess.run([binary, name, "--help"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def run_semblance(binary, corpus, outdir):
    import numpy as np
    result = {"stages": {}}
    index_path = os.path.join(outdir, "semblance.idx")
    seconds, peak, status, _, stderr = spawn_measured([binary, "index", corpus, "-o", index_path])
    if status != 0:
        raise RuntimeError(f"semblance index failed ({status}):\n{stderr}")
    result["stages"]["index"] = seconds
    result["peak_rss"] = peak

    if has_subcommand(binary, "neighbors"):
        tsv = os.path.join(outdir, "semblance-neighbors.tsv")
        seconds, npeak, status, _, stderr = spawn_measured(
            [binary, "neighbors", index_path, "-k", str(K), "-o", tsv])
        if status != 0:
            raise RuntimeError(f"semblance neighbors failed ({status}):\n{stderr}")
        result["stages"]["neighbors"] = seconds
        result["neighbors_peak_rss"] = npeak
        result["neighbors_tsv"] = tsv
    else:
        result["neighbors_note"] = "this semblance has no `neighbors` subcommand yet"

    embeddings_path = os.path.join(outdir, "semblance-embeddings.npy")
    ids_path = os.path.join(outdir, "semblance-ids.txt")
    seconds, _, status, _, stderr = spawn_measured(
        [binary, "export", index_path, "--embeddings", embeddings_path, "--ids", ids_path])
    if status != 0:
        raise RuntimeError(f"semblance export failed ({status}):\n{stderr}")
    result["stages"]["export"] = seconds
    result["embeddings"] = embeddings_path
    result["ids"] = ids_path
    shape = np.load(embeddings_path, mmap_mode="r").shape
    result["documents"], result["dimensions"] = int(shape[0]), int(shape[1])
    return result


def neighbours_from_tsv(tsv, ids_path, k=K):
    """The neighbour positions of `semblance neighbors` output (id, neighbor, rank, score)."""
    import numpy as np
    with open(ids_path, encoding="utf-8") as handle:
        ids = [line.rstrip("\n") for line in handle]
    position = {paper: i for i, paper in enumerate(ids)}
    neighbours = np.full((len(ids), k), -1, dtype=np.int64)
    with open(tsv, encoding="utf-8") as handle:
        next(handle)  # header
        for line in handle:
            paper, neighbour, rank, _ = line.rstrip("\n").split("\t")
            rank = int(rank)
            if rank <= k:
                neighbours[position[paper], rank - 1] = position[neighbour]
    return neighbours


def median_stages(results):
    names = results[0]["stages"].keys()
    return {name: statistics.median(r["stages"][name] for r in results) for name in names}


def format_seconds(value):
    if value is None:
        return ""
    return f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"


def format_bytes(value):
    return "" if value is None else f"{value / 1e6:.0f} MB"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", help="a JSON Lines corpus with id, title, abstract and label")
    parser.add_argument("--repeat", type=int, default=1, help="runs per pipeline (median reported)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--skip", default="", help="comma-separated pipelines to skip: "
                        "semblance,sklearn,gensim,faiss")
    parser.add_argument("--keep", metavar="DIR", help="keep the index, exports and neighbour files here")
    parser.add_argument("--no-numpy-knn", action="store_true",
                        help="skip the exact numpy kNN (scikit-learn's own, and on Semblance's "
                        "embeddings): O(n²·d) in numpy, about half an hour at 300,000 papers; "
                        "P@10 then comes from FAISS (unless skipped) and `semblance neighbors`")
    arguments = parser.parse_args()
    if arguments.repeat < 1:
        parser.error("--repeat must be at least 1")
    skip = {name for name in arguments.skip.split(",") if name}
    corpus = os.path.abspath(arguments.corpus)

    import numpy as np
    _, _, labels = read_corpus(corpus)
    labelled = all(label is not None for label in labels)
    outdir = arguments.keep or tempfile.mkdtemp(prefix="semblance-compare-")
    os.makedirs(outdir, exist_ok=True)
    log = (lambda text: None) if arguments.json else (lambda text: print(text, file=sys.stderr))
    environment = {name: os.environ[name] for name in ENV_VARS if name in os.environ}

    rows = []      # (pipeline, stages dict, note, P@10, peak RSS, ratio base)
    report = {"corpus": corpus, "documents": len(labels), "repeat": arguments.repeat,
              "environment": environment, "pipelines": {}}
    try:
        semblance = None
        if "semblance" not in skip:
            binary = semblance_binary()
            report["semblance_binary"] = binary
            runs = []
            for run in range(arguments.repeat):
                log(f"semblance run {run + 1}/{arguments.repeat}…")
                runs.append(run_semblance(binary, corpus, outdir))
            semblance = runs[0]
            semblance["stages"] = median_stages(runs)
            semblance["runs"] = [r["stages"] for r in runs]
            report["pipelines"]["semblance"] = semblance

        peers = {}
        for name in ("sklearn", "gensim"):
            if name in skip:
                continue
            runs = []
            for run in range(arguments.repeat):
                log(f"{name} run {run + 1}/{arguments.repeat}…")
                extra = ["no-knn"] if name == "sklearn" and arguments.no_numpy_knn else []
                runs.append(run_pipeline([name, corpus, outdir, *extra]))
            result = runs[0]
            result["stages"] = median_stages(runs)
            result["runs"] = [r["stages"] for r in runs]
            peers[name] = result
            report["pipelines"][name] = result

        knn_runs = {}
        embedding_sources = []
        if semblance:
            embedding_sources.append(("semblance", semblance["embeddings"]))
        if "sklearn" in peers:
            embedding_sources.append(("sklearn", os.path.join(outdir, "sklearn-embeddings.npy")))
        for source, path in embedding_sources:
            kinds = ([("numpy-knn", "numpy")] if source == "semblance" and not arguments.no_numpy_knn
                     else [])
            if "faiss" not in skip:
                kinds.append(("faiss", "faiss"))
            for worker, label in kinds:
                name = f"{label}-on-{source}"
                runs = []
                for run in range(arguments.repeat):
                    log(f"{name} run {run + 1}/{arguments.repeat}…")
                    runs.append(run_pipeline([worker, path, outdir, name]))
                result = runs[0]
                result["stages"] = median_stages(runs)
                result["runs"] = [r["stages"] for r in runs]
                knn_runs[name] = result
                report["pipelines"][name] = result

        # Label agreement, computed the same way for every neighbour list.
        if labelled:
            def p10(path):
                return precision_at_k(np.load(os.path.join(outdir, path)), labels)
            for result in list(peers.values()) + list(knn_runs.values()):
                if "neighbours" in result:
                    result["p_at_10"] = p10(result["neighbours"])
            if semblance and "neighbors_tsv" in semblance:
                semblance["neighbors_p_at_10"] = precision_at_k(
                    neighbours_from_tsv(semblance["neighbors_tsv"], semblance["ids"]), labels)
        report["labelled"] = labelled
    finally:
        if not arguments.keep:
            shutil.rmtree(outdir, ignore_errors=True)

    # BLAS as each pipeline saw it.
    report["blas"] = {name: result.get("blas") for name, result in report["pipelines"].items()
                      if result.get("blas")}

    if arguments.json:
        print(json.dumps(report, indent=1, sort_keys=True))
        return
    print_table(report)


def print_table(report):
    pipelines = report["pipelines"]
    semblance = pipelines.get("semblance")
    base_index = semblance["stages"]["index"] if semblance else None
    base_knn = semblance["stages"].get("neighbors") if semblance else None
    header = ["pipeline", "read", "analyze+TF-IDF", "SVD", "kNN", "index total", "× Semblance",
              "P@10", "peak RSS"]
    rows = []
    if semblance:
        own = pipelines.get("numpy-on-semblance", {}).get("p_at_10")
        rows.append(["semblance index (whole process)", "", "", "", "", format_seconds(base_index),
                     "1.00", fmt_p(own), format_bytes(semblance["peak_rss"])])
        if base_knn is not None:
            rows.append(["semblance neighbors (whole process)", "", "", "", format_seconds(base_knn),
                         "", "1.00", fmt_p(semblance.get("neighbors_p_at_10")),
                         format_bytes(semblance.get("neighbors_peak_rss"))])
    for name, title in (("sklearn", "scikit-learn TfidfVectorizer + TruncatedSVD"),
                        ("gensim", "gensim Dictionary + TfidfModel + LsiModel")):
        if name not in pipelines:
            continue
        stages = pipelines[name]["stages"]
        total = stages["read"] + stages["analyze"] + stages["svd"]
        rows.append([title, format_seconds(stages["read"]), format_seconds(stages["analyze"]),
                     format_seconds(stages["svd"]), format_seconds(stages.get("knn")),
                     format_seconds(total), ratio(total, base_index),
                     fmt_p(pipelines[name].get("p_at_10")), format_bytes(pipelines[name]["peak_rss"])])
    for name, title in (("numpy-on-semblance", "numpy kNN on Semblance embeddings"),
                        ("faiss-on-semblance", "FAISS IndexFlatIP on Semblance embeddings"),
                        ("faiss-on-sklearn", "FAISS IndexFlatIP on scikit-learn embeddings")):
        if name not in pipelines:
            continue
        knn = pipelines[name]["stages"]["knn"]
        rows.append([title, "", "", "", format_seconds(knn), "", ratio(knn, base_knn),
                     fmt_p(pipelines[name].get("p_at_10")), format_bytes(pipelines[name]["peak_rss"])])
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    line = lambda row: "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                                 for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
    print(f"corpus: {report['corpus']} ({report['documents']} papers); "
          f"times: {'median of ' + str(report['repeat']) + ' runs' if report['repeat'] > 1 else 'one run'}")
    if report["environment"]:
        print("environment: " + ", ".join(f"{k}={v}" for k, v in report["environment"].items()))
    else:
        print("environment: no OPENBLAS_*/OMP_*/MKL_* variables set")
    print()
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print()
    print("index total = read + analyze+TF-IDF + SVD (Semblance: the whole `semblance index` "
          "process, which also writes the index file).")
    print("× Semblance = time / `semblance index` time for index totals, / `semblance neighbors` "
          "time for kNN rows.")
    if semblance and "neighbors_note" in semblance:
        print(f"semblance neighbors: skipped ({semblance['neighbors_note']}).")
    if not report.get("labelled"):
        print("P@10: not computed (not every record has a label).")
    print()
    print("BLAS seen by each pipeline (threadpoolctl):")
    for name, entries in report["blas"].items():
        for entry in entries:
            if "note" in entry:
                print(f"  {name}: {entry['note']}")
                continue
            print(f"  {name}: {entry.get('internal_api')} {entry.get('version')} "
                  f"{entry.get('architecture') or ''} threads={entry.get('num_threads')} "
                  f"{entry.get('filepath')}")


def ratio(value, base):
    return "" if base is None or value is None else f"{value / base:.2f}"


def fmt_p(value):
    return "" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
