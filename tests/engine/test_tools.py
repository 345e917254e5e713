"""Tools as actions: the memory tools, routed to by the scripted model's ``Tool:`` lines, called with the
arguments of the line, their result in the node's report; bad arguments and failing calls fail the node with
the reason."""

from __future__ import annotations

from aga_swarm.actions import builtin_registry
from aga_swarm.llm.scripted import tool_arguments
from aga_swarm.schemas import EventType, Lifecycle, SwarmStatus
from aga_swarm.service import SwarmService

from .helpers import run_answering


async def test_memory_tools_write_read_list_and_search(svc: SwarmService) -> None:
    goal = "\n".join([
        "Tool: memory.write notes/plan.md Buy milk and eggs, then bake",
        "Tool: memory.read notes/plan.md (after 1)",
        "Tool: memory.list notes (after 1)",
        'Tool: memory.search {"query": "MILK"} (after 1)',
    ])
    s = svc.create_swarm("u1", goal)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    st = svc.state(s.id)
    nodes = st.nodes
    assert [nodes[f"n.{i}"].action_id for i in range(1, 5)] == ["memory.write", "memory.read", "memory.list",
                                                                  "memory.search"]
    assert nodes["n.1"].report == "Wrote notes/plan.md (28 bytes)."
    assert nodes["n.1"].context_up["files"] == ["notes/plan.md"]
    assert nodes["n.2"].report == "Buy milk and eggs, then bake"  # the report is the file's text
    assert nodes["n.3"].report == "- notes/plan.md (28 bytes, text/markdown, by n.1)"
    assert nodes["n.4"].report == "- notes/plan.md\n  > Buy milk and eggs, then bake"
    assert st.memory["notes/plan.md"].node_id == "n.1"
    assert svc.memory_file(s.id, "notes/plan.md")[1] == b"Buy milk and eggs, then bake"
    # the call shows in the node's journal and developer log (the model's arguments)
    detail = svc.node_detail(s.id, "n.1")
    assert any(j.text.startswith("Calling memory.write(path=notes/plan.md, content=Buy milk") for j in detail.journal)
    call = next(c for c in detail.llm_calls if c.step == "tool.on_args")
    assert call.parsed_output["arguments"] == {"path": "notes/plan.md", "content": "Buy milk and eggs, then bake"}
    # the write is one memory_written event, committed with the node's report
    writes = [e for e in svc.history(s.id).events if e.type is EventType.MEMORY_WRITTEN]
    done = next(e for e in svc.history(s.id).events if e.node_id == "n.1" and e.type is EventType.NODE_UPDATED
                and e.data["changes"].get("lifecycle") == "done")
    assert [e.node_id for e in writes] == ["n.1"] and writes[0].seq < done.seq
    # the root's summary carries what was read
    assert "Buy milk and eggs, then bake" in (nodes["n"].report or "")


async def test_failing_calls_and_bad_arguments_fail_the_node_with_the_reason(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", 'Tool: memory.read nothing/here.md\nTool: memory.write {"path": "a.md"}\n'
                               "Tool: memory.write ../escape.md text")
    svc.spawn(s.id)
    await run_answering(svc, s.id)
    nodes = svc.state(s.id).nodes
    assert nodes["n.1"].lifecycle is Lifecycle.FAILED
    assert nodes["n.1"].failure_reason == "memory.read failed: no file 'nothing/here.md' in the memory space"
    assert nodes["n.2"].failure_reason == "invalid arguments for memory.write: content: Field required"
    assert (nodes["n.3"].failure_reason or "").startswith("memory.write failed: invalid memory path")
    assert svc.memory(s.id).files == []


def test_the_memory_tools_are_a_folder_of_the_action_space() -> None:
    reg = builtin_registry()
    folder = next(f for f in reg.space.root.folders if f.id == "memory")
    assert [a.id for a in folder.actions] == ["memory.list", "memory.read", "memory.write", "memory.search"]
    assert all(a.entry_step == "tool.start" and a.routable for a in folder.actions)


def test_scripted_tool_lines_map_to_arguments() -> None:
    assert tool_arguments("Tool: memory.write a/b.md  two  words ", ["path", "content"]) == {
        "path": "a/b.md", "content": "two  words"}
    assert tool_arguments("Tool: memory.list", ["prefix"]) == {}
    assert tool_arguments('Tool: fs.read_file {"path": "/tmp/x"}', []) == {"path": "/tmp/x"}
