"""Identify a file by its content (libmagic), refining ZIP-based office formats.

libmagic tells a ZIP from a PDF reliably; for OOXML and ODF the package's own markers
(``[Content_Types].xml`` and the main part, or ODF's ``mimetype`` member) decide the format.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from functools import lru_cache

from gateway.intake import archives
from gateway.model.report import DocClass

_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.ms-word.document.macroEnabled.main+xml": "docm",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "dotx",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "dotm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xltx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": "pptm",
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml": "potx",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml": "pptx",
}

FMT_MEDIA = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docm": "application/vnd.ms-word.document.macroEnabled.12",
    "dotx": "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    "dotm": "application/vnd.ms-word.template.macroEnabled.12",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    "xltx": "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pptm": "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    "potx": "application/vnd.openxmlformats-officedocument.presentationml.template",
    "odt": "application/vnd.oasis.opendocument.text",
    "ott": "application/vnd.oasis.opendocument.text-template",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "ots": "application/vnd.oasis.opendocument.spreadsheet-template",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "otp": "application/vnd.oasis.opendocument.presentation-template",
    "odg": "application/vnd.oasis.opendocument.graphics",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "rtf": "text/rtf",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "webp": "image/webp",
    "txt": "text/plain",
    "csv": "text/csv",
    "html": "text/html",
    "p7s": "application/pkcs7-signature",
    "p7m": "application/pkcs7-mime",
    "eml": "message/rfc822",
}
_ODF = {v: k for k, v in FMT_MEDIA.items() if k in {"odt", "ott", "ods", "ots", "odp", "otp", "odg"}}

_MAGIC_FMT = {
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "text/rtf": "rtf",
    "application/rtf": "rtf",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/tiff": "tiff",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/x-ms-bmp": "bmp",
    "image/webp": "webp",
    "text/html": "html",
    "text/csv": "csv",
    "message/rfc822": "eml",
    "application/pkcs7-signature": "p7s",
    "application/pkcs7-mime": "p7m",
}
_EXT_FMT = {
    "pdf": "pdf", "doc": "doc", "dot": "doc", "xls": "xls", "xlt": "xls", "ppt": "ppt",
    "pps": "ppt", "rtf": "rtf", "txt": "txt", "csv": "csv", "htm": "html", "html": "html",
    "p7s": "p7s", "p7m": "p7m", "eml": "eml", "zip": "zip", "png": "png", "jpg": "jpeg",
    "jpeg": "jpeg", "tif": "tiff", "tiff": "tiff", "gif": "gif", "bmp": "bmp", "webp": "webp",
}
_EXT_FMT.update({k: k for k in FMT_MEDIA})
_EXT_FMT.update(archives.EXTENSIONS)

EDITABLE = frozenset(
    {"docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "pptx", "pptm", "potx", "odt",
     "ott", "ods", "ots", "odp", "otp", "odg", "doc", "xls", "ppt", "rtf"}
)
PLAIN_TEXT = frozenset({"txt", "csv", "html"})
NON_EDITABLE = frozenset({"pdf"})
IMAGES = frozenset({"png", "jpeg", "tiff", "gif", "bmp", "webp"})
ARCHIVES = frozenset({"zip", "eml"}) | frozenset(archives.FORMATS)


@lru_cache(maxsize=1)
def _magic():  # type: ignore[no-untyped-def]
    import magic

    return magic.Magic(mime=True)


def extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def fmt_from_name(name: str) -> str | None:
    return _EXT_FMT.get(extension(name))


def _zip_format(data: bytes) -> str:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
        if "mimetype" in names:
            info = zf.getinfo("mimetype")
            if info.file_size < 200:
                mt = zf.read(info).decode("ascii", "replace").strip()
                if mt in _ODF:
                    return _ODF[mt]
        if "[Content_Types].xml" in names:
            info = zf.getinfo("[Content_Types].xml")
            if info.file_size < 1024 * 1024:
                ct = zf.read(info).decode("utf-8", "replace")
                for marker, fmt in _OOXML_MAIN.items():
                    if marker in ct:
                        return fmt
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, KeyError, ValueError,
            RuntimeError, NotImplementedError, EOFError, zlib.error):
        pass
    return "zip"


def sniff(data: bytes, name: str = "") -> tuple[str, str]:
    """Return ``(media_type, fmt)`` identified from the bytes (the name breaks ties only)."""
    container = archives.magic_format(data)  # RAR, 7z, tar, gzip…: offset 0 decides
    if container is not None:
        return archives.FORMATS[container][0], container
    head = data[: 1 << 16]
    try:
        mt = _magic().from_buffer(head) if head else "application/x-empty"
    except Exception:  # libmagic can fail on odd input; fall back on the bytes below
        mt = "application/octet-stream"
    if data[:4] == b"PK\x03\x04" or mt in ("application/zip", "application/x-zip-compressed") or (
        mt.startswith("application/vnd.openxmlformats") or mt.startswith("application/vnd.oasis")
    ):
        fmt = _zip_format(data)
        return FMT_MEDIA.get(fmt, "application/zip"), fmt
    if data[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        return "application/pdf", "pdf"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        # OLE2 compound file: libmagic names the application when it can; the name decides
        # between doc/xls/ppt when it cannot.
        fmt = _MAGIC_FMT.get(mt)
        if fmt not in ("doc", "xls", "ppt"):
            by_name = fmt_from_name(name)
            fmt = by_name if by_name in ("doc", "xls", "ppt") else "ole"
        return FMT_MEDIA.get(fmt, "application/x-ole-storage"), fmt
    if data[:5] == b"{\\rtf":
        return "text/rtf", "rtf"
    if mt in _MAGIC_FMT:
        fmt = _MAGIC_FMT[mt]
        if fmt == "eml" and fmt_from_name(name) != "eml":
            # libmagic calls many header-like texts mail; trust it only with the name.
            return "text/plain", "txt"
        return mt, fmt
    if mt.startswith("text/"):
        by_name = fmt_from_name(name)
        if by_name in ("csv", "html"):
            return FMT_MEDIA[by_name], by_name
        return "text/plain", "txt"
    if mt in ("application/pkcs7-signature", "application/x-pkcs7-signature"):
        return "application/pkcs7-signature", "p7s"
    return mt, "other"


def classify(fmt: str, images_are_scans: bool = True, plain_text_is_document: bool = False) -> DocClass:
    if fmt in EDITABLE:
        return DocClass.EDITABLE
    if fmt in PLAIN_TEXT:
        return DocClass.EDITABLE if plain_text_is_document else DocClass.OTHER
    if fmt in NON_EDITABLE:
        return DocClass.NON_EDITABLE
    if fmt in IMAGES:
        return DocClass.NON_EDITABLE if images_are_scans else DocClass.OTHER
    if fmt in ARCHIVES:
        return DocClass.ARCHIVE
    return DocClass.OTHER


def same_family(declared: str | None, actual: str) -> bool:
    """Whether a name's extension and the content agree (docx vs docm is not a mismatch)."""
    if declared is None or declared == actual:
        return True
    families = [
        {"docx", "docm", "dotx", "dotm"}, {"xlsx", "xlsm", "xltx"}, {"pptx", "pptm", "potx"},
        {"doc", "xls", "ppt", "ole"}, {"txt", "csv", "html", "other"}, {"jpeg"}, {"tiff"},
        {"odt", "ott"}, {"ods", "ots"}, {"odp", "otp"}, {"p7s", "p7m"},
    ]
    return any(declared in f and actual in f for f in families)
