#!/usr/bin/env python3
"""Builds the SQLite FTS5 table of the benchmarks in a process of its own, so that peers.py can
time it like any other indexer (wall, CPU, peak memory):

    python3 bench/fts5_load.py html CORPUS DATABASE      # raw HTML, read with html.parser
    python3 bench/fts5_load.py passages JSONL DATABASE   # passages `citedex export` printed

`html` is the plain do-it-yourself indexer: Python's own html.parser, the text of <body> without
scripts, styles and navigation, one row per section (split at h1-h6) with its heading path.
"""
import html.parser
import pathlib
import sys

import common

SKIPPED = {"script", "style", "nav", "head", "noscript", "template", "svg"}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCKS = {"p", "div", "li", "dt", "dd", "pre", "tr", "table", "section", "article", "br",
          "blockquote", "ul", "ol", "dl"}


class Sections(html.parser.HTMLParser):
    """Collects a page's title and its sections: (heading path, text)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title, self.sections = "", []
        self.headings, self.heading, self.text = [], None, []
        self.skipping, self.in_title = 0, False

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self.skipping += 1
        elif tag == "title":
            self.in_title = True
        elif tag in HEADINGS and not self.skipping:
            self.close_section()
            self.heading = (HEADINGS[tag], [])
        elif tag in BLOCKS:
            self.text.append("\n")

    def handle_endtag(self, tag):
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "title":
            self.in_title = False
        elif tag in HEADINGS and self.heading:
            level, words = self.heading
            self.headings = [h for h in self.headings if h[0] < level]
            self.headings.append((level, " ".join("".join(words).split())))
            self.heading = None

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif self.skipping:
            return
        elif self.heading:
            self.heading[1].append(data)
        else:
            self.text.append(data)

    def close_section(self):
        text = " ".join("".join(self.text).split())
        if text:
            self.sections.append((" ".join(h for _, h in self.headings), text))
        self.text = []


def html_rows(corpus):
    for page in sorted(pathlib.Path(corpus).rglob("*.html")):
        parser = Sections()
        parser.feed(page.read_bytes().decode("utf-8", errors="replace"))
        parser.close()
        parser.close_section()
        title = " ".join(parser.title.split())
        for section, text in parser.sections:
            yield (str(page), title, section, text)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("html", "passages"):
        sys.exit(__doc__)
    kind, source, database = sys.argv[1:]
    db = common.create_fts5(database)
    if kind == "html":
        with db:
            db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?)", html_rows(source))
    else:
        common.load_passages(db, source)
    db.close()


if __name__ == "__main__":
    main()
