"""Finding codes of the gateway core: senders, sizes, containers, types, failures."""

from gateway.model.catalog_types import CodeSpec
from gateway.model.findings import Action, Severity

REMEDY_93_VI = (
    "Theo Điều 9.3, đơn vị phải ban hành văn bản giấy, quét (scan) sang PDF và gửi "
    "bản quét tới tất cả nơi nhận; hoặc ký số văn bản bằng chứng thư số của đơn vị."
)
REMEDY_93_EN = (
    "Under Article 9.3 the agency must issue the document on paper, scan it to PDF and "
    "e-mail the scan to every recipient; or sign the file with the agency's certificate."
)

CODES: list[CodeSpec] = [
    CodeSpec(
        "SENDER_FREEMAIL",
        "9.4",
        Severity.ERROR,
        "Văn bản gửi từ hộp thư miễn phí ({domain}) không được chấp nhận (Điều 9.4): coi như "
        "đơn vị chưa gửi. Hãy gửi lại từ hộp thư công vụ của đơn vị.",
        "Documents sent from a free mailbox ({domain}) are not accepted (Article 9.4): the "
        "agency is treated as having sent nothing. Send again from the agency's official mailbox.",
        Action.REJECT,
    ),
    CodeSpec(
        "SENDER_FREEMAIL_NO_DOCUMENTS",
        "9.4",
        Severity.WARNING,
        "Thư gửi từ hộp thư miễn phí ({domain}): được chuyển nhưng không phải là văn bản chính "
        "thức của cơ quan nhà nước (Điều 9.4, Điều 3.4).",
        "Mail from a free mailbox ({domain}): delivered, but it is not an official document of "
        "a state agency (Articles 9.4 and 3.4).",
    ),
    CodeSpec(
        "ATTACHMENT_TOO_LARGE",
        "5.2",
        Severity.ERROR,
        "Tệp đính kèm {name} có dung lượng {size} byte, vượt giới hạn {limit} byte cho mỗi tệp "
        "(Điều 5.2). Hãy chia nhỏ hoặc nén tệp.",
        "Attachment {name} is {size} bytes, over the limit of {limit} bytes per file "
        "(Article 5.2). Split or compress it.",
        Action.REJECT,
        "552 5.3.4",
    ),
    CodeSpec(
        "EDITABLE_NOT_SIGNED",
        "9.2a",
        Severity.ERROR,
        "Tệp {name} là định dạng có thể chỉnh sửa nhưng không có chữ ký số của đơn vị (Điều 9.2a). "
        + REMEDY_93_VI,
        "File {name} is editable but carries no digital signature of the agency (Article 9.2a). "
        + REMEDY_93_EN,
    ),
    CodeSpec(
        "EDITABLE_SIGNATURE_UNVERIFIED",
        "9.2a",
        Severity.ERROR,
        "Tệp {name} có chữ ký số nhưng hệ thống chưa xác nhận được chữ ký ({reason_vi}); tệp chưa "
        "có giá trị pháp lý (Điều 9.2a). " + REMEDY_93_VI,
        "File {name} carries a signature that the system could not confirm ({reason}); it is "
        "not legally valid (Article 9.2a). " + REMEDY_93_EN,
    ),
    CodeSpec(
        "TYPE_MISMATCH",
        "9.2",
        Severity.WARNING,
        "Tên tệp {name} cho biết định dạng {declared} nhưng nội dung là {actual}; hệ thống "
        "đánh giá theo nội dung.",
        "The name {name} says {declared} but the content is {actual}; the file is judged by "
        "its content.",
    ),
    CodeSpec(
        "ARCHIVE_LIMIT",
        "8.3",
        Severity.ERROR,
        "Tệp nén {name} vượt giới hạn an toàn ({reason}); nội dung không được kiểm tra.",
        "Archive {name} exceeds a safety limit ({reason}); its content was not inspected.",
    ),
    CodeSpec(
        "ARCHIVE_UNREADABLE",
        "9.2",
        Severity.ERROR,
        "Tệp nén {name} bị hỏng hoặc được mã hoá ({reason}); "
        "không kiểm tra được văn bản bên trong.",
        "Archive {name} is damaged or encrypted ({reason}); "
        "the documents inside cannot be checked.",
    ),
    CodeSpec(
        "ARCHIVE_ENCRYPTED",
        "9.2",
        Severity.ERROR,
        "Tệp nén {name} ({format}) được đặt mật khẩu hoặc mã hoá ({reason}) nên hệ thống không "
        "kiểm tra được các văn bản bên trong. Hãy gửi lại tệp nén không đặt mật khẩu.",
        "Archive {name} ({format}) is password-protected or encrypted ({reason}), so the "
        "documents inside cannot be inspected. Send the archive again without a password.",
    ),
    CodeSpec(
        "MIME_LIMIT",
        "8.3",
        Severity.ERROR,
        "Thư có cấu trúc vượt giới hạn an toàn ({reason}); phần vượt quá không được kiểm tra.",
        "The message structure exceeds a safety limit ({reason}); the excess was not inspected.",
        Action.ACCEPT,
        "554 5.6.0",
    ),
    CodeSpec(
        "MIME_MALFORMED",
        "9.2",
        Severity.ERROR,
        "Một phần của thư bị lỗi định dạng và không đọc được ({reason}); phần đó chưa được "
        "kiểm tra.",
        "Part of the message is malformed and could not be read ({reason}); it was not "
        "inspected.",
    ),
    CodeSpec(
        "DOCUMENT_UNREADABLE",
        "9.2",
        Severity.ERROR,
        "Không đọc được tệp {name} ({reason}). Hãy gửi lại tệp nguyên vẹn.",
        "File {name} could not be read ({reason}). Send an intact copy.",
    ),
    CodeSpec(
        "INSPECTION_FAILED",
        "9.2",
        Severity.ERROR,
        "Hệ thống không kiểm tra được tệp {name} ({reason}); tệp chưa được xác nhận là hợp lệ.",
        "The system could not inspect {name} ({reason}); it is not confirmed as valid.",
    ),
    CodeSpec(
        "NON_EDITABLE_ACCEPTED",
        "9.2b",
        Severity.INFO,
        "Tệp {name} là định dạng không chỉnh sửa được; có giá trị nếu là bản quét từ bản gốc có "
        "chữ ký và con dấu (Điều 9.2b).",
        "File {name} is non-editable; valid when scanned from the signed and sealed original "
        "(Article 9.2b).",
    ),
    CodeSpec(
        "OTHER_ATTACHMENT",
        "9.1",
        Severity.INFO,
        "Tệp {name} ({media_type}) không phải là văn bản; không đánh giá giá trị pháp lý.",
        "File {name} ({media_type}) is not a document; its legal validity is not assessed.",
    ),
    CodeSpec(
        "VERDICT_HEADER_REMOVED",
        "9.2",
        Severity.INFO,
        "Đã gỡ tiêu đề {header} do người gửi tự đặt; chỉ cổng kiểm tra được ghi kết luận.",
        "Removed the header {header} set by the sender; only the gateway may state a verdict.",
    ),
    CodeSpec(
        "GATEWAY_UNCHECKED",
        "9.2",
        Severity.WARNING,
        "Cổng kiểm tra không kết luận được ({reason}); thư được chuyển nhưng CHƯA ĐƯỢC KIỂM TRA.",
        "The gateway could not decide ({reason}); the message was delivered UNCHECKED.",
    ),
    CodeSpec(
        "PART_UNIDENTIFIED",
        "9.2",
        Severity.WARNING,
        "Không nhận diện được nội dung tệp {name} ({media_type}); hệ thống không kiểm tra được "
        "tệp này nên không xác nhận được giá trị pháp lý của thư. Hãy gửi văn bản ở định dạng "
        "thông dụng (PDF, DOCX, ODT…).",
        "The content of {name} ({media_type}) could not be identified; the gateway could not "
        "inspect it, so it cannot confirm the message. Send documents in a common format "
        "(PDF, DOCX, ODT…).",
    ),
    CodeSpec(
        "CONTAINER_UNSUPPORTED",
        "9.2",
        Severity.WARNING,
        "Tệp {name} là tệp nén/đóng gói dạng {format} mà hệ thống chưa mở được; các văn bản bên "
        "trong chưa được kiểm tra. Hãy đính kèm trực tiếp văn bản hoặc nén bằng ZIP.",
        "{name} is a {format} container the gateway cannot open; the documents inside were not "
        "inspected. Attach the documents directly or in a ZIP archive.",
    ),
    CodeSpec(
        "PACKAGE_DAMAGED",
        "9.2a",
        Severity.ERROR,
        "Tệp {name} là văn bản {kind} có thể chỉnh sửa nhưng cấu trúc gói tệp bị hỏng ({reason}); "
        "tệp không có giá trị pháp lý và chữ ký số (nếu có) không được chấp nhận. " + REMEDY_93_VI,
        "{name} is an editable {kind} document whose package is damaged ({reason}); it is not "
        "legally valid and its signature, if any, is not accepted. " + REMEDY_93_EN,
    ),
    CodeSpec(
        "FORMAT_POLYGLOT",
        "9.2",
        Severity.WARNING,
        "Tệp {name} đồng thời là {first} và {second}; hệ thống kiểm tra cả hai cách đọc và áp "
        "dụng kết quả chặt chẽ hơn.",
        "{name} is at once {first} and {second}; both readings were checked and the stricter "
        "one applies.",
    ),
    CodeSpec(
        "TNEF_UNREADABLE",
        "9.2",
        Severity.ERROR,
        "Không đọc được tệp {name} (định dạng TNEF/winmail.dat của Outlook: {reason}); các văn "
        "bản bên trong chưa được kiểm tra. Hãy soạn thư ở dạng HTML hoặc văn bản thường rồi gửi "
        "lại.",
        "{name} (Outlook's TNEF/winmail.dat) could not be read ({reason}); the documents inside "
        "were not checked. Write the message as HTML or plain text and send it again.",
    ),
    CodeSpec(
        "UUENCODE_DAMAGED",
        "9.2",
        Severity.ERROR,
        "Tệp {name} mã hoá uuencode trong nội dung thư bị hỏng ({reason}); chưa kiểm tra được. "
        "Hãy đính kèm tệp theo cách thông thường.",
        "The uuencoded file {name} in the message body is damaged ({reason}) and was not "
        "checked. Attach the file the usual way.",
    ),
]
