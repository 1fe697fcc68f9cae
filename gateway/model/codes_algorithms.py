"""Finding codes of the algorithm policy (``[algorithms]`` rules), the same for PDF, CMS,
OOXML and ODF signatures (gateway.inspect.algorithms)."""

from gateway.model.catalog_types import CodeSpec
from gateway.model.findings import Severity

_REMEDY_VI = (
    "Hãy ký lại tệp gốc bằng phần mềm ký số và chứng thư số hiện hành của đơn vị (thuật toán "
    "băm SHA-256 trở lên, khóa RSA từ 2048 bit hoặc ECDSA P-256 trở lên) và gửi lại."
)
_REMEDY_EN = (
    "Sign the original file again with current signing software and the agency's current "
    "certificate (SHA-256 or stronger, RSA keys of 2048 bits or more, or ECDSA P-256 or "
    "stronger) and send it again."
)

CODES: list[CodeSpec] = [
    CodeSpec(
        "ALG_DIGEST_NOT_ALLOWED",
        "9.2",
        Severity.ERROR,
        "Chữ ký số dùng thuật toán băm {algorithm}, không còn được chấp nhận; chữ ký không được "
        "xác nhận. " + _REMEDY_VI,
        "The signature uses the digest algorithm {algorithm}, which is no longer accepted; the "
        "signature is not confirmed. " + _REMEDY_EN,
    ),
    CodeSpec(
        "ALG_SCHEME_NOT_ALLOWED",
        "9.2",
        Severity.ERROR,
        "Chữ ký số dùng thuật toán ký {scheme}, không được chấp nhận; chữ ký không được xác "
        "nhận. " + _REMEDY_VI,
        "The signature uses the signature algorithm {scheme}, which is not accepted; the "
        "signature is not confirmed. " + _REMEDY_EN,
    ),
    CodeSpec(
        "ALG_KEY_TOO_SMALL",
        "9.2",
        Severity.ERROR,
        "Khóa ký {kind} dài {bits} bit, ngắn hơn mức tối thiểu {minimum} bit; chữ ký không được "
        "xác nhận. " + _REMEDY_VI,
        "The signing key is a {bits}-bit {kind} key, shorter than the minimum of {minimum} "
        "bits; the signature is not confirmed. " + _REMEDY_EN,
    ),
    CodeSpec(
        "ALG_CURVE_NOT_ALLOWED",
        "9.2",
        Severity.ERROR,
        "Khóa ký dùng đường cong elliptic {curve}, không được chấp nhận; chữ ký không được xác "
        "nhận. " + _REMEDY_VI,
        "The signing key uses the elliptic curve {curve}, which is not accepted; the signature "
        "is not confirmed. " + _REMEDY_EN,
    ),
    CodeSpec(
        "ALG_LEGACY_ACCEPTED",
        "9.2",
        Severity.WARNING,
        "Chữ ký số dùng {algorithm}, nay không còn đủ mạnh; vẫn được chấp nhận vì dấu thời gian "
        "chứng minh chữ ký có từ {time}, trước ngày {until}.",
        "The signature uses {algorithm}, no longer strong enough today; it is still accepted "
        "because a timestamp proves it existed on {time}, before {until}.",
    ),
]
