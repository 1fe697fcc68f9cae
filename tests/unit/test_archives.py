"""Archives through libarchive (intake/archives.py): RAR 4 and 5, 7z, tar (plain and
compressed), cab, ISO and single compressed files, each built as bytes here. Every member is a
document; encryption, damage and the limits are findings that keep the message from passing."""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import sys
import tarfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from gateway.intake import archive_formats, archives
from gateway.intake.mime import Walker
from gateway.intake.sniff import sniff, sniff_detail
from gateway.model.report import DocClass, DocVerdict, Verdict
from gateway.policy.schema import Documents, Limits
from tests.archgen.build import cab, compress, seven_zip, tar, with_libarchive
from tests.archgen.rar import Member, cp1258_bytes, rar4, rar5
from tests.unit.test_intake import PDF, docx_bytes
from tests.unit.test_pipeline_core import checker

NAME = "Kế hoạch tháng 3.docx"


@lru_cache(maxsize=1)
def docx() -> bytes:
    return docx_bytes()


@lru_cache(maxsize=1)
def scan() -> bytes:
    from tests.pdfgen.build import scanned_pdf
    from tests.pdfgen.scans import ScanSpec, page_image

    return scanned_pdf([page_image(ScanSpec(seed=2))], ocr=True)


def walk(name: str, data: bytes, **limits: Any):
    return Walker(Limits(**limits), Documents()).walk_document(name, data)


def archive_codes(parsed) -> list[str]:
    return [f.code for f in parsed.items[0].findings]


CONTAINERS = {
    "hs.rar": lambda m: rar5([Member(k, v) for k, v in m.items()]),
    "hs4.rar": lambda m: rar4([Member(k, v) for k, v in m.items()]),
    "hs.7z": seven_zip,
    "hs.tar": tar,
    "hs.tar.gz": lambda m: tar(m, compression="gz"),
    "hs.tar.bz2": lambda m: tar(m, compression="bz2"),
    "hs.tar.xz": lambda m: tar(m, compression="xz"),
    "hs.tar.zst": lambda m: with_libarchive(m, "gnutar", "zstd"),
    "hs.cab": cab,
    "hs.iso": lambda m: with_libarchive(m, "iso9660"),
}


@pytest.mark.parametrize("outer", sorted(CONTAINERS))
def test_unsigned_docx_in_each_container_is_found_and_invalid(outer: str) -> None:
    data = CONTAINERS[outer]({f"Hồ sơ/{NAME}": docx(), "b.pdf": PDF})
    report = checker().check_document(outer, data)
    docs = {d.path: d for d in report.documents}
    inner = docs[f"{outer}/Hồ sơ/{NAME}"]
    assert inner.doc_class is DocClass.EDITABLE
    assert inner.verdict is DocVerdict.INVALID
    assert "EDITABLE_NOT_SIGNED" in [f.code for f in inner.findings]
    assert docs[f"{outer}/b.pdf"].doc_class is DocClass.NON_EDITABLE
    assert docs[outer].doc_class is DocClass.ARCHIVE and not docs[outer].findings
    assert report.verdict is Verdict.INVALID


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zst"])
def test_a_docx_compressed_alone_is_the_document(kind: str) -> None:
    outer = f"{NAME}.{kind}"
    report = checker().check_document(outer, compress(docx(), kind))
    paths = {d.path: d for d in report.documents}
    assert paths[f"{outer}/{NAME}"].verdict is DocVerdict.INVALID
    assert report.verdict is Verdict.INVALID


def test_gzip_names_its_member_from_the_stored_name() -> None:
    parsed = walk("x.gz", compress(docx(), "gz", name="Tờ trình.docx"))
    assert [i.document.path for i in parsed.items] == ["x.gz", "x.gz/Tờ trình.docx"]
    assert parsed.items[1].document.fmt == "docx"


def test_scanned_pdf_inside_a_7z_is_valid() -> None:
    report = checker().check_document("ho-so.7z", seven_zip({"Công văn quét.pdf": scan()}))
    (inner,) = [d for d in report.documents if d.path == "ho-so.7z/Công văn quét.pdf"]
    assert inner.verdict is DocVerdict.VALID
    assert report.verdict is Verdict.VALID


ENCRYPTED = {
    "rar5-member": lambda: rar5([Member(NAME, docx(), encrypted=True), Member("b.pdf", PDF)]),
    "rar5-headers": lambda: rar5([Member(NAME, docx())], encrypted_headers=True),
    "rar4-member": lambda: rar4([Member(NAME, docx(), encrypted=True)]),
    "rar4-headers": lambda: rar4([Member(NAME, docx())], encrypted_headers=True),
    "7z-member": lambda: seven_zip({NAME: docx()}, password="mật khẩu"),
    "7z-headers": lambda: seven_zip({NAME: docx()}, password="x", header_encryption=True),
}


@pytest.mark.parametrize("case", sorted(ENCRYPTED))
def test_encrypted_archive_is_a_finding_never_a_pass(case: str) -> None:
    outer = "mat.7z" if case.startswith("7z") else "mat.rar"
    report = checker().check_document(outer, ENCRYPTED[case]())
    (arch,) = [d for d in report.documents if d.path == outer]
    (finding,) = [f for f in arch.findings if f.code == "ARCHIVE_ENCRYPTED"]
    assert "without a password" in finding.en and "không đặt mật khẩu" in finding.vi
    if case.endswith("member"):
        assert NAME in finding.en  # which member could not be read
    assert not any(d.path.endswith(".docx") for d in report.documents)
    assert report.verdict is Verdict.INVALID


def test_encrypted_member_does_not_hide_the_others() -> None:
    parsed = walk("m.rar", rar5([Member(NAME, docx(), encrypted=True), Member("b.pdf", PDF)]))
    assert [i.document.path for i in parsed.items] == ["m.rar", "m.rar/b.pdf"]


@pytest.mark.parametrize(("outer", "data", "label"), [
    ("a.7z", lambda: seven_zip({NAME: docx()})[:-40], "7z"),
    ("a.rar", lambda: rar5([Member(NAME, docx())])[:-200], "RAR 5"),
    ("a.rar", lambda: rar4([Member(NAME, docx())])[:-200], "RAR 4"),
    ("a.rar", lambda: b"Rar!\x1a\x07\x00\xcf\x90s", "RAR 4"),  # ends at the main header type
    ("a.rar", lambda: b"Rar!\x1a\x07\x01\x00" + random.Random(3).randbytes(300), "RAR 5"),
    ("a.tar.gz", lambda: tar({NAME: docx()}, compression="gz")[:-300], "gzip"),
    ("a.tar.xz", lambda: tar({NAME: docx()}, compression="xz")[:200], "xz"),
    ("a.cab", lambda: cab({NAME: docx()})[:-100], "cab"),
])
def test_damaged_archive_is_a_finding_naming_the_format(outer: str, data, label: str) -> None:
    report = checker().check_document(outer, data())
    (arch,) = [d for d in report.documents if d.path == outer]
    unreadable = [f for f in arch.findings if f.code == "ARCHIVE_UNREADABLE"]
    assert unreadable, [f.code for f in arch.findings]
    assert f"({label}" in unreadable[0].en
    assert report.verdict is Verdict.INVALID


def test_member_count_limit() -> None:
    members = {f"{i}.pdf": PDF for i in range(12)}
    for outer, data in [("n.7z", seven_zip(members)), ("n.tar", tar(members)),
                        ("n.rar", rar5([Member(k, v) for k, v in members.items()]))]:
        parsed = walk(outer, data, archive_max_members=10)
        assert [i.document.path for i in parsed.items] == [outer]
        assert archive_codes(parsed) == ["ARCHIVE_LIMIT"]
        assert walk(outer, data, archive_max_members=12).items[-1].document.fmt == "pdf"


def test_member_size_limit_is_enforced_while_reading() -> None:
    big = {"big.pdf": PDF + b" " * 5000}
    for outer, data in [("s.rar", rar5([Member(k, v) for k, v in big.items()])),
                        ("s.tar.gz", tar(big, compression="gz")), ("s.7z", seven_zip(big)),
                        ("s.pdf.xz", compress(big["big.pdf"], "xz"))]:  # xz: no size header
        parsed = walk(outer, data, archive_max_member_bytes=4096)
        assert [i.document.path for i in parsed.items] == [outer], outer
        (finding,) = parsed.items[0].findings
        assert finding.code == "ARCHIVE_LIMIT" and "4096" in finding.en


def test_total_size_limit() -> None:
    members = {f"{i}.pdf": PDF + os.urandom(3000) for i in range(4)}
    parsed = walk("t.tar", tar(members), archive_max_total_bytes=10000)
    assert archive_codes(parsed) == ["ARCHIVE_LIMIT"]
    assert len(walk("t.tar", tar(members), archive_max_total_bytes=20000).items) == 5


@pytest.mark.parametrize("outer", ["bomb.7z", "bomb.tar.xz", "bomb.txt.gz"])
def test_compression_bomb_is_refused(outer: str) -> None:
    zeros = b"\0" * (8 << 20)
    data = {"bomb.7z": lambda: seven_zip({"zeros.pdf": zeros}),
            "bomb.tar.xz": lambda: tar({"zeros.pdf": zeros}, compression="xz"),
            "bomb.txt.gz": lambda: compress(zeros, "gz")}[outer]()
    parsed = walk(outer, data)
    assert [i.document.path for i in parsed.items] == [outer]
    (finding,) = parsed.items[0].findings
    assert finding.code == "ARCHIVE_LIMIT" and "200:1" in finding.en


def test_nesting_depth_limit_across_formats() -> None:
    inner = seven_zip({"x.pdf": PDF})
    nested = rar5([Member("2.tar.gz", tar({"3.7z": inner}, compression="gz"))])
    parsed = walk("1.rar", nested, archive_max_depth=2)
    paths = [i.document.path for i in parsed.items]
    assert paths == ["1.rar", "1.rar/2.tar.gz", "1.rar/2.tar.gz/3.7z"]
    assert [f.code for f in parsed.items[-1].findings] == ["ARCHIVE_LIMIT"]
    deep = walk("1.rar", nested, archive_max_depth=3)
    assert deep.items[-1].document.path == "1.rar/2.tar.gz/3.7z/x.pdf"


def test_time_limit() -> None:
    ticks = iter(range(0, 1000, 5))
    got = archives.expand(tar({f"{i}.pdf": PDF for i in range(5)}), "tar", "t.tar",
                          Limits(archive_max_seconds=12), clock=lambda: next(ticks))
    assert got.members == []
    assert [p.code for p in got.problems] == ["ARCHIVE_LIMIT"]
    assert "12 s" in got.problems[0].reason


VIETNAMESE = "Công văn số 12/Tờ trình về việc đầu tư.docx"


@pytest.mark.parametrize("case", ["rar5", "rar4-unicode", "rar4-cp1258", "7z", "tar-pax",
                                  "tar-gnu-cp1258", "iso-joliet", "cab-utf8"])
def test_vietnamese_member_names(case: str) -> None:
    m = {VIETNAMESE: PDF}
    data = {
        "rar5": lambda: rar5([Member(VIETNAMESE, PDF)]),
        "rar4-unicode": lambda: rar4([Member(VIETNAMESE, PDF)]),
        "rar4-cp1258": lambda: rar4([Member(VIETNAMESE, PDF)], name_encoding="cp1258"),
        "7z": lambda: seven_zip(m),
        "tar-pax": lambda: tar(m),
        "tar-gnu-cp1258": lambda: tar({cp1258_bytes(VIETNAMESE).decode("cp1258"): PDF},
                                      fmt=tarfile.GNU_FORMAT, encoding="cp1258"),
        "iso-joliet": lambda: with_libarchive(m, "iso9660"),
        "cab-utf8": lambda: cab(m),
    }[case]()
    paths = [i.document.path for i in walk("hs.bin", data).items]
    assert f"hs.bin/{VIETNAMESE}" in paths, paths


def test_dos_code_page_names_are_read_as_such() -> None:
    data = tar({"Résumé.pdf": PDF}, fmt=tarfile.GNU_FORMAT, encoding="cp437")
    assert walk("a.tar", data).items[1].document.path == "a.tar/Résumé.pdf"


def test_decode_name() -> None:
    assert archives.decode_name("Tờ trình.docx".encode()) == "Tờ trình.docx"
    assert archives.decode_name(cp1258_bytes("Tờ trình.docx")) == "Tờ trình.docx"
    assert archives.decode_name("Café.pdf".encode("cp437")) == "Café.pdf"
    assert archives.decode_name("Øre.pdf".encode("cp850")) == "Øre.pdf"
    assert archives.decode_name(cp1258_bytes("Báo cáo.docx")) == "Báo cáo.docx"
    assert archives.decode_name(b"a\\b\\./c.pdf") == "a/b/c.pdf"
    assert archives.decode_name(b"/abs/x.pdf") == "abs/x.pdf"


def test_names_survive_the_c_locale() -> None:
    """7z names are UTF-16: libarchive converts them to the locale's charset, which under
    LC_ALL=C (a service without a locale) cannot hold Vietnamese."""
    code = ("import sys; from tests.unit.test_archives import walk, seven_zip, PDF; "
            "print(walk('a.7z', seven_zip({'Tờ trình.pdf': PDF})).items[1].document.path)")
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONIOENCODING="utf-8")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    assert out.stdout.decode("utf-8").strip() == "a.7z/Tờ trình.pdf"


def test_rar_whose_first_member_is_a_pdf_is_a_rar() -> None:
    data = rar5([Member("a.pdf", PDF), Member("b.docx", docx())])
    assert sniff(data, "hs.rar") == ("application/vnd.rar", "rar")
    assert sniff(rar4([Member("a.pdf", PDF)]), "x") == ("application/vnd.rar", "rar")
    parsed = walk("hs.rar", data)
    assert [(i.document.path, i.document.fmt) for i in parsed.items] == [
        ("hs.rar", "rar"), ("hs.rar/a.pdf", "pdf"), ("hs.rar/b.docx", "docx")]
    assert not parsed.items[0].findings


def test_magic_formats() -> None:
    assert archive_formats.magic_format(seven_zip({"a": b"x"})) == "7z"
    assert archive_formats.magic_format(tar({"a": b"x"}, fmt=tarfile.USTAR_FORMAT)) == "tar"
    v7 = tar({"a": b"x"}, fmt=tarfile.USTAR_FORMAT)
    v7 = v7[:257] + b"\0" * 8 + v7[265:]  # no magic: the checksum still adds up…
    chk = sum(v7[:148]) + 256 + sum(v7[156:512])
    v7 = v7[:148] + b"%06o\0 " % chk + v7[156:]
    assert archive_formats.magic_format(v7) == "tar"
    assert archive_formats.magic_format(v7[:148] + b"0000000\0" + v7[156:]) is None  # …or not
    assert archive_formats.magic_format(PDF) is None
    assert archive_formats.magic_format(b"BZh9 not bzip2") is None


def test_symlinks_and_directories_are_not_members() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        d = tarfile.TarInfo("dir")
        d.type = tarfile.DIRTYPE
        t.addfile(d)
        link = tarfile.TarInfo("dir/link.pdf")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(link)
        f = tarfile.TarInfo("dir/real.pdf")
        f.size = len(PDF)
        t.addfile(f, io.BytesIO(PDF))
    assert [i.document.path for i in walk("l.tar", buf.getvalue()).items] == [
        "l.tar", "l.tar/dir/real.pdf"]


def test_tar_hides_nothing_after_its_end() -> None:
    """A stream that begins with the end-of-archive marker, or a document appended after the
    end of a tar, are not an empty or harmless archive."""
    sneaky = b"\0" * 1024 + PDF
    for outer, data in [("a.gz", compress(sneaky, "gz")),
                        ("b.tar", tar({"a.txt": b"hi"}) + PDF),
                        ("c.tar.gz", compress(tar({"a.txt": b"hi"}) + PDF, "gz"))]:
        parsed = walk(outer, data)
        found = [i.document.path for i in parsed.items]
        assert len(found) > 1 or archive_codes(parsed) == ["ARCHIVE_UNREADABLE"], (outer, found)
    (finding,) = walk("b.tar", tar({"a.txt": b"hi"}) + PDF).items[0].findings
    assert "after the end" in finding.en and "(tar" in finding.en


@pytest.mark.parametrize("build", [rar5, rar4])
def test_one_volume_of_a_split_rar_is_a_finding(build) -> None:
    """Senders split archives to get under the 25 MB limit: one part alone is not the
    documents, and libarchive would hand out a truncated member without complaint."""
    parsed = walk("hs.part1.rar", build([Member(NAME, docx())], volume=True))
    assert [i.document.path for i in parsed.items] == ["hs.part1.rar"]
    (finding,) = parsed.items[0].findings
    assert finding.code == "ARCHIVE_UNREADABLE" and "multi-volume" in finding.en


def _ustar(name: str, kind: bytes, data: bytes, link: str = "") -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, len(data), link
    return info.tobuf(tarfile.USTAR_FORMAT) + data + b"\0" * (-len(data) % 512)


def test_data_hidden_behind_a_directory_entry_is_damage() -> None:
    """A directory header that claims content: libarchive would resynchronise past the bytes
    it cannot parse (ARCHIVE_RETRY); that is damage, never a silent skip."""
    hidden = docx()
    raw = _ustar("dir", tarfile.DIRTYPE, hidden) + _ustar("b.pdf", tarfile.REGTYPE, PDF)
    parsed = walk("d.tar", raw + b"\0" * 1024)
    assert archive_codes(parsed) == ["ARCHIVE_UNREADABLE"]


def test_hard_links_are_read_once() -> None:
    raw = (_ustar("a.pdf", tarfile.REGTYPE, PDF) + _ustar("b.pdf", tarfile.LNKTYPE, b"", "a.pdf")
           + b"\0" * 1024)
    parsed = walk("h.tar", raw)
    assert [i.document.path for i in parsed.items] == ["h.tar", "h.tar/a.pdf"]
    assert not parsed.items[0].findings


def test_without_libarchive_the_archive_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server missing libarchive13 still answers: the archive is not inspected, and says so."""
    monkeypatch.setattr(archives, "_MISSING", "OSError: libarchive.so.13: cannot open")
    parsed = walk("a.7z", seven_zip({NAME: docx()}))
    assert [i.document.path for i in parsed.items] == ["a.7z"]
    (finding,) = parsed.items[0].findings
    assert finding.code == "ARCHIVE_UNREADABLE" and "libarchive.so.13" in finding.en


@pytest.mark.parametrize("seed", range(8))
def test_rar_garbage_is_never_an_empty_archive(seed: int) -> None:
    """Random bytes after a RAR signature: libarchive sometimes ends without an error and
    without members; the bytes it never reached make it damage."""
    for sig in (b"Rar!\x1a\x07\x01\x00", b"Rar!\x1a\x07\x00"):
        parsed = walk("g.rar", sig + random.Random(seed).randbytes(300))
        assert archive_codes(parsed) == ["ARCHIVE_UNREADABLE"], (sig, seed)


def test_data_appended_after_a_rar_is_damage() -> None:
    for build in (rar5, rar4):
        parsed = walk("a.rar", build([Member("a.pdf", PDF)]) + docx())
        (finding,) = parsed.items[0].findings
        assert finding.code == "ARCHIVE_UNREADABLE" and "never reached" in finding.en


@pytest.mark.parametrize(("magic", "outer"), [
    (b"7z\xbc\xaf\x27\x1c", "g.7z"), (b"MSCF\0\0\0\0", "g.cab"), (b"\x1f\x8b\x08", "g.gz"),
    (b"\xfd7zXZ\x00", "g.xz"), (b"\x28\xb5\x2f\xfd", "g.zst"), (b"BZh91AY&SY", "g.bz2"),
])
def test_garbage_after_a_magic_is_damage_naming_the_format(magic: bytes, outer: str) -> None:
    """libarchive passes a stream its decompressor rejects through "raw" unchanged: that is
    not the file inside."""
    label = archive_formats.FORMATS[archive_formats.magic_format(magic + b"\0" * 600) or ""][1]
    for seed in range(6):
        parsed = walk(outer, magic + random.Random(seed).randbytes(400))
        assert [i.document.path for i in parsed.items] == [outer]
        (finding,) = parsed.items[0].findings
        assert finding.code == "ARCHIVE_UNREADABLE" and f"({label}:" in finding.en, finding.en


# -- archives written by other producers: 7-Zip (7zz) and gzip(1), when installed ------------

SEVEN_ZIP = shutil.which("7zz") or shutil.which("7z")


def _producer_archives(tmp: Path) -> dict[str, bytes]:
    assert SEVEN_ZIP
    folder = tmp / "Hồ sơ"
    folder.mkdir()
    (folder / NAME).write_bytes(docx())

    def run(*args: str) -> None:
        subprocess.run([SEVEN_ZIP, "a", "-bd", "-y", *args], cwd=tmp, check=True,
                       capture_output=True)

    run("plain.7z", "Hồ sơ")
    run("-pmật-khẩu", "data.7z", "Hồ sơ")
    run("-pmật-khẩu", "-mhe=on", "headers.7z", "Hồ sơ")
    run("-ttar", "t.tar", "Hồ sơ")
    for kind, ext in (("gzip", "gz"), ("bzip2", "bz2"), ("xz", "xz")):
        run(f"-t{kind}", f"t.tar.{ext}", "t.tar")
    return {p.name: p.read_bytes() for p in tmp.iterdir() if p.is_file()}


@pytest.mark.skipif(SEVEN_ZIP is None, reason="7-Zip (Debian package 7zip) is not installed")
def test_archives_written_by_7zip(tmp_path: Path) -> None:
    made = _producer_archives(tmp_path)
    for name in ("plain.7z", "t.tar", "t.tar.gz", "t.tar.bz2", "t.tar.xz"):
        report = checker().check_document(name, made[name])
        docs = {d.path: d for d in report.documents}
        assert docs[f"{name}/Hồ sơ/{NAME}"].verdict is DocVerdict.INVALID, (name, list(docs))
        assert report.verdict is Verdict.INVALID
    for name in ("data.7z", "headers.7z"):
        report = checker().check_document(name, made[name])
        codes = [f.code for f in report.all_findings]
        assert "ARCHIVE_ENCRYPTED" in codes and report.verdict is Verdict.INVALID, (name, codes)


@pytest.mark.skipif(shutil.which("gzip") is None, reason="gzip is not installed")
def test_file_compressed_by_gzip_keeps_its_name(tmp_path: Path) -> None:
    src = tmp_path / "Tờ trình.docx"
    src.write_bytes(docx())
    subprocess.run(["gzip", "-9", str(src)], check=True)
    data = (tmp_path / "Tờ trình.docx.gz").read_bytes()
    parsed = walk("tt.gz", data)  # the outer name says nothing: gzip stored the original
    assert [i.document.path for i in parsed.items] == ["tt.gz", "tt.gz/Tờ trình.docx"]
    assert parsed.items[1].document.fmt == "docx"


def test_encrypted_7z_names_the_members_it_hides() -> None:
    two = seven_zip({NAME: docx(), "Tờ trình.pdf": PDF}, password="x")
    (finding,) = walk("m.7z", two).items[0].findings
    assert finding.code == "ARCHIVE_ENCRYPTED" and NAME in finding.en
    hidden = seven_zip({NAME: docx()}, password="x", header_encryption=True)
    (finding,) = walk("h.7z", hidden).items[0].findings
    assert finding.code == "ARCHIVE_ENCRYPTED" and "file list is encrypted" in finding.en


def test_nested_archives_share_one_total_budget() -> None:
    """Archives inside archives cannot multiply the total limit: what the message's archives
    unpack is counted together."""
    inner = {f"{i}.tar.gz": tar({f"{i}.pdf": PDF + os.urandom(3000)}, compression="gz")
             for i in range(4)}
    outer = rar5([Member(k, v) for k, v in inner.items()])
    parsed = walk("o.rar", outer, archive_max_total_bytes=16000)
    limited = [i for i in parsed.items if any(f.code == "ARCHIVE_LIMIT" for f in i.findings)]
    assert limited and limited[0].document.path.startswith("o.rar/")
    assert len(walk("o.rar", outer, archive_max_total_bytes=40000).items) == 9


def test_tar_that_also_reads_as_a_pdf_is_a_finding() -> None:
    """A tar whose header holds "%PDF-" opens as a PDF in a PDF reader: that PDF is none of
    the members, so the scan inside cannot vouch for it."""
    data = tar({"%PDF-1.4 scan.png": PDF}, fmt=tarfile.USTAR_FORMAT)
    found = sniff_detail(data, "x.pdf")  # offset 0 says PDF; the tar headers say tar too
    assert (found.fmt, found.also) == ("pdf", "tar")
    report = checker().check_document("x.pdf", data)
    codes = [f.code for f in report.all_findings]
    assert {"FORMAT_POLYGLOT", "ARCHIVE_UNREADABLE"} <= set(codes)
    assert report.verdict is Verdict.INVALID
    first_member_pdf = tar({"a.pdf": PDF})  # "%PDF-" at 512: the member, inspected as a PDF
    assert not walk("a.tar", first_member_pdf).items[0].findings


def test_unsupported_rar_feature_is_a_finding_naming_the_format() -> None:
    data = rar5([Member(NAME, docx())], compression=15 << 10)  # a dictionary no reader has
    (finding,) = walk("u.rar", data).items[0].findings
    assert finding.code == "ARCHIVE_UNREADABLE" and "(RAR 5:" in finding.en
