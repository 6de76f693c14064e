"""Safe by default: the host check, other web sites, the password, the size limit, and
``matcher ui`` refusing to listen beyond this computer without a password."""

from __future__ import annotations

import base64
from pathlib import Path

from click.testing import CliRunner
from conftest import make_client

from matcher.cli import cli
from matcher.web.server import is_loopback


def test_other_hosts_are_refused(tmp_path: Path) -> None:
    """A Host header naming another site (DNS rebinding) gets 421, the page's own gets 200."""
    with make_client(tmp_path / "d", hosts=["127.0.0.1", "localhost"]) as c:
        assert c.get("/new", headers={"host": "evil.example"}).status_code == 421
        assert c.get("/new", headers={"host": "127.0.0.1:8765"}).status_code == 200


def test_posts_from_other_sites_are_refused(tmp_path: Path) -> None:
    """A form another web site posts through the clerk's browser is refused (403); the page's
    own forms and tools without an Origin work."""
    with make_client(tmp_path / "d") as c:
        evil = c.post("/api/runs", headers={"origin": "http://evil.example"})
        assert evil.status_code == 403
        assert evil.json()["messages"][0]["code"] == "web.refused_origin"
        cross = c.post("/api/runs", headers={"sec-fetch-site": "cross-site"})
        assert cross.status_code == 403
        own = c.post("/api/runs", headers={"origin": "http://testserver"})
        assert own.status_code == 422  # reached the API: the scenario is missing


def test_password_on_every_request(tmp_path: Path) -> None:
    """With a password, pages, API and static files all need it (Basic or Bearer)."""
    with make_client(tmp_path / "d", password="s3cret 密码") as c:
        for url in ("/new", "/api/runs", "/static/style.css", "/api/openapi.json"):
            r = c.get(url)
            assert r.status_code == 401, url
            assert r.headers["www-authenticate"].startswith("Basic")
        token = base64.b64encode("clerk:s3cret 密码".encode()).decode()
        assert c.get("/new", headers={"authorization": f"Basic {token}"}).status_code == 200
        bearer = "Bearer s3cret 密码".encode()
        assert c.get("/api/runs", headers={"authorization": bearer}).status_code == 200
        assert c.get("/api/runs", headers={"authorization": "Bearer wrong"}).status_code == 401


def test_request_size_limit(tmp_path: Path) -> None:
    """A body over the limit is refused with 413 before it is stored."""
    with make_client(tmp_path / "d", max_body=1000) as c:
        r = c.post("/api/runs", files={"scenario": ("x.zip", b"0" * 5000)})
        assert r.status_code == 413
        assert r.json()["messages"][0]["code"] == "web.refused_size"
    assert list((tmp_path / "d" / "uploads").iterdir()) == []


def test_pages_are_not_framed_elsewhere(tmp_path: Path) -> None:
    """Pages carry a content security policy and no-sniff; the report is shown sandboxed."""
    with make_client(tmp_path / "d") as c:
        r = c.get("/new")
        assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


def test_language_switch_sets_a_cookie(tmp_path: Path) -> None:
    """The switch remembers the language and returns to the page (never to another site)."""
    with make_client(tmp_path / "d") as c:
        r = c.get("/lang/zh", params={"next": "/history"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/history"
        assert "lang=zh" in r.headers["set-cookie"]
        assert "历史记录" in c.get("/history").text
        away = c.get("/lang/en", params={"next": "//evil.example/"}, follow_redirects=False)
        assert away.headers["location"] == "/new"
        assert "Run history" in c.get("/history").text
        c.cookies.clear()
        assert "历史记录" in c.get("/history", headers={"accept-language": "zh-CN,zh;q=0.9"}).text


def test_ui_refuses_other_hosts_without_password(tmp_path: Path) -> None:
    """``matcher ui --host 0.0.0.0`` without a password exits 2 with a message; nothing
    listens."""
    result = CliRunner().invoke(cli, ["ui", "--host", "0.0.0.0", "--no-browser",
                                      "--data", str(tmp_path / "d")], env={"LANG": "C"})
    assert result.exit_code == 2
    assert "--password" in result.output
    assert not (tmp_path / "d").exists()


def test_loopback_addresses() -> None:
    """What counts as this computer only."""
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
