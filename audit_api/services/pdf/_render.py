from __future__ import annotations

import logging

BASE_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm;
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; } }
html { font-family: "Noto Sans CJK SC", "Noto Sans CJK", "Noto Sans", "DejaVu Sans", sans-serif;
       font-size: 10pt; line-height: 1.4; color: #111; }
h1 { font-size: 16pt; margin: 0 0 4mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 0.3mm solid #999; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
th, td { border: 0.2mm solid #bbb; padding: 1.2mm 1.8mm; text-align: left; vertical-align: top; }
th { background: #eee; }
code, .hash { font-family: "DejaVu Sans Mono", "Noto Sans Mono", monospace; font-size: 7.5pt;
              word-break: break-all; }
img { max-width: 100%; }
"""


class PdfRenderError(RuntimeError):
    """WeasyPrint could not lay out the document (the message names why)."""


def render_pdf(html: str, *, extra_css: str = "") -> bytes:
    """Render a complete HTML document to PDF bytes.

    Images must be inline (`data:` URLs): nothing is fetched over the network while rendering.
    """
    import weasyprint  # imported here: pango loads only when a PDF is asked for

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    # Only `data:` URLs: rendering never reaches the network or the file system.
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols=("data",), fail_on_errors=True)

    try:
        doc = weasyprint.HTML(string=html, url_fetcher=fetcher)
        stylesheets = [weasyprint.CSS(string=BASE_CSS + extra_css)]
        out = doc.write_pdf(stylesheets=stylesheets)
    except weasyprint.urls.FatalURLFetchingError as exc:
        raise PdfRenderError(f"PDF rendering does not fetch remote resources: inline them ({exc})") from exc
    except Exception as exc:  # WeasyPrint raises many kinds; callers get one
        raise PdfRenderError(f"PDF rendering failed: {exc}") from exc
    if not out:
        raise PdfRenderError("PDF rendering produced no output")
    return bytes(out)
