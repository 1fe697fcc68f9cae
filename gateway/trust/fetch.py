"""Downloading CRLs from distribution points: the trust layer's only network I/O.

Used by ``hople trust refresh-crls`` (and, when the rules allow it, by the engine for a
certificate that has no CRL in hand). HTTP(S) only, with a timeout and a size limit; LDAP
distribution points are skipped.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO

from cryptography import x509

log = logging.getLogger(__name__)

MAX_CRL_BYTES = 32 * 1024 * 1024


class FetchError(Exception):
    """A CRL could not be fetched; ``str()`` is one line for a person."""


@dataclass(frozen=True)
class Fetched:
    url: str
    data: bytes


def distribution_points(cert: x509.Certificate) -> list[str]:
    """HTTP(S) URLs of the certificate's CRL distribution points, in order."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    except x509.ExtensionNotFound:
        return []
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return []  # malformed extension: nothing usable
    urls = []
    for dp in ext.value:
        for gn in dp.full_name or ():
            if isinstance(gn, x509.UniformResourceIdentifier):
                url = gn.value
                if url.lower().startswith(("http://", "https://")) and url not in urls:
                    urls.append(url)
    return urls


class _NoRedirectToOtherSchemes(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: HTTPMessage, newurl: str) -> urllib.request.Request | None:
        if not newurl.lower().startswith(("http://", "https://")):
            raise urllib.error.HTTPError(newurl, code, "redirect to a non-HTTP URL", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, timeout: float, max_bytes: int = MAX_CRL_BYTES) -> Fetched:
    """GET ``url``; raise :class:`FetchError` on any failure (status, timeout, size)."""
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(f"{url}: only http and https are fetched")
    opener = urllib.request.build_opener(_NoRedirectToOtherSchemes())
    req = urllib.request.Request(url, headers={"User-Agent": "hople-gateway CRL refresh"})
    try:
        with opener.open(req, timeout=timeout) as resp:
            data = resp.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{url}: {reason}") from None
    if len(data) > max_bytes:
        raise FetchError(f"{url}: larger than {max_bytes} bytes")
    return Fetched(url, data)


__all__ = ["FetchError", "Fetched", "distribution_points", "fetch"]
