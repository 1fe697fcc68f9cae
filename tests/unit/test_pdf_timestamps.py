"""Long-term PAdES: signature and document timestamps validated as timestamps (token, imprint,
coverage, the TSA's chain through the trust engine), the DSS used for revocation at the time
a timestamp proves, and the level each signature reaches (B-B, B-T, B-LT, B-LTA)."""

from __future__ import annotations

import pytest
from cryptography import x509

from gateway.model.findings import Severity
from gateway.model.report import DocVerdict, Trust
from tests.pdfgen import ltv
from tests.pdfgen import sign as S
from tests.pdfgen.build import born_digital_pdf
from tests.pdfgen.check import check, codes, engine_for, inspect
from tests.pki import issue, t


@pytest.fixture(scope="module")
def engine(pki):
    return engine_for(pki)


@pytest.fixture(scope="module")
def base() -> bytes:
    return born_digital_pdf(1)


@pytest.fixture(scope="module")
def lta(pki, base) -> bytes:
    return ltv.sign_ltv(base, pki, "B-LTA")


def _level(res) -> str | None:
    assert len(res.facts["pdf_signatures"]) == 1
    return res.facts["pdf_signatures"][0]["level"]


def test_b_lta_is_valid_and_reaches_b_lta(pki, engine, lta):
    res = inspect(lta, pki=pki, trust=engine)
    assert len(res.signatures) == 1  # the document timestamp is not a signature
    assert res.signatures[0].is_good
    assert _level(res) == "B-LTA"
    (stamp,) = res.facts["document_timestamps"]
    assert stamp["intact"] and stamp["valid"] and stamp["covered"] and stamp["trusted"]
    assert stamp["tsa"].startswith("CN=Hople Test TSA")
    proven = res.facts["pdf_signatures"][0]["proven_time"]
    assert proven.startswith("2025-05-30")  # TS_TIME_OFFSET_DAYS before the test clock
    report, doc = check(lta, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID
    assert not {"PDF_DOC_TIMESTAMP_BROKEN", "PDF_TIMESTAMP_UNTRUSTED"} & codes(doc)
    assert report.to_json()["documents"][0]["facts"]["pdf_signatures"][0]["level"] == "B-LTA"


@pytest.mark.parametrize("part", ["imprint", "time", "signature"])
def test_b_lta_with_the_timestamp_token_altered_is_invalid(pki, engine, lta, part):
    data = ltv.alter_last_token(lta, part)
    assert len(data) == len(lta) and data != lta
    res = inspect(data, pki=pki, trust=engine)
    broken = [f for f in res.findings if f.code == "PDF_DOC_TIMESTAMP_BROKEN"]
    assert broken and broken[0].severity is Severity.ERROR
    assert _level(res) != "B-LTA"
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID


@pytest.mark.parametrize("level", ["B-T", "B-LT"])
def test_b_t_and_b_lt_reach_their_level(pki, engine, base, level):
    data = ltv.sign_ltv(base, pki, level)
    res = inspect(data, pki=pki, trust=engine)
    assert _level(res) == level
    assert res.facts["pdf_signatures"][0]["timestamp_tsa"].startswith("CN=Hople Test TSA")
    assert res.facts["pdf_signatures"][0]["timestamp"]["trusted"] is True
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID


@pytest.mark.parametrize("crls_of, missing", [
    ((), "revocation data for"),
    (("intermediate",), "revocation data for"),  # nothing for the intermediate CA itself
])
def test_a_dss_without_the_chain_s_revocation_data_is_not_b_lt(pki, engine, base, crls_of,
                                                               missing):
    bt = ltv.sign_ltv(base, pki, "B-T")
    data = ltv.add_doc_timestamp(ltv.add_dss(bt, pki, crls_of=crls_of), pki)
    res = inspect(data, pki=pki, trust=engine)
    assert _level(res) == "B-T"
    assert res.facts["pdf_signatures"][0]["dss_missing"].startswith(missing)
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID  # the level is reported, not a reason to refuse


def test_a_chain_may_stop_at_a_configured_anchor_without_its_certificate(pki, engine, base):
    from tests.interop.test_interop_pdf import TrustEveryChain

    bt = ltv.sign_ltv(base, pki, "B-T")
    data = ltv.add_doc_timestamp(ltv.add_dss(bt, pki, certs_of=("intermediate",)), pki)
    # the root is a configured anchor: its certificate need not travel with the document
    assert _level(inspect(data, pki=pki, trust=engine)) == "B-LTA"
    # with no anchor configured, the root's certificate is missing validation data
    res = inspect(data, pki=pki, trust=TrustEveryChain())
    assert _level(res) == "B-T"
    assert res.facts["pdf_signatures"][0]["dss_missing"] == (
        "certificate of " + "Common Name: Hople Test Root CA, Organization: Hople Test PKI, "
        "Country: VN")


def test_a_plain_signature_is_b_b_and_a_broken_one_has_no_level(pki, engine, base):
    signed = S.sign(base, pki.leaf, pki.chain(pki.leaf))
    assert _level(inspect(signed, pki=pki, trust=engine)) == "B-B"
    broken = S.set_subfilter(signed, b"/ETSI.CAdES.detached")  # same name, digest untouched
    assert _level(inspect(broken, pki=pki, trust=engine)) == "B-B"
    tampered = signed.replace(b"/Producer (hople test generator)",
                              b"/Producer (hople test generatoR)")
    assert _level(inspect(tampered, pki=pki, trust=engine)) is None


def test_a_timestamp_by_an_untrusted_tsa_proves_nothing(pki, engine, base):
    rogue = issue("rogue_tsa", "Rogue TSA", 0x3003, pki.other_root, t(2024), t(2027),
                  eku=[x509.oid.ExtendedKeyUsageOID.TIME_STAMPING])
    data = ltv.sign_ltv(base, pki, "B-LTA", tsa=rogue)
    res = inspect(data, pki=pki, trust=engine)
    assert _level(res) == "B-B"
    assert "proven_time" not in res.facts["pdf_signatures"][0]
    untrusted = [f for f in res.findings + res.signatures[0].findings
                 if f.code == "PDF_TIMESTAMP_UNTRUSTED"]
    assert len(untrusted) == 2 and all(f.severity is Severity.WARNING for f in untrusted)
    assert not res.facts["document_timestamps"][0]["trusted"]
    # the signature itself is still checked, as of now
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID


def test_a_tsa_without_the_time_stamping_usage_is_not_trusted(pki, engine, base):
    data = ltv.sign_ltv(base, pki, "B-T", tsa=pki.leaf)  # a signing certificate, not a TSA
    res = inspect(data, pki=pki, trust=engine)
    assert _level(res) == "B-B"
    assert "CERT_KEY_USAGE" in res.facts["pdf_signatures"][0]["timestamp_tsa_problem"]
    assert res.facts["pdf_signatures"][0]["timestamp"]["trusted"] is False


def test_the_signer_is_checked_at_the_time_the_timestamp_proves(pki, engine, base):
    # an expired signer certificate (2021-2022) whose signature a trusted timestamp proves
    # was made in 2021 is checked as of 2021; without the timestamp it is expired now
    old_tsa = issue("old_tsa", "Hople Test TSA 2020", 0x2007, pki.intermediate, t(2020, 6),
                    t(2030), eku=[x509.oid.ExtendedKeyUsageOID.TIME_STAMPING])
    plain = S.sign(base, pki.expired, pki.chain(pki.expired))
    assert inspect(plain, pki=pki, trust=engine).signatures[0].trust is Trust.UNTRUSTED
    stamped = _sign_stamped(base, pki, pki.expired, old_tsa, t(2021, 6))
    res = inspect(stamped, pki=pki, trust=engine)
    s = res.signatures[0]
    assert s.trust is Trust.TRUSTED and s.is_good
    assert res.facts["pdf_signatures"][0]["proven_time"].startswith("2021-06-01")
    assert _level(res) == "B-T"


def test_a_token_dated_outside_the_tsa_certificate_proves_nothing(pki, engine, base):
    stamped = _sign_stamped(base, pki, pki.expired, pki.tsa, t(2021, 6))  # TSA from 2024
    res = inspect(stamped, pki=pki, trust=engine)
    assert _level(res) == "B-B"
    assert res.signatures[0].trust is Trust.UNTRUSTED  # expired now, nothing proves 2021
    assert "outside the validity" in res.facts["pdf_signatures"][0]["timestamp_tsa_problem"]


def test_a_document_timestamp_without_type_is_still_validated_as_a_timestamp(pki, engine, lta):
    # /Type /DocTimeStamp blanked (same length): routed by its SubFilter to the timestamp
    # validator (never to the signature validator), which finds its digest broken
    pos = lta.rindex(b"/Type /DocTimeStamp")
    data = lta[:pos] + b" " * len(b"/Type /DocTimeStamp") + lta[pos + 19:]
    res = inspect(data, pki=pki, trust=engine)
    assert len(res.signatures) == 1
    assert "PDF_DOC_TIMESTAMP_BROKEN" in {f.code for f in res.findings}
    assert not any("must be /Sig" in f.en for f in res.findings)


def test_an_older_timestamp_is_checked_at_the_time_the_newer_one_proves(pki, engine, base):
    # the archive chain: the first document timestamp's authority expired just before the
    # test clock; a newer timestamp proves the first existed while it was still valid
    short_tsa = issue("short_tsa", "Hople Test TSA (short)", 0x2008, pki.intermediate,
                      t(2020, 6), t(2025, 5, 31), eku=[x509.oid.ExtendedKeyUsageOID.TIME_STAMPING])
    lt = ltv.sign_ltv(base, pki, "B-LT")
    first = ltv.add_doc_timestamp(lt, pki, tsa=short_tsa, at=t(2025, 5, 30, 18))
    alone = inspect(first, pki=pki, trust=engine).facts["document_timestamps"]
    assert [s["trusted"] for s in alone] == [False]  # checked now: expired
    chained = ltv.add_doc_timestamp(first, pki, at=t(2025, 5, 30, 23), field="DocTimeStamp2")
    res = inspect(chained, pki=pki, trust=engine)
    assert [s["trusted"] for s in res.facts["document_timestamps"]] == [True, True]
    assert _level(res) == "B-LTA"


def _sign_stamped(base, pki, signer, tsa, when):
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    w = IncrementalPdfFileWriter(io.BytesIO(base), strict=False)
    out = signers.sign_pdf(w, meta, signer=S.signer_for(signer, pki.chain(signer)),
                           timestamper=ltv.timestamper(pki, tsa=tsa, at=when))
    return out.getvalue()
