#!/usr/bin/env python3
"""Reference fixtures for Semblance's Swift tests.

Re-run from the repository root (only needs ``pip install scikit-learn scipy``)::

    python3 Tests/Fixtures/make_fixtures.py

The script is deterministic: re-running it on the same corpus with the same
library versions rewrites byte-identical files. Floats are rounded to 9
significant digits; integers are exact. All files go to ``Tests/Fixtures/``.

Fixtures
--------
corpus.json
    ``[{"id": "1", "title": ..., "abstract": ...}, ...]`` -- the 81 papers parsed
    from ``Sources/semblance/Resources/hf-daily-papers.txt`` (see ``parse_corpus``).
english_stop_words.txt
    scikit-learn's ``ENGLISH_STOP_WORDS`` (318 words), sorted, one per line.
tfidf_sklearn.json
    ``TfidfVectorizer()`` (all defaults) fitted on ``title + "\\n" + abstract``.
    Keys: ``vocabulary`` (terms in column order, i.e. sorted), ``idf``,
    ``indptr``, ``indices``, ``data`` (CSR, rows = papers, indices sorted
    within each row).
tfidf_default.json
    Same layout for Semblance's default analyzer (``default_analyzer``) with
    ``TfidfVectorizer(analyzer=..., sublinear_tf=True, min_df=1, max_df=0.5,
    norm='l2', smooth_idf=True)``.
svd_sklearn_compatible.json / svd_default.json
    Exact SVD (``scipy.linalg.svd(X, full_matrices=False)``) of the dense
    float64 TF-IDF matrix from the corresponding tfidf_*.json. Keys:
    ``singular_values_all`` (all, descending), ``k`` (20), ``singular_values``
    (top k), ``u`` (papers x k = U[:, :k], with signs fixed like sklearn's
    ``svd_flip(u_based_decision=False)``: the largest-|.| entry of each
    component, a row of Vt, is made positive, ties -> first index),
    ``component_peaks`` (per component: [term index, value] of that
    largest-|.| entry, so the sign convention of V can be checked without
    storing all of V; V itself follows as diag(1/S) U^T X),
    ``explained_variance_ratio``
    (as TruncatedSVD: var(U_k S_k, axis=0) / var(X, axis=0).sum()),
    ``embeddings_first5`` (first 5 rows of U_k S_k after the flip, each row
    l2-normalised). The script cross-checks against
    ``TruncatedSVD(n_components=20, algorithm="arpack")``.
tokenizer_cases.json
    ``[{"text", "tokens", "default_terms"}]``. ``tokens`` is
    ``TfidfVectorizer().build_analyzer()(text)`` (str.lower() then
    ``(?u)\\b\\w\\w+\\b``; order and duplicates kept). ``default_terms`` is
    ``default_analyzer`` applied to a paper with an empty title and ``text``
    as its abstract (stop words removed; unigrams in order, then bigrams in
    order). Non-ASCII characters are written as \\uXXXX escapes.

Default analyzer term order
---------------------------
For a paper, segments are processed in the order title, abstract. Each segment
is lowercased (``str.lower()``), tokenised with ``(?u)\\b\\w\\w+\\b``, stripped of
stop words, and yields all of its unigrams in text order followed by all of
its bigrams (two consecutive kept tokens joined by one space) in text order.
The title's term list is emitted ``TITLE_WEIGHT`` (2) times in a row, then the
abstract's once. Bigrams never cross the title/abstract boundary. Only the
counts matter for TF-IDF; the order is documented for the tokenizer cases.
"""

import json
import os
import re
import sys

import numpy as np
import scipy
import scipy.linalg
import sklearn
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS_PATH = os.path.join(ROOT, "Sources", "semblance", "Resources", "hf-daily-papers.txt")
OUT_DIR = os.path.join(ROOT, "Tests", "Fixtures")

EXPECTED_PAPERS = 81
MIN_ABSTRACT_WORDS = 20
TITLE_WEIGHT = 2
K = 20
SIG_DIGITS = 9

TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")


# --------------------------------------------------------------------------- corpus

def collapse(text):
    """Collapse runs of whitespace to one space and trim."""
    return " ".join(text.split())


def split_paragraphs(raw):
    """Paragraphs are runs of non-blank lines; blank (whitespace-only) lines separate them."""
    paragraphs, current = [], []
    for line in raw.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def parse_corpus(raw):
    """The first paper starts at the first single-line paragraph that is directly
    followed by a paragraph of at least MIN_ABSTRACT_WORDS words; from there the
    paragraphs pair up as (title, abstract). Ids are "1", "2", ... in order."""
    paragraphs = split_paragraphs(raw)
    start = None
    for i in range(len(paragraphs) - 1):
        if len(paragraphs[i]) == 1 and len(" ".join(paragraphs[i + 1]).split()) >= MIN_ABSTRACT_WORDS:
            start = i
            break
    assert start is not None, "no paper found"
    body = paragraphs[start:]
    assert len(body) % 2 == 0, "odd number of paragraphs after the header"
    papers = []
    for j in range(0, len(body), 2):
        title_lines, abstract_lines = body[j], body[j + 1]
        assert len(title_lines) == 1, f"multi-line title paragraph: {title_lines!r}"
        papers.append({
            "id": str(len(papers) + 1),
            "title": collapse(title_lines[0]),
            "abstract": collapse(" ".join(abstract_lines)),
        })
    return papers


# --------------------------------------------------------------------------- analyzers

def segment_terms(text):
    """Unigrams (in order) then bigrams (in order) of one segment, stop words removed first."""
    tokens = [t for t in TOKEN_RE.findall(text.lower()) if t not in ENGLISH_STOP_WORDS]
    bigrams = [tokens[i] + " " + tokens[i + 1] for i in range(len(tokens) - 1)]
    return tokens + bigrams


def default_analyzer(paper):
    """Semblance's default analyzer; ``paper`` is a (title, abstract) tuple."""
    title, abstract = paper
    return segment_terms(title) * TITLE_WEIGHT + segment_terms(abstract)


# --------------------------------------------------------------------------- output helpers

def r9(x):
    """Round a float to SIG_DIGITS significant digits (and drop negative zero)."""
    v = float(f"{float(x):.{SIG_DIGITS}g}")
    return 0.0 if v == 0.0 else v


def r9_list(values):
    return [r9(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def write_json(name, obj, compact=True, ensure_ascii=False):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        if compact:
            json.dump(obj, f, ensure_ascii=ensure_ascii, separators=(",", ":"), allow_nan=False)
        else:
            json.dump(obj, f, ensure_ascii=ensure_ascii, indent=1, allow_nan=False)
        f.write("\n")
    return path


def tfidf_fixture(vectorizer, X):
    X = X.tocsr().astype(np.float64)
    X.sort_indices()
    vocab = vectorizer.get_feature_names_out().tolist()
    assert vocab == sorted(vocab), "vocabulary must be in sorted column order"
    return {
        "vocabulary": vocab,
        "idf": r9_list(vectorizer.idf_),
        "indptr": [int(v) for v in X.indptr],
        "indices": [int(v) for v in X.indices],
        "data": r9_list(X.data),
    }, X


# --------------------------------------------------------------------------- SVD

def svd_fixture(label, X_sparse):
    X = X_sparse.toarray().astype(np.float64)
    U, S, Vt = scipy.linalg.svd(X, full_matrices=False)
    Uk, Sk, Vk = U[:, :K].copy(), S[:K].copy(), Vt[:K].copy()
    # svd_flip(u_based_decision=False): largest |v| in each row of Vt becomes positive.
    max_abs_cols = np.argmax(np.abs(Vk), axis=1)
    signs = np.sign(Vk[np.arange(K), max_abs_cols])
    Uk *= signs
    Vk *= signs[:, None]
    assert np.all(Vk[np.arange(K), max_abs_cols] > 0)

    X_transformed = Uk * Sk
    exp_var = np.var(X_transformed, axis=0)
    full_var = np.var(X, axis=0).sum()
    evr = exp_var / full_var

    emb = X_transformed[:5]
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)

    # Cross-check with scikit-learn's TruncatedSVD (arpack) on the same X.
    tsvd = TruncatedSVD(n_components=K, algorithm="arpack", random_state=0)
    tsvd.fit(X)
    sv_rel = np.max(np.abs(tsvd.singular_values_ - Sk) / Sk)
    evr_abs = np.max(np.abs(tsvd.explained_variance_ratio_ - evr))
    comp_abs = np.max(np.abs(tsvd.components_ - Vk))
    print(f"[{label}] scipy   top-{K} singular values: {np.array2string(Sk, precision=6)}")
    print(f"[{label}] sklearn top-{K} singular values: {np.array2string(tsvd.singular_values_, precision=6)}")
    print(f"[{label}] scipy   explained_variance_ratio: {np.array2string(evr, precision=6)}")
    print(f"[{label}] sklearn explained_variance_ratio: {np.array2string(tsvd.explained_variance_ratio_, precision=6)}")
    print(f"[{label}] max rel diff singular values {sv_rel:.2e}, max abs diff EVR {evr_abs:.2e}, "
          f"max abs diff components {comp_abs:.2e}")
    assert sv_rel <= 1e-6, f"{label}: singular values differ from TruncatedSVD by {sv_rel}"
    assert evr_abs <= 1e-6, f"{label}: explained variance ratio differs from TruncatedSVD by {evr_abs}"

    return {
        "singular_values_all": r9_list(S),
        "k": K,
        "singular_values": r9_list(Sk),
        "u": [r9_list(row) for row in Uk],
        "component_peaks": [[int(c), float(f"{Vk[i, c]:.9g}")] for i, c in enumerate(max_abs_cols)],
        "explained_variance_ratio": r9_list(evr),
        "embeddings_first5": [r9_list(row) for row in emb],
    }, S


# --------------------------------------------------------------------------- tokenizer cases

TOKENIZER_TEXTS = [
    # ASCII punctuation and hyphens
    "Hello, world! This is a test-case: well-known e-mail (re)use; state-of-the-art.",
    # apostrophes: ASCII, right single quote U+2019, modifier letter apostrophe U+02BC (Lm, is \w)
    "Don't stop believin' -- it's O'Reilly's book; don\u2019t vs don\u02bct.",
    # digits and decimals
    "pi is 3.14, e is 2.71828; version 1.0.2 costs $1,000,000 (10%) in 2024",
    "GPT-4 and GPT-3.5 outperform BERT-base, T5 and LLaMA-2-7B",
    # underscores
    "snake_case_name and _leading and trailing_ __dunder__ CONSTANT_NAME",
    "a_b __ _ ___x x_ _y",
    # single-letter words are dropped
    "a b c I x y z ab I'm",
    # accented Latin, precomposed vs decomposed (U+0301 is Mn, not \w)
    "Caf\u00e9 r\u00e9sum\u00e9 na\u00efve \u00c5ngstr\u00f6m",
    "cafe\u0301 re\u0301sume\u0301 n\u0303o",
    # German sharp s, capital sharp s U+1E9E
    "Stra\u00dfe STRASSE strasse \u1e9eTRASSE",
    # Turkish dotted capital I (lower -> i + U+0307), dotless i
    "\u0130stanbul ISTANBUL \u0131zmir D\u0130YARBAKIR",
    # Greek, final sigma
    "\u0391\u0392\u0393 \u03b4\u03ad\u03bb\u03c4\u03b1",
    "\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u039f\u03a3 \u039f\u0394\u039f\u03a3.",
    # Cyrillic
    "\u0413\u043b\u0443\u0431\u043e\u043a\u043e\u0435 \u043e\u0431\u0443\u0447\u0435\u043d\u0438\u0435 "
    "\u0434\u043b\u044f \u0418\u0418, \u0401\u0436 \u0438 \u041c\u041e\u0414\u0415\u041b\u042c",
    # CJK (no spaces), ideographic punctuation
    "\u6df1\u5ea6\u5b66\u4e60\u6a21\u578b and \u4e2d\u6587\uff0c\u6d4b\u8bd5\u3002",
    # Japanese kana (katakana prolonged sound mark U+30FC is Lm), halfwidth katakana
    "\u30c7\u30a3\u30fc\u30d7\u30e9\u30fc\u30cb\u30f3\u30b0\u3068\u3072\u3089\u304c\u306a "
    "\u30ab\u30bf\u30ab\u30ca \uff76\uff80\uff76\uff85",
    # Korean Hangul syllables
    "\ub525\ub7ec\ub2dd \ubaa8\ub378 GPT\ub294",
    # Arabic with Arabic-Indic digits
    "\u0646\u0645\u0648\u0630\u062c \u0627\u0644\u0644\u063a\u0629 \u0663\u0664 \u0643\u0628\u064a\u0631",
    # Devanagari: vowel signs (Mc/Mn) and virama split words; Devanagari digits
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u092d\u093e\u0937\u093e \u092e\u0949\u0921\u0932 "
    "\u0967\u0968\u0969",
    # Thai: combining vowel marks (Mn)
    "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22 \u0e41\u0e21\u0e48\u0e19\u0e22\u0e33",
    # emoji between words, skin tone modifier, ZWJ sequence
    "deep\U0001f600learning \U0001f680rocket ok\U0001f44d\U0001f3fdfine "
    "fam\U0001f468\u200d\U0001f469\u200d\U0001f467ily",
    # ligatures (U+FB01, U+FB02)
    "\ufb01nance \ufb02ow e\ufb03cient",
    # superscripts (No, numeric -> \w)
    "x\u00b2 y\u00b3 m\u00b2 E=mc\u00b2 10\u2076",
    # fullwidth forms
    "\uff27\uff30\uff34\uff0d\uff14 \uff21\uff29 \uff47\uff50\uff54",
    # Roman numerals (Nl)
    "Chapter \u216b and \u217b \u216bb Louis\u2169\u2163",
    # vulgar fractions (No)
    "\u00bd cup 1\u00bd cups \u00bd\u00bd \u00be",
    # mixed alphanumerics with hyphens
    "COVID-19 SARS-CoV-2 covid19 H1N1 3D-printing",
    # control whitespace
    "tab\there\nnew line\r\nwindows\x0bvt\x0cff  double  space",
    # non-breaking space U+00A0, thin space U+2009, narrow NBSP U+202F, ideographic space U+3000
    "non\u00a0breaking thin\u2009space narrow\u202fnbsp ideo\u3000space",
    # zero-width joiner/non-joiner/space, word joiner, soft hyphen (all not \w)
    "zero\u200djoiner ZWNJ\u200cword zw\u200bsp word\u2060joiner co\u00adoperate",
    # connector punctuation other than '_' (U+203F is Pc but not Python \w), middle dot
    "tie\u203fbar l\u00b7l under_score",
    # case mappings: Kelvin sign, Ohm sign, titlecase digraph, mathematical bold (astral)
    "\u212aelvin \u2126hm \u01c5ungla \U0001d401\U0001d428\U0001d425\U0001d41d",
    # URL / e-mail
    "https://GitHub.com/GPT-Alternatives/gpt_alternatives. Mail me@example.org",
    # stop-word heavy sentence (exercises default_terms bigrams across removed words)
    "The model is trained on the data and it is evaluated by the authors of this paper",
    # empty string
    "",
    # only punctuation
    "!!! ... --- ??? (),;: \"'` @#$%^&*",
]


def tokenizer_cases():
    analyze = TfidfVectorizer().build_analyzer()
    cases = []
    for text in TOKENIZER_TEXTS:
        cases.append({
            "text": text,
            "tokens": analyze(text),
            "default_terms": default_analyzer(("", text)),
        })
    return cases


# --------------------------------------------------------------------------- main

def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"scikit-learn {sklearn.__version__}")

    with open(CORPUS_PATH, encoding="utf-8") as f:
        papers = parse_corpus(f.read())
    assert len(papers) == EXPECTED_PAPERS, f"expected {EXPECTED_PAPERS} papers, got {len(papers)}"
    assert papers[0]["title"].startswith("SANSformers:"), papers[0]["title"]
    assert papers[-1]["title"].startswith("PLIP:"), papers[-1]["title"]
    written = [write_json("corpus.json", papers, compact=False)]

    stop_path = os.path.join(OUT_DIR, "english_stop_words.txt")
    with open(stop_path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(sorted(ENGLISH_STOP_WORDS)) + "\n")
    written.append(stop_path)

    # scikit-learn compatible TF-IDF
    texts = [p["title"] + "\n" + p["abstract"] for p in papers]
    vec_sk = TfidfVectorizer()
    fx_sk, X_sk = tfidf_fixture(vec_sk, vec_sk.fit_transform(texts))
    written.append(write_json("tfidf_sklearn.json", fx_sk))

    # Semblance default TF-IDF
    docs = [(p["title"], p["abstract"]) for p in papers]
    vec_df = TfidfVectorizer(analyzer=default_analyzer, sublinear_tf=True, min_df=1, max_df=0.5,
                             norm="l2", smooth_idf=True)
    fx_df, X_df = tfidf_fixture(vec_df, vec_df.fit_transform(docs))
    written.append(write_json("tfidf_default.json", fx_df))

    svd_sk, S_sk = svd_fixture("sklearn_compatible", X_sk)
    written.append(write_json("svd_sklearn_compatible.json", svd_sk))
    svd_df, S_df = svd_fixture("default", X_df)
    written.append(write_json("svd_default.json", svd_df))

    cases = tokenizer_cases()
    written.append(write_json("tokenizer_cases.json", cases, compact=False, ensure_ascii=True))

    # Verify every file exists and loads.
    for path in written:
        with open(path, encoding="utf-8") as f:
            if path.endswith(".json"):
                json.load(f)
            else:
                assert f.read().splitlines() == sorted(ENGLISH_STOP_WORDS)

    print()
    print(f"papers: {len(papers)}  (first: {papers[0]['title'][:40]!r}, last: {papers[-1]['title'][:40]!r})")
    print(f"stop words: {len(ENGLISH_STOP_WORDS)}")
    for label, vec, X, S in (("sklearn_compatible", vec_sk, X_sk, S_sk), ("default", vec_df, X_df, S_df)):
        print(f"{label}: vocabulary {len(vec.vocabulary_)}, shape {X.shape}, nnz {X.nnz}, "
              f"top-5 singular values {np.array2string(S[:5], precision=6)}")
    print(f"tokenizer cases: {len(cases)}")
    total = 0
    for path in written:
        size = os.path.getsize(path)
        total += size
        print(f"  {os.path.relpath(path, ROOT):45s} {size:>10,d} bytes")
    print(f"  {'total':45s} {total:>10,d} bytes")


if __name__ == "__main__":
    main()
