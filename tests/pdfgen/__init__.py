"""Generators of test PDFs and scans: built from scratch by the tests, never copied from outside.

``build``: a small PDF writer (pages of text, images, vector art, form fields).
``scans``: page images like those a scanner produces (text, a red seal, a blue signature)
and counter-examples (red headings, red logos, no seal).
``sign``: signing and post-signing changes with pyHanko.
"""
