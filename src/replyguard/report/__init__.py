"""Reports of a run: the JSON report, JUnit XML, and the text people read."""

from replyguard.report.build import REPORT_VERSION, build_report, exit_code, write_json
from replyguard.report.junit import write_junit
from replyguard.report.render import print_report, summary_line

__all__ = ["REPORT_VERSION", "build_report", "exit_code", "print_report", "summary_line",
           "write_json", "write_junit"]
