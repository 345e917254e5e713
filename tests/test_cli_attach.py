"""Attachments on the command line, run as real processes: `run --attach` (the goal's files), `/attach FILE`
while answering, `tell --attach`, and one clear line for a file that is missing, too large or of a refused type."""

from __future__ import annotations

import json
from pathlib import Path

from .test_cli import cli

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)


def test_run_attaches_files_to_the_goal_and_to_an_answer(tmp_path: Path) -> None:
    photo = tmp_path / "cat.png"
    photo.write_bytes(PNG)
    notes = tmp_path / "notes.md"
    notes.write_text("Gold and blue\nsecond line")
    res = cli(["run", "--attach", str(photo), "Ask the user for a colour\nDescribe the photo"], tmp_path / "d",
              f"/attach {notes}\n/attach {tmp_path / 'missing.txt'}\nsee my notes\n")
    assert res.returncode == 0, res.stderr
    assert f"attached {notes}" in res.stderr and "no such file" in res.stderr
    sid = res.stderr.split()[1]
    state = json.loads(cli(["state", sid, "--json"], tmp_path / "d").stdout)
    assert [a["path"] for a in state["nodes"]["n"]["attachments"]] == ["uploads/cat.png"]
    assert [a["path"] for a in state["nodes"]["n.1"]["attachments"]] == ["uploads/notes.md"]
    assert 'uploads/notes.md "Gold and blue"' in state["nodes"]["n.1"]["report"]
    assert f"uploads/cat.png image/png {len(PNG)} bytes" in state["nodes"]["n.2"]["report"]
    listing = cli(["memory", sid], tmp_path / "d")
    assert "uploads/cat.png" in listing.stdout and "uploads/notes.md" in listing.stdout
    assert cli(["memory", sid, "uploads/notes.md"], tmp_path / "d").stdout == "Gold and blue\nsecond line"


def test_tell_attaches_files_and_refuses_bad_ones_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "d"
    res = cli(["run", "Ask the user for a colour\nWrite a haiku about it"], data, "")  # paused: stdin ended
    assert res.returncode == 3
    sid = res.stderr.split("--resume ")[-1].split()[0]
    style = tmp_path / "style.txt"
    style.write_text("short lines, no rhyme")
    told = cli(["tell", sid, "n.2", "--attach", str(style)], data)
    assert told.returncode == 0, told.stderr
    assert told.stdout.strip() == "told n.2: posted to chat-n.2 as message 0 with uploads/style.txt"
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><script>alert(1)</script>")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (10 * 1024 * 1024 + 1))
    for args, needle in ((["tell", sid, "n.2", "hi", "--attach", str(tmp_path / "nope.txt")], "cannot attach"),
                         (["tell", sid, "n.2", "hi", "--attach", str(page)], "not accepted"),
                         (["tell", sid, "n.2", "hi", "--attach", str(big)], "is 10.1 MB; the limit is 10 MB a file")):
        bad = cli(args, data)
        assert bad.returncode == 1 and needle in bad.stderr and "Traceback" not in bad.stderr, (args, bad.stderr)
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    done = cli(["run", "--resume", sid], data, "blue\n")
    assert done.returncode == 0, done.stderr
    state = json.loads(cli(["state", sid, "--json"], data).stdout)
    assert 'uploads/style.txt "short lines, no rhyme"' in state["nodes"]["n.2"]["report"]
    assert [f["path"] for f in state["memory"].values()] == ["uploads/style.txt"]  # the refused ones left nothing
