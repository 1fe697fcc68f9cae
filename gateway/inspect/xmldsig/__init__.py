"""XML-DSig verification shared by the OOXML and ODF inspectors.

``verify.verify(signature_element, resolve=…)`` checks one ``ds:Signature`` (references,
Manifest references, SignatureValue, signer certificate, XAdES signed properties);
``report.build`` turns the outcome into a ``SignatureReport`` (with the trust engine's
verdict). Parsing goes through ``gateway.inspect.safe_xml`` only.

``verify`` orchestrates and re-exports the public names; the work is in ``result`` (the
outcome types), ``tree`` (Id lookup, ancestry), ``transforms``, ``references``, ``signer``
(SignatureValue and KeyInfo certificates) and ``xades``, each importing only the ones
before it in that order (with ``algorithms``, ``c14n`` and ``keys`` below them all).
"""
