"""Files uploaded for a preview, kept until the person confirms (or for an hour).

A preview and its confirmation are two requests; the file waits between them in a private temporary
folder of this process, under a random name that only the uploader's page knows, and with the
uploader's person id, so nobody else can confirm it. Its original name is kept: the import records it.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request

from reminder_service.domain.errors import UserError
from reminder_service.services.register.limits import megabytes

KEEP_SECONDS = 3600
_SAFE = re.compile(r"[^0-9A-Za-zÀ-ỹ._ -]+")


@dataclass(frozen=True)
class Upload:
    token: str
    path: Path


def safe_name(name: str, default: str) -> str:
    """The file's own name without folders or odd characters (a browser on Windows may send a full path)."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = _SAFE.sub("_", base).strip(" .")[:120]
    return cleaned or default


class Uploads:
    def __init__(self) -> None:
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="reminder-service-uploads-"))
        return self._root

    def keep(self, data: bytes, name: str, person_id: int) -> Upload:
        self._prune()
        token = secrets.token_urlsafe(24)
        folder = self.root / token
        folder.mkdir(mode=0o700)
        (folder / ".owner").write_text(str(person_id))
        path = folder / name
        path.write_bytes(data)
        return Upload(token, path)

    def find(self, token: str, person_id: int) -> Path | None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", token or ""):
            return None
        folder = self.root / token
        owner = folder / ".owner"
        if not owner.is_file() or owner.read_text() != str(person_id):
            return None
        files = [p for p in folder.iterdir() if p.name != ".owner"]
        return files[0] if files else None

    def drop(self, token: str) -> None:
        if re.fullmatch(r"[A-Za-z0-9_-]{20,64}", token or ""):
            shutil.rmtree(self.root / token, ignore_errors=True)

    def _prune(self) -> None:
        if self._root is None:
            return
        limit = time.time() - KEEP_SECONDS
        for folder in self._root.iterdir():
            if folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)


def listed(suffixes: tuple[str, ...]) -> str:
    """(".csv", ".xlsx", ".yaml") → ".csv, .xlsx hoặc .yaml", as a Vietnamese sentence lists them."""
    return suffixes[0] if len(suffixes) == 1 else f"{', '.join(suffixes[:-1])} hoặc {suffixes[-1]}"


async def read_upload(upload: object, *, what: str, suffixes: tuple[str, ...], default_name: str, limit: int,
                      too_big: str, also: tuple[str, ...] = ()) -> tuple[bytes, str]:
    """The bytes and safe name of a form's file field, or a UserError saying what to choose instead:
    no file, a kind the page does not read, a file over ``limit`` bytes (``too_big`` says what to do),
    an empty file. At most ``limit`` + 1 bytes are read, whatever the browser sends. ``what`` names the
    file without its kinds ("tệp danh sách đơn vị"), which the sentences add from ``suffixes``. ``also``:
    suffixes let through unnamed (".yml" beside ".yaml"; an old Excel .xls, which the reader itself
    explains: "save it as .xlsx")."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UserError(f"hãy chọn {what} ({listed(suffixes)})")
    name = safe_name(upload.filename, default_name)
    if not name.lower().endswith(suffixes + also):
        raise UserError(f"tệp «{name}» không phải {listed(suffixes)}; hãy chọn {what}")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise UserError(f"tệp «{name}» lớn hơn giới hạn {megabytes(limit)} MB; {too_big}")
    if not data:
        raise UserError(f"tệp «{name}» rỗng; hãy chọn {what}")
    return data, name


def uploads_of(request: Request) -> Uploads:
    """The files waiting for a confirmation in this console (one folder per process)."""
    found: Uploads = request.app.state.uploads
    return found
