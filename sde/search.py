"""Item search over the published market items of the installed SDE.

The ~19,500 names are held in memory (about 3 MB per process) and ranked in tiers, best first:
exact name, name prefix, every query word a prefix of a word of the name, substring, and a
typo-tolerant fallback (rapidfuzz) that fills the remaining places. Within a tier, shorter
names come first, then alphabetical order. The index is rebuilt when the SDE file changes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from rapidfuzz import fuzz, process

EXACT, PREFIX, WORD_PREFIX, SUBSTRING, FUZZY = range(5)
TIER_NAMES = ("exact", "prefix", "word_prefix", "substring", "fuzzy")
FUZZY_CUTOFF = 75.0


@dataclass(frozen=True)
class SearchHit:
    type_id: int
    type_name: str
    tier: int

    @property
    def match(self) -> str:
        return TIER_NAMES[self.tier]


@dataclass(frozen=True)
class SearchIndex:
    type_ids: tuple[int, ...]
    names: tuple[str, ...]
    folded: tuple[str, ...]  # lower-cased names, sorted by (length, name)
    words: tuple[tuple[str, ...], ...]  # lower-cased words of each name
    vocabulary: tuple[str, ...]  # every distinct word, sorted, for typo correction
    blob: str  # every folded name, each followed by a newline: scanned with str.find
    starts: tuple[int, ...]  # offset of each name in `blob`

    @classmethod
    def build(cls, rows: list[tuple[int, str]]) -> SearchIndex:
        rows = sorted(rows, key=lambda r: (len(r[1]), r[1].lower()))
        folded = tuple(name.lower() for _, name in rows)
        words = tuple(tuple(_split_words(name)) for name in folded)
        starts, offset = [], 0
        for name in folded:
            starts.append(offset)
            offset += len(name) + 1
        return cls(
            type_ids=tuple(type_id for type_id, _ in rows),
            names=tuple(name for _, name in rows),
            folded=folded,
            words=words,
            vocabulary=tuple(sorted({w for ws in words for w in ws})),
            blob="".join(f"{name}\n" for name in folded),
            starts=tuple(starts),
        )

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        q = " ".join(query.lower().split())
        if not q or limit <= 0:
            return []
        hits: list[SearchHit] = []
        seen: set[int] = set()

        def add(indexes: list[int], tier: int) -> None:
            for i in indexes:
                if len(hits) < limit and i not in seen:
                    seen.add(i)
                    hits.append(SearchHit(self.type_ids[i], self.names[i], tier))

        for tier, indexes in enumerate(self._tiers(q, limit)):
            add(indexes, tier)
        if len(hits) >= limit or len(q) < 3:
            return hits
        # Typo-tolerant fallback: correct each word against the vocabulary and search again,
        # then fill with the closest whole names.
        corrected = self._correct(q)
        if corrected != q:
            for indexes in self._tiers(corrected, limit):
                add(indexes, FUZZY)
        if len(hits) < limit:
            matches = process.extract(
                q,
                self.folded,
                scorer=fuzz.QRatio,
                limit=limit + len(seen),
                score_cutoff=FUZZY_CUTOFF,
            )
            add([i for _, _, i in matches], FUZZY)
        return hits

    def _tiers(self, q: str, limit: int) -> list[list[int]]:
        """Indexes of the names matching `q` exactly, by prefix, by word prefix, as substring.

        Only names containing the query (or, for several words, its longest word) are looked
        at, and for several words a plain substring test of each comes before the word test.
        Names are sorted by (length, name), so each tier comes out in order, and once `limit`
        exact or prefix matches are found no later name can rank above them.
        """
        tokens = _split_words(q)
        several = len(tokens) > 1
        tiers: list[list[int]] = [[], [], [], []]
        for i in self._containing(max(tokens, key=len) if several else q):
            name = self.folded[i]
            if q in name:
                if name == q:
                    tiers[EXACT].append(i)
                elif name.startswith(q):
                    tiers[PREFIX].append(i)
                    if len(tiers[EXACT]) + len(tiers[PREFIX]) >= limit:
                        break
                elif _words_match(tokens, self.words[i]):
                    tiers[WORD_PREFIX].append(i)
                else:
                    tiers[SUBSTRING].append(i)
            elif (
                several
                and all(token in name for token in tokens)
                and _words_match(tokens, self.words[i])
            ):
                tiers[WORD_PREFIX].append(i)
        return tiers

    def _containing(self, text: str) -> Iterator[int]:
        """Indexes, in order, of the names that contain `text`."""
        blob, starts = self.blob, self.starts
        pos = blob.find(text)
        while pos != -1:
            i = bisect_right(starts, pos) - 1
            yield i
            if i + 1 == len(starts):
                return
            pos = blob.find(text, starts[i + 1])

    def _correct(self, q: str) -> str:
        """`q` with each word that starts no known word replaced by the closest known word."""
        corrected = []
        for token in _split_words(q):
            at = bisect_left(self.vocabulary, token)
            known = at < len(self.vocabulary) and self.vocabulary[at].startswith(token)
            best = (
                None
                if known or len(token) < 3
                else process.extractOne(
                    token, self.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
                )
            )
            corrected.append(best[0] if best else token)
        return " ".join(corrected)


def _split_words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]


def _words_match(tokens: list[str], words: tuple[str, ...]) -> bool:
    return all(any(word.startswith(token) for word in words) for token in tokens)


_lock = threading.Lock()
_cached: tuple[tuple[int, int], SearchIndex] | None = None


def get_index() -> SearchIndex:
    """The index for the SDE file installed now (rebuilt after `sde_install` swaps it)."""
    global _cached
    path = Path(settings.SDE_PATH)
    stat = os.stat(path)
    key = (stat.st_ino, stat.st_mtime_ns)
    cached = _cached
    if cached and cached[0] == key:
        return cached[1]
    with _lock:
        if _cached and _cached[0] == key:
            return _cached[1]
        index = SearchIndex.build(_load_rows(path))
        _cached = (key, index)
        return index


def invalidate_index() -> None:
    global _cached
    _cached = None


def _load_rows(path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(
            'SELECT "typeID", "typeName" FROM "invTypes" '
            'WHERE "published" = 1 AND "marketGroupID" IS NOT NULL AND "typeName" IS NOT NULL'
        ).fetchall()
    finally:
        conn.close()


def search_items(query: str, limit: int = 10) -> list[SearchHit]:
    return get_index().search(query, limit)
