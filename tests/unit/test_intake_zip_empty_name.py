"""Regression (found by the inspector fuzz): a ZIP member with an empty name crashed intake
(``ZipInfo.is_dir`` raises IndexError), so the message got no report (a temporary failure in
the milter). It is now a member like any other, named ``unnamed``, and inspected."""

from __future__ import annotations

import io
import zipfile

from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from tests.unit.test_intake import docx_bytes


def test_a_member_without_a_name_is_inspected_not_a_crash() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ghi-chu.txt", b"Kinh gui")
        z.writestr(zipfile.ZipInfo(""), docx_bytes())  # an unsigned Word file without a name
    report = Checker(load_policy()).check_document("ho-so.zip", buf.getvalue())
    by_path = {d.path: d for d in report.documents}
    assert set(by_path) == {"ho-so.zip", "ho-so.zip/ghi-chu.txt", "ho-so.zip/unnamed"}
    assert by_path["ho-so.zip/unnamed"].verdict.value == "invalid"
    assert report.verdict.value == "invalid"
