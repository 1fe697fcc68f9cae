"""XML-DSig verification shared by the OOXML and ODF inspectors.

``verify.verify(signature_element, resolve=…)`` checks one ``ds:Signature`` (references,
Manifest references, SignatureValue, signer certificate, XAdES signed properties);
``report.build`` turns the outcome into a ``SignatureReport`` (with the trust engine's
verdict). Parsing goes through ``gateway.inspect.safe_xml`` only.
"""
