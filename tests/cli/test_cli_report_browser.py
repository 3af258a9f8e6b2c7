"""report.html in a real headless Chromium: loads offline, no console errors, images drawn."""

from pathlib import Path

import pytest
from headless_chromium import find_chromium, load_page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "cli"


@pytest.mark.skipif(find_chromium() is None,
                    reason="no chromium on PATH (Debian: apt-get install -y chromium); the report is not "
                           "checked in a browser")
def test_report_loads_without_errors_or_network_and_shows_its_plots(default_run, tmp_path):
    _, _, folder = default_run
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    result = load_page(find_chromium(), (folder / "report.html").as_uri(), str(tmp_path / "profile"), str(screenshot))
    assert result["errors"] == []
    assert [url for url in result["requests"] if url.split(":")[0] not in ("file", "data")] == []
    assert result["title"].startswith("digits-cnn")
    images = result["images"]
    assert len(images) == len(list(folder.glob("*.png"))) == 3  # curves, confusion matrix, samples
    for image in images:
        assert image["complete"] and image["scheme"] == "data"
        assert image["naturalWidth"] > 0 and image["naturalHeight"] > 0 and image["width"] > 0 and image["height"] > 0
    import matplotlib.image

    assert matplotlib.image.imread(screenshot).shape[0] > 1000  # the full page, not just the viewport
