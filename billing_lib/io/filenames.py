"""Output file names made from input text (customer names, PO and invoice numbers), kept in their folder."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from billing_lib.domain.errors import OutputError

_UNSAFE_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$", re.IGNORECASE)
_MAX_NAME_BYTES = 120  # leaves room for a suffix and a temporary prefix under every 255-byte limit


def safe_filename(name: str) -> str:
    """A file name (without extension) that is valid on Linux, Windows and macOS and stays in its folder.

    Path separators, characters Windows forbids, control and invisible format characters become
    ``_``; leading and trailing dots and spaces go (so ``..`` cannot climb); Windows device names
    (``CON``, ``com1``) get a leading ``_``; names longer than 120 UTF-8 bytes are cut and end in a
    hash of the full name so distinct long names stay distinct. Letters of any script are kept.
    """
    text = unicodedata.normalize("NFC", str(name))
    text = "".join("_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch for ch in text)
    text = _UNSAFE_CHARS.sub("_", text)
    text = re.sub(r"\s", " ", text).strip(" .")
    if not text:
        text = "unnamed"
    if _WINDOWS_RESERVED.match(text.split(".")[0].rstrip(" ")):
        text = "_" + text
    if len(text.encode("utf-8")) > _MAX_NAME_BYTES:
        digest = hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:12]
        head = (
            text.encode("utf-8")[: _MAX_NAME_BYTES - len(digest) - 1].decode("utf-8", "ignore").rstrip(" .")
        )
        text = f"{head}-{digest}"
    return text


def output_path(folder: Path, name: str, suffix: str = ".xlsx") -> Path:
    """``folder/<safe name><suffix>``; ``OutputError`` if it would resolve outside ``folder``."""
    path = Path(folder) / (safe_filename(name) + suffix)
    check_contained(path, Path(folder))
    return path


def check_contained(path: Path, folder: Path) -> None:
    """Refuse a path that resolves (through ``..`` or a symbolic link) anywhere but directly in ``folder``."""
    root = Path(folder).resolve()
    target = Path(path).resolve()
    if target.parent != root:
        raise OutputError(
            f"refusing to write {path}: it resolves to {target}, outside the output folder {root}"
        )
