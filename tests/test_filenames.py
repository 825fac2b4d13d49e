"""Output file names made from input text stay valid everywhere and inside their folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from billing_lib.domain.errors import OutputError
from billing_lib.io.filenames import check_contained, output_path, safe_filename


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Acme Ltd", "Acme Ltd"),
        ("PO/2026\\7", "PO_2026_7"),  # separators cannot open a folder
        ('a<b>c:d"e|f?g*h', "a_b_c_d_e_f_g_h"),  # what Windows forbids
        ("..", "unnamed"),  # cannot climb
        ("  .hidden. ", "hidden"),
        ("", "unnamed"),
        ("CON", "_CON"),  # Windows device names
        ("com1.report", "_com1.report"),
        ("console", "console"),
        ("Zu\u0308rich", "Zürich"),  # NFC: one letter, as typed
        ("x\u200by", "x_y"),  # an invisible format character
        ("bell\x07", "bell_"),
        ("tab\there", "tab_here"),  # a control character
        ("no\u00a0break", "no break"),  # other spaces become a plain space
        ("Ελληνικά 東京", "Ελληνικά 東京"),  # letters of any script are kept
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_long_names_are_cut_and_stay_distinct() -> None:
    first, second = safe_filename("é" * 200 + "1"), safe_filename("é" * 200 + "2")
    assert first != second
    assert len(first.encode()) <= 120 and len(second.encode()) <= 120
    assert first.startswith("é" * 40) and first.rsplit("-", 1)[1].isalnum()
    assert safe_filename("a" * 120) == "a" * 120  # exactly at the limit: kept whole


def test_output_path_is_inside_the_folder(tmp_path: Path) -> None:
    assert output_path(tmp_path, "../../etc/passwd") == tmp_path / "_.._etc_passwd.xlsx"
    assert output_path(tmp_path, "INV-1", ".pdf") == tmp_path / "INV-1.pdf"


def test_a_path_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="outside the output folder"):
        check_contained(tmp_path / ".." / "x.xlsx", tmp_path)
    with pytest.raises(OutputError):
        check_contained(tmp_path / "sub" / "x.xlsx", tmp_path)  # a subfolder is not "directly in"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = tmp_path / "out"
    folder.mkdir()
    os.symlink(elsewhere / "x.xlsx", folder / "INV-1.xlsx")  # a planted link
    with pytest.raises(OutputError, match="resolves to"):
        output_path(folder, "INV-1")
