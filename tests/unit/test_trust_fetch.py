"""``hople trust refresh-crls`` and on-demand CRL fetching, against a loopback HTTP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.model.report import Revocation, Trust
from gateway.policy.load import load_policy
from gateway.trust import build_engine, engine_for_check
from gateway.trust.fetch import FetchError, distribution_points, fetch
from tests.pki import crl_der, issue, make_ca, make_crl, t


class Server:
    """Serves ``routes`` (path → bytes) on 127.0.0.1; ``/slow`` answers after 3 s."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.hits: list[str] = []
        routes, hits = self.routes, self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                if self.path == "/slow":
                    time.sleep(3)
                body = routes.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def shared_server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture
def server(shared_server: Server) -> Server:
    shared_server.routes.clear()
    shared_server.hits.clear()
    return shared_server


class Certs:
    """Root → CA → leaf whose distribution points are on the loopback server."""

    def __init__(self, url: str) -> None:
        self.root = make_ca("lroot", "Loopback Root", 0x8001, t(2020), t(2040))
        self.ca = make_ca("lca", "Loopback CA", 0x8002, t(2020), t(2035), issuer=self.root,
                          path_length=0, crl_url=f"{url}/root.crl")
        self.leaf = issue("lleaf", "Loopback Signer", 0x8003, self.ca, t(2024), t(2027),
                          crl_url=f"{url}/ca.crl")
        self.impostor = make_ca("imp", "Loopback CA", 0x8009, t(2020), t(2035))
        self.root_crl = crl_der(make_crl(self.root))
        self.ca_crl = crl_der(make_crl(self.ca))


class Hierarchy:
    """``Certs`` written into one test's directories, with a rules file naming them."""

    def __init__(self, base: Path, certs: Certs) -> None:
        self.root, self.ca, self.leaf = certs.root, certs.ca, certs.leaf
        self.impostor, self.root_crl, self.ca_crl = certs.impostor, certs.root_crl, certs.ca_crl
        self.anchors, self.inters, self.cache = base / "a", base / "i", base / "crls"
        self.root.write(self.anchors)
        self.ca.write(self.inters)
        self.leaf.write(base / "leaf")
        self.rules = base / "local.toml"
        self.write_rules()

    def write_rules(self, extra: str = "") -> None:
        self.rules.write_text(
            "[trust]\n"
            f"anchors = [{str(self.anchors)!r}]\n"
            f"intermediates = [{str(self.inters)!r}]\n"
            f"crl-cache = {str(self.cache)!r}\n" + extra, encoding="utf-8")


@pytest.fixture(scope="module")
def certs(shared_server: Server) -> Certs:
    return Certs(shared_server.url)


@pytest.fixture
def h(tmp_path: Path, server: Server, certs: Certs) -> Hierarchy:
    hier = Hierarchy(tmp_path, certs)
    server.routes["/root.crl"] = hier.root_crl
    server.routes["/ca.crl"] = hier.ca_crl
    return hier


def cached(h: Hierarchy) -> list[str]:
    return sorted(p.name for p in h.cache.glob("*.crl")) if h.cache.is_dir() else []


def test_refresh_is_refused_while_network_is_off(h, server, capsys):
    assert main(["trust", "refresh-crls", "--rules", str(h.rules)]) == 2
    assert "network access is off" in capsys.readouterr().err
    assert server.hits == [] and cached(h) == []


def test_refresh_fetches_verifies_and_caches(h, server, capsys, pki):
    rc = main(["trust", "refresh-crls", "--rules", str(h.rules), "--allow-network",
               str(h.leaf.path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert sorted(server.hits) == ["/ca.crl", "/root.crl"]
    assert len(cached(h)) == 2
    assert "2 of 2 CRLs refreshed" in out
    # The engine built from the same rules now has revocation data for the whole chain.
    engine = engine_for_check(load_policy(h.rules), [])
    r = engine.validate_chain(h.leaf.der, [], pki.now)
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.GOOD)
    assert engine.allow_fetch is False


def test_refresh_allowed_by_the_rules_and_crl_urls(h, server, capsys):
    h.write_rules(f'allow-network = true\ncrl-urls = ["{server.url}/ca.crl"]\n')
    assert main(["trust", "refresh-crls", "--rules", str(h.rules)]) == 0
    assert sorted(server.hits) == ["/ca.crl", "/root.crl"]
    assert len(cached(h)) == 2


def test_refresh_reports_failures_and_stores_nothing_bad(h, server, capsys):
    server.routes["/forged.crl"] = crl_der(make_crl(h.impostor))
    server.routes["/html"] = b"<html>not a CRL</html>"
    h.write_rules(f'crl-urls = ["{server.url}/missing.crl", "{server.url}/forged.crl", '
                  f'"{server.url}/html"]\n')
    rc = main(["trust", "refresh-crls", "--rules", str(h.rules), "--allow-network"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "HTTP 404" in out
    assert "signature does not verify" in out
    assert "not a CRL" in out
    assert "1 of 4 CRLs refreshed" in out
    assert len(cached(h)) == 1  # only the root's CRL, named by the CA certificate


def test_refresh_times_out(h, server, capsys):
    server.routes["/slow"] = h.ca_crl
    h.write_rules(f'crl-urls = ["{server.url}/slow"]\n')
    started = time.monotonic()
    rc = main(["trust", "refresh-crls", "--rules", str(h.rules), "--allow-network",
               "--timeout", "0.5"])
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    assert rc == 1 and "/slow" in out and "failed" in out
    assert elapsed < 2.5


def test_refresh_keeps_a_newer_cached_crl(h, server, capsys):
    assert main(["trust", "refresh-crls", "--rules", str(h.rules), "--allow-network",
                 str(h.leaf.path)]) == 0
    before = {p.name: p.read_bytes() for p in h.cache.glob("*.crl")}
    # The server now serves an older CRL for the CA (a replay): it must not replace ours.
    server.routes["/ca.crl"] = crl_der(make_crl(h.ca, this_update=t(2024, 1, 1),
                                                next_update=t(2024, 6, 1)))
    capsys.readouterr()
    assert main(["trust", "refresh-crls", "--rules", str(h.rules), "--allow-network",
                 str(h.leaf.path)]) == 0
    assert "kept" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in h.cache.glob("*.crl")} == before


def test_engine_fetches_only_when_allowed(h, server, pki):
    offline = build_engine([h.anchors], [h.inters], [])
    r = offline.validate_chain(h.leaf.der, [], pki.now)
    assert r.revocation is Revocation.UNKNOWN
    assert server.hits == []
    online = build_engine([h.anchors], [h.inters], [], allow_fetch=True, fetch_timeout=2)
    r = online.validate_chain(h.leaf.der, [], pki.now)
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.GOOD)
    assert sorted(server.hits) == ["/ca.crl", "/root.crl"]
    online.validate_chain(h.leaf.der, [], pki.now)  # fetched CRLs are kept in memory
    assert len(server.hits) == 2


def test_fetch_checks_scheme_size_and_errors(server, h):
    assert distribution_points(h.leaf.cert) == [f"{server.url}/ca.crl"]
    assert distribution_points(h.root.cert) == []
    assert fetch(f"{server.url}/ca.crl", 2).data == h.ca_crl
    with pytest.raises(FetchError, match="only http"):
        fetch("file:///etc/passwd", 2)
    with pytest.raises(FetchError, match="larger than"):
        fetch(f"{server.url}/ca.crl", 2, max_bytes=10)
    with pytest.raises(FetchError):
        fetch("http://127.0.0.1:1/nothing", 2)
