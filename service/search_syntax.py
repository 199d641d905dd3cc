"""Web-search syntax (`search=`): parsed once, here, for both backends.

    words            every word is required
    "a phrase"       the words next to each other, in this order
    -word, -"a b"    excluded
    a or b           either side (`or` binds loosest)

The parse is what both backends run: PostgreSQL gets it back as a normalized string for
`websearch_to_tsquery`, SQLite as an FTS5 MATCH expression built here from quoted strings
only (so no FTS5 syntax error can come from a caller). A query with nothing to find (no
word, or an alternative made only of exclusions, which no index can serve) is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# An optional '-', then a quoted phrase (its closing quote optional) or a run of other text.
_TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')


class SearchSyntaxError(ValueError):
    """A `search` that cannot be run; the message says why."""


@dataclass(frozen=True)
class Term:
    text: str
    excluded: bool = False


@dataclass(frozen=True)
class WebSearch:
    """Alternatives (or), each a conjunction of terms with at least one not excluded."""

    alternatives: tuple[tuple[Term, ...], ...]

    def websearch_text(self) -> str:
        """The same search, normalized, for PostgreSQL's `websearch_to_tsquery`."""
        return " or ".join(
            " ".join(f'{"-" if term.excluded else ""}"{term.text}"' for term in terms)
            for terms in self.alternatives
        )

    def fts5_expression(self) -> str:
        """The same search as an FTS5 MATCH expression (every term an FTS5 string)."""
        return " OR ".join(_fts5_conjunction(terms) for terms in self.alternatives)


def parse(text: str) -> WebSearch:
    alternatives: list[tuple[Term, ...]] = []
    current: list[Term] = []
    for match in _TERM.finditer(text):
        excluded, phrase, word = match.group(1) == "-", match.group(2), match.group(3)
        if word is not None and not excluded and word.lower() == "or":
            if current:
                alternatives.append(tuple(current))
                current = []
            continue
        term_text = " ".join((phrase if phrase is not None else word).split())
        if any(character.isalnum() for character in term_text):
            current.append(Term(term_text, excluded))
    if current:
        alternatives.append(tuple(current))
    if not alternatives:
        raise SearchSyntaxError("Nothing to search for: give at least one word.")
    if any(all(term.excluded for term in terms) for terms in alternatives):
        raise SearchSyntaxError(
            "Each alternative needs a word to find: an excluded word (-word) only narrows a search."
        )
    return WebSearch(tuple(alternatives))


def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts5_conjunction(terms: tuple[Term, ...]) -> str:
    wanted = " AND ".join(_fts5_string(term.text) for term in terms if not term.excluded)
    expression = f"({wanted})"
    for term in terms:
        if term.excluded:
            expression = f"({expression} NOT {_fts5_string(term.text)})"
    return expression
