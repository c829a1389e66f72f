#!/usr/bin/env python3
"""Write a real labelled corpus: Debian package descriptions, labelled by archive section.

    apt-get update -o Acquire::Languages=en     # once: fetches the Translation-en files
    python3 Benchmarks/relevance/debian_corpus.py -o debian.jsonl

Each record is one source package of the Debian release that apt knows about (its main
component, without the -updates and -security suites, so the corpus changes only with point
releases): the title is the
short description (the synopsis), the abstract is the long description, and the label is the
archive section (science, games, net, sound, …). Like paper abstracts, these are short
technical texts written by many authors, and packages of one section share specific terms
("ham radio", "window manager", "molecular dynamics").

Sections that say how a package is built or packaged, or which programming language it
serves, rather than what it is about are left out (libs, libdevel, python, perl, doc, debug,
…), as are the grab-bags misc and utils and sections with fewer than --min-section packages. One package per source package is kept (the binary package with the
longest description; ties by name), and descriptions that repeat byte for byte are kept once,
so `foo` and `foo-data` do not answer for each other. Long descriptions under --min-words
words are dropped. Output order is by package name, so the same apt lists give the same bytes.
"""

import argparse
import collections
import glob
import json
import re
import subprocess
import sys

LISTS = "/var/lib/apt/lists"
# Sections that say how a package is built or packaged, or which language it is for, rather
# than what it is about; and the two grab-bags (misc, utils).
EXCLUDED = {
    "libs", "libdevel", "oldlibs", "debug", "doc", "introspection", "translations",
    "localization", "metapackages", "tasks", "python", "perl", "ruby", "java", "javascript",
    "golang", "rust", "haskell", "ocaml", "php", "lisp", "gnu-r", "cli-mono", "zope",
    "interpreters", "misc", "utils",
}
WORDS = re.compile(r"\w+")


def read_stanzas(path):
    """The stanzas of a Debian control file (apt's compressed list), as dicts."""
    text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path], check=True,
                          capture_output=True).stdout.decode("utf-8", "replace")
    for block in text.split("\n\n"):
        fields, key = {}, None
        for line in block.split("\n"):
            if not line:
                continue
            if line[0] in " \t" and key:
                fields[key] += "\n" + line
            else:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields:
            yield fields


def long_description(text):
    """The long description as plain text: paragraph dots dropped, lines joined."""
    lines = []
    for line in text.split("\n")[1:]:
        line = line.strip()
        lines.append("" if line == "." else line)
    return " ".join(" ".join(lines).split())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--min-words", type=int, default=25)
    parser.add_argument("--min-section", type=int, default=100)
    arguments = parser.parse_args()

    # The release itself, not its -updates and -security suites, which change week by week.
    def release_lists(pattern):
        return sorted(path for path in glob.glob(f"{LISTS}/{pattern}")
                      if "-updates_" not in path and "-security_" not in path
                      and "-backports_" not in path and not path.endswith(".diff_Index"))
    packages = release_lists("*_dists_*_main_binary-*_Packages*")
    translations = release_lists("*_dists_*_main_i18n_Translation-en*")
    if not packages or not translations:
        sys.exit("error: no Packages or Translation-en lists; run "
                 "`apt-get update -o Acquire::Languages=en` first")
    descriptions = {}
    for path in translations:
        for stanza in read_stanzas(path):
            if "Description-en" in stanza:
                descriptions[(stanza["Package"], stanza["Description-md5"])] = stanza["Description-en"]

    by_source = {}
    for path in packages:
        for stanza in read_stanzas(path):
            section = stanza.get("Section", "").split("/")[-1]
            if not section or section in EXCLUDED:
                continue
            key = (stanza["Package"], stanza.get("Description-md5", ""))
            text = descriptions.get(key)
            if text is None:
                continue
            title = text.split("\n")[0].strip()
            abstract = long_description(text)
            if len(WORDS.findall(abstract)) < arguments.min_words:
                continue
            source = stanza.get("Source", stanza["Package"]).split(" ")[0]
            record = {"id": stanza["Package"], "title": title, "abstract": abstract,
                      "label": section}
            best = by_source.get(source)
            if best is None or (-len(abstract), record["id"]) < (-len(best["abstract"]), best["id"]):
                by_source[source] = record

    seen, records = set(), []
    for record in sorted(by_source.values(), key=lambda r: r["id"]):
        if record["abstract"] in seen:
            continue
        seen.add(record["abstract"])
        records.append(record)
    sizes = collections.Counter(r["label"] for r in records)
    records = [r for r in records if sizes[r["label"]] >= arguments.min_section]
    with open(arguments.output, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    kept = collections.Counter(r["label"] for r in records)
    print(f"wrote {len(records)} packages in {len(kept)} sections to {arguments.output}: "
          + ", ".join(f"{s} {c}" for s, c in sorted(kept.items(), key=lambda x: -x[1])),
          file=sys.stderr)


if __name__ == "__main__":
    main()
