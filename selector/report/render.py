"""Rendering the report's content (sections as data) with Jinja templates: HTML and Markdown
from one content, with one stylesheet shared by the report and the web page."""

from __future__ import annotations

import html
import re
from functools import cache
from importlib.resources import files

import jinja2

from .content import Section

TEMPLATES = files("selector.report") / "templates"


@cache
def stylesheet() -> str:
    """The one stylesheet of the report, also served by the web page."""
    return (TEMPLATES / "style.css").read_text(encoding="utf-8")


def inline(text: object) -> str:
    """Escaped text for HTML, with `backticks` as <code>.

    >>> str(inline("run `select` <now>"))
    'run <code>select</code> &lt;now&gt;'
    """
    parts = html.escape(str(text)).split("`")
    return jinja2.utils.markupsafe.Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


_MARKUP = re.compile(r"[<>&\[\]]")
_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "[": "\\[", "]": "\\]"}


def md_text(text: object) -> str:
    r"""Text for Markdown that carries no raw HTML and no link or image from the data: < > & become
    entities and square brackets are escaped.

    >>> md_text("<script>x</script> & co")
    '&lt;script&gt;x&lt;/script&gt; &amp; co'
    >>> md_text("[click](javascript:alert(1))")
    '\\[click\\](javascript:alert(1))'
    """
    return _MARKUP.sub(lambda m: _ESCAPES[m.group()], str(text))


def md_cell(text: object) -> str:
    """A Markdown table cell: no raw HTML, no column breaks, one line."""
    return md_text(text).replace("|", "\\|").replace("\n", " ")


@cache
def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (TEMPLATES / name).read_text(encoding="utf-8")),
        autoescape=autoescape, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(inline=inline, md_text=md_text, md_cell=md_cell)
    return env


def render_html(title: str, sections: list[Section]) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG)."""
    return _environment(True).get_template("report.html.j2").render(
        title=title, sections=sections, stylesheet=stylesheet())


def render_markdown(title: str, sections: list[Section]) -> str:
    """The report in Markdown, for pasting into documents."""
    text = _environment(False).get_template("report.md.j2").render(title=title, sections=sections)
    return text.rstrip("\n") + "\n"
