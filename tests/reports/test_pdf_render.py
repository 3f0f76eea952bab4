"""The shared PDF renderer: Chinese renders as text (pdftotext finds it), pages rasterise (pdftoppm)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from audit_api.services.pdf import PdfRenderError, render_pdf


def test_chinese_and_english_render_as_text(tmp_path: Path) -> None:
    html = "<html><body><h1>整改报告 Rectification report</h1><p>站点：北京变电站</p></body></html>"
    pdf = render_pdf(html)
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "整改报告" in text and "Rectification report" in text and "北京变电站" in text
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 1000


def test_remote_resources_are_refused() -> None:
    with pytest.raises(PdfRenderError, match="does not fetch"):
        render_pdf('<html><body><img src="http://127.0.0.1:9/x.png"></body></html>')
