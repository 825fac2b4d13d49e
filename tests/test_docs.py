"""The user's documentation (README.md and docs/*.md) stays true to the repository.

- every relative link and image points to a file of the repository, and every ``#anchor`` to a heading
  of that file (GitHub's heading ids);
- nothing points at the team's shared folder (``../shared/...``, ``SPEC.md``), which a user who clones
  the project does not have;
- docs/inputs.md names every input table, every column and every accepted spelling that
  ``domain/schema.py`` declares;
- docs/rules.md explains every reason code an issue can carry, and names no code that does not exist;
- every ``billing`` subcommand and option is documented somewhere.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from billing_lib.domain import schema

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _prose(text: str) -> str:
    """The text without code blocks and inline code (a link inside code is not a link)."""
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def links(text: str) -> list[str]:
    return _LINK.findall(_prose(text))


def slug(heading: str) -> str:
    """GitHub's id of a heading: lower case, punctuation dropped (hyphens and underscores kept), spaces to hyphens."""
    text = re.sub(r"`", "", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The ids GitHub gives the headings of a Markdown text (a repeated heading gets -1, -2, ...)."""
    seen: dict[str, int] = {}
    out = set()
    for line in _FENCE.sub("", text).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def test_slug_and_anchors_follow_github() -> None:
    text = "# Title\n## The `po_burndown.csv` file: every PO's budget\n## Title\n```\n# not a heading\n```\n"
    assert anchors(text) == {"title", "the-po_burndowncsv-file-every-pos-budget", "title-1"}


def test_links_skip_code() -> None:
    text = "see [a](a.md) and `[b](b.md)`\n```\n[c](c.md)\n```\n![shot](img.png)"
    assert links(text) == ["a.md", "img.png"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for target in links(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        path = (doc.parent / path_part).resolve() if path_part else doc
        if not path.exists():
            broken.append(f"{target}: no file {path}")
            continue
        if not path.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
            continue
        if anchor and path.suffix == ".md" and anchor not in anchors(path.read_text(encoding="utf-8")):
            broken.append(f"{target}: no heading #{anchor} in {path.name}")
    assert not broken, f"{doc.name}: " + "; ".join(broken)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_pointer_to_the_shared_folder(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text
    assert "SPEC.md" not in text
    assert "reference/AUTOTASK" not in text


def _inputs_page() -> str:
    return (ROOT / "docs" / "inputs.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("spec", schema.TABLES, ids=lambda t: t.name)
def test_inputs_page_lists_every_table_column_and_spelling(spec: schema.TableSpec) -> None:
    page = _inputs_page()
    assert f"#### `{spec.name}`" in page
    missing = [c.name for c in spec.columns if f"`{c.name}`" not in page]
    assert not missing, f"{spec.name}: columns not documented: {missing}"
    spelled = set(re.findall(r"`([^`]+)`", page))
    keys = {schema.key(s) for s in spelled}
    unknown = [a for c in spec.columns for a in c.aliases if schema.key(a) not in keys]
    assert not unknown, f"{spec.name}: spellings not documented: {unknown}"
    names = [n for n in spec.names if schema.key(n) not in keys]
    assert not names, f"{spec.name}: file or sheet names not documented: {names}"


def _reason_codes() -> set[str]:
    """Every reason code an issue can carry, as the package declares them."""
    from billing_lib.core import adjustments

    try:
        from billing_lib.domain.reasons import Reason  # type: ignore[import-not-found, unused-ignore]

        codes = {str(getattr(r, "value", r)) for r in Reason}
    except ImportError:
        from billing_lib.domain import records

        codes = {
            value
            for name, value in vars(records).items()
            if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z_]+", value)
        }
    return codes | {adjustments.ADJUSTMENT}


def test_rules_page_explains_every_reason() -> None:
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    section = page[page.index("## Reasons") :]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))
    codes = _reason_codes()
    assert documented <= codes, f"documented codes that do not exist: {sorted(documented - codes)}"
    # missing_customer is declared but never raised (an item without a customer is held as invalid_row)
    assert codes - documented <= {"missing_customer"}, (
        f"undocumented: {sorted(codes - documented - {'missing_customer'})}"
    )


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    from billing_lib.run.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_and_option_is_documented() -> None:
    text = "\n".join(doc.read_text(encoding="utf-8") for doc in DOCS)
    missing = []
    for name, parser in _subcommands().items():
        if f"billing {name}" not in text:
            missing.append(f"billing {name}")
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help" and flag not in text:
                    missing.append(f"billing {name} {flag}")
    assert not missing, "not in README.md or docs/: " + ", ".join(missing)
