"""The matching core is pure (DESIGN.md §3, STYLE.md): no web, no database, no other portal package.

Allowed: the standard library, numpy, rapidfuzz, ortools, the core's own modules, and `portal.geo` (pure; used to
resolve postcodes in problem files) imported inside a function, never at module level.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "portal" / "matching"
FORBIDDEN_ROOTS = {"flask", "sqlalchemy", "werkzeug", "wtforms", "jinja2", "alembic", "flask_wtf", "flask_login"}


def problems(source: str) -> list[str]:
    """What is wrong with one module's imports."""
    tree = ast.parse(source)
    found = []
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 1:
                found.append(f"relative import out of the core: {'.' * node.level}{node.module or ''}")
                continue
            if node.level == 1:
                continue  # from . import x / from .x import y: the core itself
            if node.module == "portal":  # from portal import x: judge portal.x
                names = [f"portal.{alias.name}" for alias in node.names]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            root = name.split(".")[0]
            if root in FORBIDDEN_ROOTS:
                found.append(f"imports {name}")
            elif root == "portal":
                if name.startswith("portal.matching"):
                    continue
                if name == "portal.geo":
                    if id(node) in top_level:
                        found.append("imports portal.geo at module level (import it lazily)")
                    continue
                found.append(f"imports {name}")
    return found


MODULES = sorted(CORE.rglob("*.py"))


def test_the_checker_catches_what_it_should():
    assert problems("import flask") == ["imports flask"]
    assert problems("from sqlalchemy.orm import Session")
    assert problems("from portal.requests import models") == ["imports portal.requests"]
    assert problems("import portal") == ["imports portal"]
    assert problems("from portal import db") == ["imports portal.db"]
    assert problems("from .. import geo")[0].startswith("relative import out of the core")
    assert problems("from portal import geo") == ["imports portal.geo at module level (import it lazily)"]
    assert problems("def f():\n    from portal import geo\n") == []
    assert problems("import numpy, json\nfrom . import rank\nfrom portal.matching import types") == []


def test_every_module_is_found():
    assert {p.name for p in MODULES} >= {"__init__.py", "types.py", "policy.py", "eligibility.py", "scoring.py",
                                         "rank.py", "solver.py", "validation.py", "fuzzy.py", "problem.py",
                                         "__main__.py", "vocabulary.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_core_imports_nothing_from_the_web_or_the_database(path):
    assert problems(path.read_text()) == []
