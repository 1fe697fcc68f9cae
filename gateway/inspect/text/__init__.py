"""Text checks: Vietnamese character set (Article 9.5) and secrecy stamps (Articles 8.2, 12.4).

* :mod:`tables`, :mod:`legacy` — the legacy encodings as data, exact converters;
* :mod:`vietnamese`, :mod:`detect` — syllable scoring, font/charset/content detection;
* :mod:`stamps` — secrecy stamps as marks, never as words in prose;
* :mod:`extract` — text and fonts of DOCX, XLSX, PPTX, ODF, RTF, PDF, HTML and plain text;
* :mod:`inspector` — the document inspector and the message-level check;
* :mod:`convert` — ``hople convert``: legacy text and DOCX/XLSX to Unicode.
"""
