"""File drop: one PDF and one metadata JSON per entry, in a folder the case system reads.

Each file is written atomically: a hidden temporary file in the same folder,
fsynced, then renamed into place, then the folder fsynced. The PDF lands
first and the JSON last, so a reader that acts on ``*.json`` always finds a
complete PDF beside it, whose SHA-256 is in the JSON. Writing the same entry
again replaces both files with identical content.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import uuid
from pathlib import Path

from journal.exporters.base import ExportDocument, ExportError


def write_atomically(folder: Path, name: str, data: bytes) -> None:
    """Write ``folder/name`` so that it either exists whole or not at all."""
    tmp = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, folder / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class FileDropExporter:
    """Drops ``<case>_<seq>_<entry>.pdf`` and ``.json`` into a configured folder."""

    name = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _drop(self, doc: ExportDocument) -> str:
        meta = json.dumps(doc.metadata(), ensure_ascii=False, indent=2, sort_keys=True)
        json_name = f"{doc.stem}.json"
        try:
            if not self.folder.is_dir():
                raise ExportError("drop_dir_missing", "the drop folder does not exist")
            write_atomically(self.folder, doc.pdf_name, doc.pdf)
            write_atomically(self.folder, json_name, meta.encode())
        except PermissionError as exc:
            raise ExportError("drop_not_writable", "the drop folder is not writable") from exc
        except OSError as exc:
            code = "drop_full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "drop_io_error"
            raise ExportError(code, errno.errorcode.get(exc.errno or 0, "")) from exc
        return json_name

    async def export(self, doc: ExportDocument) -> str:
        return await asyncio.to_thread(self._drop, doc)
