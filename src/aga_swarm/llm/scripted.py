"""The scripted offline model: deterministic answers so the app works with no key, and tests can rely on it.

Rules (by request purpose):

- ``plan.decompose``: one subtask per non-empty line of the directive; a directive starting with ``Plan:``
  is split on ``;`` instead (so trees can be deep). Dependencies: by default a subtask needs every earlier
  ``Ask`` subtask of the same plan (so "Write a haiku about it" waits for "Ask the user for their favourite
  colour"); an explicit ``(after 1, 3)`` at the end of a line (or of a ``;`` part) lists the 1-based numbers
  of the subtasks it needs instead (``(after)`` with no numbers: none), and is removed from its text.
  A line (or ``;`` part) ``Policy: <name>`` is no subtask: it picks the planning node's termination policy
  (``all``, ``fail_fast``, ``first`` or ``confirm``), and the numbers in ``(after ...)`` count only the
  subtask lines.
- ``route.choose``: ``Ask...`` goes to ask_user, ``Plan:...`` to plan; a directive that names a custom
  action (one other than the built-in ask_user, plan and do) goes to it; anything else to do. A directive
  names an action when the action's id appears in it as whole words, ignoring case, with ``_`` and ``-``
  read as spaces ("Tell me the weather" names ``weather``; the first named action among the options
  wins). On the way down it picks the folder that contains the target; ``none`` when no option leads there.
- Tools: a directive ``Tool: <tool> <arguments>`` routes to that tool's action (``memory.write``,
  ``memory.read``, ``memory.list``, ``memory.search``, or an operator's tool), and ``tool.args`` answers with
  the arguments: a JSON object when the rest of the line is one (``Tool: memory.search {"query": "plan"}``),
  else the words in the order of the tool's positional arguments, the last taking the rest of the line:
  ``Tool: memory.write notes/plan.md <text>`` (path, content), ``Tool: memory.read notes/plan.md`` (path),
  ``Tool: memory.list [folder]``, ``Tool: memory.search <text>``. The node's report is the tool's result (a
  read's report is the file's text). Subtasks of a plan run at once unless ordered: end a read's line with
  ``(after 1)`` to read what line 1 wrote.
- Function calling (a turn of a tool-using loop: ``do``, or a custom action's ``ctx.llm(..., tools=...)``):
  every ``Tool: <tool> <arguments>`` segment *inside* a directive that does not start with ``Tool:`` (so it is
  routed to ``do``, not to the tool's action) becomes one function call, in order, one per turn: ``Save the
  plan Tool: memory.write notes/plan.md buy milk Tool: memory.read notes/plan.md`` calls ``memory.write`` and,
  once its result is in, ``memory.read``. A segment runs to the next ``Tool:``; its arguments are read as
  above. When every segment has its result (or no more calls are offered), the model answers; ``do``'s report
  is then its usual ``Done: "..."`` followed by each tool result's text. A script rule for the purpose may
  answer ``{"tool_calls": [{"name", "arguments"}]}`` (``name``: the tool's id) to call tools instead.
- ``ask.compose``: a question that contains the subtask's text.
- ``ask.evaluate``: a reply shorter than 3 characters after trimming is not sufficient (follow-up);
  anything else is, and what was learned contains the reply.
- ``do.execute``: a report that quotes the subtask: ``Done: "<subtask>"``, followed by `` (with: ...)``
  naming what it received from the subtasks it needs (an ``Ask`` subtask's answer, else its report), e.g.
  ``Done: "Write a haiku about it" (with: blue)``.
- Whatever a person told the node (``tell``) and its call received (``facts["told"]``) shows: the ``do``
  report ends with `` (told: ...)`` and the review summary adds ``- The person said: ...``.
- Attachments (files the person gave the node or its ancestors, ``facts["attachments"]``) show in the ``do``
  report and in what ``ask.evaluate`` learned: `` (files: <path> "<first line of a text file>"; <path> <type>
  <size> bytes)``, e.g. ``Done: "Describe the photo" (files: uploads/cat.png image/png 68 bytes)``: a text
  file by the beginning of its first line (60 characters), anything else by its type and size.
- ``ask.compose`` cites the files the subtask's prerequisites wrote (``inputs[].files``) as attachments of its
  question, so ``Tool: memory.write notes/plan.md ...`` then ``Ask the user to check the plan (after 1)``
  asks with ``notes/plan.md`` attached.
- ``plan.review``: complete when every child is done (a child the person cancelled does not count, and is not
  re-planned); the summary lists the children's reports. Otherwise
  the children that did not finish are named as missing (so they are re-planned, within the limit), with
  the same default dependencies as a plan (a missing subtask needs every earlier missing ``Ask`` subtask).
- ``confirm.review`` (the ``confirm`` policy, once every child has ended): met when the latest attempt of
  every subtask is done (a subtask the person cancelled does not count) and no child's report contains the
  marker ``[unconfirmed]`` (attempts of a subtask are matched by their directive without the marker); the
  reason names each child that is not. When not met, the missing subtasks are those children's directives
  with the marker removed (so a ``do`` line with ``[unconfirmed]`` in it, whose report quotes it, is
  re-planned once and then confirmed; a failing one is re-planned until ``max_replans``).

A script file (YAML or JSON: a list of ``{purpose, match?, output, repeat?}``) overrides these: the first
rule whose purpose equals the request's and whose ``match`` (if any) occurs in the directive answers, and is
used up unless ``repeat: true``. An output that does not validate makes the call fail like a bad model.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..schemas import LLMSettings
from .protocol import LLMError, LLMRequest, LLMResponse

BUILTIN_TARGETS = ("ask_user", "plan", "do")
_CONTENT = attrgetter("content")


def _words(text: str) -> str:
    return " ".join(re.sub(r"[_-]+", " ", text).split())


def _names(directive: str, action_id: str) -> bool:
    """Whether the directive names the action: its id as whole words, ignoring case, ``_`` and ``-``."""
    words = _words(action_id)
    return bool(words) and re.search(rf"(?<!\w){re.escape(words)}(?!\w)", _words(directive),
                                     re.IGNORECASE) is not None


def tool_call(directive: str) -> tuple[str, str] | None:
    """``Tool: <id> <arguments>`` -> (id, the rest of the line), else None."""
    d = directive.strip()
    if not d.startswith("Tool:"):
        return None
    head, _, rest = d[len("Tool:"):].strip().partition(" ")
    return (head, rest.strip()) if head else None


_SEGMENT = re.compile(r"(?:^|(?<=\s))Tool:\s+")


def tool_segments(directive: str) -> list[str]:
    """The ``Tool: ...`` segments of a directive, each as a ``Tool: <id> <arguments>`` line."""
    return list(_segments(directive))


@lru_cache(maxsize=256)  # a tool-using loop's every turn reads the same directive's
def _segments(directive: str) -> tuple[str, ...]:
    parts = _SEGMENT.split(directive.strip())
    return tuple(f"Tool: {p.strip()}" for p in parts[1:] if p.strip())


def tool_arguments(directive: str, positional: Sequence[str]) -> dict[str, Any]:
    """The arguments of a ``Tool:`` line: a JSON object, or words given to the tool's positional arguments in
    order, the last one taking the rest of the line (``Tool: memory.write notes/plan.md Buy milk``)."""
    call = tool_call(directive)
    rest = call[1] if call else directive.strip()
    if rest.startswith("{"):
        try:
            parsed = json.loads(rest)
        except json.JSONDecodeError as exc:
            raise LLMError(f"the arguments of {directive.strip()!r} are not valid JSON: {exc.msg}") from None
        if not isinstance(parsed, dict):
            raise LLMError(f"the arguments of {directive.strip()!r} must be a JSON object")
        return parsed
    names = list(positional)
    if not names or not rest:
        return {}
    words = rest.split(maxsplit=len(names) - 1)
    return dict(zip(names, words, strict=False))


def _target(directive: str, options: Sequence[dict[str, Any]] = ()) -> str:
    d = directive.strip()
    call = tool_call(d)
    if call is not None:
        return call[0]
    if d.startswith("Ask"):
        return "ask_user"
    if d.startswith("Plan:"):
        return "plan"
    named = _SEGMENT.split(d)[0]  # the tools a task names inside it are not the action it is routed to
    for opt in options:
        for action_id in opt.get("contains", []):
            if action_id not in BUILTIN_TARGETS and _names(named, str(action_id)):
                return str(action_id)
    return "do"  # tools named inside a task: do calls them through function calling


_POLICY = re.compile(r"^Policy:\s*(all|fail_fast|first|confirm)\s*$", re.IGNORECASE)
_AFTER = re.compile(r"\s*\(after\b([\d,\s]*)\)\s*$", re.IGNORECASE)


def plan_lines(parts: list[str]) -> list[dict[str, Any]]:
    """Subtasks (``{task, needs}``) from a plan's lines: an ``(after 1, 3)`` at the end of a line names the
    1-based lines it needs; without one, a line needs every earlier line that starts with ``Ask``."""
    out: list[dict[str, Any]] = []
    asks: list[int] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        found = _AFTER.search(part)
        if found is not None:
            task = part[:found.start()].strip()
            needs = [int(n) for n in re.findall(r"\d+", found.group(1))]
        else:
            task, needs = part, list(asks)
        out.append({"task": task, "needs": needs})
        if _target(task) == "ask_user":
            asks.append(len(out))
    return out


def _received(inputs: list[dict[str, Any]]) -> str:
    got = [str((i.get("data") or {}).get("answer") or i.get("report") or "").strip() for i in inputs]
    got = [_quote(g, 120) for g in got if g]
    return f" (with: {'; '.join(got)})" if got else ""


def _dropped(child: dict[str, Any]) -> bool:
    """A subtask a person cancelled is not needed any more: it is not re-planned."""
    return str(child.get("failure_reason") or "").startswith("cancelled by the person")


def _quote(text: str, limit: int = 500) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _files(facts: dict[str, Any]) -> str:
    seen = []
    for f in facts.get("attachments", []):
        text = str(f.get("text", "")).strip()
        if "text" in f:
            first = text.splitlines()[0] if text else ""
            seen.append(f'{f.get("path")} "{_quote(first, 60)}"')
        else:
            seen.append(f"{f.get('path')} {f.get('content_type')} {f.get('size')} bytes")
    return f" (files: {'; '.join(seen)})" if seen else ""


def default_answer(purpose: str, facts: dict[str, Any]) -> dict[str, Any]:
    directive = str(facts.get("directive", ""))
    if purpose == "plan.decompose":
        d = directive.strip()
        parts = d[len("Plan:"):].split(";") if d.startswith("Plan:") else d.splitlines()
        policies = [m.group(1).lower() for p in parts if (m := _POLICY.match(p.strip()))]
        answer: dict[str, Any] = {"subtasks": plan_lines([p for p in parts if not _POLICY.match(p.strip())])}
        if policies:
            answer["policy"] = policies[-1]
        return answer
    if purpose == "route.choose":
        options = list(facts.get("options", []))
        target = _target(directive, options)
        for opt in options:
            if opt["id"] == target or target in opt.get("contains", []):
                return {"choice": opt["id"], "reason": f"{target} fits"}
        return {"choice": "none", "reason": "nothing here leads to " + target}
    if purpose == "ask.compose":
        cited = [str(p) for i in facts.get("inputs", []) for p in i.get("files", [])]
        return {"message": f"I need your input on this: **{_quote(directive)}**", "attachments": cited}
    if purpose == "ask.evaluate":
        reply = str(facts.get("reply", ""))
        if len(reply.strip()) < 3 and not facts.get("attachments"):
            return {"sufficient": False, "followup": "Could you say a little more? A few words are enough."}
        return {"sufficient": True, "closing": "Thank you, that is what I needed.",
                "learned": f"The person answered: {_quote(reply)}{_files(facts)}"}
    told = [_quote(str(t), 200) for t in facts.get("told", [])]
    heard = f" (told: {'; '.join(told)})" if told else ""
    if purpose == "do.execute":
        return {"report": f'Done: "{_quote(directive)}"{_received(list(facts.get("inputs", [])))}{heard}'
                          f'{_files(facts)}'}
    if purpose == "tool.args":
        tool = str(facts.get("tool", ""))
        return {"arguments": tool_arguments(directive, list(facts.get("positional", []))),
                "reason": f"the task names {tool}"}
    if purpose == "plan.review":
        latest: dict[str, dict[str, Any]] = {}
        for c in facts.get("children", []):  # a re-planned task's latest attempt is the one that counts
            latest[str(c.get("directive", ""))] = c
        final = [c for c in latest.values() if not _dropped(c)]
        complete = all(c.get("lifecycle") == "done" for c in final)
        lines = ["- " + str(c.get("report") or c.get("failure_reason") or c.get("lifecycle")).replace("\n", "\n  ")
                 for c in final] + [f"- The person said: {t}" for t in told]
        missing = [d for d, c in latest.items() if c.get("lifecycle") != "done" and not _dropped(c)]
        return {"complete": complete, "summary": "\n".join(lines), "missing": plan_lines(missing)}
    if purpose == "confirm.review":
        return _confirm(list(facts.get("children", [])))
    raise LLMError(f"the scripted model has no rule for {purpose!r}; add one in a script file")


UNCONFIRMED = "[unconfirmed]"


def _unmarked(directive: str) -> str:
    return " ".join(directive.replace(UNCONFIRMED, " ").split())


def _confirm(children: list[dict[str, Any]]) -> dict[str, Any]:
    """``confirm.review``: met unless a subtask's latest attempt did not end done, or its report says
    ``[unconfirmed]``; the subtasks to do again are theirs, without the marker."""
    latest: dict[str, dict[str, Any]] = {}
    for c in children:  # a re-planned subtask's latest attempt counts: its directive without the marker
        latest[_unmarked(str(c.get("directive", "")))] = c
    final = [c for c in latest.values() if not _dropped(c)]
    unmet = [c for c in final if c.get("lifecycle") != "done" or UNCONFIRMED in str(c.get("report") or "")]
    if not unmet:
        dropped = len(latest) - len(final)
        return {"met": True, "reason": f"every subtask is done ({len(final)})"
                + (f"; {dropped} cancelled by the person" if dropped else ""), "missing": []}
    why = "; ".join(f"{c.get('id')} {'is ' + UNCONFIRMED if c.get('lifecycle') == 'done' else c.get('lifecycle')}"
                    + (f" ({_quote(str(c['failure_reason']), 200)})" if c.get("failure_reason") else "")
                    for c in unmet)
    missing = [_unmarked(str(c.get("directive", ""))) for c in unmet]
    return {"met": False, "reason": why, "missing": plan_lines(missing)}


def _problems(exc: ValidationError) -> str:
    """What is wrong, in a line: the scripted output comes from a person's goal or script (a hand-written
    dependency cycle, an unknown subtask number), so the reason must say what to change."""
    parts = []
    for e in exc.errors(include_url=False)[:5]:
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


class ScriptedModel:
    """Deterministic offline model. ``model`` is ``scripted-1``; tokens are estimated at 4 characters each."""

    def __init__(self, settings: LLMSettings | None = None, *, rules: list[dict[str, Any]] | None = None) -> None:
        self.model = (settings.model if settings else None) or "scripted-1"
        self.rules: list[dict[str, Any]] = list(rules or [])
        if settings is not None and settings.script_path:
            self.rules += load_script(settings.script_path)
        self.calls = 0

    def _scripted(self, request: LLMRequest) -> dict[str, Any] | None:
        directive = str(request.facts.get("directive", ""))
        for i, rule in enumerate(self.rules):
            if rule.get("purpose") != request.purpose:
                continue
            if rule.get("match") and str(rule["match"]) not in directive:
                continue
            if not rule.get("repeat"):
                del self.rules[i]
            output: dict[str, Any] = rule.get("output", {})
            return output
        return None

    async def complete(self, request: LLMRequest, output_model: type[BaseModel]) -> LLMResponse:
        started = time.perf_counter()
        self.calls += 1
        answer = self._scripted(request)
        calls: list[dict[str, Any]] = []
        if request.tools is not None:
            answer, calls = self._turn(request, answer)
        elif answer is None:
            answer = default_answer(request.purpose, request.facts)
        prompt_chars = sum(map(len, map(_CONTENT, request.messages)))
        if calls:
            raw = "Calling " + ", ".join(str(c["name"]) for c in calls)
            return LLMResponse(model=self.model, raw_output=raw, parsed={}, tokens_in=prompt_chars // 4 + 1,
                               tokens_out=len(json.dumps(calls)) // 4 + 1, tool_calls=calls,
                               latency_ms=(time.perf_counter() - started) * 1000, cost_usd=0.0)
        raw = json.dumps(answer)
        try:
            parsed = output_model.model_validate(answer)
        except ValidationError as exc:
            raise LLMError(f"scripted output for {request.purpose!r} is invalid: {_problems(exc)}",
                           raw_output=raw) from None
        return LLMResponse(model=self.model, raw_output=raw, parsed=parsed.model_dump(mode="json"),
                           tokens_in=prompt_chars // 4 + 1, tokens_out=len(raw) // 4 + 1,
                           latency_ms=(time.perf_counter() - started) * 1000, cost_usd=0.0)


    def _turn(self, request: LLMRequest,
              scripted: dict[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A turn of a tool-using loop: the next ``Tool:`` segment's call, or the final answer."""
        functions = {str(f.get("tool") or f["name"]): f for f in request.tools or []}
        done = sum(1 for m in request.messages if m.role == "tool")
        if scripted is not None and "tool_calls" in scripted:
            wanted = [(str(c["name"]), dict(c.get("arguments") or {})) for c in scripted["tool_calls"]]
        else:
            segments = tool_segments(str(request.facts.get("directive", "")))
            wanted = []
            if scripted is None and done < len(segments) and functions:
                tool_id = (tool_call(segments[done]) or ("", ""))[0]
                f = functions.get(tool_id, {})
                wanted = [(tool_id, tool_arguments(segments[done], list(f.get("positional", []))))]
        if wanted and functions:
            calls = [{"id": f"call_{done + i + 1}", "name": str(functions.get(t, {}).get("name") or t),
                      "arguments": json.dumps(args)} for i, (t, args) in enumerate(wanted)]
            return {}, calls
        if scripted is not None and "tool_calls" not in scripted:
            return scripted, []
        answer = default_answer(request.purpose, request.facts)
        results = [m.content for m in request.messages if m.role == "tool"]
        if request.purpose == "do.execute" and results:
            answer = {**answer, "report": "\n\n".join([str(answer["report"]), *results])}
        return answer, []


def load_script(path: str | Path) -> list[dict[str, Any]]:
    text = Path(path).read_text()
    if str(path).endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("rules", [])
    if not isinstance(data, list) or not all(isinstance(r, dict) and "purpose" in r for r in data):
        raise LLMError(f"script {path}: expected a list of {{purpose, match?, output, repeat?}} rules")
    return data
