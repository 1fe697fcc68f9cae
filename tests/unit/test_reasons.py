"""The reason catalogue: every reason has both texts, every mapped finding code exists, and
reasons follow the layers of a signature."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from gateway.model.catalog import CATALOG, make_finding
from gateway.model.reasons import FINDING_REASONS, REASONS, reason_text
from gateway.model.report import Coverage, Integrity, Revocation, SignatureReport, Trust


def test_catalogue_is_complete() -> None:
    for code, (vi, en) in REASONS.items():
        assert code == code.lower() and " " not in code
        assert vi.strip() and en.strip() and vi != en
        assert unicodedata.is_normalized("NFC", vi)
    for finding, reason in FINDING_REASONS.items():
        assert finding in CATALOG, finding
        assert reason in REASONS, reason


def _sig(**kw) -> SignatureReport:
    base: dict[str, Any] = dict(format="pades", integrity=Integrity.INTACT,
                                coverage=Coverage.WHOLE, trust=Trust.TRUSTED,
                                revocation=Revocation.GOOD)
    base.update(kw)
    return SignatureReport(**base)


@pytest.mark.parametrize("kw,reasons", [
    ({}, ()),
    ({"integrity": Integrity.BROKEN, "coverage": Coverage.UNKNOWN}, ("integrity-broken",)),
    ({"coverage": Coverage.PARTIAL}, ("coverage-partial",)),
    ({"trust": Trust.UNTRUSTED}, ("chain-untrusted",)),
    ({"trust": Trust.UNKNOWN}, ("trust-unknown",)),
    ({"revocation": Revocation.REVOKED}, ("revoked",)),
    ({"findings": (make_finding("ALG_KEY_TOO_SMALL", kind="RSA", bits=1024, minimum=2048),)},
     ("key-too-small",)),
    ({"coverage": Coverage.PARTIAL, "findings": (make_finding("PDF_MODIFIED_AFTER_SIGNING"),)},
     ("modified-after-signing",)),
    ({"findings": (make_finding("SEAL_REQUIRED_MISSING"),)}, ("not-confirmed",)),
])
def test_reasons_follow_layers_and_error_findings(kw, reasons) -> None:
    sig = _sig(**kw)
    assert sig.reasons == reasons
    assert sig.counts is (reasons == ())
    assert sig.to_json()["reasons"] == list(reasons)


def test_a_warning_alone_gives_no_reason() -> None:
    sig = _sig(findings=(make_finding("REVOCATION_UNKNOWN"),))
    assert sig.findings[0].severity.label == "warning" and sig.reasons == ()


def test_reason_text_names_each_reason_in_both_languages() -> None:
    assert reason_text(("revoked", "key-too-small"), "en") == (
        "certificate revoked [revoked]; signing key too small [key-too-small]")
    assert reason_text(("revoked",), "vi") == "chứng thư số đã bị thu hồi [revoked]"
