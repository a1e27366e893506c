"""Text from files, models and users made safe to print on a terminal.

Texts in corpora, labels in model cards and lines given to ``predict`` can hold escape
sequences (``ESC [2J`` clears the screen, ``ESC ]0;...BEL`` retitles the window, a lone CR
overwrites the line) and bidirectional overrides that reorder what is shown. Anything the
CLI echoes from such a source goes through ``escape`` first; rich output also escapes markup
(``[bold]`` stays literal).

>>> escape("a\\x1b[31mb\\x00")
'a␛[31mb␀'
"""

from __future__ import annotations

import re

# Explicit directional embeddings, overrides and isolates (the "Trojan Source" characters):
# they reorder the rest of a line on terminals that do bidi. RLM/LRM marks stay.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def escape(text: str) -> str:
    """Text safe to print on a terminal: control characters become visible stand-ins.

    C0 controls become their "control pictures" (ESC -> ␛, NUL -> ␀), DEL becomes ␡; C1
    controls, lone surrogates and bidi overrides become U+FFFD.

    >>> escape("left\\u202eright\\r")
    'left�right␍'
    """
    out = []
    for char in text:
        code = ord(char)
        if code < 0x20:
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("␡")
        elif 0x80 <= code < 0xA0 or 0xD800 <= code < 0xE000 or char in BIDI_CONTROLS:
            out.append("\ufffd")
        else:
            out.append(char)
    return "".join(out)


def printable(text: str, keep_newlines: bool = False) -> str:
    """``escape`` for one line of a screen: control characters replaced by visible
    stand-ins, tabs become spaces, and so do newlines unless ``keep_newlines``.

    >>> printable("a\\x1b[31mb")
    'a␛[31mb'
    """
    text = text.replace("\t", " ")
    if keep_newlines:
        return "\n".join(escape(line) for line in text.split("\n"))
    return escape(text.replace("\n", " "))


def rich_text(value: object) -> str:
    """``escape`` plus rich markup escaped: for table cells and rich ``print`` of data.

    >>> rich_text("[bold red]x[/]")
    '\\\\[bold red]x\\\\[/]'
    """
    from rich.markup import escape as escape_markup

    return escape_markup(escape(str(value)))


def json_text(value: object) -> str:
    """``json.dumps`` (UTF-8 kept readable) with the characters JSON may leave raw but a
    terminal may act on (DEL, C1 controls, bidi overrides, line/paragraph separators)
    written as ``\\uXXXX`` escapes: the same JSON value, safe to print.

    >>> json_text({"text": "a\\u009b31m\\u202eb"})
    '{"text": "a\\\\u009b31m\\\\u202eb"}'
    """
    import json

    text = json.dumps(value, ensure_ascii=False)
    # one regular-expression pass (a server renders hundreds of texts per answer)
    return _JSON_UNSAFE.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029" + "".join(sorted(BIDI_CONTROLS)) + "]")

