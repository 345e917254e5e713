"""AGA_SWARM_BLOB_URL picks the blob store; a URL that names none is a clear startup error (issue 10, item 19:
``s3://bucket/x`` used to write to a folder named ``s3:`` in the working directory)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aga_swarm.server.settings import Settings, SettingsError
from aga_swarm.service.composition import open_engine
from aga_swarm.store.blob import LocalBlobStore, MemoryBlobStore, open_blob_store
from aga_swarm.store.errors import BlobUrlError
from aga_swarm.store.object_blob import ObjectBlobStore

BIN = Path(sys.executable).parent / "aga-swarm"
BAD_URLS = {
    "ftp://files.example/blobs": "unknown blob store scheme 'ftp'",
    "gopher://x/y": "unknown blob store scheme 'gopher'",
    "https://blobs.example/x": "unknown blob store scheme 'https'",
    "S3:bucket/x": "malformed blob store URL",
    "s3://": "s3:// needs a bucket",
    "az:///prefix": "az:// needs a container",
    "gs://": "gs:// needs a bucket",
    "s3://key:secret@bucket/x": "credentials come from the cloud's standard environment variables",
    "file://": "file:// needs a directory",
    "": "the blob store URL is empty",
}


@pytest.mark.parametrize(("url", "reason"), BAD_URLS.items())
def test_urls_that_name_no_store_are_refused_and_write_nothing(url: str, reason: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BlobUrlError) as err:
        open_blob_store(url)
    assert reason in str(err.value)
    assert "secret" not in str(err.value)
    assert list(tmp_path.iterdir()) == []  # no folder named after the scheme


def test_known_urls_open_their_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert isinstance(open_blob_store("memory://"), MemoryBlobStore)
    local = open_blob_store(f"file://{tmp_path / 'a'}")
    assert isinstance(local, LocalBlobStore) and local.root == tmp_path / "a"
    plain = open_blob_store("relative/dir")
    assert isinstance(plain, LocalBlobStore) and plain.root == tmp_path / "relative" / "dir"
    for url, prefix in (("s3://bucket/some/prefix", "some/prefix"), ("gs://bucket/p", "p"), ("s3://bucket", None)):
        store = open_blob_store(url)
        assert isinstance(store, ObjectBlobStore)
        assert store.store.prefix == prefix
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct")
    az = open_blob_store("az://container/x/y")
    assert isinstance(az, ObjectBlobStore) and az.store.prefix == "x/y"


def test_an_object_store_that_cannot_be_built_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [v for v in os.environ if v.startswith("AZURE_")]:
        monkeypatch.delenv(var)
    with pytest.raises(BlobUrlError, match="Account must be specified"):
        open_blob_store("az://container/x")


def test_engine_refuses_an_unknown_scheme_before_opening_anything(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BlobUrlError, match="'ftp'"):
        open_engine(db_url=f"sqlite:///{tmp_path / 'x.db'}", blob_url="ftp://host/x")
    assert list(tmp_path.iterdir()) == []  # neither a blob folder nor the database


def test_server_settings_name_the_bad_variable() -> None:
    with pytest.raises(SettingsError, match=r"^AGA_SWARM_BLOB_URL: unknown blob store scheme 'ftp'"):
        Settings.from_env({"AGA_SWARM_BLOB_URL": "ftp://host/x"})
    assert Settings.from_env({"AGA_SWARM_BLOB_URL": "s3://bucket/x"}).blob_url == "s3://bucket/x"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("argv", [["swarms"], ["worker", "--until-idle"], ["serve", "--port", "PORT"]])
def test_cli_commands_stop_with_one_line(argv: list[str], tmp_path: Path) -> None:
    argv = [str(_free_port()) if a == "PORT" else a for a in argv]
    env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path / "data"), "AGA_SWARM_BLOB_URL": "ftp://host/blobs"}
    res = subprocess.run([str(BIN), *argv], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "unknown blob store scheme 'ftp'" in lines[0] and "Traceback" not in res.stderr
    assert not (tmp_path / "ftp:").exists()
