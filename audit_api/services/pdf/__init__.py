"""PDF documents from HTML (WeasyPrint). One place for fonts and page style.

Every report (rectification report, periodic site report) renders its own HTML — through the same
templates the pages use for their wording — and hands it here. Fonts: Noto Sans CJK (Debian
`fonts-noto-cjk`) first, so Chinese renders as text, then the system sans-serif for Latin.
"""

from __future__ import annotations

from ._render import BASE_CSS, PdfRenderError, render_pdf

__all__ = ["BASE_CSS", "PdfRenderError", "render_pdf"]
