"""What the headless-browser tests share: Debian's Chromium, its flags, and where screenshots go."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
# Root in a container needs --no-sandbox; the rest keep Chromium off the network it cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)

JS_PACKAGES = Path(settings.BASE_DIR) / "tests" / "js"
AXE = JS_PACKAGES / "node_modules" / "axe-core" / "axe.min.js"


def axe_source() -> str:
    """axe-core's script (from the npm registry, pinned in tests/js/package-lock.json), installed
    into tests/js/node_modules on first use; the test skips where there is no npm."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("no npm to install axe-core (apt-get install npm)")
        subprocess.run(
            [npm, "ci", "--prefix", str(JS_PACKAGES), "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE.read_text()


def axe_serious_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core in `page`; the violations of impact serious or critical (none is the goal)."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
