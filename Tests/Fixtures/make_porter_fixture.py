#!/usr/bin/env python3
"""Reference stems for Semblance's Porter stemmer tests.

Re-run from the repository root (only needs ``pip install nltk``; no NLTK data)::

    python3 Tests/Fixtures/make_porter_fixture.py

Writes ``Tests/Fixtures/porter_stems.tsv``: a header line, then one
``word<TAB>stem`` line per word, sorted by word. The stems come from NLTK's
``PorterStemmer(mode=PorterStemmer.ORIGINAL_ALGORITHM)``, NLTK's mode that
follows Porter's 1980 paper as published.

Words
-----
* the examples that Porter's paper gives for each step (caresses, ponies,
  relational, conditional, ...), plus words that exercise the edge cases:
  the y rules (syzygy, toy, yelling), double consonants (hopping, falling,
  hissing, fizzed), *o (filing, failing), m = 0 stems (feed, bled), ION after
  S/T only, very short words;
* every distinct all-letter token of 2+ letters in the bundled corpus
  (``Sources/semblance/Resources/hf-daily-papers.txt``, lowercased): every
  5th token whose stem NLTK changes and every 20th unchanged one, both in
  sorted order, so the fixture has a few hundred words and is the same on
  every run.

The script is deterministic for a given NLTK version (it prints the version).
"""

import pathlib
import re

import nltk
from nltk.stem.porter import PorterStemmer

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "Sources/semblance/Resources/hf-daily-papers.txt"
OUTPUT = ROOT / "Tests/Fixtures/porter_stems.tsv"

CLASSIC = """
caresses ponies ties caress cats
feed agreed plastered bled motoring sing
conflated troubled sized hopping tanned falling hissing fizzed failing filing
happy sky
relational conditional rational valenci hesitanci digitizer conformabli
radicalli differentli vileli analogousli vietnamization predication operator
feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti
triplicate formative formalize electriciti electrical hopeful goodness
revival allowance inference airliner gyroscopic adjustable defensible
irritant replacement adjustment dependent adoption homologou communism
activate angulariti homologous effective bowdlerize
probate rate cease controll roll
generalizations oscillators connection connections connective connected
connecting syzygy toy yelling sayings yyy by as is us abs ss s
knightly agreement feeding bleed need ion onion vision lotion station
""".split()


def main() -> None:
    stemmer = PorterStemmer(mode=PorterStemmer.ORIGINAL_ALGORITHM)
    text = CORPUS.read_text(encoding="utf-8").lower()
    tokens = sorted(set(re.findall(r"\b[a-z]{2,}\b", text)))
    changed = [t for t in tokens if stemmer.stem(t) != t][::5]
    unchanged = [t for t in tokens if stemmer.stem(t) == t][::20]
    words = sorted(set(CLASSIC) | set(changed) | set(unchanged))
    with OUTPUT.open("w", encoding="utf-8", newline="\n") as out:
        out.write("word\tstem\n")
        for word in words:
            out.write(f"{word}\t{stemmer.stem(word, to_lowercase=False)}\n")
    print(f"nltk {nltk.__version__}: wrote {len(words)} words to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
