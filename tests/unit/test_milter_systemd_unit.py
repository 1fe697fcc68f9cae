"""The systemd units: `hople serve` and `hople web` each as their own user with the documented
hardening, systemd itself accepts every line (systemd-analyze verify), and the exposure
`systemd-analyze security` gives each unit is at most the README's figure (when available)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "hople-gateway.service"
SYSUSERS = ROOT / "systemd" / "hople-gateway.sysusers.conf"
WEB_UNIT = ROOT / "systemd" / "hople-web.service"


def _directives(path: Path = UNIT) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "[")) or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out.setdefault(k, []).append(v)
    return out


def test_runs_serve_as_its_own_user() -> None:
    d = _directives()
    (exec_start,) = d["ExecStart"]
    assert exec_start.split()[1:] == ["serve", "--config", "/etc/hople/gateway.toml"]
    assert d["User"] == ["hople"] and d["Group"] == ["hople"]
    assert d["SupplementaryGroups"] == ["postfix"], "the socket is shared with group postfix"
    assert d["RuntimeDirectory"] == ["hople"] and d["StateDirectory"] == ["hople"]
    assert d["RuntimeDirectoryMode"] == ["0755"], "user postfix must reach the socket"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
        ("SystemCallFilter", "@system-service"),
        ("CapabilityBoundingSet", ""),
        ("UMask", "0007"),
        ("PrivateMounts", "yes"),
        ("ProcSubset", "pid"),
    ],
)
def test_hardening(key: str, value: str) -> None:
    assert value in _directives().get(key, []), f"{key}={value}"


def test_default_paths_match_the_settings() -> None:
    from gateway.settings import Settings

    s = Settings()
    assert s.milter.socket.startswith("unix:/run/hople/")
    assert s.store.url.startswith("sqlite:////var/lib/hople/")
    assert s.milter.spool_dir.startswith("/var/lib/hople/")


def test_sysusers_adds_hople_to_postfix() -> None:
    lines = [ln.split() for ln in SYSUSERS.read_text().splitlines()
             if ln and not ln.startswith("#")]
    assert ["u", "hople"] == lines[0][:2]
    assert ["m", "hople", "postfix"] in lines


def test_web_unit_runs_the_page_on_loopback_with_the_same_hardening() -> None:
    d = _directives(WEB_UNIT)
    (exec_start,) = d["ExecStart"]
    args = exec_start.split()[1:]
    assert args[0] == "web" and "127.0.0.1:8080" in args and "--secret-file" in args
    gateway = _directives()
    for key in ("NoNewPrivileges", "ProtectSystem", "PrivateTmp", "PrivateDevices",
                "PrivateMounts", "ProcSubset", "RestrictAddressFamilies",
                "CapabilityBoundingSet", "IPAddressDeny", "IPAddressAllow", "UMask"):
        assert d[key] == gateway[key], key
    assert d["SystemCallFilter"] == ["@system-service", "~@privileged @resources"]
    assert gateway["SystemCallFilter"] == ["@system-service", "~@resources"]
    assert d["IPAddressDeny"] == ["any"] and d["IPAddressAllow"] == ["localhost"]


def test_each_service_has_its_own_user() -> None:
    """The page runs as hople-web (primary group hople: the settings and the shared log),
    never as the milter's user, and does not take /var/lib/hople over (StateDirectory= would
    chown it to its user)."""
    web, gateway = _directives(WEB_UNIT), _directives()
    assert gateway["User"] == ["hople"] and web["User"] == ["hople-web"]
    assert web["Group"] == ["hople"] and "SupplementaryGroups" not in web
    assert "StateDirectory" not in web and web["ReadWritePaths"] == ["/var/lib/hople"]
    assert gateway["UMask"] == ["0007"] and gateway["StateDirectoryMode"] == ["0770"]
    assert int(web["LimitNOFILE"][0]) >= 4 * 1000, "waitress keeps up to 1000 connections"
    lines = [ln.split() for ln in SYSUSERS.read_text().splitlines()
             if ln and not ln.startswith("#")]
    assert ["u", "hople-web", "-:hople"] in [ln[:3] for ln in lines]


def _readme_exposure() -> dict[str, float]:
    out = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `systemd/([\w.-]+\.service)` \| `[\w-]+` \| ([\d.]+) ", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


@pytest.mark.parametrize("unit_path", [UNIT, WEB_UNIT], ids=["gateway", "web"])
def test_exposure_is_at_most_the_readme_figure(tmp_path: Path, unit_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze not installed")
    documented = _readme_exposure()[unit_path.name]
    unit = tmp_path / unit_path.name
    unit.write_text(unit_path.read_text(encoding="utf-8"), encoding="utf-8")
    cp = subprocess.run([tool, "security", "--offline=true", "--no-pager", str(unit)],
                        capture_output=True, text=True, timeout=120)
    if "--offline" in cp.stderr and "unrecognized" in cp.stderr:
        pytest.skip("this systemd-analyze cannot analyse unit files offline")
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", cp.stdout + cp.stderr)
    assert m, cp.stdout + cp.stderr
    measured = float(m.group(1))
    print(f"\n{unit_path.name}: exposure {measured} (README: {documented})")
    assert measured <= documented


@pytest.mark.parametrize("unit_path", [UNIT, WEB_UNIT], ids=["gateway", "web"])
def test_systemd_accepts_every_line(tmp_path: Path, unit_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze not installed")
    unit = tmp_path / unit_path.name
    text = unit_path.read_text(encoding="utf-8")
    # the installed path does not exist here; any executable lets verify read the rest
    executable = shutil.which("true") or "/bin/true"
    unit.write_text(text.replace("/opt/hople-gateway/.venv/bin/hople", executable))
    cp = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [ln for ln in (cp.stderr + cp.stdout).splitlines()
                if unit_path.name in ln or "Unknown" in ln]
    assert cp.returncode == 0 and not problems, problems
