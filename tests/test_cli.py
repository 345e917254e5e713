"""The aga-swarm command, run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "aga-swarm"


def cli(args: list[str], data_dir: Path, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGA_SWARM_DATA": str(data_dir)}
    return subprocess.run([str(BIN), *args], input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_run_reads_answers_from_stdin_and_prints_the_summary(tmp_path: Path) -> None:
    res = cli(["run", "Ask the user for their favourite colour\nWrite a haiku about it"], tmp_path, "blue\n")
    assert res.returncode == 0, res.stderr
    assert "Ask the user for their favourite colour" in res.stdout  # the question was shown
    assert "Summary" in res.stdout and "blue" in res.stdout
    assert "Traceback" not in res.stderr


def test_the_readme_haiku_waits_for_the_colour_and_its_developer_log_holds_it(tmp_path: Path) -> None:
    """README: printf 'blue\\n' | aga-swarm run $'Ask the user ...\\nWrite a haiku about it'. The haiku subtask
    needs the question (the scripted planner's default), so it starts after the answer and is given it."""
    from aga_swarm.schemas import EventType
    from aga_swarm.service import SwarmService

    res = cli(["run", "Ask the user for their favourite colour\nWrite a haiku about it"], tmp_path, "blue\n")
    assert res.returncode == 0, res.stderr
    svc = SwarmService(data_dir=tmp_path)
    try:
        [swarm] = svc.list_swarms()
        haiku = svc.state(swarm.id).nodes["n.2"]
        assert haiku.directive == "Write a haiku about it" and haiku.needs == ["n.1"]
        assert haiku.report == 'Done: "Write a haiku about it" (with: blue)'
        log = svc.node_detail(swarm.id, "n.2")
        do_call = next(c for c in log.llm_calls if c.step == "do.on_result")
        assert "The person answered: blue" in do_call.messages[-1].content
        events = svc.history(swarm.id).events
        answered = next(e.seq for e in events if e.type is EventType.MESSAGE_POSTED
                        and e.data["message"]["content"] == "blue")
        haiku_events = [e.seq for e in events if e.node_id == "n.2" and e.type is not EventType.NODE_SPAWNED]
        assert haiku_events and min(haiku_events) > answered  # nothing of the haiku happened before the answer
    finally:
        svc.close()


def test_followup_then_resume_after_stdin_runs_out(tmp_path: Path) -> None:
    res = cli(["run", "Ask the user for a colour"], tmp_path, "x\n")  # too short -> follow-up -> stdin ends
    assert res.returncode == 3
    assert "Could you say a little more?" in res.stdout
    assert "--resume" in res.stderr
    swarm_id = res.stderr.split("--resume ")[-1].split()[0]
    listed = cli(["swarms", "--json"], tmp_path)
    assert json.loads(listed.stdout)[0]["status"] == "paused"
    res2 = cli(["run", "--resume", swarm_id], tmp_path, "indigo\n")
    assert res2.returncode == 0, res2.stderr
    assert "indigo" in res2.stdout


def test_state_and_history_read_the_store(tmp_path: Path) -> None:
    res = cli(["run", "Write a poem"], tmp_path)
    assert res.returncode == 0
    sid = json.loads(cli(["swarms", "--json"], tmp_path).stdout)[0]["id"]
    state = json.loads(cli(["state", sid, "--json"], tmp_path).stdout)
    assert state["status"] == "completed" and set(state["nodes"]) == {"n", "n.1"}
    early = json.loads(cli(["state", sid, "--at", "3", "--json"], tmp_path).stdout)
    assert early["seq"] == 3
    hist = json.loads(cli(["history", sid, "--after", "5", "--json"], tmp_path).stdout)
    assert hist["events"][0]["seq"] == 6 and hist["events"][-1]["seq"] == state["seq"]
    text = cli(["history", sid], tmp_path).stdout
    assert "node_spawned" in text and "swarm_status" in text
    tree = cli(["state", sid], tmp_path).stdout
    assert "Write a poem" in tree
    assert cli(["state", sid, "--at", "3"], tmp_path).stdout.startswith(f"swarm {sid} · running · seq 3 · 1 node\n")
    for limit in ("0", "-3"):  # not "no limit" (SQLite) nor a database error (PostgreSQL)
        bad = cli(["history", sid, "--limit", limit], tmp_path)
        assert (bad.returncode, bad.stderr.strip()) == (1, "error: limit must be at least 1")


@pytest.mark.parametrize(("args", "needle"), [
    (["state", "nope"], "swarm 'nope' not found"),
    (["history", "nope"], "swarm 'nope' not found"),
    (["run", "--resume", "nope"], "swarm 'nope' not found"),
    (["run", "  "], "goal must not be empty"),
    (["run", "x", "--config", "missing"], "config 'missing' not found"),
    (["run", "x", "--config-file", "/nonexistent.yaml"], "config file not found"),
    (["run", "x", "--script", "/nonexistent.yaml"], "script file not found"),
])
def test_errors_are_one_clear_line(tmp_path: Path, args: list[str], needle: str) -> None:
    res = cli(args, tmp_path)
    assert res.returncode != 0
    assert needle in res.stderr
    assert "Traceback" not in res.stderr
    assert len([line for line in res.stderr.splitlines() if line.startswith("error:")]) == 1


def test_bad_config_file_and_unreachable_model(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: x\nlimits: {max_depth: -1}\n")
    res = cli(["run", "x", "--config-file", str(bad)], tmp_path)
    assert res.returncode == 1 and "bad config file" in res.stderr and "Traceback" not in res.stderr
    assert "limits.max_depth: Input should be greater than or equal to 1" in res.stderr  # the reason, not "1 error"
    bad.write_text("id: x\nname: x\nlimits: {max_seconds: 0}\n")
    res = cli(["run", "x", "--config-file", str(bad)], tmp_path)
    assert res.returncode == 1 and "limits.max_seconds: Input should be greater than 0" in res.stderr
    unreachable = tmp_path / "remote.yaml"
    unreachable.write_text("id: remote\nname: remote\nllm: {provider: openai, model: gpt-4o-mini, "
                           "base_url: 'http://127.0.0.1:9/v1', timeout_s: 0.2, max_retries: 0}\n")
    env_key = os.environ.pop("OPENAI_API_KEY", None)
    try:
        res = cli(["run", "Write a poem", "--config-file", str(unreachable)], tmp_path, timeout=120)
    finally:
        if env_key is not None:
            os.environ["OPENAI_API_KEY"] = env_key
    assert res.returncode == 1
    assert "error: swarm failed" in res.stderr and "Traceback" not in res.stderr


def test_schema_export(tmp_path: Path) -> None:
    res = cli(["schema"], tmp_path)
    schemas = json.loads(res.stdout)
    assert {"SwarmConfig", "Swarm", "Node", "SwarmEvent", "SwarmState", "LLMCall"} <= set(schemas)


def test_ctrl_c_pauses_cleanly_and_resume_continues(tmp_path: Path) -> None:
    import signal
    import time

    env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path)}
    proc = subprocess.Popen([str(BIN), "run", "Ask the user for a colour\nWrite a poem"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    seen = ""
    while "I need your input" not in seen and time.monotonic() < deadline:
        seen += proc.stdout.readline()
    assert "I need your input" in seen
    time.sleep(0.3)  # it is now blocked reading the answer
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "paused. Continue with: aga-swarm run --resume" in err and "Traceback" not in err
    sid = err.split("--resume ")[-1].split()[0]
    assert json.loads(cli(["swarms", "--json"], tmp_path).stdout)[0]["status"] == "paused"
    res = cli(["run", "--resume", sid], tmp_path, "crimson\n")
    assert res.returncode == 0, res.stderr
    assert "crimson" in res.stdout


def test_run_and_worker_share_a_postgresql_store(tmp_path: Path, pg_url: str) -> None:
    """AGA_SWARM_DB_URL points the command (and so `aga-swarm worker`) at PostgreSQL."""
    env_url = {"AGA_SWARM_DB_URL": pg_url, "AGA_SWARM_BLOB_URL": str(tmp_path / "blobs")}
    env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path), **env_url}
    res = subprocess.run([str(BIN), "run", "Write a poem"], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    listed = subprocess.run([str(BIN), "swarms", "--json"], capture_output=True, text=True, timeout=60, env=env)
    assert any(s["status"] == "completed" for s in json.loads(listed.stdout))
    assert not (tmp_path / "swarm.db").exists()  # nothing went to the SQLite default


def test_global_options_work_after_the_command(tmp_path: Path) -> None:
    """--data-dir, -v and -q are accepted before or after any command; the store is the one named."""
    store, elsewhere = tmp_path / "store", tmp_path / "elsewhere"
    res = cli(["run", "--data-dir", str(store), "-q", "Write a haiku"], elsewhere)
    assert res.returncode == 0, res.stderr
    listed = cli(["swarms", "--json", "--data-dir", str(store)], elsewhere)
    assert listed.returncode == 0, listed.stderr
    assert [s["status"] for s in json.loads(listed.stdout)] == ["completed"]
    assert json.loads(cli(["--data-dir", str(store), "swarms", "--json"], elsewhere).stdout) == \
        json.loads(listed.stdout)
    assert not (elsewhere / "swarm.db").exists()
    worker = cli(["worker", "--until-idle", "--data-dir", str(store), "-v"], elsewhere)
    assert worker.returncode == 0, worker.stderr
    assert "worker idle: 0 operations run" in worker.stdout
    both = cli(["swarms", "-v", "-q"], elsewhere)
    assert both.returncode == 2 and "-v and -q cannot be used together" in both.stderr


@pytest.mark.parametrize("command", ["run", "swarms", "state", "history", "memory", "serve", "worker", "schema", "db",
                                     "cancel", "retry", "tell",
                                     "db upgrade", "db current"])
def test_every_command_help_shows_the_global_options(tmp_path: Path, command: str) -> None:
    res = cli([*command.split(), "--help"], tmp_path)
    assert res.returncode == 0
    assert "--data-dir DIR" in res.stdout and "--verbose" in res.stdout and "--quiet" in res.stdout


def test_history_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    assert cli(["run", "Write a poem\nWrite a song"], tmp_path).returncode == 0
    sid = json.loads(cli(["swarms", "--json"], tmp_path).stdout)[0]["id"]
    env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path)}
    for args in (["history", sid], ["history", sid, "--json"], ["state", sid, "--json"]):
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader (`head`, say) is gone before anything is written
        try:
            res = subprocess.run([str(BIN), *args], stdout=write_end, stderr=subprocess.PIPE, text=True,
                                 timeout=60, env=env)
        finally:
            os.close(write_end)
        assert res.returncode == 0, res.stderr
        assert res.stderr == ""


def test_history_prints_one_line_per_event(tmp_path: Path) -> None:
    assert cli(["run", "Write a poem\nWrite a song"], tmp_path).returncode == 0  # the root's report has 2 lines
    sid = json.loads(cli(["swarms", "--json"], tmp_path).stdout)[0]["id"]
    events = json.loads(cli(["history", sid, "--json"], tmp_path).stdout)["events"]
    assert any("\n" in (e["data"].get("changes", {}).get("report") or "") for e in events)
    lines = cli(["history", sid], tmp_path).stdout.splitlines()
    assert [int(line.split()[0]) for line in lines] == [e["seq"] for e in events]
    # a node leaves the transaction that made it with no node_updated of it: its node_spawned line says its state
    born = [e for e in events if e["type"] == "node_spawned" and e["data"]["node"]["lifecycle"] != "spawned"]
    assert born  # the subtasks are spawned already waiting on their first model call
    for e in born:
        line = next(line for line in lines if int(line.split()[0]) == e["seq"])
        assert f"lifecycle={e['data']['node']['lifecycle']}" in line


def test_run_renders_markdown(tmp_path: Path) -> None:
    res = cli(["run", "Ask the user for a colour\nWrite a poem"], tmp_path, "teal\n")
    assert res.returncode == 0, res.stderr
    assert "I need your input on this: Ask the user for a colour" in res.stdout  # the question, bold not **
    assert "Summary" in res.stdout and "**" not in res.stdout
    assert "• Done: \"Write a poem\"" in res.stdout  # the summary's list items as bullets
    assert all(line == line.rstrip() for line in res.stdout.splitlines())  # no padding into a pipe


def test_memory_lists_and_prints_files(tmp_path: Path) -> None:
    script = tmp_path / "poem.yaml"
    script.write_text('- purpose: do.execute\n  output: {report: "Wrote it.", artifact_title: poem.md, '
                      'artifact: "Roses are red"}\n')
    assert cli(["run", "Write a poem", "--script", str(script)], tmp_path).returncode == 0
    sid = json.loads(cli(["swarms", "--json"], tmp_path).stdout)[0]["id"]
    listing = cli(["memory", sid], tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "artifacts/n.1/poem.md" in listing.stdout and "n.1" in listing.stdout
    files = json.loads(cli(["memory", sid, "--json"], tmp_path).stdout)["files"]
    assert [(f["path"], f["size"], f["node_id"]) for f in files] == [("artifacts/n.1/poem.md", 13, "n.1")]
    shown = cli(["memory", sid, "artifacts/n.1/poem.md"], tmp_path)
    assert shown.returncode == 0 and shown.stdout == "Roses are red"
    assert "no files" in cli(["memory", sid, "--at", "1"], tmp_path).stdout
    for args, needle in [([sid, "nothing/here.md"], "no file 'nothing/here.md'"),
                         ([sid, "../escape"], "invalid memory path"), (["nope"], "swarm 'nope' not found")]:
        res = cli(["memory", *args], tmp_path)
        assert res.returncode == 1 and needle in res.stderr and "Traceback" not in res.stderr


def test_cancel_retry_and_tell_a_node(tmp_path: Path) -> None:
    res = cli(["run", "Ask the user for a colour\nWrite a haiku about it"], tmp_path, "")  # stdin ends: paused
    assert res.returncode == 3
    sid = res.stderr.split("--resume ")[-1].split()[0]
    told = cli(["tell", sid, "n.2", "use the word sea"], tmp_path)
    assert told.returncode == 0 and told.stdout.strip() == "told n.2: posted to chat-n.2 as message 0"
    for args, needle in ((["tell", sid, "n.2", "  "], "content must not be empty"),
                         (["cancel", sid, "n.9"], "node 'n.9' not found"),
                         (["retry", sid, "n"], "only a failed or cancelled node can be retried"),
                         (["cancel", "nope", "n"], "swarm 'nope' not found")):
        bad = cli(args, tmp_path)
        assert bad.returncode == 1 and needle in bad.stderr and "Traceback" not in bad.stderr, (args, bad.stderr)
    done = cli(["run", "--resume", sid], tmp_path, "blue\n")
    assert done.returncode == 0, done.stderr
    state = json.loads(cli(["state", sid, "--json"], tmp_path).stdout)
    assert state["nodes"]["n.2"]["report"] == 'Done: "Write a haiku about it" (with: blue) (told: use the word sea)'
    late = cli(["cancel", sid, "n.2"], tmp_path)
    assert late.returncode == 1 and "has ended (done)" in late.stderr
    done_retry = cli(["retry", sid, "n.2"], tmp_path)  # done: nothing to retry
    assert done_retry.returncode == 1 and done_retry.stderr.strip() == (
        "error: node n.2 has ended (done); only a failed or cancelled node can be retried")


def test_retry_names_the_limit_that_stopped_the_swarm_and_says_what_runs_it(tmp_path: Path) -> None:
    """README: the 13-level Plan chain stops on the depth limit; retrying it would meet the limit again, so the
    retry is one line naming the limit and how to get past it. A retry that is allowed says what runs it."""
    chain = cli(["run", "Plan: " * 13 + "write the last line"], tmp_path)
    assert chain.returncode == 1 and "depth limit 8 reached at node n.1.1.1.1.1.1.1" in chain.stderr
    sid = chain.stderr.split()[1]
    bad = cli(["retry", sid, "n"], tmp_path)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr, bad.stderr
    assert bad.stderr.startswith("error: node n cannot be retried: the swarm stopped on its depth limit 8")
    assert "limits.max_depth is above 8" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert json.loads(cli(["state", sid, "--json"], tmp_path).stdout)["status"] == "failed"
    again = cli(["run", "--resume", sid], tmp_path)
    assert (again.returncode, again.stderr.strip()) == (1, f"error: swarm {sid} already failed (depth limit 8 "
                                                           "reached at node n.1.1.1.1.1.1.1); nothing to resume. To "
                                                           f"run a failed node again: aga-swarm retry {sid} NODE")
    for extra, named in ((["a new goal"], "a GOAL"), (["--name", "x", "--config", "other"], "--name, --config")):
        mixed = cli(["run", "--resume", sid, *extra], tmp_path)
        assert (mixed.returncode, mixed.stderr.strip()) == (
            2, f"error: --resume continues a stored swarm as it is; {named} cannot go with it")

    paused = cli(["run", "Ask the user for a colour"], tmp_path, "")
    pid = paused.stderr.split("--resume ")[-1].split()[0]
    assert cli(["cancel", pid, "n"], tmp_path).returncode == 0
    ok = cli(["retry", pid, "n"], tmp_path)
    assert ok.returncode == 0 and ok.stdout.strip() == (
        f"retrying n: attempt 2 (spawned); a server or worker on this store runs it, or: aga-swarm run --resume {pid}")
    assert cli(["run", "--resume", pid], tmp_path, "red\n").returncode == 0


def test_swarms_and_queue_show_whole_swarm_ids_on_a_narrow_terminal(tmp_path: Path) -> None:
    """The id is what every other command takes: at 60 columns the tables wrap names, never the id."""
    res = cli(["run", "Ask the user for their favourite colour in a long-winded way\nWrite a haiku"], tmp_path, "")
    assert res.returncode == 3
    sid = res.stderr.split("--resume ")[-1].split()[0]
    assert cli(["tell", sid, "n.1", "green"], tmp_path).returncode == 0  # the answer, held: the swarm is paused
    narrow = {**os.environ, "AGA_SWARM_DATA": str(tmp_path), "COLUMNS": "60"}
    for command in ("swarms", "queue"):
        out = subprocess.run([str(BIN), command], capture_output=True, text=True, timeout=60, env=narrow)
        assert out.returncode == 0 and sid in out.stdout, (command, out.stdout)


@pytest.mark.parametrize(("url", "needle"), [
    ("postgresql+psycopg://aga:secret@127.0.0.1:1/nowhere",
     "error: the database postgresql+psycopg://aga:***@127.0.0.1:1/nowhere ($AGA_SWARM_DB_URL) failed: "),
    ("bogus://x", "error: cannot use the database URL bogus://x ($AGA_SWARM_DB_URL): "),
    ("not a url", "error: cannot use the database URL (not a URL) ($AGA_SWARM_DB_URL): ")])
def test_a_database_that_cannot_be_used_is_one_line_naming_it(tmp_path: Path, url: str, needle: str) -> None:
    for args in (["db", "current"], ["db", "upgrade"], ["swarms"], ["queue"]):
        env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path), "AGA_SWARM_DB_URL": url}
        res = subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=60, env=env)
        assert res.returncode == 1 and res.stderr.startswith(needle), (args, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1 and "secret" not in res.stderr, res.stderr


def test_run_says_when_an_mcp_server_of_the_operator_cannot_start(tmp_path: Path) -> None:
    """The warning was logged, and `run` logs nothing without -v: the person saw a swarm that could not find the
    tool. Now it is one line, once; -q still silences it."""
    dead = tmp_path / "mcp.json"
    dead.write_text(json.dumps({"mcpServers": {"x": {"command": "/nonexistent/mcp-server"}}}))
    res = cli(["run", "--mcp-config", str(dead), "Write a poem"], tmp_path)
    assert res.returncode == 0, res.stderr
    warnings = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith(
        "warning: MCP server x left out of the action space: MCP server 'x' is not available: "), res.stderr
    quiet = cli(["run", "-q", "--mcp-config", str(dead), "Write a poem"], tmp_path)
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_retry_with_a_raised_limit_saved_from_a_config_file_runs_on(tmp_path: Path) -> None:
    """The way a person at the terminal gets past a limit: retry with the swarm's config, its limit raised."""
    config = tmp_path / "mine.yaml"
    config.write_text("id: mine\nname: mine\nlimits:\n  max_depth: 8\n")
    chain = cli(["run", "--config-file", str(config), "Plan: " * 13 + "write the last line"], tmp_path)
    assert chain.returncode == 1
    sid = chain.stderr.split()[1]
    refused = cli(["retry", sid, "n"], tmp_path)
    assert refused.returncode == 1 and "raise limits.max_depth above 8 in its config 'mine'" in refused.stderr
    assert "aga-swarm retry SWARM NODE --config-file FILE" in refused.stderr
    other = tmp_path / "other.yaml"
    other.write_text("id: other\nname: other\nlimits:\n  max_depth: 20\n")
    wrong = cli(["retry", sid, "n", "--config-file", str(other)], tmp_path)
    assert (wrong.returncode, wrong.stderr.strip()) == (
        1, f"error: {other} is config 'other', not the swarm's config 'mine'")
    config.write_text("id: mine\nname: mine\nlimits:\n  max_depth: 20\n")
    ok = cli(["retry", sid, "n", "--config-file", str(config)], tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("retrying n: attempt 2"), ok.stderr
    done = cli(["run", "--resume", sid], tmp_path)
    assert done.returncode == 0, done.stderr
    state = json.loads(cli(["state", sid, "--json"], tmp_path).stdout)
    assert state["status"] == "completed" and max(n["depth"] for n in state["nodes"].values()) == 13
