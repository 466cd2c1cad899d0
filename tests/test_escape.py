"""Unit tests for ui.escape: hostile payloads through each output context's helper."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest

import cli
from ui.escape import escape_properties, html_attr, html_text, js_string, md_text, plain_text

# Script, markup and request payloads, as found in OSM tags, file headers, team names...
PAYLOADS: tuple[str, ...] = (
    "${top.alert(1)}",
    "`${top.alert(document.domain)}`",
    "\\`${alert(1)}",
    "</script><script>alert(1)</script>",
    "![x](http://host.example/x.png)",
    "![c][r]\n\n[r]: http://host.example/c.png",
    "[x](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "line\u2028sep\u2029para",
    "carriage\rreturn\r\nand\nfeed",
    "<!-- comment",
    "' onmouseover='alert(1)",
    '" onmouseover="alert(1)',
    ":red[red] :material/home: $x^2$ **bold** # heading",
    "http://host.example/auto www.host.example",
    "esc\x1b[2J\x1b]0;title\x07 bidi\u202egnp.exe",
    "Anlaby Road & Park Street",
)
_ASCII_PUNCT = r"!-/:-@\[-`{-~"
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_text_is_inert_in_html_and_in_a_template_literal(payload: str) -> None:
    out = html_text(payload)
    for ch in "<>\"'`$\\\u2028\u2029":
        assert ch not in out
    # The browser shows the original text (less control characters).
    assert html.unescape(out) == re.sub(
        "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e]", "", payload
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_attr_is_one_line_without_quotes(payload: str) -> None:
    out = html_attr(payload)
    assert not re.search("[<>\"'`$\r\n\u2028\u2029]", out)
    assert html.unescape(out) == plain_text(payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_js_string_has_no_active_character(payload: str) -> None:
    out = js_string(payload)
    assert not re.search("[\"'`$<>&\r\n\u2028\u2029]", out)
    assert "${" not in out and "</" not in out
    # Only JSON escapes are used, so JSON decoding gives the text back exactly.
    assert json.loads(f'"{out}"') == payload


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to evaluate JavaScript")
def test_js_string_in_every_quote_style_evaluates_to_the_text() -> None:
    quoted = [f"{q}{js_string(p)}{q}" for p in PAYLOADS for q in ("`", "'", '"')]
    # If a payload broke out of its literal, `alert`/`top` would be undefined and node would fail.
    script = "console.log(JSON.stringify([" + ",".join(quoted) + "]))"
    out = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(out.stdout) == [p for p in PAYLOADS for _ in range(3)]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_text_escapes_every_markdown_character(payload: str) -> None:
    out = md_text(payload)
    assert not _CONTROLS.search(out)
    # Every ASCII punctuation character is preceded by a backslash (pairs read left to right).
    assert re.fullmatch(rf"(?:\\[{_ASCII_PUNCT}]|[^{_ASCII_PUNCT}])*", out), out
    assert re.sub(rf"\\([{_ASCII_PUNCT}])", r"\1", out) == plain_text(payload)
    assert "](" not in out and "![" not in out and "<" not in out.replace("\\<", "")


def test_md_text_examples() -> None:
    assert md_text("![c](http://h/x)") == r"\!\[c\]\(http\:\/\/h\/x\)"
    assert md_text("a\nb\rc\u2028d") == "a b c d"
    assert md_text(None) == "" and md_text(float("nan")) == ""
    assert md_text(ValueError("bad *x*")) == r"bad \*x\*"


def test_plain_text_strips_terminal_escapes() -> None:
    assert plain_text("a\x1b[2Jb\x9bc\rd\ne\u202ef\x07") == "a[2Jbc d ef"
    assert plain_text("a\nb", single_line=False) == "a\nb"


def test_escape_properties_are_inert() -> None:
    props = escape_properties({"name": PAYLOADS[0], "<k>": PAYLOADS[7], "n": 3})
    assert props == {
        "name": "&#36;{top.alert(1)}",
        "&lt;k&gt;": "&lt;img src=x onerror=alert(1)&gt;",
        "n": 3,
    }


def test_cli_error_lines_carry_no_terminal_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--no-such-option\x1b[2J\x1b]0;owned\x07", "demo"])
    assert info.value.code == cli.EXIT_USER
    err = capsys.readouterr().err
    assert "no-such-option" in err
    assert not _CONTROLS.search(err.rstrip("\n")), repr(err)


def test_cli_user_error_message_is_one_clean_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def _boom(_args: object) -> dict:
        msg = "column 'x\x1b[31m\u202e' is unknown\rsecond line"
        raise ValueError(msg)

    def _bug(_args: object) -> dict:
        msg = "bad \x1b]0;title\x07 header"
        raise RuntimeError(msg)

    monkeypatch.setitem(cli.COMMANDS, "demo", _boom)
    assert cli.main(["demo"]) == cli.EXIT_USER
    err = capsys.readouterr().err
    assert err == "beatplan: column 'x[31m' is unknown\n"
    monkeypatch.setitem(cli.COMMANDS, "demo", _bug)
    assert cli.main(["demo"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "bad ]0;title header" in err and not _CONTROLS.search(err.rstrip("\n"))
