"""Finding codes of the PDF, scan, seal and detached-CMS checks (Article 9.2b, 9.3)."""

from gateway.model.catalog_types import CodeSpec
from gateway.model.codes_core import REMEDY_93_EN, REMEDY_93_VI
from gateway.model.findings import Action, Severity

CODES: list[CodeSpec] = [
    # -- reading the file ----------------------------------------------------------------
    CodeSpec(
        "PDF_ENCRYPTED",
        "9.2b",
        Severity.ERROR,
        "Tệp PDF {name} được mã hoá bằng mật khẩu nên hệ thống không kiểm tra được nội dung và "
        "chữ ký. Hãy gửi lại bản không đặt mật khẩu.",
        "The PDF {name} is password-protected, so its content and signatures cannot be checked. "
        "Send a copy without a password.",
    ),
    CodeSpec(
        "PDF_UNREADABLE",
        "9.2b",
        Severity.ERROR,
        "Tệp PDF {name} bị hỏng hoặc không đúng cấu trúc ({reason}); không xác nhận được giá trị "
        "pháp lý. Hãy gửi lại tệp nguyên vẹn.",
        "The PDF {name} is damaged or malformed ({reason}); its validity cannot be confirmed. "
        "Send an intact copy.",
    ),
    CodeSpec(
        "PDF_LIMIT",
        "8.3",
        Severity.ERROR,
        "Tệp PDF {name} vượt giới hạn an toàn ({reason}); nội dung không được kiểm tra hết.",
        "The PDF {name} exceeds a safety limit ({reason}); its content was not fully inspected.",
    ),
    CodeSpec(
        "PDF_EMPTY",
        "9.2b",
        Severity.ERROR,
        "Tệp PDF {name} không có trang nào có nội dung; không phải là văn bản.",
        "The PDF {name} has no page with any content; it is not a document.",
    ),
    # -- signatures (attached to one signature) -----------------------------------------
    CodeSpec(
        "PDF_SIGNATURE_BROKEN",
        "9.2b",
        Severity.ERROR,
        "Chữ ký số {field} trong tệp {name} không còn nguyên vẹn ({reason}): nội dung đã bị thay "
        "đổi sau khi ký hoặc chữ ký bị hỏng.",
        "Signature {field} in {name} is broken ({reason}): the content changed after signing "
        "or the signature is damaged.",
    ),
    CodeSpec(
        "PDF_SIGNATURE_UNVERIFIABLE",
        "9.2b",
        Severity.ERROR,
        "Không kiểm tra được chữ ký số {field} trong tệp {name} ({reason}); chữ ký chưa được "
        "xác nhận.",
        "Signature {field} in {name} cannot be verified ({reason}); it is not confirmed.",
    ),
    CodeSpec(
        "PDF_SUBFILTER_UNSUPPORTED",
        "9.2b",
        Severity.ERROR,
        "Chữ ký số {field} trong tệp {name} dùng kiểu {subfilter} không được hỗ trợ; chữ ký chưa "
        "được xác nhận. Hãy ký lại theo chuẩn PAdES "
        "(ETSI.CAdES.detached hoặc adbe.pkcs7.detached).",
        "Signature {field} in {name} uses the unsupported type {subfilter}; it is not confirmed. "
        "Sign again as PAdES (ETSI.CAdES.detached or adbe.pkcs7.detached).",
    ),
    CodeSpec(
        "PDF_MODIFIED_AFTER_SIGNING",
        "9.2b",
        Severity.ERROR,
        "Tệp {name} đã bị sửa đổi sau khi ký chữ ký {field} ({change}); nội dung hiện tại không "
        "được chữ ký bảo đảm.",
        "{name} was changed after signature {field} was made ({change}); the current content is "
        "not protected by that signature.",
    ),
    CodeSpec(
        "PDF_UPDATED_AFTER_SIGNING",
        "9.2b",
        Severity.INFO,
        "Sau chữ ký {field}, tệp {name} có cập nhật được phép ({change}); nội dung đã ký không "
        "thay đổi.",
        "After signature {field}, {name} received permitted updates ({change}); the signed "
        "content is unchanged.",
    ),
    CodeSpec(
        "PDF_SIGNATURE_COVERAGE",
        "9.2b",
        Severity.ERROR,
        "Chữ ký số {field} trong tệp {name} không bao trùm toàn bộ tệp ({reason}); phần ngoài "
        "vùng ký có thể đã bị thêm vào sau khi ký.",
        "Signature {field} in {name} does not cover the whole file ({reason}); the bytes outside "
        "it may have been added after signing.",
    ),
    CodeSpec(
        "PDF_TIMESTAMP_INVALID",
        "9.2b",
        Severity.WARNING,
        "Dấu thời gian của chữ ký {field} trong tệp {name} không hợp lệ ({reason}); thời điểm "
        "ký chưa được chứng minh.",
        "The timestamp of signature {field} in {name} is not valid ({reason}); the signing time "
        "is not proven.",
    ),
    CodeSpec(
        "PDF_DOC_TIMESTAMP_BROKEN",
        "9.2b",
        Severity.ERROR,
        "Dấu thời gian tài liệu {field} trong tệp {name} không còn nguyên vẹn ({reason}): tệp đã "
        "bị thay đổi.",
        "The document timestamp {field} in {name} is broken ({reason}): the file was altered.",
    ),
    CodeSpec(
        "PDF_TIMESTAMP_UNTRUSTED",
        "9.2b",
        Severity.WARNING,
        "Dấu thời gian {field} trong tệp {name} nguyên vẹn nhưng đơn vị cấp dấu thời gian (TSA) "
        "không được tin cậy ({reason}); thời điểm đó chưa được chứng minh nên chữ ký được kiểm "
        "tra tại thời điểm hiện tại.",
        "The timestamp {field} in {name} is intact but its time-stamping authority is not "
        "trusted ({reason}); the time it claims is not proven, so the signature is checked as of "
        "now.",
    ),
    CodeSpec(
        "PDF_CHANGES_UNCHECKED",
        "9.2b",
        Severity.ERROR,
        "Không phân tích được các thay đổi sau chữ ký {field} trong tệp {name} ({reason}); không "
        "xác nhận được nội dung đã ký còn nguyên.",
        "The changes made to {name} after signature {field} could not be analysed ({reason}); "
        "the signed content is not confirmed unchanged.",
    ),
    CodeSpec(
        "PDF_STRUCTURE_REPAIRED",
        "9.2b",
        Severity.WARNING,
        "Cấu trúc tệp PDF {name} bị lỗi ({reason}); hệ thống đã đọc lại theo chế độ sửa lỗi "
        "({mode}) và kiểm tra chữ ký trên đúng các byte gốc. Nên xuất lại tệp bằng phần mềm tạo "
        "PDF chuẩn.",
        "The structure of the PDF {name} is damaged ({reason}); it was read again in repair "
        "mode ({mode}) and its signatures were checked on the original bytes. Re-export the "
        "file with standard PDF software.",
    ),
    CodeSpec(
        "PDF_SIGNATURE_ORPHANED",
        "9.2b",
        Severity.ERROR,
        "Tệp {name} chứa dữ liệu chữ ký số nhưng chữ ký không gắn với trường ký nào của văn bản "
        "(có thể đã bị gỡ khỏi biểu mẫu sau khi ký); chữ ký chưa được xác nhận.",
        "{name} holds signature data that no signature field of the document refers to (it may "
        "have been detached from the form after signing); the signature is not confirmed.",
    ),
    # -- judgement of a non-editable document -------------------------------------------
    CodeSpec(
        "PDF_SIGNATURE_NOT_CONFIRMED",
        "9.2b",
        Severity.ERROR,
        "Tệp {name} có chữ ký số nhưng hệ thống không xác nhận được ({reason_vi}); văn bản chưa có "
        "giá trị pháp lý. " + REMEDY_93_VI,
        "{name} carries a digital signature that the system could not confirm ({reason}); the "
        "document is not legally valid. " + REMEDY_93_EN,
    ),
    CodeSpec(
        "PDF_SIGNED_VALID",
        "9.2",
        Severity.INFO,
        "Tệp {name} có chữ ký số hợp lệ của {signer}.",
        "{name} carries a valid digital signature by {signer}.",
    ),
    CodeSpec(
        "PDF_BORN_DIGITAL_UNSIGNED",
        "9.3",
        Severity.ERROR,
        "Tệp {name} là PDF tạo trực tiếp từ phần mềm (không phải bản quét) và không có chữ ký số "
        "của đơn vị, nên chưa có giá trị pháp lý. " + REMEDY_93_VI,
        "{name} is a PDF produced by software (not a scan) and carries no digital signature of "
        "the agency, so it is not legally valid. " + REMEDY_93_EN,
    ),
    CodeSpec(
        "PDF_MIXED_UNSIGNED",
        "9.3",
        Severity.ERROR,
        "Tệp {name} gồm cả trang quét và trang tạo từ phần mềm (trang {pages}) mà không có chữ "
        "ký số; các trang không phải bản quét chưa có giá trị pháp lý. " + REMEDY_93_VI,
        "{name} mixes scanned pages with software-made pages (pages {pages}) and carries no "
        "digital signature; the pages that are not scans are not legally valid. "
        + REMEDY_93_EN,
    ),
    # -- seal evidence -------------------------------------------------------------------
    CodeSpec(
        "SEAL_FOUND",
        "9.2b",
        Severity.INFO,
        "Tìm thấy dấu đỏ hình tròn (con dấu) trên trang {page} của {name} "
        "(độ tin cậy {confidence}).",
        "A round red stamp (seal) was found on page {page} of {name} (confidence {confidence}).",
    ),
    CodeSpec(
        "SEAL_NOT_FOUND",
        "9.2b",
        Severity.INFO,
        "Không tìm thấy con dấu đỏ trên các trang đã xem của bản quét {name} ({reason}).",
        "No red seal was found on the inspected pages of the scan {name} ({reason}).",
    ),
    CodeSpec(
        "SEAL_REQUIRED_MISSING",
        "9.2b",
        Severity.ERROR,
        "Bản quét {name} không có con dấu đỏ của đơn vị ({reason}) trong khi quy định yêu cầu. "
        "Hãy quét bản gốc đã ký và đóng dấu, quét màu.",
        "The scan {name} shows no red seal of the agency ({reason}) and the rules require one. "
        "Scan the signed and sealed original, in colour.",
    ),
    # -- images ----------------------------------------------------------------------------
    CodeSpec(
        "IMAGE_UNREADABLE",
        "9.2b",
        Severity.ERROR,
        "Không đọc được ảnh {name} ({reason}). Hãy gửi lại bản quét nguyên vẹn.",
        "The image {name} cannot be read ({reason}). Send an intact scan.",
    ),
    # -- detached or enveloping CMS ---------------------------------------------------------
    CodeSpec(
        "CMS_UNREADABLE",
        "9.2",
        Severity.ERROR,
        "Tệp chữ ký {name} bị hỏng hoặc không phải chữ ký CMS/PKCS#7 ({reason}).",
        "The signature file {name} is damaged or not a CMS/PKCS#7 signature ({reason}).",
    ),
    CodeSpec(
        "CMS_ENCRYPTED",
        "9.2",
        Severity.ERROR,
        "Tệp {name} được mã hoá cho người nhận cụ thể (CMS EnvelopedData); cổng không đọc được "
        "nội dung. Hãy gửi văn bản không mã hoá.",
        "{name} is encrypted to particular recipients (CMS EnvelopedData); the gateway cannot "
        "read it. Send the document unencrypted.",
    ),
    CodeSpec(
        "CMS_SIGNATURE_BROKEN",
        "9.2",
        Severity.ERROR,
        "Chữ ký CMS trong {name} không khớp với nội dung đã ký ({reason}).",
        "The CMS signature in {name} does not match the signed content ({reason}).",
    ),
    CodeSpec(
        "CMS_SIGNATURE_UNVERIFIABLE",
        "9.2",
        Severity.ERROR,
        "Không kiểm tra được chữ ký CMS trong {name} ({reason}).",
        "The CMS signature in {name} cannot be verified ({reason}).",
    ),
    CodeSpec(
        "CMS_CONTENT_MISSING",
        "9.2",
        Severity.WARNING,
        "Tệp chữ ký tách rời {name} không đi kèm tệp được ký (tìm theo tên: {expected}); chữ ký "
        "chưa được kiểm tra.",
        "The detached signature {name} arrived without the file it signs (looked for: "
        "{expected}); it was not verified.",
    ),
    CodeSpec(
        "CMS_DETACHED_VERIFIED",
        "9.2",
        Severity.INFO,
        "Chữ ký tách rời {name} khớp với tệp {target} (người ký: {signer}; tin cậy: {trust}).",
        "The detached signature {name} matches {target} (signer: {signer}; trust: {trust}).",
    ),
    CodeSpec(
        "CMS_DETACHED_INVALID",
        "9.2",
        Severity.ERROR,
        "Chữ ký tách rời {name} KHÔNG khớp với tệp {target} ({reason}): tệp có thể đã bị thay đổi "
        "sau khi ký.",
        "The detached signature {name} does NOT match {target} ({reason}): the file may have "
        "been changed after signing.",
    ),
]

# Imported for rules that override actions on these codes.
__all__ = ["CODES", "Action"]
