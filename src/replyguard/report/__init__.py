"""Reports of a run: the JSON report, JUnit XML, the terminal text, HTML and Markdown."""

from replyguard.report.build import REPORT_VERSION, build_report, exit_code, write_json
from replyguard.report.html import render_html, write_html
from replyguard.report.junit import write_junit
from replyguard.report.markdown import render_markdown, write_markdown
from replyguard.report.render import print_report, summary_line

__all__ = [
    "REPORT_VERSION",
    "build_report",
    "exit_code",
    "print_report",
    "render_html",
    "render_markdown",
    "summary_line",
    "write_html",
    "write_json",
    "write_junit",
    "write_markdown",
]
