"""Finding codes of the signature checks."""

from gateway.model.catalog_types import CodeSpec
from gateway.model.findings import Severity

_REMEDY_SIGN_VI = (
    "Hãy ký lại tệp gốc bằng chứng thư số của đơn vị và gửi lại; hoặc theo Điều 9.3, phát "
    "hành văn bản giấy, quét (scan) sang PDF và gửi bản quét."
)
_REMEDY_SIGN_EN = (
    "Sign the original file again with the agency's certificate and send it again; or, under "
    "Article 9.3, issue the document on paper, scan it to PDF and send the scan."
)

# -- Signature formats: XML-DSig in OOXML and ODF, legacy binary Office (gateway.inspect) --
CODES: list[CodeSpec] = [
    CodeSpec(
        "SIG_MALFORMED",
        "9.2a",
        Severity.ERROR,
        "Chữ ký số trong tệp có cấu trúc không hợp lệ ({reason}); chữ ký không có giá trị. "
        + _REMEDY_SIGN_VI,
        "The digital signature in the file is malformed ({reason}); it is not valid. "
        + _REMEDY_SIGN_EN,
    ),
    CodeSpec(
        "SIG_DUPLICATE_ID",
        "9.2a",
        Severity.ERROR,
        "Chữ ký số có hai phần tử cùng mã định danh \"{id}\": dấu hiệu chữ ký bị bọc, đánh tráo "
        "nội dung (signature wrapping); chữ ký không có giá trị.",
        "The signature has two elements with the same Id \"{id}\": a sign of signature "
        "wrapping (signed content swapped); the signature is not valid.",
    ),
    CodeSpec(
        "SIG_REFERENCE_UNRESOLVED",
        "9.2a",
        Severity.ERROR,
        "Chữ ký số bảo vệ phần \"{uri}\" nhưng phần này không còn trong tệp ({reason}): tệp đã bị "
        "thay đổi sau khi ký. " + _REMEDY_SIGN_VI,
        "The signature protects \"{uri}\" but it is no longer in the file ({reason}): the file "
        "was changed after signing. " + _REMEDY_SIGN_EN,
    ),
    CodeSpec(
        "SIG_REFERENCE_UNREADABLE",
        "9.2a",
        Severity.ERROR,
        "Không đọc được phần \"{uri}\" được chữ ký số bảo vệ ({reason}); chữ ký không có giá trị.",
        "The part \"{uri}\" protected by the signature cannot be read ({reason}); the "
        "signature is not valid.",
    ),
    CodeSpec(
        "SIG_DIGEST_MISMATCH",
        "9.2a",
        Severity.ERROR,
        "Nội dung \"{uri}\" đã bị thay đổi sau khi ký (giá trị băm không khớp); chữ ký không còn "
        "giá trị. " + _REMEDY_SIGN_VI,
        "\"{uri}\" was changed after signing (its digest does not match); the signature is no "
        "longer valid. " + _REMEDY_SIGN_EN,
    ),
    CodeSpec(
        "SIG_VALUE_INVALID",
        "9.2a",
        Severity.ERROR,
        "Giá trị chữ ký số không khớp với khoá công khai của chứng thư số trong chữ ký ({reason}): "
        "chữ ký đã bị sửa hoặc chứng thư bị đánh tráo. " + _REMEDY_SIGN_VI,
        "The signature value does not verify with the certificate in the signature ({reason}): "
        "the signature was altered or the certificate swapped. " + _REMEDY_SIGN_EN,
    ),
    CodeSpec(
        "SIG_UNSUPPORTED_ALGORITHM",
        "9.2a",
        Severity.ERROR,
        "Chữ ký số dùng thuật toán mà hệ thống không hỗ trợ hoặc không chấp nhận ({algorithm}); "
        "không xác nhận được chữ ký. Hãy ký bằng RSA hoặc ECDSA với SHA-256.",
        "The signature uses an algorithm the system does not support or accept ({algorithm}); "
        "it cannot be confirmed. Sign with RSA or ECDSA and SHA-256.",
    ),
    CodeSpec(
        "SIG_NO_CERTIFICATE",
        "9.2a",
        Severity.ERROR,
        "Chữ ký số không kèm chứng thư số X.509 nên không xác định được người ký. Hãy ký bằng "
        "chứng thư số của đơn vị.",
        "The signature carries no X.509 certificate, so the signer cannot be identified. Sign "
        "with the agency's certificate.",
    ),
    CodeSpec(
        "SIG_CERTIFICATE_UNREADABLE",
        "9.2a",
        Severity.ERROR,
        "Không đọc được chứng thư số kèm theo chữ ký ({reason}).",
        "A certificate in the signature cannot be read ({reason}).",
    ),
    CodeSpec(
        "SIG_OPENPGP",
        "9.2a",
        Severity.ERROR,
        "Chữ ký dùng khoá OpenPGP, không phải chứng thư số do tổ chức chứng thực cấp; hệ thống "
        "không xác nhận loại chữ ký này. Hãy ký bằng chứng thư số của đơn vị.",
        "The signature uses an OpenPGP key, not a certificate issued by a certification "
        "authority; the system does not confirm such signatures. Sign with the agency's "
        "certificate.",
    ),
    CodeSpec(
        "SIG_AMBIGUOUS_CERTIFICATE",
        "9.2a",
        Severity.ERROR,
        "Chữ ký kèm chứng thư số không liên quan tới người ký ({subject}): không xác định chắc "
        "chắn được người ký (dấu hiệu giả mạo); chữ ký không có giá trị.",
        "The signature carries a certificate unrelated to its signer ({subject}): the signer "
        "cannot be attributed (a known forgery pattern); the signature is not valid.",
    ),
    CodeSpec(
        "SIG_SIGNING_CERT_MISMATCH",
        "9.2a",
        Severity.ERROR,
        "Thuộc tính ký (XAdES SigningCertificate) chỉ định một chứng thư khác với chứng thư đã "
        "tạo chữ ký ({subject}); chữ ký không có giá trị.",
        "The signed XAdES SigningCertificate names another certificate than the one that made "
        "the signature ({subject}); the signature is not valid.",
    ),
    CodeSpec(
        "SIG_CONTENT_TYPE_MISMATCH",
        "9.2a",
        Severity.ERROR,
        "Kiểu nội dung của phần {part} đã bị đổi sau khi ký (lúc ký: {signed}, hiện tại: "
        "{declared}); chữ ký không còn giá trị.",
        "The content type of part {part} was changed after signing (signed: {signed}, now: "
        "{declared}); the signature is no longer valid.",
    ),
    CodeSpec(
        "SIG_CONTAINER_INVALID",
        "9.2a",
        Severity.ERROR,
        "Cấu trúc tệp nén của văn bản đã ký không hợp lệ ({reason}); có thể là tệp giả mạo. "
        "Chữ ký không được công nhận.",
        "The package of the signed file is malformed ({reason}); it may be a forgery. The "
        "signature is not accepted.",
    ),
    CodeSpec(
        "SIG_COVERAGE_PARTIAL",
        "9.2a",
        Severity.ERROR,
        "Chữ ký số không bảo vệ toàn bộ văn bản: {parts} nằm ngoài chữ ký (được thêm hoặc sửa "
        "sau khi ký). Văn bản không được coi là đã ký. " + _REMEDY_SIGN_VI,
        "The signature does not protect the whole document: {parts} lie outside it (added or "
        "changed after signing). The document does not count as signed. " + _REMEDY_SIGN_EN,
    ),
    CodeSpec(
        "SIG_UNSIGNED_BY_DESIGN",
        "9.2a",
        Severity.INFO,
        "Theo thiết kế của định dạng, các phần sau không được chữ ký bảo vệ (không dùng làm căn "
        "cứ): {parts}.",
        "By the design of the format these parts are not protected by the signature (not to be "
        "relied on): {parts}.",
    ),
    CodeSpec(
        "SIG_PACKAGE_IRREGULAR",
        "9.2a",
        Severity.WARNING,
        "Phần cấu trúc chữ ký (không được ký) của gói tệp có điểm không đúng chuẩn ({reason}); "
        "nội dung đã ký vẫn nguyên vẹn nên chữ ký vẫn được xét.",
        "The unsigned signature plumbing of the package is irregular ({reason}); the signed "
        "content is intact, so the signature is still judged.",
    ),
    CodeSpec(
        "SIG_ORPHAN_PART",
        "9.2a",
        Severity.WARNING,
        "Tệp có phần chữ ký không được liên kết từ gói ({parts}); phần này bị bỏ qua và không "
        "được tính là chữ ký.",
        "The file has signature parts that the package does not link to ({parts}); they are "
        "ignored and do not count as signatures.",
    ),
    CodeSpec(
        "SIG_ENCRYPTED_PACKAGE",
        "9.2a",
        Severity.ERROR,
        "Tệp được bảo vệ bằng mật khẩu (mã hoá) nên không kiểm tra được chữ ký. Hãy gửi bản "
        "không đặt mật khẩu, đã ký số.",
        "The file is password-protected (encrypted), so its signature cannot be checked. Send "
        "a signed copy without a password.",
    ),
    CodeSpec(
        "SIG_SIGNING_TIME_FUTURE",
        "9.2a",
        Severity.WARNING,
        "Thời điểm ký ghi trong chữ ký ({time}) muộn hơn thời điểm kiểm tra; chứng thư được "
        "kiểm tra tại thời điểm hiện tại.",
        "The signing time in the signature ({time}) is later than the time of checking; the "
        "certificate is checked at the current time.",
    ),
    CodeSpec(
        "SIG_SIGNING_TIME_OLD",
        "9.2a",
        Severity.INFO,
        "Thời điểm ký ghi trong chữ ký ({time}) cách quá {days} ngày, do người ký tự khai và "
        "không có dấu thời gian; chứng thư được kiểm tra tại thời điểm hiện tại.",
        "The signing time in the signature ({time}) is more than {days} days old, self-declared "
        "and not time-stamped; the certificate is checked at the current time.",
    ),
    CodeSpec(
        "SIG_TRUST_NOT_CHECKED",
        "9.2a",
        Severity.INFO,
        "Chưa kiểm tra chuỗi chứng thư số của {signer} (chưa cấu hình kiểm tra tin cậy).",
        "The certificate chain of {signer} was not checked (no trust checking configured).",
    ),
    CodeSpec(
        "SIG_REVOCATION_DATA_UNREADABLE",
        "9.2a",
        Severity.ERROR,
        "Dữ liệu thu hồi chứng thư số (CRL/OCSP) hoặc chứng thư đi kèm chữ ký không đọc được "
        "({reason}); chữ ký chưa được xác nhận.",
        "Revocation data (CRL/OCSP) or certificates carried with the signature cannot be read "
        "({reason}); the signature is not confirmed.",
    ),
    CodeSpec(
        "SIG_TRUST_CHECK_FAILED",
        "9.2a",
        Severity.ERROR,
        "Hệ thống không kiểm tra được chứng thư số của {signer} ({reason}); chữ ký chưa được "
        "xác nhận.",
        "The system could not check the certificate of {signer} ({reason}); the signature is "
        "not confirmed.",
    ),
    CodeSpec(
        "SIG_MACRO_SIGNATURE_ONLY",
        "9.2a",
        Severity.WARNING,
        "Tệp {name} chỉ có chữ ký cho macro ({kind}); chữ ký này không ký nội dung văn bản nên "
        "không được tính là chữ ký số của văn bản.",
        "File {name} carries only a macro signature ({kind}); it does not sign the document's "
        "content and does not count as the document's signature.",
    ),
    CodeSpec(
        "SIG_LEGACY_UNVERIFIABLE",
        "9.2a",
        Severity.ERROR,
        "Tệp {name} là định dạng Office cũ ({fmt}) có chữ ký số ({kind}) nhưng chữ ký loại này "
        "không kiểm tra được. Hãy gửi bản DOCX/XLSX/PPTX đã ký số bằng chứng thư của đơn vị, "
        "hoặc bản PDF đã ký số.",
        "File {name} is a legacy Office file ({fmt}) with a signature ({kind}) that cannot be "
        "verified. Send a DOCX/XLSX/PPTX signed with the agency's certificate, or a signed PDF.",
    ),
    CodeSpec(
        "SIG_EMPTY_SIGNATURE_PART",
        "9.2a",
        Severity.INFO,
        "Tệp có phần chữ ký ({part}) nhưng không chứa chữ ký nào.",
        "The file has a signature part ({part}) that holds no signature.",
    ),
    CodeSpec(
        "SIG_SOME_SIGNATURES_BAD",
        "9.2a",
        Severity.WARNING,
        "Tệp {name} có {bad}/{total} chữ ký không được xác nhận ({reason_vi}); văn bản vẫn có chữ "
        "ký hợp lệ của {signer}.",
        "File {name} has {bad} of {total} signatures that are not confirmed ({reason}); the "
        "document still carries a valid signature of {signer}.",
    ),
]

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
    CodeSpec(
        "SIG_SIGNER_NOT_SENDER_UNIT",
        "9.2a",
        Severity.ERROR,
        "Chữ ký trên {name} là của {signer}, không thuộc đơn vị gửi ({agency}); văn bản phải "
        "có chữ ký số của chính đơn vị phát hành (Điều 9.2a).",
        "The signature on {name} is by {signer}, who does not belong to the sending unit "
        "({agency}); the document needs the issuing unit's own signature (Article 9.2a).",
    ),
])
