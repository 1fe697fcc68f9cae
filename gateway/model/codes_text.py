"""Finding codes of the text checks: Unicode (Article 9.5) and secrecy stamps (8.2, 12.4)."""

from gateway.model.catalog_types import CodeSpec
from gateway.model.findings import Action, Severity

_CONVERT_VI = (
    "Hãy chuyển văn bản sang Unicode (ví dụ bằng lệnh `hople convert` hoặc công cụ chuyển mã "
    "của UniKey) và dùng phông Unicode như Times New Roman, rồi gửi lại."
)
_CONVERT_EN = (
    "Convert the text to Unicode (for instance with `hople convert` or UniKey's converter), "
    "use a Unicode font such as Times New Roman, and send it again."
)
_HOLD_VI = (
    "Điều 8.2 cấm gửi văn bản mật qua hệ thống thư điện tử công vụ. Thư được giữ lại, chưa "
    "chuyển đi; người gửi và bộ phận bảo mật ({contact}) được báo để xử lý theo Điều 12.4."
)
_HOLD_EN = (
    "Article 8.2 forbids sending classified documents over the official mail system. The "
    "message is held, not delivered; the sender and the security contact ({contact}) are "
    "told so that it is handled under Article 12.4."
)

CODES: list[CodeSpec] = [
    CodeSpec(
        "TEXT_LEGACY_FONT",
        "9.5",
        Severity.ERROR,
        "Tệp {name} có văn bản gõ bằng phông {font} (bảng mã {encoding}), không theo bộ mã "
        "TCVN 6909:2001 (Unicode) như Điều 9.5 yêu cầu: {count} chỗ, đầu tiên tại {at}: "
        "«{snippet}». " + _CONVERT_VI,
        "File {name} has text typed in the font {font} ({encoding} encoding), not in the "
        "TCVN 6909:2001 (Unicode) character set that Article 9.5 requires: {count} place(s), "
        "first at {at}: «{snippet}». " + _CONVERT_EN,
    ),
    CodeSpec(
        "TEXT_LEGACY_CONTENT",
        "9.5",
        Severity.ERROR,
        "Văn bản trong tệp {name} là chữ Việt mã {encoding}, không phải Unicode TCVN 6909:2001 "
        "(Điều 9.5), tại {at}: «{snippet}». " + _CONVERT_VI,
        "Text in file {name} is Vietnamese in the {encoding} encoding, not TCVN 6909:2001 "
        "Unicode (Article 9.5), at {at}: «{snippet}». " + _CONVERT_EN,
    ),
    CodeSpec(
        "TEXT_DECOMPOSED",
        "9.5",
        Severity.WARNING,
        "Văn bản trong tệp {name} dùng Unicode tổ hợp (dấu thanh tách rời) tại {at}; nên "
        "dùng Unicode dựng sẵn (NFC): «{snippet}».",
        "Text in file {name} uses decomposed Unicode (separate tone marks) at {at}; the "
        "precomposed form (NFC) is preferred: «{snippet}».",
    ),
    CodeSpec(
        "TEXT_UNCHECKED",
        "9.5",
        Severity.ERROR,
        "Không đọc được chữ của tệp {name} ({reason}) nên không kiểm tra được bộ mã chữ Việt "
        "(Điều 9.5) và dấu độ mật (Điều 8.2); tệp chưa thể coi là hợp lệ. Hãy mở tệp bằng "
        "chương trình đã tạo ra nó, lưu lại (tệp rất lớn thì tách thành nhiều tệp) và gửi lại.",
        "The text of file {name} could not be read ({reason}), so its Vietnamese character set "
        "(Article 9.5) and secrecy marks (Article 8.2) could not be checked; it cannot be "
        "accepted as valid. Open it in the program that made it, save it again (split a very "
        "large file into several) and send it again.",
    ),
    CodeSpec(
        "ENCODING_LEGACY_CHARSET",
        "9.5",
        Severity.WARNING,
        "{where} khai báo bảng mã {charset} (chữ Việt cũ, không phải Unicode TCVN 6909:2001, "
        "Điều 9.5). Nội dung: «{snippet}». Hãy cấu hình chương trình thư gửi bằng UTF-8.",
        "{where} is declared in the legacy Vietnamese charset {charset}, not TCVN 6909:2001 "
        "Unicode (Article 9.5). It reads: «{snippet}». Set the mail program to send UTF-8.",
    ),
    CodeSpec(
        "ENCODING_MOJIBAKE",
        "9.5",
        Severity.WARNING,
        "{where} khai báo bảng mã {charset} nhưng nội dung thực ra là chữ Việt mã {encoding} "
        "(hiển thị sai, Điều 9.5). Chuyển đúng: «{snippet}». " + _CONVERT_VI,
        "{where} is declared as {charset} but its text is really Vietnamese in {encoding} "
        "(it shows garbled; Article 9.5). Correctly converted: «{snippet}». " + _CONVERT_EN,
    ),
    CodeSpec(
        "ENCODING_DECOMPOSED",
        "9.5",
        Severity.WARNING,
        "{where} dùng Unicode tổ hợp (dấu thanh tách rời); nên dùng Unicode dựng sẵn (NFC): "
        "«{snippet}».",
        "{where} uses decomposed Unicode (separate tone marks); the precomposed form (NFC) is "
        "preferred: «{snippet}».",
    ),
    CodeSpec(
        "ENCODING_INVALID",
        "9.5",
        Severity.WARNING,
        "{where} khai báo bảng mã {charset} nhưng có byte không hợp lệ với bảng mã đó; nội "
        "dung có thể hiển thị sai.",
        "{where} is declared as {charset} but has bytes that are not valid in it; the text "
        "may show garbled.",
    ),
    CodeSpec(
        "SECRET_STAMP",
        "8.2",
        Severity.ERROR,
        "Tệp {name} mang dấu độ mật «{level}» tại {at}. " + _HOLD_VI,
        "File {name} carries the secrecy mark «{level}» at {at}. " + _HOLD_EN,
        Action.HOLD,
    ),
    CodeSpec(
        "SECRET_SUBJECT",
        "8.2",
        Severity.ERROR,
        "Tiêu đề thư ghi độ mật «{level}»: «{snippet}». " + _HOLD_VI,
        "The subject marks the message «{level}»: «{snippet}». " + _HOLD_EN,
        Action.HOLD,
    ),
    CodeSpec(
        "SECRET_BODY",
        "8.2",
        Severity.ERROR,
        "Nội dung thư mang dấu độ mật «{level}» ({at}). " + _HOLD_VI,
        "The message text carries the secrecy mark «{level}» ({at}). " + _HOLD_EN,
        Action.HOLD,
    ),
    CodeSpec(
        "SECRET_HINT",
        "8.2",
        Severity.WARNING,
        "Có dấu hiệu văn bản mật «{level}» ({at}: {reason}); hệ thống chưa khẳng định. Văn "
        "bản mật không được gửi qua thư điện tử (Điều 8.2).",
        "A possible secrecy mark «{level}» ({at}: {reason}); not conclusive. Classified "
        "documents must not be sent by e-mail (Article 8.2).",
    ),
]
