"""Notice templates: plain-text files in ``rules/notices/``, loaded and checked once at start.

A template set is a directory holding:

- ``invalid.txt`` (a delivered message with documents that are not legally valid),
  ``held.txt`` (a held message, to its sender) and ``security.txt`` (a held classified
  message, to the security contact): a ``Subject:`` line, an empty line, then the body,
  Vietnamese first and English below;
- ``document.vi.txt`` / ``document.en.txt``: one document's block in each language;
- ``finding.vi.txt`` / ``finding.en.txt``: one finding's lines;
- ``remedy.vi.txt`` / ``remedy.en.txt``: one remedy's line;
- ``texts.toml``: the words the templates are filled with (remedy per article, layer per
  finding-code prefix, verdict and severity words, the sender's display name).

Placeholders are ``{name}`` (``{{`` and ``}}`` for literal braces); each template accepts
only the names listed in :data:`FIELDS`. Loading fails with the file and the reason when a
template is missing, is not UTF-8 or not in Unicode NFC, names an unknown placeholder, uses
a conversion, format spec, attribute or index, lacks its ``Subject:`` line or a required
placeholder, or when ``texts.toml`` has an unknown key or article.
"""

from __future__ import annotations

import string
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.model.articles import ARTICLES
from gateway.policy.strict import RulesError

MESSAGE_FIELDS = frozenset({
    "sender", "recipients", "subject", "message_id", "date", "queue_id", "decision_id",
    "decided_at", "verdict_vi", "verdict_en", "documents_vi", "documents_en",
    "document_count", "invalid_count", "uninspected_count", "codes", "security_contact",
    "gateway_address",
})
DOCUMENT_FIELDS = frozenset({"index", "path", "verdict", "findings", "remedies"})
FINDING_FIELDS = frozenset({
    "code", "article", "article_label", "article_title", "layer", "severity", "text", "place",
})
REMEDY_FIELDS = frozenset({"article", "article_label", "article_title", "text"})

MESSAGE_KINDS = ("invalid", "held", "security")
OPTIONAL_MESSAGE_KINDS = ("uninspected",)
"""Notices a template set may lack (sets written before they existed): ``invalid.txt`` is
used instead."""
FIELDS: dict[str, frozenset[str]] = {
    **{f"{k}.txt": MESSAGE_FIELDS for k in MESSAGE_KINDS + OPTIONAL_MESSAGE_KINDS},
    **{f"document.{lang}.txt": DOCUMENT_FIELDS for lang in ("vi", "en")},
    **{f"finding.{lang}.txt": FINDING_FIELDS for lang in ("vi", "en")},
    **{f"remedy.{lang}.txt": REMEDY_FIELDS for lang in ("vi", "en")},
}
"""Every template file and the placeholders it may use."""

REQUIRED: dict[str, frozenset[str]] = {
    **{f"{k}.txt": frozenset({"documents_vi", "documents_en"})
       for k in MESSAGE_KINDS + OPTIONAL_MESSAGE_KINDS},
    **{f"document.{lang}.txt": frozenset({"path", "findings"}) for lang in ("vi", "en")},
    **{f"finding.{lang}.txt": frozenset({"text"}) for lang in ("vi", "en")},
    **{f"remedy.{lang}.txt": frozenset({"text"}) for lang in ("vi", "en")},
}
"""Placeholders a template must use (a notice without its findings would be useless)."""

TEXTS = "texts.toml"
VERDICT_WORDS = ("valid", "invalid", "not-applicable")
OPTIONAL_VERDICT_WORDS = ("uninspected",)
"""Words a template set may lack (sets written before they existed): the verdict's own name
is shown instead."""
SEVERITY_WORDS = ("error", "warning", "info")
MAX_TEMPLATE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Words:
    """One language's words from ``texts.toml``."""

    verdicts: Mapping[str, str]
    severities: Mapping[str, str]
    message_label: str
    """How the message itself is named where its own findings are listed."""


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    fields: frozenset[str]

    def render(self, values: Mapping[str, Any]) -> str:
        """Fill the placeholders (all checked at load time, so this never fails)."""
        return self.text.format_map({k: "" if values.get(k) is None else str(values[k])
                                     for k in self.fields})


@dataclass(frozen=True)
class MessageTemplate:
    subject: Template
    body: Template


@dataclass(frozen=True)
class TemplateSet:
    directory: Path
    messages: Mapping[str, MessageTemplate]
    documents: Mapping[str, Template]
    findings: Mapping[str, Template]
    remedies: Mapping[str, Template]
    from_name: str
    remedy_texts: Mapping[str, Mapping[str, str]]
    """Article (or ``default``) → language → remedy text."""
    layers: Mapping[str, Mapping[str, str]]
    """Finding-code prefix (or ``default``) → language → layer name."""
    words: Mapping[str, Words] = field(default_factory=dict)

    def remedy(self, article: str, lang: str) -> str:
        """The remedy for ``article``: its own, else its clause's (``9.2a`` → ``9.2``), else
        the default."""
        for key in (article, article.rstrip("abcdefghijklmnopqrstuvwxyz"), "default"):
            if key in self.remedy_texts:
                return self.remedy_texts[key][lang]
        return self.remedy_texts["default"][lang]

    def has_remedy(self, article: str) -> bool:
        return article in self.remedy_texts or \
            article.rstrip("abcdefghijklmnopqrstuvwxyz") in self.remedy_texts

    def layer(self, code: str, lang: str) -> str:
        """The layer of a finding code: the longest matching prefix, else the default."""
        best = ""
        for prefix in self.layers:
            if prefix != "default" and code.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        return self.layers[best or "default"][lang]


def _fail(path: Path, reason: str, key: str = "") -> RulesError:
    return RulesError(str(path), key, reason)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _fail(path, "missing template") from None
    except OSError as exc:
        raise _fail(path, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise _fail(path, f"larger than {MAX_TEMPLATE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not unicodedata.is_normalized("NFC", text):
        raise _fail(path, "not in Unicode NFC (Vietnamese must use precomposed letters, "
                          "TCVN 6909:2001)")
    return text.replace("\r\n", "\n")


def _check_placeholders(path: Path, text: str, allowed: frozenset[str],
                        required: frozenset[str], what: str = "") -> frozenset[str]:
    where = f" in the {what}" if what else ""
    used: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise _fail(path, f"bad placeholder syntax{where}: {exc} (write {{{{ and }}}} for "
                          "literal braces)") from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise _fail(path, f"positional placeholder {{{name}}}{where}: use a name "
                              f"({', '.join(sorted(allowed))})")
        if not name.isidentifier():
            raise _fail(path, f"placeholder {{{name}}}{where}: attributes and indexes are "
                              "not allowed")
        if conversion or spec:
            raise _fail(path, f"placeholder {{{name}}}{where}: conversions and format specs "
                              "are not allowed")
        if name not in allowed:
            raise _fail(path, f"unknown placeholder {{{name}}}{where} (known: "
                              f"{', '.join(sorted(allowed))})")
        used.add(name)
    return frozenset(used)


def _template(path: Path, name: str, text: str, what: str = "") -> Template:
    allowed = FIELDS[name]
    _check_placeholders(path, text, allowed, frozenset(), what)
    return Template(name, text, allowed)


def _message(path: Path, name: str) -> MessageTemplate:
    text = _read_text(path)
    head, sep, body = text.partition("\n")
    if not head.startswith("Subject:"):
        raise _fail(path, "the first line must be 'Subject: …'")
    if sep and body[:1] not in ("\n", ""):
        raise _fail(path, "an empty line must follow the Subject line")
    subject_text = head[len("Subject:"):].strip()
    if not subject_text:
        raise _fail(path, "the Subject line is empty")
    body = body[1:] if body.startswith("\n") else body
    if not body.strip():
        raise _fail(path, "the body is empty")
    subject = _template(path, name, subject_text, "subject")
    tmpl = _template(path, name, body, "body")
    used = _check_placeholders(path, subject_text + "\n" + body, FIELDS[name], frozenset())
    missing = REQUIRED[name] - used
    if missing:
        raise _fail(path, f"required placeholder(s) missing: "
                          f"{', '.join('{' + m + '}' for m in sorted(missing))}")
    return MessageTemplate(subject, tmpl)


def _fragment(directory: Path, name: str) -> Template:
    path = directory / name
    text = _read_text(path)
    if not text.strip():
        raise _fail(path, "the template is empty")
    text = text.rstrip("\n")
    used = _check_placeholders(path, text, FIELDS[name], frozenset())
    missing = REQUIRED[name] - used
    if missing:
        raise _fail(path, f"required placeholder(s) missing: "
                          f"{', '.join('{' + m + '}' for m in sorted(missing))}")
    return Template(name, text, FIELDS[name])


def _lang_pair(path: Path, key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _fail(path, "expected a table with vi and en", key)
    extra = set(value) - {"vi", "en"}
    if extra:
        raise _fail(path, f"unknown key {sorted(extra)[0]!r} (known keys: en, vi)", key)
    out: dict[str, str] = {}
    for lang in ("vi", "en"):
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise _fail(path, f"{lang} must be a non-empty string", key)
        if not unicodedata.is_normalized("NFC", text):
            raise _fail(path, f"{lang} is not in Unicode NFC", key)
        out[lang] = text.strip()
    return out


def _words(path: Path, data: dict[str, Any], lang: str) -> Words:
    def table(name: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str]:
        t = data.get(name, {}).get(lang)
        if not isinstance(t, dict):
            raise _fail(path, "missing table", f"{name}.{lang}")
        extra = set(t) - set(keys) - set(optional)
        if extra:
            raise _fail(path, f"unknown key (known keys: {', '.join(keys)})",
                        f"{name}.{lang}.{sorted(extra)[0]}")
        out: dict[str, str] = {}
        for k in keys:
            v = t.get(k)
            if not isinstance(v, str) or not v.strip():
                raise _fail(path, "must be a non-empty string", f"{name}.{lang}.{k}")
            out[k] = v.strip()
        for k in optional:
            v = t.get(k)
            if v is not None:
                if not isinstance(v, str) or not v.strip():
                    raise _fail(path, "must be a non-empty string", f"{name}.{lang}.{k}")
                out[k] = v.strip()
        return out

    label = data.get("message-label", {})
    if not isinstance(label, dict) or not isinstance(label.get(lang), str):
        raise _fail(path, "missing string", f"message-label.{lang}")
    return Words(table("verdicts", VERDICT_WORDS, OPTIONAL_VERDICT_WORDS),
                 table("severities", SEVERITY_WORDS),
                 label[lang].strip())


def _texts(directory: Path) -> tuple[str, dict[str, dict[str, str]], dict[str, dict[str, str]],
                                     dict[str, Words]]:
    path = directory / TEXTS
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"not valid TOML: {exc}") from None
    known = {"from-name", "message-label", "verdicts", "severities", "layers", "remedies"}
    for key in data:
        if key not in known:
            raise _fail(path, f"unknown key (known keys: {', '.join(sorted(known))})", key)
    from_name = data.get("from-name")
    if not isinstance(from_name, str) or not from_name.strip():
        raise _fail(path, "must be a non-empty string", "from-name")
    remedies: dict[str, dict[str, str]] = {}
    for article, value in (data.get("remedies") or {}).items():
        if article != "default" and article not in ARTICLES:
            raise _fail(path, f"no such article (known: {', '.join(ARTICLES)}, default)",
                        f"remedies.{article}")
        remedies[article] = _lang_pair(path, f"remedies.{article}", value)
    if "default" not in remedies:
        raise _fail(path, "missing (the remedy for articles without their own)",
                    "remedies.default")
    layers: dict[str, dict[str, str]] = {}
    for prefix, value in (data.get("layers") or {}).items():
        if prefix != "default" and not (prefix.isupper() or prefix.endswith("_")):
            raise _fail(path, "a layer key is a finding-code prefix such as SIG_",
                        f"layers.{prefix}")
        layers[prefix] = _lang_pair(path, f"layers.{prefix}", value)
    if "default" not in layers:
        raise _fail(path, "missing", "layers.default")
    words = {lang: _words(path, data, lang) for lang in ("vi", "en")}
    return from_name.strip(), remedies, layers, words


def load_templates(directory: Path) -> TemplateSet:
    """Load and check every template in ``directory``.

    :raises RulesError: naming the file (and key, for ``texts.toml``) and the reason.
    """
    if not directory.is_dir():
        raise _fail(directory, "notice template directory does not exist")
    messages = {k: _message(directory / f"{k}.txt", f"{k}.txt") for k in MESSAGE_KINDS}
    for k in OPTIONAL_MESSAGE_KINDS:
        messages[k] = (_message(directory / f"{k}.txt", f"{k}.txt")
                       if (directory / f"{k}.txt").exists() else messages["invalid"])
    docs = {lang: _fragment(directory, f"document.{lang}.txt") for lang in ("vi", "en")}
    finds = {lang: _fragment(directory, f"finding.{lang}.txt") for lang in ("vi", "en")}
    rems = {lang: _fragment(directory, f"remedy.{lang}.txt") for lang in ("vi", "en")}
    from_name, remedies, layers, words = _texts(directory)
    return TemplateSet(directory, messages, docs, finds, rems, from_name, remedies, layers,
                       words)


def shipped_directory() -> Path:
    from gateway.policy.load import SHIPPED_DIR

    return SHIPPED_DIR / "notices"


__all__ = ["FIELDS", "MessageTemplate", "Template", "TemplateSet", "load_templates",
           "shipped_directory"]
