"""Identify a file by its content: the magic at offset 0 first, then libmagic.

* The format at offset 0 decides: a container's magic (ZIP, RAR, 7z, gzip, TNEF…) is never
  overridden by a signature found deeper in its bytes (a RAR whose first member is a PDF is a
  RAR, not a PDF). A file that is validly a second format too (a PDF with a ZIP appended, a
  ZIP whose bytes are also a PDF) is a polyglot: ``Sniffed.also`` names the second reading.
* OOXML and ODF are recognised by their structure (the main part, found through
  ``_rels/.rels`` or by name; ``content.xml`` with ``META-INF/manifest.xml``) even when the
  marker member (``[Content_Types].xml``, ``mimetype``) is missing or wrong: they are then
  that kind of document with a damaged package (``Sniffed.damage``), never a ZIP of parts.
* CMS (PKCS#7) is recognised by its DER or PEM content, whatever the file is called.
* ``Sniffed.identified`` is False when nothing recognises the content (libmagic's
  ``application/octet-stream``): such a part cannot be inspected.
"""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache

from gateway.intake import archive_formats
from gateway.model.partdata import Data, open_stream
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
    "tnef": "application/vnd.ms-tnef",
    "binhex": "application/mac-binhex40",
}
FMT_MEDIA.update({fmt: media for fmt, (media, _label) in archive_formats.FORMATS.items()})
_ODF = {v: k for k, v in FMT_MEDIA.items()
        if k in {"odt", "ott", "ods", "ots", "odp", "otp", "odg"}}

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
    "application/mac-binhex40": "binhex",
}
_EXT_FMT = {
    "pdf": "pdf", "doc": "doc", "dot": "doc", "xls": "xls", "xlt": "xls", "ppt": "ppt",
    "pps": "ppt", "rtf": "rtf", "txt": "txt", "csv": "csv", "htm": "html", "html": "html",
    "p7s": "p7s", "p7m": "p7m", "eml": "eml", "zip": "zip", "png": "png", "jpg": "jpeg",
    "jpeg": "jpeg", "tif": "tiff", "tiff": "tiff", "gif": "gif", "bmp": "bmp", "webp": "webp",
    "tnef": "tnef",
}
_EXT_FMT.update({k: k for k in FMT_MEDIA})
_EXT_FMT.update(archive_formats.EXTENSIONS)

EDITABLE = frozenset(
    {"docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "pptx", "pptm", "potx", "odt",
     "ott", "ods", "ots", "odp", "otp", "odg", "doc", "xls", "ppt", "rtf"}
)
PLAIN_TEXT = frozenset({"txt", "csv", "html"})
NON_EDITABLE = frozenset({"pdf"})
IMAGES = frozenset({"png", "jpeg", "tiff", "gif", "bmp", "webp"})
CONTAINERS = frozenset(archive_formats.FORMATS) | {"binhex"}
"""Containers recognised by their magic; intake opens those it has a reader for and reports
the others as not inspected (never as "not a document")."""
ARCHIVES = frozenset({"zip", "eml", "tnef", "p7m"}) | CONTAINERS
"""Formats whose content intake opens and walks (their members are the documents)."""

TNEF_MAGIC = b"\x78\x9f\x3e\x22"
"""0x223E9F78, little-endian (MS-OXTNEF 2.1.3.1)."""
_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")
_ENVELOPED_DATA_OID = bytes.fromhex("06092a864886f70d010703")
_PEM_CMS = re.compile(rb"-----BEGIN (?:PKCS7|CMS)-----")
UNIDENTIFIED = "application/octet-stream"


@dataclass(frozen=True)
class Sniffed:
    """What the content says a file is."""

    media_type: str
    fmt: str
    damage: str | None = None
    """For an office package recognised by its structure: what is missing or wrong."""
    also: str | None = None
    """A second format the same bytes validly are (a polyglot), judged as well."""
    identified: bool = True
    """False when nothing recognised the content."""


@lru_cache(maxsize=1)
def _magic():
    import magic

    return magic.Magic(mime=True)


def extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def fmt_from_name(name: str) -> str | None:
    return _EXT_FMT.get(extension(name))


_OOXML_DIRS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
_OOXML_MAIN_PARTS = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx",
                     "ppt/presentation.xml": "pptx"}
_ODF_BODY = {b"<office:text": "odt", b"<office:spreadsheet": "ods",
             b"<office:presentation": "odp", b"<office:drawing": "odg"}
_ODF_MARKS = frozenset({"META-INF/manifest.xml", "styles.xml", "meta.xml", "settings.xml",
                        "Thumbnails/thumbnail.png"})
"""Members only an ODF package has beside ``content.xml``."""
_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(rb'(\w+)\s*=\s*["\']([^"\']*)["\']')
_MANIFEST_ROOT = re.compile(
    rb"<manifest:file-entry\b[^>]*?manifest:full-path=\"/\"[^>]*>"
    rb"|<manifest:file-entry\b[^>]*?manifest:media-type=\"[^\"]*\"[^>]*?manifest:full-path=\"/\"")
_MEDIA_ATTR = re.compile(rb'manifest:media-type="([^"]*)"')
_SMALL = 1024 * 1024


def _member(zf: zipfile.ZipFile, name: str, cap: int = _SMALL) -> bytes | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > cap:
        return None
    with zf.open(info) as fh:
        return fh.read(cap + 1)[:cap]


def _ooxml_main(zf: zipfile.ZipFile, names: set[str]) -> tuple[str, str] | None:
    """``(kind, part)`` of the package's main part: the target of the officeDocument
    relationship in ``_rels/.rels``, or the part where Office puts it."""
    rels = _member(zf, "_rels/.rels")
    if rels:
        for m in _REL.finditer(rels):
            attrs = {k.lower(): v for k, v in _ATTR.findall(m.group(1))}
            if attrs.get(b"type", b"").endswith(b"/officeDocument"):
                target = attrs.get(b"target", b"").decode("utf-8", "replace").lstrip("/")
                for prefix, kind in _OOXML_DIRS.items():
                    if target.startswith(prefix) and target in names:
                        return kind, target
    for part, kind in _OOXML_MAIN_PARTS.items():
        if part in names:
            return kind, part
    return None


def _odf_kind(zf: zipfile.ZipFile, folder: str = "") -> str:
    manifest = _member(zf, folder + "META-INF/manifest.xml") or b""
    m = _MANIFEST_ROOT.search(manifest)
    if m:
        media = _MEDIA_ATTR.search(m.group(0))
        if media and media.group(1).decode("ascii", "replace") in _ODF:
            return _ODF[media.group(1).decode("ascii")]
    content = _member(zf, folder + "content.xml", 4 * _SMALL) or b""
    for marker, kind in _ODF_BODY.items():
        if marker in content:
            return kind
    return "odt"


def _zip_format(data: Data, name: str = "") -> tuple[str, str | None]:
    """``(fmt, damage)``: ``zip`` for an archive; an office format when the package's
    structure says so, with what is damaged when its marker member is missing or wrong."""
    try:
        zf = zipfile.ZipFile(open_stream(data))
        names = set(zf.namelist())
        mimetype = None
        if "mimetype" in names:
            raw = _member(zf, "mimetype", 200)
            mimetype = raw.decode("ascii", "replace").strip() if raw is not None else "(large)"
            if mimetype in _ODF:
                return _ODF[mimetype], None
        if "content.xml" in names and names & _ODF_MARKS:
            why = ("the mimetype member is missing" if mimetype is None
                   else f"the mimetype member says {mimetype[:60]!r}")
            return _odf_kind(zf), why
        ct_raw = _member(zf, "[Content_Types].xml") if "[Content_Types].xml" in names else None
        ct = ct_raw.decode("utf-8", "replace") if ct_raw is not None else None
        if ct is not None:
            for marker, fmt in _OOXML_MAIN.items():
                if marker in ct:
                    return fmt, None
        main = _ooxml_main(zf, names)
        if main is not None:
            why = ("[Content_Types].xml is missing" if ct is None
                   else "[Content_Types].xml does not declare the main part")
            return main[0], why
        if ct is not None or "_rels/.rels" in names or any(n.startswith("docProps/")
                                                            for n in names):
            by_name = fmt_from_name(name)
            kind = by_name if by_name in _OOXML_FAMILY else "docx"
            return kind, "the package has no main part"
        unpacked = _unpacked_package(zf, names)
        if unpacked is not None:
            return unpacked
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, KeyError, ValueError,
            RuntimeError, NotImplementedError, EOFError, zlib.error):
        pass
    return "zip", None


def _unpacked_package(zf: zipfile.ZipFile, names: set[str]) -> tuple[str, str] | None:
    """A ZIP of a folder holding an office package's parts (the package unzipped and the
    folder zipped again) is that document, damaged, not an archive of its parts."""
    for n in sorted(names):
        for marker in ("META-INF/manifest.xml", "[Content_Types].xml", "_rels/.rels"):
            if n.endswith("/" + marker):
                folder = n[: -len(marker)]
                why = f"the package is unpacked in the folder {folder[:80]!r}"
                if marker == "META-INF/manifest.xml" and folder + "content.xml" in names:
                    return _odf_kind(zf, folder), why
                if marker != "META-INF/manifest.xml":
                    for part, kind in _OOXML_MAIN_PARTS.items():
                        if folder + part in names:
                            return kind, why
    return None


_OOXML_FAMILY = frozenset({"docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "pptx",
                           "pptm", "potx"})
_STARTXREF = re.compile(rb"startxref\s+(\d{1,12})\s+%%EOF")
_OBJ = re.compile(rb"\s*(?:xref|\d+\s+\d+\s+obj)")


def _pdf_inside(data: Data) -> bool:
    """Whether a file that is something else at offset 0 is also a readable PDF: a PDF
    header in the first 1024 bytes (where readers look) and a ``startxref`` at the end that
    points at a cross-reference section or object in these very bytes."""
    if b"%PDF-" not in data[:1024]:
        return False
    found = list(_STARTXREF.finditer(data[-2048:]))
    if not found:
        return False
    offset = int(found[-1].group(1))  # the last startxref is the one readers use
    return 0 < offset < len(data) and _OBJ.match(data, offset) is not None


def _zip_inside(data: Data) -> bool:
    """Whether a file that is something else at offset 0 also ends in a ZIP with members."""
    if b"PK\x05\x06" not in data[-(65536 + 22):]:
        return False
    try:
        return bool(zipfile.ZipFile(open_stream(data)).namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, RuntimeError,
            NotImplementedError, EOFError, KeyError):
        return False


def _cms(data: Data, name: str) -> str | None:
    """``p7s`` or ``p7m`` when the bytes are CMS (DER SignedData/EnvelopedData or PEM)."""
    head = data[:64]
    der = head[:1] == b"\x30" and (_SIGNED_DATA_OID in head or _ENVELOPED_DATA_OID in head)
    if not der and not _PEM_CMS.search(data[:256].lstrip()[:64]):
        return None
    return "p7s" if extension(name) in ("p7s", "sig", "pkcs7") else "p7m"


def sniff_detail(data: Data, name: str = "", text_label: bool = False) -> Sniffed:
    """Identify ``data`` by its content (the name breaks ties only). ``text_label``: the
    bytes are a body labelled text, and libmagic is not asked when they are plainly text
    (:func:`plainly_text`); every check on the bytes themselves is made all the same."""
    if not data:
        return Sniffed("application/x-empty", "other")
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        fmt, damage = _zip_format(data, name)
        return Sniffed(FMT_MEDIA.get(fmt, "application/zip"), fmt, damage,
                       "pdf" if _pdf_inside(data) else None)
    if data[:5] == b"%PDF-":
        # a ZIP at the end, or a tar/ISO whose headers sit after a "%PDF-" at offset 0
        return Sniffed("application/pdf", "pdf",
                       also="zip" if _zip_inside(data) else archive_formats.magic_format(data))
    if data[:4] == TNEF_MAGIC:
        return Sniffed(FMT_MEDIA["tnef"], "tnef")
    container = archive_formats.magic_format(data)  # RAR, 7z, tar, gzip…: offset 0 decides
    if container is not None:
        return Sniffed(FMT_MEDIA[container], container,
                       also="pdf" if _pdf_inside(data) else None)
    cms = _cms(data, name)
    if cms is not None:
        return Sniffed(FMT_MEDIA[cms], cms)
    for magic, media_type in _METADATA_MAGIC:
        if data.startswith(magic):
            return Sniffed(media_type, "other")
    media_type, fmt = _by_magic(data, name, text_label)
    return Sniffed(media_type, fmt,
                   identified=fmt != "other" or _trusted_other(media_type, data, name))


_METADATA_MAGIC = (
    (b"\x00\x05\x16\x07", "multipart/appledouble"),  # __MACOSX/._name in a Mac's ZIP
    (b"\x00\x05\x16\x00", "application/applefile"),
    (b"\x00\x00\x00\x01Bud1", "application/x-apple-ds-store"),  # .DS_Store
)
"""File-system metadata that travels in archives made on a Mac: identified, not documents."""

_STRONG_OTHER = ("text/", "message/", "inode/", "application/x-empty", "application/json",
                 "application/xml", "image/svg", "video/", "application/x-x509",
                 "application/pgp", "application/pkcs", "application/x-pkcs",
                 "application/x-executable", "application/x-sharedlib",
                 "application/x-pie-executable")
"""libmagic types found by strong signatures: a file of such a type is identified as a
non-document. Others (``image/x-tga``, ``font/x-amiga-font``, ``application/x-arc``…) are
weak guesses libmagic also makes about random bytes: trusted only when the name agrees."""


def _trusted_other(media_type: str, data: Data, name: str) -> bool:
    """Whether libmagic's type for a file we have no reader for identifies it for sure."""
    import mimetypes

    if media_type == UNIDENTIFIED:
        return False
    if media_type.startswith(_STRONG_OTHER):
        return True
    if media_type == "application/x-dosexec":
        return data[:2] == b"MZ"
    return bool(name) and mimetypes.guess_type(name, strict=False)[0] == media_type


def sniff(data: Data, name: str = "") -> tuple[str, str]:
    """Return ``(media_type, fmt)`` identified from the bytes (the name breaks ties only)."""
    found = sniff_detail(data, name)
    return found.media_type, found.fmt


def _magic_type(head: bytes) -> str:
    """libmagic's media type for ``head``; ``application/octet-stream`` when libmagic is
    missing or fails on odd input (the bytes decide then, in ``_by_magic``)."""
    try:
        import magic
    except ImportError:  # python-magic raises it when it cannot load libmagic
        return "application/octet-stream"
    try:
        return str(_magic().from_buffer(head))
    except magic.MagicException:
        return "application/octet-stream"


_TEXT_CONTROLS = bytes(c for c in range(0x20) if c not in b"\t\n\r\x0c") + b"\x7f"
_TEXT_FILE_MARKS = (b"%pdf", b"binhex", b"-----begin")
"""Formats libmagic finds in printable text, wherever they are in the bytes it is given (a
PDF header, BinHex's first line, PEM such as ``-----BEGIN PKCS7-----``), compared in lower
case."""
_TEXT_FILE_STARTS = (b"gif8", b"riff", b"bm", b"pk")
"""Formats whose first bytes are printable (GIF, WebP, BMP, ZIP), in lower case."""


def plainly_text(head: bytes) -> bool:
    """Whether ``head`` is text that libmagic could only call text (``text/*`` or a type
    that is not a document format): UTF-8 (a sequence cut at the end allowed) without any
    control character but TAB, LF, CR and FF, and without the marks of the formats libmagic
    recognises in printable bytes. Binary headers (ZIP, OLE, PNG, JPEG, TIFF, archives,
    DER, UTF-16) fail the first two tests. A legacy 8-bit body is not plainly text (its
    bytes are not UTF-8): libmagic decides, as before."""
    if len(head.translate(None, _TEXT_CONTROLS)) != len(head):
        return False
    try:
        codecs.utf_8_decode(head, "strict", False)
    except UnicodeDecodeError:
        return False
    low = head.lower()
    return not low.startswith(_TEXT_FILE_STARTS) and not any(m in low for m in _TEXT_FILE_MARKS)


def _by_magic(data: Data, name: str, text_label: bool = False) -> tuple[str, str]:
    head = data[: 1 << 16]
    if not head:
        mt = "application/x-empty"
    elif text_label and plainly_text(head):
        mt = "text/plain"  # what libmagic would say, without its text analysis (~1.7 ms)
    else:
        mt = _magic_type(head)
    if mt in ("application/zip", "application/x-zip-compressed") or (
        mt.startswith("application/vnd.openxmlformats") or mt.startswith("application/vnd.oasis")
    ):
        fmt = _zip_format(data, name)[0]
        return FMT_MEDIA.get(fmt, "application/zip"), fmt
    if b"%PDF-" in data[:1024]:  # readers accept a PDF header anywhere in the first 1 KiB
        return "application/pdf", "pdf"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        # OLE2 compound file: libmagic names the application when it can; the name decides
        # between doc/xls/ppt when it cannot.
        fmt = _MAGIC_FMT.get(mt, "")
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


def classify(fmt: str, images_are_scans: bool = True,
             plain_text_is_document: bool = False) -> DocClass:
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
        {"odt", "ott"}, {"ods", "ots"}, {"odp", "otp"}, {"p7s", "p7m"}, {"gz", "tar"},
    ]
    return any(declared in f and actual in f for f in families)
