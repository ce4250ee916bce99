"""Copy the design system's files the pages use from node_modules into static/vendor.

Run by ``make web-assets`` after ``npm ci``; stdlib only, so it runs before the
virtualenv exists. Copies dkfds' minified CSS and exactly the fonts and icons
that CSS refers to; nothing from node_modules is committed.

Usage: python3 bot/http/pages/build_assets.py [repo root]
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CSS = "css/dkfds.min.css"
_URL = re.compile(r"url\(\s*['\"]?([^'\")?#]+)")


def build(root: Path) -> Path:
    dist = root / "node_modules" / "dkfds" / "dist"
    if not (dist / CSS).is_file():
        raise SystemExit(f"{dist / CSS} is missing: run `npm ci` first")
    target = HERE / "static" / "vendor" / "dkfds"
    if target.exists():
        shutil.rmtree(target)
    css_text = (dist / CSS).read_text(encoding="utf-8")
    wanted = {CSS, "LICENSE.md"}
    for ref in _URL.findall(css_text):
        if ref.startswith("data:"):
            continue
        path = (Path("css") / ref).as_posix()
        parts: list[str] = []
        for piece in path.split("/"):
            if piece == "..":
                parts.pop()
            elif piece not in ("", "."):
                parts.append(piece)
        wanted.add("/".join(parts))
    copied = 0
    for rel in sorted(wanted):
        src = dist / rel
        if not src.is_file():
            continue  # a legacy font format the CSS names but the package does not ship
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        copied += 1
    (target / ".stamp").write_text(f"{copied} files\n")
    return target


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2]
    out = build(root.resolve())
    print(f"web assets: dkfds copied to {out.relative_to(root.resolve())}")
