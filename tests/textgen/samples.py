"""Sample texts: Vietnamese written for these tests, and other languages that must never
be taken for legacy Vietnamese."""

from __future__ import annotations

from pathlib import Path

REGULATION = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "regulation"
    / "decision-12-2012-QD-UBND.vi.txt"
)


def regulation_text() -> str | None:
    """The decision's full Vietnamese text when the shared folder is beside the repo."""
    try:
        return REGULATION.read_text(encoding="utf-8")
    except OSError:
        return None


VIETNAMESE = {
    "header": (
        "ỦY BAN NHÂN DÂN TỈNH ĐẮK NÔNG\n"
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
        "Độc lập - Tự do - Hạnh phúc\n"
        "Số: 125/UBND-VP\n"
        "Đắk Nông, ngày 17 tháng 8 năm 2012\n"
    ),
    "letter": (
        "Kính gửi: Sở Thông tin và Truyền thông.\n"
        "Thực hiện chỉ đạo của Ủy ban nhân dân tỉnh về việc tăng cường sử dụng hệ thống thư "
        "điện tử trong hoạt động của các cơ quan nhà nước, Văn phòng đề nghị các đơn vị rà "
        "soát danh sách hộp thư, cập nhật mật khẩu theo quy định và báo cáo kết quả trước "
        "ngày 30 tháng 9 năm 2024. Đề nghị các đơn vị nghiêm túc thực hiện.\n"
        "Nơi nhận: như trên; lưu VT.\n"
    ),
    "prose_secret_words": (
        "Cán bộ phải giữ bí mật mật khẩu hộp thư, bảo mật thông tin và không tiết lộ bí mật "
        "nhà nước. Mật độ dân số của tỉnh tăng; sản lượng mật ong và mía đường ổn định. "
        "Hai đơn vị có quan hệ mật thiết, thân mật.\n"
    ),
    "urgency": "HỎA TỐC\nTHƯỢNG KHẨN\nKHẨN\nV/v triển khai kế hoạch năm 2024\n",
}

OTHER_LANGUAGES = {
    "english": (
        "Dear colleagues, please find attached the quarterly report. The meeting is moved to "
        "Thursday at 10 a.m. in room 204. Let me know if you have any questions. "
        "Regards, the IT team. P.S. The café downstairs is closed; résumés go to HR.\n"
    ),
    "french": (
        "Madame, Monsieur, nous avons l'honneur de vous transmettre le compte rendu de la "
        "réunion du comité. Où en êtes-vous du déménagement ? L'été dernier, la fête a été "
        "très réussie ; les élèves ont été ravis. Veuillez agréer nos salutations distinguées.\n"
    ),
    "german": (
        "Sehr geehrte Damen und Herren, anbei übersenden wir Ihnen die Unterlagen für die "
        "Sitzung am Dienstag. Bitte prüfen Sie die Änderungen bis zum Freitag. Die Größe der "
        "Dateien ist über dem üblichen Maß. Mit freundlichen Grüßen, Jürgen Müller.\n"
    ),
    "spanish": (
        "Estimados señores: les enviamos el informe anual. ¿Podrían confirmar la recepción? "
        "La reunión será el miércoles por la mañana. Sí, también está invitado el señor "
        "Muñoz. Atentamente, la administración.\n"
    ),
    "portuguese": (
        "Prezados senhores, não foi possível concluir a instalação. A reunião será às três "
        "horas; a cooperação entre as equipes é essencial. Obrigado pela atenção.\n"
    ),
    "italian": (
        "Gentili colleghi, la riunione è rinviata a lunedì. Perché non è arrivato il "
        "documento? Più tardi verificherò l'attività del gruppo. Cordiali saluti.\n"
    ),
    "russian": (
        "Уважаемые коллеги, направляем вам отчёт о проделанной работе. Просим рассмотреть "
        "документы до пятницы. С уважением, отдел информационных технологий.\n"
    ),
    "chinese": "各位同事：附件是本季度的工作报告，请在星期五之前审阅并提出意见。谢谢！\n",
    "czech": "Vážení kolegové, v příloze zasíláme zprávu o činnosti. Děkujeme za spolupráci.\n",
    "turkish": "Sayın yetkili, ekteki belgeleri incelemenizi rica ederiz. Saygılarımızla.\n",
    "icelandic": "Góðan daginn, hér er skýrslan fyrir þennan mánuð. Kær kveðja, Þórður.\n",
}


def vietnamese_corpus() -> str:
    """All the Vietnamese texts, plus the decision when it is present."""
    parts = list(VIETNAMESE.values())
    reg = regulation_text()
    if reg:
        parts.append(reg)
    return "\n".join(parts)


_TRANSLIT = {"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-", "…": "...", "\u00a0": " "}


def plain_punctuation(text: str) -> str:
    """Typographic punctuation to ASCII, for encodings that have no room for it (VISCII and
    VPS use every byte 0x80–0x9F for letters)."""
    return "".join(_TRANSLIT.get(c, c) for c in text)
