"""results.json -> one self-contained report.html: charts, tables, a token viewer, provenance.

:func:`render_report` turns results documents into HTML; :func:`write_report` is the CLI's entry
(read, merge, write atomically). What each results section must look like is documented in
``tokensmith.report.data``.
"""

from tokensmith.report.data import SECTION_KINDS as SECTION_KINDS
from tokensmith.report.data import ReportData as ReportData
from tokensmith.report.data import merge_results as merge_results
from tokensmith.report.render import PAGE_SECTIONS as PAGE_SECTIONS
from tokensmith.report.render import render_report as render_report
from tokensmith.report.render import write_report as write_report

__all__ = ["PAGE_SECTIONS", "SECTION_KINDS", "ReportData", "merge_results", "render_report", "write_report"]
