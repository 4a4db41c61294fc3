"""Pages as PDF documents (the monthly report for the municipality), made by WeasyPrint.

Nothing is fetched while rendering: our stylesheet is given as text and every URL a page names
is refused, so making a report never reaches the network or the disk.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from weasyprint import CSS, HTML

STYLESHEET = Path(__file__).resolve().parent / "static" / "maatwerk.css"


def _refuse(url: str, *args: Any, **kwargs: Any) -> Any:
    raise ValueError(f"not fetched while making a PDF: {url}")


@cache
def _no_fetching() -> Any:
    try:
        from weasyprint.urls import URLFetcher  # WeasyPrint 70 and later
    except ImportError:
        return _refuse
    return URLFetcher(allowed_protocols=())


def pdf(html: str) -> bytes:
    """The page as an A4 PDF with the print styles (navigation and buttons left out)."""
    fetcher = _no_fetching()
    document = HTML(string=html, url_fetcher=fetcher)
    css = CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[css])  # type: ignore[no-any-return]
