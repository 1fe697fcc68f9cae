"""Why a signature is not confirmed: stable reason codes with Vietnamese and English text.

Every signature in ``hople.report/1`` carries ``reasons``: empty when the signature counts
(every layer good, no error finding), else one or more codes of :data:`REASONS`, derived from
the signature's layers and its error findings (:func:`signature_reasons`). The document
finding, the ``X-Legal-Validity-Report`` header and the notice to the sender name them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.model.findings import Severity

if TYPE_CHECKING:
    from gateway.model.report import SignatureReport

REASONS: dict[str, tuple[str, str]] = {
    "digest-not-allowed": ("thuật toán băm không được chấp nhận", "digest algorithm not allowed"),
    "scheme-not-allowed": ("thuật toán ký không được chấp nhận",
                           "signature algorithm not allowed"),
    "key-too-small": ("khóa ký quá ngắn", "signing key too small"),
    "curve-not-allowed": ("đường cong elliptic của khóa không được chấp nhận",
                          "elliptic curve of the key not allowed"),
    "integrity-broken": ("nội dung không khớp với chữ ký (bị sửa hoặc hỏng)",
                         "integrity broken (changed or damaged)"),
    "modified-after-signing": ("tệp bị sửa sau khi ký", "modified after signing"),
    "coverage-partial": ("chữ ký không bao trùm toàn bộ tệp",
                         "signature does not cover the whole file"),
    "unsupported-format": ("kiểu chữ ký không được hỗ trợ", "signature type not supported"),
    "unverifiable": ("không kiểm tra được chữ ký", "signature could not be verified"),
    "package-invalid": ("cấu trúc gói tệp không hợp lệ", "package structure invalid"),
    "chain-untrusted": ("chứng thư số không thuộc tổ chức chứng thực được tin cậy",
                        "certificate chain not trusted"),
    "trust-unknown": ("chưa kiểm tra được độ tin cậy của chứng thư số",
                      "certificate trust not checked"),
    "certificate-expired": ("chứng thư số hết hạn hoặc chưa có hiệu lực",
                            "certificate expired or not yet valid"),
    "certificate-usage": ("chứng thư số không dùng để ký", "certificate not for signing"),
    "revoked": ("chứng thư số đã bị thu hồi", "certificate revoked"),
    "revocation-unknown": ("không xác định được tình trạng thu hồi chứng thư số",
                           "revocation status unknown"),
    "revocation-data-unreadable": ("dữ liệu thu hồi đi kèm chữ ký không đọc được",
                                   "revocation data carried by the signature unreadable"),
    "timestamp-invalid": ("dấu thời gian không hợp lệ", "timestamp invalid"),
    "signer-not-sender": ("người ký không thuộc đơn vị gửi",
                          "signer is not the sending agency"),
    "check-failed": ("lỗi khi kiểm tra chữ ký", "the check itself failed"),
    "not-confirmed": ("chữ ký không được xác nhận theo quy tắc", "refused by the rules"),
}

FINDING_REASONS: dict[str, str] = {
    "ALG_DIGEST_NOT_ALLOWED": "digest-not-allowed",
    "ALG_SCHEME_NOT_ALLOWED": "scheme-not-allowed",
    "ALG_KEY_TOO_SMALL": "key-too-small",
    "ALG_CURVE_NOT_ALLOWED": "curve-not-allowed",
    "PDF_MODIFIED_AFTER_SIGNING": "modified-after-signing",
    "PDF_SIGNATURE_COVERAGE": "coverage-partial",
    "SIG_COVERAGE_PARTIAL": "coverage-partial",
    "PDF_SUBFILTER_UNSUPPORTED": "unsupported-format",
    "SIG_LEGACY_UNVERIFIABLE": "unsupported-format",
    "SIG_OPENPGP": "unsupported-format",
    "SIG_UNSUPPORTED_ALGORITHM": "unsupported-format",
    "SIG_CONTAINER_INVALID": "package-invalid",
    "SIG_CONTENT_TYPE_MISMATCH": "package-invalid",
    "SIG_DUPLICATE_ID": "integrity-broken",
    "SIG_DIGEST_MISMATCH": "integrity-broken",
    "SIG_VALUE_INVALID": "integrity-broken",
    "PDF_SIGNATURE_BROKEN": "integrity-broken",
    "CMS_SIGNATURE_BROKEN": "integrity-broken",
    "TRUST_NO_ANCHORS": "chain-untrusted",
    "TRUST_UNTRUSTED_ROOT": "chain-untrusted",
    "TRUST_PATH_INVALID": "chain-untrusted",
    "CERT_EXPIRED": "certificate-expired",
    "CERT_NOT_YET_VALID": "certificate-expired",
    "CERT_KEY_USAGE": "certificate-usage",
    "CERT_WEAK_ALGORITHM": "chain-untrusted",
    "REVOCATION_REVOKED": "revoked",
    "REVOCATION_UNKNOWN": "revocation-unknown",
    "PDF_TIMESTAMP_INVALID": "timestamp-invalid",
    "SIG_REVOCATION_DATA_UNREADABLE": "revocation-data-unreadable",
    "SIG_SIGNER_NOT_SENDER_UNIT": "signer-not-sender",
    "SIG_TRUST_CHECK_FAILED": "check-failed",
    "INSPECTION_FAILED": "check-failed",
}
"""Error findings on a signature → the reason they give (codes not listed fall back to the
signature's layers)."""


def signature_reasons(sig: SignatureReport) -> tuple[str, ...]:
    """Why ``sig`` does not count (empty when it does)."""
    out: list[str] = []

    def add(reason: str) -> None:
        if reason not in out:
            out.append(reason)

    errors = [f for f in sig.findings if f.severity >= Severity.ERROR]
    for f in errors:
        reason = FINDING_REASONS.get(f.code)
        if reason is not None:
            add(reason)
    integrity = sig.integrity.value
    if integrity == "broken":
        add("integrity-broken")
    elif integrity == "unverifiable" and not out:
        add("unverifiable")
    if sig.coverage.value == "partial" and "modified-after-signing" not in out:
        add("coverage-partial")
    explained = {"certificate-expired", "certificate-usage"} & set(out)
    if sig.trust.value == "untrusted" and not explained:
        add("chain-untrusted")
    elif sig.trust.value == "unknown" and integrity == "intact":
        add("trust-unknown")
    if sig.revocation.value == "revoked":
        add("revoked")
    if not out and errors:
        add("not-confirmed")
    return tuple(out)


def reason_text(reasons: tuple[str, ...] | list[str], lang: str) -> str:
    """``digest-not-allowed, …`` in words (``vi`` or ``en``), each with its code."""
    index = 0 if lang == "vi" else 1
    return "; ".join(f"{REASONS.get(r, (r, r))[index]} [{r}]" for r in reasons)


__all__ = ["FINDING_REASONS", "REASONS", "reason_text", "signature_reasons"]
