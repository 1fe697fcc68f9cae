"""Notice templates are checked when loaded: a missing file, an unknown placeholder, broken
syntax, a missing Subject line or required placeholder, non-NFC text and a bad texts.toml
each stop the load with the file and the reason."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.notices.templates import FIELDS, load_templates, shipped_directory
from gateway.policy.strict import RulesError

SHIPPED = shipped_directory()


@pytest.fixture
def tdir(tmp_path: Path) -> Path:
    d = tmp_path / "notices"
    shutil.copytree(SHIPPED, d)
    return d


def _error(d: Path) -> RulesError:
    with pytest.raises(RulesError) as info:
        load_templates(d)
    return info.value


def test_shipped_templates_load_and_are_vietnamese_first() -> None:
    t = load_templates(SHIPPED)
    assert set(t.messages) == {"invalid", "held", "security", "uninspected"}
    for kind, m in t.messages.items():
        body = m.body.text
        # Vietnamese first, English below
        assert body.index("Kính gửi") < body.index("English"), kind
        assert unicodedata.is_normalized("NFC", body)
    assert t.from_name == "Cổng kiểm tra văn bản điện tử"
    assert t.remedy("9.2a", "vi").startswith("Ký số tệp bằng chứng thư số của đơn vị")
    assert t.remedy("9.2c", "en") == t.remedy("9.2", "en")  # falls back to the clause
    assert t.remedy("3.4", "vi") == t.remedy_texts["default"]["vi"]
    assert t.layer("SIG_DIGEST_MISMATCH", "en").startswith("Digital signature")
    assert t.layer("TRUST_UNTRUSTED_ROOT", "vi") == "Chứng thư số (chuỗi tin cậy)"
    assert t.layer("UNKNOWN_CODE", "en") == "Document check"


def test_unknown_placeholder_names_file_and_placeholder(tdir: Path) -> None:
    p = tdir / "invalid.txt"
    p.write_text(p.read_text(encoding="utf-8").replace("{queue_id}", "{queueid}", 1),
                 encoding="utf-8")
    err = _error(tdir)
    assert err.source == str(p)
    assert "unknown placeholder {queueid}" in err.reason and "queue_id" in err.reason


def test_unknown_placeholder_in_a_fragment(tdir: Path) -> None:
    p = tdir / "finding.en.txt"
    p.write_text("- {text} ({sender})\n", encoding="utf-8")  # sender belongs to messages only
    err = _error(tdir)
    assert err.source == str(p) and "unknown placeholder {sender}" in err.reason


def test_missing_template_fails(tdir: Path) -> None:
    (tdir / "held.txt").unlink()
    err = _error(tdir)
    assert err.source == str(tdir / "held.txt") and err.reason == "missing template"


def test_missing_directory_fails(tmp_path: Path) -> None:
    err = _error(tmp_path / "nowhere")
    assert "does not exist" in err.reason


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("invalid.txt", "Tiêu đề: x\n\n{documents_vi}{documents_en}\n",
         "first line must be 'Subject: …'"),
        ("invalid.txt", "Subject: x\nbody {documents_vi}{documents_en}\n",
         "an empty line must follow the Subject line"),
        ("invalid.txt", "Subject: x\n\nbody {documents_vi}\n",
         "required placeholder(s) missing: {documents_en}"),
        ("held.txt", "Subject: {subject\n\n{documents_vi}{documents_en}\n",
         "bad placeholder syntax"),
        ("held.txt", "Subject: x\n\n{documents_vi!r}{documents_en}\n",
         "conversions and format specs are not allowed"),
        ("held.txt", "Subject: x\n\n{documents_vi:>10}{documents_en}\n",
         "conversions and format specs are not allowed"),
        ("held.txt", "Subject: x\n\n{documents_vi.__class__}{documents_en}\n",
         "attributes and indexes are not allowed"),
        ("held.txt", "Subject: x\n\n{0}{documents_vi}{documents_en}\n",
         "positional placeholder"),
        ("document.vi.txt", "{index}. {path}\n", "required placeholder(s) missing: {findings}"),
        ("remedy.vi.txt", "\n\n", "the template is empty"),
    ],
)
def test_bad_templates_fail_with_file_and_reason(tdir: Path, name: str, text: str,
                                                 reason: str) -> None:
    (tdir / name).write_text(text, encoding="utf-8")
    err = _error(tdir)
    assert err.source == str(tdir / name)
    assert reason in err.reason


def test_not_nfc_and_not_utf8(tdir: Path) -> None:
    p = tdir / "finding.vi.txt"
    p.write_text(unicodedata.normalize("NFD", "   - [{severity}] {text} — Lớp: {layer}\n"),
                 encoding="utf-8")
    assert "NFC" in _error(tdir).reason
    p.write_bytes("   - {text} Lớp: đã ký\n".encode().replace("đ".encode(), b"\xf0"))
    assert "not UTF-8" in _error(tdir).reason


@pytest.mark.parametrize(
    ("append", "key", "reason"),
    [
        ('\n[remedies."9.9"]\nvi = "x"\nen = "y"\n', "remedies.9.9", "no such article"),
        ('\n[remedies."3.4"]\nvi = "x"\n', "remedies.3.4", "en must be a non-empty string"),
        ('\nsignature = "x"\n', "signature", "unknown key"),
        ('\n[layers.sig]\nvi = "x"\nen = "y"\n', "layers.sig", "finding-code prefix"),
    ],
)
def test_texts_toml_errors_name_the_key(tdir: Path, append: str, key: str, reason: str) -> None:
    p = tdir / "texts.toml"
    text = p.read_text(encoding="utf-8")
    if append.startswith("\nsignature"):
        text = append + text  # a top-level key must come before the first table
    else:
        text += append
    p.write_text(text, encoding="utf-8")
    err = _error(tdir)
    assert err.source == str(p) and err.path == key and reason in err.reason


def test_texts_toml_needs_a_default_remedy(tdir: Path) -> None:
    p = tdir / "texts.toml"
    text = p.read_text(encoding="utf-8")
    start = text.index("[remedies.default]")
    end = text.index('[remedies."9.2"]')
    p.write_text(text[:start] + text[end:], encoding="utf-8")
    err = _error(tdir)
    assert err.path == "remedies.default" and "missing" in err.reason


def test_every_template_uses_only_its_fields() -> None:
    """The shipped set is the reference: every declared template exists and loads."""
    for name in FIELDS:
        assert (SHIPPED / name).is_file(), name
    assert (SHIPPED / "texts.toml").is_file()


def test_cli_check_reports_a_broken_template(tdir: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "local.toml"
    rules.write_text(f'[notices]\ntemplates = "{tdir}"\n', encoding="utf-8")
    assert main(["notices", "check", "--rules", str(rules)]) == 0
    assert "notice templates OK" in capsys.readouterr().out
    (tdir / "security.txt").write_text("Subject: x\n\n{documents_vi}{documents_en}{bogus}\n",
                                       encoding="utf-8")
    assert main(["notices", "check", "--rules", str(rules)]) == 2
    err = capsys.readouterr().err
    assert str(tdir / "security.txt") in err and "unknown placeholder {bogus}" in err
    assert "Traceback" not in err
