"""Which package may import which, read from the source (every module: admin, commands, migrations).

`config/` is the plumbing every app builds on, so it imports no app; `conversations` comes
before `actions` (an execution belongs to a conversation), so it imports nothing from `actions`.
"""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def project_apps() -> set[str]:
    """The top-level packages of this repository that are installed apps, and the bench."""
    top_level = {app.name.split(".")[0] for app in apps.get_app_configs()}
    return {name for name in top_level if (ROOT / name).is_dir()} - {"config"} | {"bench"}


def imported_packages(package: Path) -> dict[str, set[str]]:
    """Each module under the directory `package` and the top-level packages it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(package.parent))] = names
    return found


def test_the_apps_are_found() -> None:
    assert {"conversations", "actions", "notifications", "bench"} <= project_apps()


def test_config_imports_no_app() -> None:
    forbidden = project_apps()
    offenders = {module: names & forbidden for module, names in imported_packages(ROOT / "config").items()}
    assert {module: names for module, names in offenders.items() if names} == {}


def test_conversations_imports_nothing_from_actions() -> None:
    offenders = [
        module for module, names in imported_packages(ROOT / "conversations").items() if "actions" in names
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("source", "imports"),
    [
        ("import actions.models", {"actions"}),
        ("from actions.services import executions", {"actions"}),
        ("def f():\n    from actions import demo", {"actions"}),
        ("from . import models", set()),
    ],
)
def test_imports_are_read_wherever_they_are(tmp_path: Path, source: str, imports: set[str]) -> None:
    """The walk sees imports inside functions too (the lazy ones), and relative imports stay inside."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "module.py").write_text(source)
    assert imported_packages(tmp_path / "pkg") == {"pkg/module.py": imports}
