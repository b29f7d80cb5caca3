"""The app's statement texts as evidence (gates, artifacts, logs, the ledger): without the values they carried, and
safe inside markdown.

pg_stat_statements keeps a statement with its constants replaced by $1, $2, ...; pg_stat_activity shows it as the
app sent it, customer values included (a phone number, a message). redact() gives any text that form: every
string (plain, E'', B'', X'', U&'', dollar-quoted), number and comment becomes $n, numbered after the text's own
parameters; identifiers, keywords and operators stay. A text cut short (pg_stat_activity keeps the first 1 kB) that
ends inside a string or comment loses the rest of it.
"""

from __future__ import annotations

import re

# one token at a time, the first alternative that matches at the position wins
TOKEN = re.compile(r"""
    (?P<comment>--[^\n]*|/\*)
  | (?P<escape>[Ee]')                                           # E'...': backslash escapes
  | (?P<string>(?:[BbXxNn]|[Uu]&)?')                            # '...', B'...', X'...', N'...', U&'...'
  | (?P<dollar>\$(?:[A-Za-z_\x80-\U0010ffff][\w\x80-\U0010ffff]*)?\$)
  | (?P<param>\$\d+)
  | (?P<word>[A-Za-z_\x80-\U0010ffff][\w$\x80-\U0010ffff]*|"(?:[^"]|"")*"?)
  | (?P<number>0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)
""", re.VERBOSE)
STRING_END = {"escape": re.compile(r"(?:[^'\\]|\\.|'')*'", re.DOTALL), "string": re.compile(r"(?:[^']|'')*'")}


def redact(text: str) -> str:
    """`text` with every literal value replaced by $n and every comment dropped (see the module's docstring)."""
    number = max((int(n) for n in re.findall(r"\$(\d+)", text)), default=0)
    out: list[str] = []
    at = 0
    while at < len(text):
        match = TOKEN.match(text, at)
        if match is None:
            out.append(text[at])
            at += 1
            continue
        kind, end = match.lastgroup, match.end()
        if kind in ("word", "param"):
            out.append(match.group())
            at = end
            continue
        if kind == "comment":
            end = _comment_end(text, at) if match.group() == "/*" else end
            out.append(" ")
            at = end
            continue
        if kind == "dollar":
            closing = text.find(match.group(), end)
            end = len(text) if closing < 0 else closing + len(match.group())
        elif kind in STRING_END:
            rest = STRING_END[kind].match(text, end)
            end = rest.end() if rest else len(text)
        number += 1
        out.append(f"${number}")
        at = end
    return "".join(out)


def _comment_end(text: str, at: int) -> int:
    """Where the block comment starting at `at` ends (they nest); the end of the text if it never does."""
    depth, i = 0, at
    while i < len(text) - 1:
        pair = text[i:i + 2]
        if pair in ("/*", "*/"):
            depth += 1 if pair == "/*" else -1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(text)


def one_line(text: str, width: int = 120) -> str:
    """A statement on one line, cut to `width` characters."""
    line = re.sub(r"\s+", " ", text).strip()
    return line if len(line) <= width else line[:width - 1] + "…"


def md_code(text: str) -> str:
    """`text` as an inline code span that stays one span, also in a markdown table cell."""
    return "`" + one_line(text, 10_000).replace("`", "'").replace("|", "\\|") + "`"


def md_text(text: str) -> str:
    """`text` on one line as plain markdown: no character of it starts emphasis, a link, a code span, HTML, a
    heading or a table cell (an underscore inside a word starts nothing, and is left as it is)."""
    return re.sub(r"([\\`*\[\]<>|~#])|(?<!\w)_|_(?!\w)", lambda m: "\\" + m.group(), one_line(text, 10_000))
