"""Reports people read: one self-contained HTML page and a Markdown summary for CI."""

from __future__ import annotations

from replyguard.reports.html import render_html, write_html
from replyguard.reports.markdown import render_markdown, write_markdown

__all__ = ["render_html", "render_markdown", "write_html", "write_markdown"]
