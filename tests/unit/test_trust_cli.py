"""``hople trust add`` / ``list`` and the pin list."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.trust.pins import PINNED, load_pins
from gateway.trust.store import fingerprint_colons, parse_certs

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "trust-anchors"
VGCA_ROOT = SHARED / "vgca-rootca-chuyen-dung-chinh-phu-g2.pem"
VGCA_CA = SHARED / "intermediate" / "vgca-ca-phuc-vu-co-quan-nha-nuoc-g2.pem"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/trust-anchors absent")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A rules override whose [trust] directories live in tmp_path."""
    rules = tmp_path / "local.toml"
    rules.write_text(
        "[trust]\n"
        f"anchors = [{str(tmp_path / 'anchors')!r}]\n"
        f"intermediates = [{str(tmp_path / 'intermediates')!r}]\n"
        f"crl-cache = {str(tmp_path / 'crls')!r}\n", encoding="utf-8")
    return rules


def pem_files(d: Path) -> list[str]:
    return sorted(p.name for p in d.glob("*.pem")) if d.is_dir() else []


# -- pin list -----------------------------------------------------------------------------

def test_pin_list_covers_the_vietnamese_roots():
    pins = load_pins()
    by_name = {p.name: p for p in pins.values()}
    assert len(pins) == 10
    titles = " | ".join(p.title for p in pins.values())
    for needle in ("RootCA chuyên dùng Chính phủ G2", "CA phục vụ các cơ quan Nhà nước G2",
                   "Vietnam National Root CA (SHA-256, 2014)", "Vietnam National Root CA G3",
                   "ROOT CA - RS", "ROOT CA - USBTOKEN", "ROOT CA - TSA", "ROOT CA - MOBILEPKI",
                   "ROOT CA - EMA", "MIC National Root CA (SHA-1, 2008)"):
        assert needle in titles
    assert by_name["vgca-ca-co-quan-nha-nuoc-g2"].kind == "intermediate"
    assert [p.name for p in pins.values() if p.legacy] == ["mic-national-root-ca-2008"]
    assert all(p.not_before < p.not_after for p in pins.values())
    vgca = by_name["vgca-rootca-g2"]
    assert fingerprint_colons(vgca.sha256) == (
        "F0:4B:A4:B4:59:A7:C9:A1:B9:71:AD:9B:1C:B8:33:E6:95:A8:0C:79:AE:A6:3B:17:4B:66:A7:0E:"
        "DF:E2:FD:B8")


@needs_shared
def test_pins_match_the_reference_copies():
    pins = load_pins()
    files = sorted(SHARED.rglob("*.pem"))
    assert len(files) == len(pins)
    for f in files:
        (c,) = parse_certs(f.read_bytes())
        pin = pins.get(c.sha256)
        assert pin is not None, f.name
        assert pin.subject == c.subject
        assert (pin.not_before, pin.not_after) == (c.not_before, c.not_after)
        assert (pin.kind == "root") == c.self_issued


@needs_shared
def test_pins_agree_with_the_published_source_list():
    text = (SHARED / "SOURCES.txt").read_text(encoding="utf-8")
    listed = {m.replace(":", "") for m in re.findall(r"SHA-256: ([0-9A-F:]{95})", text)}
    assert listed == set(load_pins())


def test_pin_file_is_shipped_in_the_repository():
    assert PINNED.name == "pinned.toml" and PINNED.parent.name == "certs"
    assert PINNED.is_file()


# -- trust add ----------------------------------------------------------------------------

@needs_shared
def test_add_pinned_root_is_installed(site, tmp_path, capsys):
    assert main(["trust", "add", str(VGCA_ROOT), "--rules", str(site)]) == 0
    assert pem_files(tmp_path / "anchors") == ["vgca-rootca-g2.pem"]
    log = (tmp_path / "anchors" / "install.log").read_text(encoding="utf-8")
    assert "\tpinned\t" in log and "F0:4B:A4" in log
    assert "installed RootCA chuyên dùng Chính phủ G2" in capsys.readouterr().out
    # Installing again changes nothing.
    assert main(["trust", "add", str(VGCA_ROOT), "--rules", str(site)]) == 0
    assert "already installed" in capsys.readouterr().out
    assert pem_files(tmp_path / "anchors") == ["vgca-rootca-g2.pem"]


@needs_shared
def test_add_pinned_intermediate_goes_to_the_intermediates_dir(site, tmp_path):
    assert main(["trust", "add", str(VGCA_CA), "--rules", str(site)]) == 0
    assert pem_files(tmp_path / "intermediates") == ["vgca-ca-co-quan-nha-nuoc-g2.pem"]
    assert pem_files(tmp_path / "anchors") == []


def test_add_unpinned_root_is_refused(site, tmp_path, pki, capsys):
    assert main(["trust", "add", str(pki.anchors_dir / "root.pem"), "--rules", str(site)]) == 1
    err = capsys.readouterr().err
    assert "not in the pin list" in err and fingerprint_colons(pki.root.sha256) in err
    assert pem_files(tmp_path / "anchors") == []


def test_add_with_force_installs_and_logs_loudly(site, tmp_path, pki, capsys, caplog):
    caplog.set_level(logging.WARNING, logger="gateway.trust")
    rc = main(["trust", "add", str(pki.anchors_dir / "root.pem"), "--rules", str(site),
               "--force"])
    assert rc == 0
    installed = pem_files(tmp_path / "anchors")
    assert installed == [f"unpinned-{pki.root.sha256[:16].lower()}.pem"]
    err = capsys.readouterr().err
    assert "WARNING" in err and "UNPINNED" in err
    assert any("UNPINNED" in r.getMessage() for r in caplog.records)
    log = (tmp_path / "anchors" / "install.log").read_text(encoding="utf-8")
    assert "FORCED-UNPINNED" in log and fingerprint_colons(pki.root.sha256) in log


def test_add_refuses_a_signer_certificate_even_with_force(site, tmp_path, pki, capsys):
    rc = main(["trust", "add", str(pki.leaves_dir / "leaf.pem"), "--rules", str(site),
               "--force"])
    assert rc == 1
    assert "not a CA certificate" in capsys.readouterr().err
    assert pem_files(tmp_path / "anchors") == []


def test_add_unreadable_or_missing_file(site, tmp_path, capsys):
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"hello")
    assert main(["trust", "add", str(junk), "--rules", str(site)]) == 1
    assert "not a certificate" in capsys.readouterr().err
    assert main(["trust", "add", str(tmp_path / "nope.pem"), "--rules", str(site)]) == 2
    assert "cannot read" in capsys.readouterr().err


# -- trust list ---------------------------------------------------------------------------

def test_list_shows_fingerprints_validity_and_pins(site, tmp_path, pki, capsys):
    main(["trust", "add", str(pki.anchors_dir / "root.pem"), "--rules", str(site), "--force"])
    if SHARED.is_dir():
        main(["trust", "add", str(VGCA_ROOT), "--rules", str(site)])
    capsys.readouterr()
    assert main(["trust", "list", "--rules", str(site)]) == 0
    out = capsys.readouterr().out
    assert "CN=Hople Test Root CA, O=Hople Test PKI, C=VN" in out
    assert fingerprint_colons(pki.root.sha256) in out
    assert "valid 2020-01-01 .. 2040-01-01" in out
    assert "not pinned" in out
    assert "Pinned but not installed:" in out
    if SHARED.is_dir():
        assert "pinned: vgca-rootca-g2 (RootCA chuyên dùng Chính phủ G2)" in out

    assert main(["trust", "list", "--rules", str(site), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    test_root = [a for a in data["anchors"] if a["subject"].startswith("CN=Hople Test Root")]
    assert test_root[0]["pinned"] is None
    assert test_root[0]["sha256"] == fingerprint_colons(pki.root.sha256)
    assert data["crls"] == []


def test_list_includes_extra_trust_dirs_and_crl_cache(tmp_path, pki, capsys):
    rules = tmp_path / "r.toml"
    rules.write_text(
        "[trust]\n"
        f"anchors = [{str(tmp_path / 'missing')!r}]\n"
        f"intermediates = [{str(pki.intermediates_dir)!r}]\n"
        f"crl-cache = {str(pki.crl_dir)!r}\n", encoding="utf-8")
    assert main(["trust", "list", "--rules", str(rules), "--trust", str(pki.anchors_dir),
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["subject"] for a in data["anchors"]] == [
        "CN=Hople Test Root CA, O=Hople Test PKI, C=VN"]
    assert [i["subject"] for i in data["intermediates"]] == [
        "CN=Hople Test Issuing CA, O=Hople Test PKI, C=VN"]
    assert sorted(c["issuer"] for c in data["crls"]) == [
        "CN=Hople Test Issuing CA, O=Hople Test PKI, C=VN",
        "CN=Hople Test Root CA, O=Hople Test PKI, C=VN"]
    assert all(c["next_update"].startswith("2025-12-31") for c in data["crls"])
    assert any("missing: not a directory" in p for p in data["problems"])
