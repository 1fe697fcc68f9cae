"""Finding codes of the signature checks."""

from gateway.model.catalog_types import CodeSpec
from gateway.model.findings import Action, Severity  # noqa: F401  (used as codes are added)

CODES: list[CodeSpec] = []

# -- Trust chain and revocation (gateway.trust) ------------------------------------------
# Kept as one block so the signature-format codes above can grow independently.
CODES.extend([
    CodeSpec(
        "TRUST_NO_ANCHORS",
        "9.2a",
        Severity.ERROR,
        "Chưa cấu hình chứng thư gốc tin cậy nào; không xác nhận được chữ ký của {signer}. "
        "Quản trị viên cần cài đặt chứng thư gốc (hople trust add).",
        "No trust anchors are configured, so the signature of {signer} cannot be confirmed. "
        "The administrator must install the root certificates (hople trust add).",
    ),
    CodeSpec(
        "TRUST_UNTRUSTED_ROOT",
        "9.2a",
        Severity.ERROR,
        "Chứng thư số của {signer} không dẫn tới chứng thư gốc tin cậy nào được cấu hình "
        "({reason}). Hãy ký bằng chứng thư số do tổ chức cung cấp dịch vụ chứng thực chữ ký "
        "số chuyên dùng Chính phủ hoặc công cộng được công nhận cấp.",
        "The certificate of {signer} does not chain to any configured trust anchor ({reason}). "
        "Sign with a certificate issued by the government or a recognised public "
        "certification authority.",
    ),
    CodeSpec(
        "CERT_EXPIRED",
        "9.2a",
        Severity.ERROR,
        "Chứng thư số {subject} đã hết hạn lúc {not_after}, trước thời điểm ký/kiểm tra {at}.",
        "Certificate {subject} expired at {not_after}, before the signing/validation time {at}.",
    ),
    CodeSpec(
        "CERT_NOT_YET_VALID",
        "9.2a",
        Severity.ERROR,
        "Chứng thư số {subject} chỉ có hiệu lực từ {not_before}, sau thời điểm ký/kiểm tra {at}.",
        "Certificate {subject} is valid only from {not_before}, after the signing/validation "
        "time {at}.",
    ),
    CodeSpec(
        "CERT_KEY_USAGE",
        "9.2a",
        Severity.ERROR,
        "Chứng thư số của {signer} không được phép dùng để {usage} (mục đích sử dụng khoá: "
        "{key_usage}).",
        "The certificate of {signer} may not be used for {usage} (key usage: {key_usage}).",
    ),
    CodeSpec(
        "CERT_WEAK_ALGORITHM",
        "9.2a",
        Severity.ERROR,
        "Chuỗi chứng thư của {signer} dùng thuật toán không còn được chấp nhận ({reason}).",
        "The certificate chain of {signer} uses an algorithm that is no longer accepted "
        "({reason}).",
    ),
    CodeSpec(
        "TRUST_PATH_INVALID",
        "9.2a",
        Severity.ERROR,
        "Chuỗi chứng thư của {signer} không hợp lệ ({reason}).",
        "The certificate chain of {signer} is not valid ({reason}).",
    ),
    CodeSpec(
        "CERT_UNREADABLE",
        "9.2a",
        Severity.ERROR,
        "Không đọc được chứng thư số trong chữ ký ({reason}).",
        "A certificate in the signature cannot be read ({reason}).",
    ),
    CodeSpec(
        "REVOCATION_REVOKED",
        "9.2a",
        Severity.ERROR,
        "Chứng thư số {subject} đã bị thu hồi lúc {revoked_at} (lý do: {reason}), trước thời "
        "điểm ký/kiểm tra {at}; chữ ký không có giá trị.",
        "Certificate {subject} was revoked at {revoked_at} (reason: {reason}), before the "
        "signing/validation time {at}; the signature is not valid.",
    ),
    CodeSpec(
        "REVOCATION_AFTER_SIGNING",
        "9.2a",
        Severity.INFO,
        "Chứng thư số {subject} bị thu hồi lúc {revoked_at}, sau thời điểm ký {at}; chữ ký "
        "được tạo khi chứng thư còn hiệu lực.",
        "Certificate {subject} was revoked at {revoked_at}, after the signing time {at}; the "
        "signature was made while the certificate was valid.",
    ),
    CodeSpec(
        "REVOCATION_UNKNOWN",
        "9.2a",
        Severity.WARNING,
        "Không có dữ liệu thu hồi dùng được cho chứng thư số {subject} ({reason}); chưa kiểm "
        "tra được chứng thư có bị thu hồi hay không.",
        "No usable revocation data for certificate {subject} ({reason}); whether it was "
        "revoked could not be checked.",
    ),
])
