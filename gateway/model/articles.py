"""The provisions of Decision 12/2012/QĐ-UBND that findings cite, with short titles.

A finding's ``article`` must be one of these keys (a convention test checks it). The decision
is data for the operator too: when the province replaces it, this table and the texts of the
finding codes are what change.
"""

from __future__ import annotations

ARTICLES: dict[str, tuple[str, str]] = {
    "3.3": ("Bí mật thông tin tài khoản và nội dung thư", "Confidentiality of accounts and mail"),
    "3.4": ("Địa chỉ công khai, tiếp nhận thư của công dân",
            "Public addresses; mail from citizens"),
    "5.2": ("Dung lượng hộp thư và tệp đính kèm (tối đa 25 MB)",
            "Mailbox quota; 25 MB per attachment"),
    "8.2": ("Không lưu chuyển văn bản, tài liệu có tính mật", "No classified documents"),
    "8.3": ("Không phát tán virus, thư rác", "No viruses or spam"),
    "9.1": ("Các loại văn bản trao đổi qua thư điện tử", "Kinds of documents sent by e-mail"),
    "9.2": ("Tiêu chuẩn để văn bản có giá trị pháp lý", "When a document is legally valid"),
    "9.2a": ("Tệp chỉnh sửa được phải có chữ ký số được xác nhận",
             "Editable files need a verified signature"),
    "9.2b": ("Bản scan PDF hoặc tệp không chỉnh sửa được", "Scanned PDF or non-editable file"),
    "9.3": ("Phát hành văn bản giấy và gửi bản scan", "Issue on paper and send the scan"),
    "9.4": ("Không chấp nhận hộp thư miễn phí", "Free mailboxes are not accepted"),
    "9.5": ("Bộ mã chữ Việt TCVN 6909:2001 (Unicode)", "Vietnamese character set TCVN 6909:2001"),
    "11.2e": ("Lưu trữ nhật ký hệ thống 12 tháng", "System logs kept 12 months"),
    "12.1": ("Mật khẩu tối thiểu 8 ký tự, đổi khi đăng nhập lần đầu", "Password rules"),
    "12.4": ("Báo cáo khi phát hiện tài liệu mật", "Report classified documents found"),
}


def article_label_vi(article: str) -> str:
    """``9.2a`` → ``điểm a khoản 2 Điều 9``; ``5.2`` → ``khoản 2 Điều 5``."""
    parts = article.split(".")
    if len(parts) == 1:
        return f"Điều {parts[0]}"
    art, clause = parts[0], parts[1]
    point = clause.lstrip("0123456789")
    number = clause[: len(clause) - len(point)]
    out = f"khoản {number} Điều {art}"
    return f"điểm {point} {out}" if point else out
