"""Builders of text-check fixtures: sample texts, legacy-font DOCX/XLSX/PPTX/ODT/RTF/PDF
documents and messages, made by the tests themselves."""
