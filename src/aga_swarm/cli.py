"""The ``aga-swarm`` command: run swarms in a terminal, read what is stored, serve the web app, run workers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from .schemas import TERMINAL_LIFECYCLES, Lifecycle, SwarmState, SwarmStatus

CLI_OWNER = "local"

LIFECYCLE_STYLE = {
    Lifecycle.SPAWNED: ("○", "dim"), Lifecycle.WAITING_DEPS: ("⧗", "dim yellow"), Lifecycle.RUNNING: ("●", "yellow"),
    Lifecycle.WAITING_LLM: ("◌", "cyan"),
    Lifecycle.WAITING_USER: ("?", "bold magenta"), Lifecycle.WAITING_CHILDREN: ("◎", "blue"),
    Lifecycle.DONE: ("✓", "green"), Lifecycle.FAILED: ("✗", "red"), Lifecycle.CANCELLED: ("–", "dim"),
}


class CliError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def die(message: str, code: int = 1) -> NoReturn:
    raise CliError(message, code)


# ---- rendering ----------------------------------------------------------------------------------
def render_tree(state: SwarmState, max_nodes: int = 200) -> Any:
    from rich.text import Text
    from rich.tree import Tree

    root_id = state.root_node_id
    count = len(state.nodes)
    title = Text(f"swarm {state.swarm_id} · {state.status.value} · seq {state.seq} · {count} "
                 f"node{'' if count == 1 else 's'}")
    tree = Tree(title)
    if root_id is None or root_id not in state.nodes:
        return tree
    shown = 0

    def add(parent: Any, node_id: str) -> None:
        nonlocal shown
        node = state.nodes[node_id]
        glyph, style = LIFECYCLE_STYLE[node.lifecycle]
        shown += 1
        branch = parent.add(Text(f"{glyph} [{node.action_type.value}] {node.title}", style=style))
        for cid in node.children:
            if shown >= max_nodes:
                branch.add(Text(f"… {len(state.nodes) - shown} more", style="dim"))
                return
            add(branch, cid)

    add(tree, root_id)
    return tree


def print_markdown(console: Any, text: str) -> None:
    """Markdown rendered by rich; into a pipe or file, without the padding rich adds to fill each line."""
    from rich.markdown import Markdown

    if console.is_terminal:
        console.print(Markdown(text))
        return
    with console.capture() as captured:
        console.print(Markdown(text))
    console.file.write("\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n")


# ---- commands -----------------------------------------------------------------------------------
def _service(args: argparse.Namespace, registry: Any = None, **runner: Any) -> Any:
    from .service import SwarmService

    # SwarmService reads the settings the server reads (AGA_SWARM_DB_URL, AGA_SWARM_BLOB_URL), so a worker
    # can share a PostgreSQL store and blob location; ``registry`` None: the built-in actions
    return SwarmService(data_dir=Path(args.data_dir) if args.data_dir else None, registry=registry, **runner)


def _load_actions(args: argparse.Namespace) -> Any:
    """The built-in actions and the custom ones from installed plugins, $AGA_SWARM_ACTIONS and --actions, on a
    registry for this command, before the store opens."""
    from .plugins import PluginError, modules_from_env
    from .service.composition import default_registry

    try:
        return default_registry([*modules_from_env(), *args.actions], installed=True)
    except PluginError as exc:
        die(str(exc))


def _config_problem(exc: Exception) -> str:
    """One line naming what is wrong: a validation error's first line is only "1 validation error for ..."."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
                         for e in exc.errors(include_url=False)[:5])
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _save_config_file(svc: Any, path: str, swarm_config: str | None = None) -> str:
    """Save the config in ``path`` as the command line's (one line naming what is wrong with it); with
    ``swarm_config``, only when it is that config (a new version of a swarm's config). Returns its id."""
    try:
        config = svc.read_config_file(path)
        if swarm_config is not None and config.id != swarm_config:
            die(f"{path} is config {config.id!r}, not the swarm's config {swarm_config!r}")
        return str(svc.save_config(config, CLI_OWNER).id)
    except FileNotFoundError:
        die(f"config file not found: {path}")
    except (ValueError, TypeError) as exc:
        die(f"bad config file {path}: {_config_problem(exc)}")


def _config_id(svc: Any, args: argparse.Namespace) -> str:
    from .schemas import LLMSettings, SwarmConfig

    if args.config_file:
        return _save_config_file(svc, args.config_file)
    if args.script:
        path = Path(args.script).resolve()
        if not path.exists():
            die(f"script file not found: {args.script}")
        from .llm.scripted import load_script

        load_script(path)  # validate now, with a clear message
        cid = "script-" + hashlib.sha256(str(path).encode()).hexdigest()[:10]
        svc.save_config(SwarmConfig(id=cid, name=f"scripted ({path.name})",
                                    llm=LLMSettings(provider="scripted", script_path=str(path))), CLI_OWNER)
        return cid
    return str(args.config)


ATTACH_COMMAND = "/attach "


def _files(paths: list[str] | None) -> list[Any]:
    """The files named on the command line, read whole (their types are checked against their bytes when
    attached); a missing one stops the command with one line."""
    from .engine.memory import Upload

    out = []
    for raw in paths or []:
        path = Path(raw).expanduser()
        try:
            out.append(Upload(path.name, None, path.read_bytes()))
        except OSError as exc:
            die(f"cannot attach {raw}: {exc.strerror or exc}")
    return out


class Answers:
    """Answers to questions: the terminal when interactive, else one line per answer from stdin."""

    def __init__(self) -> None:
        self.interactive = sys.stdin.isatty()

    def read(self, prompt: str) -> str | None:
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = sys.stdin.readline()
        if not line:
            return None
        return line.rstrip("\n")


async def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from .engine.errors import SwarmError

    svc = _service(args, _load_actions(args))
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    if args.resume:
        extra = [flag for flag, given in (("a GOAL", args.goal is not None), ("--attach", bool(args.attach)),
                                          ("--name", args.name is not None), ("--config", args.config != "local"),
                                          ("--config-file", bool(args.config_file)), ("--script", bool(args.script)))
                 if given]
        if extra:  # they shape a new swarm: with --resume they were silently ignored
            die(f"--resume continues a stored swarm as it is; {', '.join(extra)} cannot go with it", 2)
        swarm = svc.get_swarm(args.resume)
        svc.recover()
        if swarm.status is SwarmStatus.PAUSED:
            svc.resume(swarm.id)
        elif swarm.status is SwarmStatus.DRAFT:
            svc.spawn(swarm.id)
        elif swarm.status is SwarmStatus.COMPLETED:
            die(f"swarm {swarm.id} already completed; nothing to resume")
        elif swarm.status is SwarmStatus.FAILED:
            why = _one_line(swarm.failure_reason or "no reason given", 300)
            die(f"swarm {swarm.id} already failed ({why}); nothing to resume. To run a failed node "
                f"again: aga-swarm retry {swarm.id} NODE")
    else:
        if args.goal is None:
            die("a GOAL is required (or --resume SWARM_ID)", 2)
        goal = args.goal
        if goal == "-":
            goal = sys.stdin.read()
        swarm = svc.create_swarm(CLI_OWNER, goal, name=args.name, config_id=_config_id(svc, args),
                                 files=_files(args.attach))
        svc.spawn(swarm.id)
    sid = swarm.id
    _current["swarm_id"] = sid
    err.print(f"swarm {sid}", style="dim", markup=False)
    answers = Answers()
    live_tree = out.is_terminal and not args.no_tree
    try:
        while True:
            if live_tree:
                with Live(render_tree(svc.state(sid)), console=out, refresh_per_second=8) as live:
                    def refresh(_owner: str, _events: Any) -> None:
                        live.update(render_tree(svc.state(sid)))
                    svc.engine.listeners.append(refresh)
                    try:
                        await svc.run_until_idle(sid)
                    finally:
                        svc.engine.listeners.remove(refresh)
                    live.update(render_tree(svc.state(sid)))
            else:
                await svc.run_until_idle(sid)
            swarm = svc.get_swarm(sid)
            if swarm.status is SwarmStatus.COMPLETED:
                print_markdown(out, _summary(svc, sid))
                return 0
            if swarm.status is SwarmStatus.FAILED:
                err.print(f"error: swarm failed: {swarm.failure_reason}", markup=False, soft_wrap=True)
                return 1
            if swarm.status is SwarmStatus.PAUSED:
                err.print(f"swarm is paused; continue with: aga-swarm run --resume {sid}", soft_wrap=True)
                return 3
            waiting = svc.waiting_chats(sid)
            if not waiting:
                state = svc.state(sid)
                if all(n.lifecycle in TERMINAL_LIFECYCLES for n in state.nodes.values()):
                    die("swarm stopped without finishing (no live nodes)")
                continue
            for chat in waiting:
                question = svc.messages(sid, chat.id)[-1].content
                out.print()
                out.print(Text(chat.title, style="bold magenta"))
                print_markdown(out, question)
                for a in svc.messages(sid, chat.id)[-1].attachments:
                    out.print(Text(f"  attached: {a.path} ({a.content_type}, {a.size} bytes)", style="dim"))
                files: list[str] = []
                while (answer := answers.read("> ")) is not None and answer.startswith(ATTACH_COMMAND):
                    path = answer[len(ATTACH_COMMAND):].strip()
                    if Path(path).is_file():
                        files.append(path)
                        err.print(f"attached {path}; type your answer (or /attach another file)", markup=False,
                                  soft_wrap=True)
                    else:
                        err.print(Text(f"no such file: {path}", style="yellow"), soft_wrap=True)
                if answer is None:
                    svc.pause(sid)
                    err.print(f"no more answers on stdin; swarm paused. Continue with: aga-swarm run --resume {sid}",
                              soft_wrap=True)
                    return 3
                try:
                    svc.post_reply(sid, chat.id, answer, files=_files(files))
                except SwarmError as exc:
                    err.print(Text(str(exc), style="yellow"))
    finally:
        svc.close()


_current: dict[str, str] = {}


def _pause_after_interrupt(args: argparse.Namespace) -> int:
    """Ctrl-C pauses cleanly: operations in flight are recovered on resume, held ones stay held."""
    from .engine.errors import SwarmError

    sid = _current.get("swarm_id")
    if sid is None:
        return 130
    svc = _service(args)
    with contextlib.suppress(SwarmError):
        svc.pause(sid)
    svc.close()
    print(f"\npaused. Continue with: aga-swarm run --resume {sid}", file=sys.stderr)
    return 130


def _summary(svc: Any, sid: str) -> str:
    state = svc.state(sid)
    root = state.nodes.get(state.root_node_id or "")
    if root is None:
        return "(no summary)"
    msgs = svc.messages(sid, root.chat_id)
    return str(msgs[-1].content if msgs else root.report or "(no summary)")


def _swarms(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Column, Table

    svc = _service(args)
    swarms = svc.list_swarms()
    if args.json:
        print(json.dumps([s.model_dump(mode="json") for s in swarms], indent=2))
        return 0
    if not swarms:
        print("no swarms yet; start one with: aga-swarm run \"your goal\"")
        return 0
    table = Table(Column("id", no_wrap=True, min_width=17), "name", "status", "events", "created")
    for s in swarms:
        table.add_row(s.id, s.name, s.status.value, str(s.last_seq), s.created_at.strftime("%Y-%m-%d %H:%M"))
    Console().print(table)
    return 0


def _state(args: argparse.Namespace) -> int:
    from rich.console import Console

    svc = _service(args)
    state = svc.state(args.swarm_id) if args.at is None else svc.state_at(args.swarm_id, args.at)
    if args.json:
        print(state.model_dump_json(indent=2))
    else:
        Console().print(render_tree(state, max_nodes=10_000))
    return 0


def _steer(args: argparse.Namespace) -> int:
    """cancel | retry | tell SWARM NODE [TEXT]: one line saying what was done (the swarm's runner, a worker or
    ``run --resume``, carries it on)."""
    svc = _service(args)
    if args.command == "tell":
        from_stdin = args.text == "-" or (args.text is None and not args.attach)
        text = sys.stdin.read() if from_stdin else args.text or ""
        msg = svc.tell_node(args.swarm_id, args.node_id, text, files=_files(args.attach))
        sent = f" with {', '.join(a.path for a in msg.attachments)}" if msg.attachments else ""
        print(f"told {args.node_id}: posted to {msg.chat_id} as message {msg.index}{sent}")
    elif args.command == "cancel":
        node = svc.cancel_node(args.swarm_id, args.node_id)
        print(f"cancelled {node.id} and its subtree")
    else:
        if args.config_file:  # e.g. a limit raised: the retry runs on it
            _save_config_file(svc, args.config_file, svc.get_swarm(args.swarm_id).config_id)
        node = svc.retry_node(args.swarm_id, args.node_id)
        print(f"retrying {node.id}: attempt {node.attempt} ({node.lifecycle.value}); a server or worker on this "
              f"store runs it, or: aga-swarm run --resume {args.swarm_id}")
    return 0


def _history(args: argparse.Namespace) -> int:
    svc = _service(args)
    hist = svc.history(args.swarm_id, after=args.after, limit=args.limit)
    if args.json:
        print(hist.model_dump_json(indent=2))
        return 0
    for e in hist.events:
        detail = _one_line(_event_line(e.type.value, e.data), 100)
        print(f"{e.seq:>6}  {e.ts:%H:%M:%S}  {e.type.value:<15} {e.node_id or '':<14} {detail}")
    return 0


def _one_line(text: str, limit: int) -> str:
    """Whitespace (newlines included) folded to single spaces, cut at ``limit`` characters with an ellipsis:
    ``history`` prints one line per event, whatever a report or message holds."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _memory(args: argparse.Namespace) -> int:
    """List a swarm's memory space (now or at a seq), or write one file's bytes to stdout."""
    from .engine.memory import is_text_type

    svc = _service(args)
    if args.path:
        file, data = svc.memory_file(args.swarm_id, args.path, at=args.at)
        if not is_text_type(file.content_type) and sys.stdout.isatty():
            die(f"{file.path} is {file.content_type}; redirect the output to a file")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    listing = svc.memory(args.swarm_id, at=args.at)
    if args.json:
        print(listing.model_dump_json(indent=2))
        return 0
    if not listing.files:
        print(f"no files in the memory space of {args.swarm_id} at seq {listing.seq}")
        return 0
    for f in listing.files:
        print(f"{f.size:>10}  {f.content_type:<24} {f.node_id or 'person':<12} seq {f.seq:<6} {f.path}")
    return 0


def _approve_tools(args: argparse.Namespace) -> int:
    """Turn the per-swarm auto-approve switch on or off, for one tool or all of them."""
    from .engine.errors import InvalidInput

    try:
        covered = _service(args).set_auto_approve(args.swarm_id, args.on, args.tool)
    except InvalidInput as exc:
        if os.environ.get("AGA_SWARM_MCP_CONFIG") or not args.tool or args.tool.startswith("memory."):
            raise
        die(f"{exc}; the operator's MCP servers are read from --mcp-config FILE (or $AGA_SWARM_MCP_CONFIG), "
            "as for run, serve and worker")
    print(f"approved automatically in {args.swarm_id}: " + (", ".join(covered) if covered else "nothing"))
    return 0


def _event_line(kind: str, data: dict[str, Any]) -> str:
    if kind == "node_spawned":  # a node is spawned as the transaction that made it left it: say how it was born
        node = data["node"]
        born = [f"lifecycle={node['lifecycle']}"] if node.get("lifecycle", "spawned") != "spawned" else []
        born += [f"report={node['report']}"] if node.get("report") else []
        return ", ".join([f"{node['action_id']}: {node['title']}", *born])
    if kind == "node_updated":
        ch = data["changes"]
        return ", ".join(f"{k}={v}" for k, v in ch.items() if k in ("lifecycle", "action_id", "report"))
    if kind == "message_posted":
        m = data["message"]
        return f"{m['role']}: {_one_line(m['content'], 80)!r}"
    if kind == "journal":
        return str(data["text"])
    if kind == "swarm_status":
        return f"{data['status']} {data.get('reason') or ''}".strip()
    if kind == "chat_updated":
        return json.dumps(data["changes"])
    return json.dumps(data)


def _serve(args: argparse.Namespace) -> int:
    try:
        from .server.main import ServeError, serve
    except ImportError as exc:
        die(f"the server needs the 'server' extra (pip install 'aga-swarm[server]'): {exc}")
    level = "critical" if args.quiet else "debug" if args.verbose else None
    try:
        serve(args.host, args.port, args.data_dir, log_level=level, actions=args.actions)
    except ServeError as exc:
        die(str(exc))
    return 0


async def _worker(args: argparse.Namespace) -> int:
    """A worker process: runs operations from the shared store until stopped (or idle with --until-idle),
    with Prometheus metrics on --metrics-port."""
    registry = _load_actions(args)
    if args.once and args.until_idle:
        die("--once and --until-idle cannot be used together")
    if args.concurrency < 1:
        die(f"--concurrency must be at least 1 (got {args.concurrency})")
    if args.stall_seconds is not None and not args.stall_seconds > 0:
        die(f"--stall-seconds must be positive (got {args.stall_seconds:g})")
    svc = _service(args, registry, concurrency=args.concurrency, stall_seconds=args.stall_seconds)
    if args.recover:
        svc.recover()
    metrics = None
    if args.metrics_port is not None:
        from .metrics import registry_for, serve_metrics

        try:
            metrics, _ = serve_metrics(registry_for(svc.engine), args.metrics_port, args.metrics_host)
        except OSError as exc:
            svc.close()
            die(f"cannot serve metrics on {args.metrics_host}:{args.metrics_port}: {exc.strerror or exc}")
        print(f"worker metrics at http://{args.metrics_host}:{metrics.server_port}/metrics", flush=True)
    try:
        return await _work(args, svc)
    finally:
        if metrics is not None:
            metrics.shutdown()


def once_summary(claimed: bool, ran: int) -> str:
    """What ``worker --once`` did, in words that stay true when its claim was lost (exit code 0 either way)."""
    if not claimed:
        return "nothing queued"
    if ran == 0:
        return "0 operations run: the one it claimed was taken by another worker or queued again to retry"
    return f"{ran} operations run"


async def _work(args: argparse.Namespace, svc: Any) -> int:
    import signal

    print("worker ready", flush=True)
    if args.once:
        print(f"worker once: {once_summary(*await svc.runner.run_once_outcome())}", flush=True)
        return 0
    if args.until_idle:
        await svc.run_until_idle()
        print(f"worker idle: {svc.runner.ops_done} operations run", flush=True)
        return 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    emitter = None
    redis_url = os.environ.get("AGA_SWARM_REDIS_URL")
    if redis_url:  # push this worker's events to every server's sockets through Redis
        from .server.realtime import RedisEmitter

        emitter = RedisEmitter(redis_url, channel=os.environ.get("AGA_SWARM_REDIS_CHANNEL") or "aga_swarm")
        await emitter.start(svc.engine)
    try:
        await svc.runner.serve(stop)
    finally:
        if emitter is not None:
            await emitter.stop(svc.engine)
    print(f"worker stopped: {svc.runner.ops_done} operations run", flush=True)
    return 0


def _queue(args: argparse.Namespace) -> int:
    from .engine.queue import SHOWN, queue_report

    svc = _service(args)
    try:
        report = queue_report(svc.db)
    finally:
        svc.close()
    if args.json:
        print(json.dumps([{"swarm_id": q.swarm_id, "name": q.name, "swarm_status": q.swarm_status, **q.counts,
                           "oldest_queued_age_s": q.oldest_age_s} for q in report], indent=2))
        return 0
    if not report:
        print("the queue is empty: no queued, running, held or failed operations")
        return 0
    from rich.console import Console
    from rich.table import Column, Table

    table = Table(Column("swarm", no_wrap=True, min_width=17), "name", "status", *(s.value for s in SHOWN),
                  "oldest queued")  # the whole id at any width: it is what the other commands take
    for q in report:
        age = "" if q.oldest_age_s is None else f"{q.oldest_age_s:.1f}s"
        table.add_row(q.swarm_id, q.name, q.swarm_status, *(str(q.counts[s.value]) for s in SHOWN), age)
    Console().print(table)
    return 0


def _db(args: argparse.Namespace) -> int:
    """``db upgrade``: the migrations, under the lock, at deploy time. ``db current``: where the schema is
    (exit 0 when it matches this code, 3 when it does not)."""
    from .store.database import HEAD_REVISION, Database, configured_url

    db = Database(configured_url(args.data_dir), migrate=False, check_schema=False)
    try:
        if args.db_command == "upgrade":
            before = db.migrate()
            if before == HEAD_REVISION:
                print(f"database schema already at revision {HEAD_REVISION}")
            else:
                print(f"database schema upgraded from {before or 'empty'} to revision {HEAD_REVISION}")
            return 0
        current = db.current_revision()
        print(f"database schema at revision {current or 'none (empty)'}; this code needs {HEAD_REVISION}")
        return 0 if current == HEAD_REVISION else 3
    finally:
        db.dispose()


def _schema(args: argparse.Namespace) -> int:
    from .schemas import all_json_schemas

    print(json.dumps(all_json_schemas(), indent=2, sort_keys=True))
    return 0


def _global_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name (``aga-swarm -v run ...`` or ``run -v ...``).
    Their defaults are SUPPRESS, so a value given before the command is not reset by the command's parser."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("global options")
    group.add_argument("--data-dir", default=argparse.SUPPRESS, metavar="DIR",
                       help="store directory (default $AGA_SWARM_DATA or ~/.aga_swarm)")
    group.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="log more (engine activity; debug lines for serve)")
    group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="log nothing (serve and worker log requests and errors by default)")
    return common


def _add_actions_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--actions", action="append", default=[], metavar="MODULE",
                        help="import this module of custom actions (repeatable; also $AGA_SWARM_ACTIONS, "
                             "comma-separated, and installed packages' 'aga_swarm.actions' entry points)")


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
    p = argparse.ArgumentParser(prog="aga-swarm", description="Run trees of LLM agents that work with people.",
                                parents=[common])
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common])

    run = command("run", "run a swarm in the terminal, answering its questions")
    run.add_argument("goal", nargs="?", help="the goal ('-' reads it from stdin)")
    run.add_argument("--resume", metavar="SWARM_ID", help="continue a paused or crashed swarm")
    run.add_argument("--name", help="a name for the swarm")
    run.add_argument("--config", default="local", help="config id (default: local, the scripted offline model)")
    run.add_argument("--config-file", help="a SwarmConfig as JSON or YAML")
    run.add_argument("--script", help="scripted-model script (YAML/JSON rules fixing outputs per step)")
    run.add_argument("--no-tree", action="store_true", help="do not draw the live tree")
    run.add_argument("--attach", action="append", default=[], metavar="FILE",
                     help="attach a file to the goal (repeatable; the root receives it). While answering a "
                          "question, a line '/attach FILE' attaches a file to the next answer")
    _add_actions_option(run)
    _add_mcp_option(run)

    command("swarms", "list stored swarms").add_argument("--json", action="store_true")

    st = command("state", "show a swarm's state (now, or at a seq)")
    st.add_argument("swarm_id")
    st.add_argument("--at", type=int, metavar="SEQ")
    st.add_argument("--json", action="store_true")

    hi = command("history", "show a swarm's events, one line each")
    hi.add_argument("swarm_id")
    hi.add_argument("--after", type=int, default=0, metavar="SEQ")
    hi.add_argument("--limit", type=int, default=None)
    hi.add_argument("--json", action="store_true")

    for name, what in (("cancel", "cancel a live node and its subtree"),
                       ("retry", "run a failed or cancelled node again, as a new attempt"),
                       ("tell", "say something to a live node (its next model call receives it)")):
        steer = command(name, what)
        steer.add_argument("swarm_id")
        steer.add_argument("node_id")
        if name == "retry":
            steer.add_argument("--config-file", metavar="FILE", help="first save this new version of the swarm's "
                               "config (JSON or YAML, the same id), e.g. with the limit it stopped on raised")
        if name == "tell":
            steer.add_argument("text", nargs="?", help="what to say ('-' or nothing without --attach: read it "
                               "from stdin)")
            steer.add_argument("--attach", action="append", default=[], metavar="FILE",
                               help="attach a file (repeatable); it lands in the memory space under uploads/")

    me = command("memory", "list a swarm's memory space, or print one of its files")
    me.add_argument("swarm_id")
    me.add_argument("path", nargs="?", help="a file's path: its bytes go to stdout")
    me.add_argument("--at", type=int, metavar="SEQ", help="as of this seq")
    me.add_argument("--json", action="store_true", help="the listing as JSON")

    aa = command("approve-tools", "approve a tool (or every tool) automatically in this swarm, or stop: relaxes "
                 "the operator's 'ask' policy to 'auto' (never 'deny') and answers the approvals it covers")
    aa.add_argument("swarm_id")
    aa.add_argument("tool", nargs="?", help="a tool's id such as files.write_file (default: every tool)")
    on_off = aa.add_mutually_exclusive_group(required=True)
    on_off.add_argument("--on", dest="on", action="store_true", help="approve automatically")
    on_off.add_argument("--off", dest="on", action="store_false", help="ask again")
    _add_mcp_option(aa)  # the tool must be one of the swarm's: the MCP servers' tools are known from this

    sv = command("serve", "serve the web app and API (workers in-process); logs one JSON line per request")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    _add_actions_option(sv)
    _add_mcp_option(sv)

    wk = command("worker", "run operations from the shared store (scale-out worker)")
    wk.add_argument("--until-idle", action="store_true", help="exit when no operation is queued")
    wk.add_argument("--once", action="store_true",
                    help="run exactly one queued operation (and the chain it commits with), then exit")
    wk.add_argument("--concurrency", type=int, default=32, metavar="N",
                    help="operations run at once by this process, on different nodes (default 32)")
    wk.add_argument("--recover", action="store_true", help="re-queue operations left running first")
    wk.add_argument("--stall-seconds", type=float, default=None, metavar="S",
                    help="PostgreSQL: take over the operations of a worker silent this long "
                         "(default $AGA_SWARM_STALL_SECONDS or 30)")
    _add_actions_option(wk)
    _add_mcp_option(wk)
    wk.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                    help="serve Prometheus metrics at http://HOST:PORT/metrics (0: a free port, printed)")
    wk.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST",
                    help="address for --metrics-port (default 127.0.0.1)")

    qu = command("queue", "what the operation queue holds, per swarm: queued, running, held and failed")
    qu.add_argument("--json", action="store_true")

    db = command("db", "the database schema: migrate it at deploy time, or show where it is")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", parents=[common], help="apply the migrations under a lock (safe while other "
                      "processes start); $AGA_SWARM_DB_URL or the data dir's SQLite file")
    db_sub.add_parser("current", parents=[common], help="print the schema's revision and the one this code needs")

    command("schema", "print the JSON Schema of every wire model")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse, and fill in the global options wherever they were given (``None``/``False`` when absent)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.data_dir = getattr(args, "data_dir", None)
    args.verbose = bool(getattr(args, "verbose", False))
    args.quiet = bool(getattr(args, "quiet", False))
    if args.verbose and args.quiet:
        parser.error("-v and -q cannot be used together")
    return args


def _configure_logging(args: argparse.Namespace) -> None:
    """Terminal commands stay quiet unless -v. ``serve`` logs JSON lines (requests, errors) by default, set up
    in :func:`server.main.serve`; ``worker`` logs warnings and errors by default. -q silences both."""
    if args.command == "serve":
        return
    if args.command == "worker":
        level = logging.CRITICAL if args.quiet else logging.INFO if args.verbose else logging.WARNING
    else:
        level = logging.INFO if args.verbose else logging.CRITICAL
    logging.basicConfig(level=min(level, logging.WARNING), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("aga_swarm").setLevel(level)
    if args.command == "run" and not (args.quiet or args.verbose):
        # an operator's MCP server that cannot start (or stops) is news at the terminal too: one line each
        mcp = logging.getLogger("aga_swarm.mcp")
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        mcp.addHandler(handler)
        mcp.setLevel(logging.WARNING)
        mcp.propagate = False


def main(argv: list[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, so a reader that went away (``| head``) is noticed inside this try
        return code
    except BrokenPipeError:
        # the reader closed the pipe: stop quietly, and point stdout at /dev/null so the flush at exit is quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0


def _add_mcp_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mcp-config", metavar="FILE", default=None,
                        help="the operator's MCP servers ({\"mcpServers\": ...}, JSON or YAML; default "
                             "$AGA_SWARM_MCP_CONFIG): each server a folder of the action space, each tool an action")


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    if args.data_dir:
        os.environ["AGA_SWARM_DATA"] = str(args.data_dir)
    if getattr(args, "mcp_config", None):
        os.environ["AGA_SWARM_MCP_CONFIG"] = str(args.mcp_config)  # the engine (and a server's) reads it
    _configure_logging(args)
    from .engine.errors import SwarmError
    from .llm.protocol import LLMError
    from .mcp.config import McpConfigError
    from .store.errors import SetupError

    handlers: dict[str, Any] = {"swarms": _swarms, "state": _state, "history": _history, "serve": _serve,
                                "schema": _schema, "db": _db, "memory": _memory, "cancel": _steer,
                                "approve-tools": _approve_tools,
                                "retry": _steer, "tell": _steer, "queue": _queue}
    traced = False
    try:
        traced = args.command in ("run", "worker", "serve") and _start_tracing(args.command)
        if args.command == "run":
            # a plain event loop (not asyncio.run) keeps Python's own SIGINT handling, so Ctrl-C interrupts
            # even a blocking read of the terminal
            loop = asyncio.new_event_loop()
            try:
                return loop.run_until_complete(_run(args))
            except KeyboardInterrupt:
                return _pause_after_interrupt(args)
            finally:
                loop.close()
        if args.command == "worker":
            return asyncio.run(_worker(args))
        return int(handlers[args.command](args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except (SwarmError, LLMError, SetupError, McpConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise
    except Exception as exc:  # the last line of defence: one clear line, never a traceback
        if args.verbose:
            raise
        problem = _database_problem(exc, args)
        if problem is not None:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        if traced:
            from . import tracing

            tracing.shutdown()  # export the spans still batched


def _database_problem(exc: Exception, args: argparse.Namespace) -> str | None:
    """One line for a database error (a bad URL, a server down or refusing, a missing database), naming the
    database (its password hidden); None for any other error."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    if not isinstance(exc, ArgumentError | NoSuchModuleError | OperationalError):
        return None
    from sqlalchemy.engine import make_url

    from .store.database import configured_url

    url = os.environ.get("AGA_SWARM_DB_URL") or configured_url(args.data_dir)
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = "(not a URL)"
    origin = "$AGA_SWARM_DB_URL" if os.environ.get("AGA_SWARM_DB_URL") else "the data dir's"
    if not isinstance(exc, OperationalError):
        return (f"cannot use the database URL {shown} ({origin}): {exc}; give sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST/DATABASE")
    why = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return f"the database {shown} ({origin}) failed: {why}"


def _start_tracing(command: str) -> bool:
    """OpenTelemetry traces when the OTEL_* variables ask for them (aga_swarm/tracing.py)."""
    from . import tracing

    try:
        return tracing.configure_from_env(f"aga-swarm-{command}")
    except ValueError as exc:
        raise CliError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
