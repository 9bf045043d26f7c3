"""User text (ids, names, reasons, file names) made safe to show: on a terminal and in charts.

An instance is written by someone else. Its text reaches a planner's terminal, where an escape
sequence can clear the screen, set the window title or hide a link (OSC 8), a bidi override
(U+202E) reverses what follows, and rich would read ``[link=...]`` as markup; in a chart,
matplotlib reads ``$...$`` as mathematics. :func:`visible` shows every such character as an
escape a reader can see (``\\x1b``, ``\\u202e``); :func:`terminal_text` makes a rich ``Text``
that is never parsed for markup; :func:`chart_label` also escapes ``$`` and shortens.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

from outopt.instance.numerics import plain

_BIDI_AND_SEPARATORS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
_UNSAFE_KEEP_NEWLINES = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    c = match.group()
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def visible(text: str, newlines: bool = False) -> str:
    """``text`` with control characters (C0, DEL, C1) and bidi controls shown as escapes.

    Printable text, any script, is left as it is. ``newlines=True`` keeps line breaks (for
    messages of several lines); otherwise they are shown as ``\\n`` too.
    """
    pattern = _UNSAFE_KEEP_NEWLINES if newlines else _UNSAFE
    return pattern.sub(_escape, text)


def terminal_text(value, style: str = "", newlines: bool = False) -> Text:
    """A rich Text of user text: escapes visible (:func:`visible`), markup never interpreted."""
    return Text(visible(str(value), newlines=newlines), style=style)


def money(x: float | None, currency: str = "") -> str:
    """An amount as a planner reads it: 1,234,567 (cents below 100), ``-`` for none."""
    if x is None:
        return "-"
    whole = abs(x) >= 100 or x == int(x)
    x = plain(round(x, 0 if whole else 2))  # never "-0": a rounded negative zero reads as a loss
    text = f"{x:,.0f}" if whole else f"{x:,.2f}"
    return f"{text} {currency}".strip()


def say(console: Console, text: str) -> None:
    """Print a line (or lines) of text that may hold user text: escapes visible, no markup."""
    console.print(terminal_text(text, newlines=True))


CHART_LABEL_CHARS = 40


def chart_label(value) -> str:
    """A chart label: escapes visible, ``$`` escaped (matplotlib shows ``\\$`` as ``$``), at most 40 characters."""
    text = visible(str(value))
    if len(text) > CHART_LABEL_CHARS:
        text = text[:CHART_LABEL_CHARS - 1] + "…"
    return text.replace("$", r"\$")
