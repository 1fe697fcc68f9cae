"""The optional rule of Article 9.2a that the signature is *the sending unit's*: the signer's
certificate (O/OU or e-mail) must belong to the agency of the sender address."""

from __future__ import annotations

import io
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from gateway.model.envelope import Envelope
from gateway.pipeline import Checker
from gateway.policy.agencies import parse_agencies
from gateway.policy.load import load_policy
from gateway.policy.signer_unit import signer_belongs, subject_attributes
from gateway.policy.strict import RulesError
from gateway.trust import build_engine
from tests import signer as S

MAP = parse_agencies({
    "domains": ["daknong.gov.vn"],
    "agency": [
        {"code": "stn", "name": "Sở Thử nghiệm", "local": ["stn"],
         "signer-names": ["SỞ THỬ NGHIỆM", "Phòng Một"]},
        {"code": "stc", "name": "Sở Tài chính", "local": ["stc"], "signer-names": ["Sở Tài chính"]},
    ],
}, "test")


def test_subject_attributes_undo_escapes() -> None:
    attrs = subject_attributes(r"CN=Nguyễn Văn A, O=Sở A\, B, OU=Phòng 1, C=VN")
    assert attrs == [("cn", "Nguyễn Văn A"), ("o", "Sở A, B"), ("ou", "Phòng 1"), ("c", "VN")]


@pytest.mark.parametrize("subject, agency, expected", [
    ("CN=A, O=Sở Thử nghiệm, C=VN", "stn", True),          # case and accents folded
    ("CN=A, O=So Thu Nghiem, C=VN", "stn", True),
    ("CN=A, OU=Phòng  Một, O=Khác, C=VN", "stn", True),     # OU, extra spaces
    ("CN=A, O=Sở Thử nghiệm, C=VN", "stc", False),          # another agency's certificate
    ("CN=A, 1.2.840.113549.1.9.1=annv.stc@daknong.gov.vn", "stc", True),  # e-mail in subject
    ("CN=A, 1.2.840.113549.1.9.1=annv.stn@daknong.gov.vn", "stc", False),
    ("CN=Sở Tài chính", "stc", False),                      # CN is not the unit
    ("CN=A, O=Sở Thử nghiệm", "nope", False),
])
def test_signer_belongs(subject: str, agency: str, expected: bool) -> None:
    assert signer_belongs(subject, agency, MAP) is expected


def test_signer_names_are_checked_by_the_loader() -> None:
    with pytest.raises(RulesError, match="signer-names"):
        parse_agencies({"agency": [{"code": "x", "name": "X", "local": ["x"],
                                    "signer-names": ["", 3]}]}, "test")


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("rules")
    (d / "map.toml").write_text(
        'domains = ["daknong.gov.vn"]\n'
        '[[agency]]\ncode = "stn"\nname = "Sở Thử nghiệm"\nlocal = ["stn"]\n'
        'signer-names = ["Sở Thử nghiệm"]\n'
        '[[agency]]\ncode = "stc"\nname = "Sở Tài chính"\nlocal = ["stc"]\n'
        'signer-names = ["Sở Tài chính"]\n', encoding="utf-8")
    (d / "local.toml").write_text(
        '[signatures]\nsigner-must-match-sender = true\nagency-map = "map.toml"\n',
        encoding="utf-8")
    return d / "local.toml"


def _message(sender: str, docx: bytes) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "vanthu@daknong.gov.vn"
    m["Subject"] = "Kế hoạch"
    m.set_content("Kính gửi.")
    m.add_attachment(docx, maintype="application",
                     subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                     filename="ke-hoach.docx")
    return m.as_bytes()


def test_signature_of_the_sending_unit_is_required_when_the_rule_is_on(pki, rules: Path) -> None:
    engine = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])
    parts = S.sign_ooxml(S.make_ooxml("docx"), pki.leaf.key, pki.leaf.cert,
                         chain=pki.chain(pki.leaf), signing_time=pki.now - timedelta(days=1))
    docx = S.zip_package(parts)  # signed by a certificate with O=Sở Thử nghiệm

    strict = Checker(load_policy(rules), trust=engine, clock=lambda: pki.now)
    own = strict.check_message(io.BytesIO(_message("vanthu.stn@daknong.gov.vn", docx)),
                               Envelope(sender="vanthu.stn@daknong.gov.vn"))
    assert own.verdict.value == "valid"

    other = strict.check_message(io.BytesIO(_message("vanthu.stc@daknong.gov.vn", docx)),
                                 Envelope(sender="vanthu.stc@daknong.gov.vn"))
    (doc,) = other.documents
    assert doc.verdict.value == "invalid"
    sig_codes = {f.code for s in doc.signatures for f in s.findings}
    assert "SIG_SIGNER_NOT_SENDER_UNIT" in sig_codes
    assert "EDITABLE_SIGNATURE_UNVERIFIED" in {f.code for f in doc.findings}

    # the shipped rules leave the rule off: the same message is valid
    lax = Checker(load_policy(), trust=engine, clock=lambda: pki.now)
    assert lax.check_message(io.BytesIO(_message("vanthu.stc@daknong.gov.vn", docx)),
                             Envelope(sender="vanthu.stc@daknong.gov.vn")).verdict.value == "valid"
    assert load_policy(rules).hash != load_policy().hash
