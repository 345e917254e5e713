"""OpenAIClient against the real openai SDK talking to a local fake chat-completions server."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from aga_swarm.llm.factory import make_client
from aga_swarm.llm.openai_client import OpenAIClient
from aga_swarm.llm.prices import cost_usd, price_for
from aga_swarm.llm.protocol import LLMError, LLMRequest, TransientLLMError
from aga_swarm.schemas import PromptMessage
from aga_swarm.schemas.config import LLMSettings

try:
    from fake_openai_server import FakeOpenAIServer, FakeReply
except ImportError:  # tests/ collected as a package
    from tests.fake_openai_server import FakeOpenAIServer, FakeReply

KEY_ENV = "AGA_TEST_OPENAI_KEY"
SECRET = "sk-test-very-secret-0123456789"


class Answer(BaseModel):
    answer: int
    reason: str


SCHEMA: dict[str, Any] = Answer.model_json_schema()
GOOD = json.dumps({"answer": 42, "reason": "because"})


def make_request() -> LLMRequest:
    return LLMRequest(
        purpose="test.answer",
        messages=[
            PromptMessage(role="system", content="You answer questions as JSON."),
            PromptMessage(role="user", content="What is six times seven?"),
        ],
        output_schema=SCHEMA,
        schema_name="answer",
    )


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAIServer]:
    fake = FakeOpenAIServer()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_CUSTOM_HEADERS", "OPENAI_ORG_ID",
                 "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


def settings_for(server: FakeOpenAIServer, **overrides: Any) -> LLMSettings:
    values: dict[str, Any] = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "base_url": server.base_url,
        "api_key_env": KEY_ENV,
        "temperature": 0.3,
        "timeout_s": 5.0,
        "max_retries": 2,
        "max_invalid_retries": 2,
    }
    values.update(overrides)
    return LLMSettings(**values)


@pytest.fixture
async def client(server: FakeOpenAIServer) -> AsyncIterator[OpenAIClient]:
    c = OpenAIClient(settings_for(server))
    try:
        yield c
    finally:
        await c.aclose()


# --------------------------------------------------------------------------- happy path


async def test_valid_output(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    server.reply_content(GOOD, model="gpt-4o-mini-2024-07-18", prompt_tokens=120, completion_tokens=30)

    resp = await client.complete(make_request(), Answer)

    assert resp.parsed == {"answer": 42, "reason": "because"}
    assert resp.raw_output == GOOD
    assert resp.model == "gpt-4o-mini-2024-07-18"
    assert (resp.tokens_in, resp.tokens_out, resp.attempts) == (120, 30, 1)
    assert resp.latency_ms > 0
    assert len(server.requests) == 1

    sent = server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.header("Authorization") == f"Bearer {SECRET}"
    body = sent.json
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.3
    assert body["messages"] == [
        {"role": "system", "content": "You answer questions as JSON."},
        {"role": "user", "content": "What is six times seven?"},
    ]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA, "strict": False},
    }


async def test_cost_for_priced_model(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    server.reply_content(GOOD, model="gpt-4o-2024-08-06", prompt_tokens=1_000_000, completion_tokens=100_000)

    resp = await client.complete(make_request(), Answer)

    assert resp.cost_usd == pytest.approx(2.50 + 1.00)  # gpt-4o: $2.50/M in, $10/M out


async def test_code_fenced_json_is_accepted(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    server.reply_content(f"```json\n{GOOD}\n```")

    resp = await client.complete(make_request(), Answer)

    assert resp.parsed["answer"] == 42
    assert resp.attempts == 1


# --------------------------------------------------------------------------- invalid output


async def test_invalid_json_then_valid_retry(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    server.reply_content("Sure! The answer is 42.", prompt_tokens=100, completion_tokens=10)
    server.reply_content(GOOD, prompt_tokens=130, completion_tokens=20)

    resp = await client.complete(make_request(), Answer)

    assert resp.attempts == 2
    assert (resp.tokens_in, resp.tokens_out) == (230, 30)
    assert resp.parsed == {"answer": 42, "reason": "because"}
    assert resp.cost_usd == pytest.approx(cost_usd("gpt-4o-mini", 230, 30))
    assert len(server.requests) == 2

    retry = server.requests[1].messages
    assert retry[:2] == server.requests[0].messages
    assert retry[2] == {"role": "assistant", "content": "Sure! The answer is 42."}
    assert retry[3]["role"] == "user"
    assert retry[3]["content"].startswith("Your reply was not valid: invalid JSON")
    assert "Reply again with only JSON matching the schema." in retry[3]["content"]
    assert server.requests[1].json["response_format"]["type"] == "json_schema"


async def test_schema_mismatch_is_explained(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    server.reply_content(json.dumps({"answer": "forty-two"}))
    server.reply_content(GOOD)

    resp = await client.complete(make_request(), Answer)

    assert resp.attempts == 2
    feedback = server.requests[1].messages[-1]["content"]
    assert "does not match the schema" in feedback
    assert "answer" in feedback and "reason" in feedback


async def test_never_valid_raises_after_limit(server: FakeOpenAIServer) -> None:
    for i in range(10):
        server.reply_content(json.dumps({"wrong": i}))
    c = OpenAIClient(settings_for(server, max_invalid_retries=2))
    try:
        with pytest.raises(LLMError) as info:
            await c.complete(make_request(), Answer)
    finally:
        await c.aclose()

    err = info.value
    assert not isinstance(err, TransientLLMError)
    assert err.attempts == 3
    assert err.raw_output == json.dumps({"wrong": 2})
    assert "after 3 attempts" in str(err)
    assert len(server.requests) == 3  # bounded: 1 + max_invalid_retries
    # Each retry carries the whole conversation so far.
    assert [len(r.messages) for r in server.requests] == [2, 4, 6]


async def test_empty_content_counts_as_invalid(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    server.reply_content(None)
    server.reply_content(GOOD)

    resp = await client.complete(make_request(), Answer)

    assert resp.attempts == 2
    assert "empty" in server.requests[1].messages[-1]["content"]


# --------------------------------------------------------------------------- transport errors


async def test_429_then_success_uses_sdk_backoff(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    server.reply_error(429, "Rate limit reached", headers={"retry-after-ms": "10"}, type_="rate_limit_error")
    server.reply_content(GOOD)

    started = time.monotonic()
    resp = await client.complete(make_request(), Answer)

    assert time.monotonic() - started < 1.0
    assert resp.parsed["answer"] == 42
    assert resp.attempts == 1  # transport retries are the SDK's, not output attempts
    assert len(server.requests) == 2
    assert server.requests[1].header("x-stainless-retry-count") == "1"
    assert server.requests[1].json == server.requests[0].json


async def test_500_then_success_with_exponential_backoff(
    server: FakeOpenAIServer, client: OpenAIClient
) -> None:
    server.reply_error(500, "The server had an error")  # no Retry-After: SDK waits 0.5s * (0.75..1)
    server.reply_content(GOOD)

    resp = await client.complete(make_request(), Answer)

    assert resp.parsed["answer"] == 42
    assert len(server.requests) == 2
    gap = server.requests[1].received_at - server.requests[0].received_at
    assert 0.3 <= gap < 2.0


async def test_rate_limit_exhausted_is_transient(server: FakeOpenAIServer) -> None:
    for _ in range(5):
        server.reply_error(429, "Rate limit", headers={"retry-after-ms": "1"}, type_="rate_limit_error")
    c = OpenAIClient(settings_for(server, max_retries=1))
    try:
        with pytest.raises(TransientLLMError, match="HTTP 429") as info:
            await c.complete(make_request(), Answer)
    finally:
        await c.aclose()
    assert "Rate limit" in str(info.value)
    assert len(server.requests) == 2  # 1 + max_retries


async def test_server_error_exhausted_is_transient(server: FakeOpenAIServer) -> None:
    server.reply_error(503, "overloaded")
    c = OpenAIClient(settings_for(server, max_retries=0))
    try:
        with pytest.raises(TransientLLMError, match="HTTP 503"):
            await c.complete(make_request(), Answer)
    finally:
        await c.aclose()
    assert len(server.requests) == 1


async def test_timeout_is_transient(server: FakeOpenAIServer) -> None:
    server.reply_content(GOOD, delay=3.0)
    c = OpenAIClient(settings_for(server, timeout_s=0.5, max_retries=0))
    started = time.monotonic()
    try:
        with pytest.raises(TransientLLMError, match="timed out"):
            await c.complete(make_request(), Answer)
    finally:
        await c.aclose()
    assert time.monotonic() - started < 2.0
    assert len(server.requests) == 1


async def test_connection_refused_is_transient(server: FakeOpenAIServer) -> None:
    base_url = server.base_url
    await server.stop()
    c = OpenAIClient(settings_for(server, base_url=base_url, max_retries=0))
    try:
        with pytest.raises(TransientLLMError, match="could not connect"):
            await c.complete(make_request(), Answer)
    finally:
        await c.aclose()


async def test_bad_request_is_not_retried(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    server.reply_error(400, "response_format is not supported", type_="invalid_request_error")

    with pytest.raises(LLMError, match="HTTP 400") as info:
        await client.complete(make_request(), Answer)

    assert not isinstance(info.value, TransientLLMError)
    assert len(server.requests) == 1


async def test_auth_error_does_not_leak_key(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    server.reply_error(401, f"Incorrect API key provided: {SECRET}", type_="invalid_request_error")

    with pytest.raises(LLMError) as info:
        await client.complete(make_request(), Answer)

    err = info.value
    assert not isinstance(err, TransientLLMError)
    assert "HTTP 401" in str(err) and KEY_ENV in str(err)
    assert SECRET not in str(err) and SECRET not in repr(err)
    assert len(server.requests) == 1


async def test_malformed_body_is_llm_error(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    server.enqueue(FakeReply(200, "<html>not an API</html>"))

    with pytest.raises(LLMError, match="malformed response") as info:
        await client.complete(make_request(), Answer)

    assert not isinstance(info.value, TransientLLMError)


# --------------------------------------------------------------------------- configuration


def test_missing_env_var_raises_without_leaking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGA_TEST_MISSING_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # must not be used as a silent fallback
    settings = LLMSettings(provider="openai", model="gpt-4o", api_key_env="AGA_TEST_MISSING_KEY")

    with pytest.raises(LLMError) as info:
        OpenAIClient(settings)

    assert str(info.value) == "environment variable AGA_TEST_MISSING_KEY is not set"
    assert SECRET not in str(info.value)


def test_key_not_in_repr(server: FakeOpenAIServer) -> None:
    c = OpenAIClient(settings_for(server))
    assert SECRET not in repr(c)
    assert c.model == "gpt-4o-mini"


async def test_no_key_env_works_for_local_servers(server: FakeOpenAIServer) -> None:
    server.reply_content(GOOD, model="llama3.1:8b")
    c = OpenAIClient(settings_for(server, provider="ollama", model="llama3.1:8b", api_key_env=None))
    try:
        resp = await c.complete(make_request(), Answer)
    finally:
        await c.aclose()
    assert resp.cost_usd == 0.0
    assert server.requests[0].header("Authorization") is not None


async def test_base_url_from_env(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    server.reply_content(GOOD)
    c = OpenAIClient(settings_for(server, base_url=None))
    try:
        resp = await c.complete(make_request(), Answer)
    finally:
        await c.aclose()
    assert resp.parsed["answer"] == 42


def test_factory_openai_compatible_providers(server: FakeOpenAIServer) -> None:
    for provider in ("openai", "azure", "ollama", "vllm", "llamacpp", "OpenAI"):
        c = make_client(settings_for(server, provider=provider))
        assert isinstance(c, OpenAIClient)


def test_factory_unknown_provider() -> None:
    with pytest.raises(LLMError, match="unknown LLM provider 'anthropic-ish'"):
        make_client(LLMSettings(provider="anthropic-ish"))


def test_factory_scripted() -> None:
    scripted = pytest.importorskip("aga_swarm.llm.scripted")
    c = make_client(LLMSettings(provider="scripted"))
    assert isinstance(c, scripted.ScriptedModel)


# --------------------------------------------------------------------------- prices


def test_prices() -> None:
    assert cost_usd("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_usd("gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(0.15)  # longest prefix wins
    assert cost_usd("gpt-4o-2024-08-06", 0, 1_000_000) == pytest.approx(10.0)
    assert cost_usd("gpt-4.1-mini", 1_000_000, 0) == pytest.approx(0.40)
    assert cost_usd("gpt-4.1", 1_000_000, 0) == pytest.approx(2.00)
    assert cost_usd("o3-mini", 1_000_000, 1_000_000) == pytest.approx(5.50)
    assert cost_usd("openai/gpt-4o", 1_000_000, 0) == pytest.approx(2.50)
    assert cost_usd("llama3.1:8b", 10**9, 10**9) == 0.0
    assert cost_usd("scripted-1", 10**9, 10**9) == 0.0
    assert cost_usd("totally-unknown-model", 10**9, 10**9) == 0.0
    assert price_for("totally-unknown-model") is None



# --------------------------------------------------------------------------- replies that are not completions


@pytest.mark.parametrize("body, content_type", [
    ("<html>a login page</html>", "text/html"),
    ("[1, 2]", "application/json"),
    ('"just a string"', "application/json"),
    ('{"choices": "nope"}', "application/json"),
    ('{"choices": [{"message": null}]}', "application/json"),
    ('{"choices": [{"message": {"content": {"answer": 42}}}]}', "application/json"),
])
async def test_a_200_that_is_not_a_completion_fails_with_a_sentence(
        server: FakeOpenAIServer, client: OpenAIClient, body: str, content_type: str) -> None:
    server.enqueue(FakeReply(200, body, content_type=content_type))
    with pytest.raises(LLMError) as info:
        await client.complete(make_request(), Answer)
    message = str(info.value)
    assert not isinstance(info.value, TransientLLMError)
    assert "malformed response" in message and "check that the base URL" in message, message
    assert "object has no attribute" not in message and "Error" not in message
    assert len(server.requests) == 1  # a wrong endpoint is not asked again


def test_base_url_credentials_never_show(server: FakeOpenAIServer) -> None:
    c = OpenAIClient(settings_for(server, base_url=server.base_url.replace("://", "://proxyuser:hunter2@")))
    assert "hunter2" not in repr(c) and "hunter2" not in c.base_url and "proxyuser:***@" in c.base_url


async def test_swarm_on_a_provider_that_answers_non_json_fails_with_a_readable_reason(
        server: FakeOpenAIServer, tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A provider answering 200 with a JSON list used to fail the swarm with "AttributeError: 'list' object has
    no attribute 'model'"; a password in the base URL reached the reason and the HTTP client's log."""
    import logging

    from aga_swarm.schemas import SwarmConfig, SwarmStatus
    from aga_swarm.service import SwarmService

    caplog.set_level(logging.DEBUG)
    svc = SwarmService(data_dir=tmp_path)
    try:
        base = server.base_url.replace("://", "://proxyuser:hunter2@")
        svc.save_config(SwarmConfig(id="wrong-endpoint", name="wrong endpoint", llm=settings_for(
            server, base_url=base, max_retries=0, max_invalid_retries=0)), owner_id="u1")
        for _ in range(3):
            server.enqueue(FakeReply(200, "[1, 2]"))
        swarm = svc.create_swarm("u1", "Write a haiku", config_id="wrong-endpoint")
        svc.spawn(swarm.id)
        await svc.run_until_idle(swarm.id, timeout=60)
        done = svc.get_swarm(swarm.id)
        reason = done.failure_reason or ""
        assert done.status is SwarmStatus.FAILED
        assert "malformed response" in reason and "base URL" in reason, reason
        assert "AttributeError" not in reason and "object has no attribute" not in reason
        assert "hunter2" not in reason and "proxyuser:***@" in reason
        assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # the client did log its requests
        assert not [r.getMessage() for r in caplog.records if "hunter2" in r.getMessage()]
    finally:
        svc.close()


async def test_plan_with_bad_dependencies_is_asked_again(server: FakeOpenAIServer) -> None:
    """The planner's output is validated as a DAG: an unknown number, a self-reference and a cycle are each
    explained to the model, which is asked again, like any output that does not match its schema."""
    from aga_swarm.actions.outputs import PlanOutput

    bad = [
        ({"subtasks": [{"task": "a", "needs": []}, {"task": "b", "needs": [3]}]},
         "subtask 2 needs subtask 3, but the plan has 2 subtasks"),
        ({"subtasks": [{"task": "a", "needs": [1]}]}, "subtask 1 needs itself"),
        ({"subtasks": [{"task": "a", "needs": [2]}, {"task": "b", "needs": [1]}]},
         "dependency cycle: subtask 1 -> subtask 2 -> subtask 1"),
    ]
    for output, _ in bad:
        server.reply_content(json.dumps(output))
    server.reply_content(json.dumps({"subtasks": [{"task": "Ask the user", "needs": []},
                                                  {"task": "Write", "needs": [1]}]}))
    c = OpenAIClient(settings_for(server, max_invalid_retries=3))
    request = LLMRequest(purpose="plan.decompose", messages=[PromptMessage(role="user", content="Plan it")],
                         output_schema=PlanOutput.model_json_schema(), schema_name="PlanOutput")
    try:
        resp = await c.complete(request, PlanOutput)
    finally:
        await c.aclose()
    assert resp.attempts == 4
    assert resp.parsed == {"subtasks": [{"task": "Ask the user", "needs": []}, {"task": "Write", "needs": [1]}],
                           "policy": None}  # the plan may pick a termination policy; this one picked none
    for i, (_, problem) in enumerate(bad, start=1):
        feedback = server.requests[i].messages[-1]["content"]
        assert "does not match the schema" in feedback and problem in feedback
    sent = server.requests[0].json["response_format"]["json_schema"]["schema"]
    assert "needs" in json.dumps(sent)


async def test_function_calling_wire_format(server: FakeOpenAIServer, client: OpenAIClient) -> None:
    """A turn of a tool-using loop: the functions go out as ``tools``, the model's ``tool_calls`` come back as
    calls (no output parsed), and the next turn sends the assistant's calls and each ``tool`` result back."""
    functions = [{"name": "fs__read_text_file", "description": "Read a file", "tool": "fs.read_text_file",
                  "positional": [], "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                                                   "required": ["path"]}}]
    server.reply_tool_calls([("fs__read_text_file", {"path": "a.txt"}), ("fs__read_text_file", '{"path": "b"}')],
                            content="I need both files")
    request = make_request().model_copy(update={"tools": functions})
    first = await client.complete(request, Answer)
    assert first.parsed == {} and first.raw_output == "I need both files"
    assert [(c["name"], json.loads(c["arguments"])) for c in first.tool_calls] == [
        ("fs__read_text_file", {"path": "a.txt"}), ("fs__read_text_file", {"path": "b"})]
    sent = server.requests[0].json
    assert sent["tools"] == [{"type": "function", "function": {
        "name": "fs__read_text_file", "description": "Read a file", "parameters": functions[0]["parameters"]}}]
    assert sent["response_format"]["type"] == "json_schema"  # it may still answer with the output instead

    server.reply_content(GOOD)
    ids = [c["id"] for c in first.tool_calls]
    follow = request.model_copy(update={"messages": [
        *request.messages,
        PromptMessage(role="assistant", content="I need both files", tool_calls=first.tool_calls),
        PromptMessage(role="tool", content="alpha", tool_call_id=ids[0]),
        PromptMessage(role="tool", content="beta", tool_call_id=ids[1])]})
    second = await client.complete(follow, Answer)
    assert second.parsed == {"answer": 42, "reason": "because"} and second.tool_calls == []
    wire = server.requests[1].json["messages"][-3:]
    name = "fs__read_text_file"
    assert wire[0] == {"role": "assistant", "content": "I need both files", "tool_calls": [
        {"id": ids[0], "type": "function", "function": {"name": name, "arguments": '{"path": "a.txt"}'}},
        {"id": ids[1], "type": "function", "function": {"name": name, "arguments": '{"path": "b"}'}}]}
    assert wire[1:] == [{"role": "tool", "content": "alpha", "tool_call_id": ids[0]},
                        {"role": "tool", "content": "beta", "tool_call_id": ids[1]}]

    # the last turn offers no functions ([]): the request carries no tools, and calls would not be taken
    server.reply_content(GOOD)
    await client.complete(request.model_copy(update={"tools": []}), Answer)
    assert "tools" not in server.requests[2].json


async def test_a_call_that_never_validates_records_the_tokens_the_provider_reported(
        server: FakeOpenAIServer, tmp_path: Any) -> None:
    """Failed calls are paid: the LLMError carries every attempt's tokens, and the swarm records them (and
    their cost) in the node's developer log and the swarm's usage, instead of 0."""
    from aga_swarm.schemas import SwarmConfig, SwarmStatus
    from aga_swarm.service import SwarmService

    for _ in range(2):
        server.reply_content(json.dumps({"wrong": 1}), prompt_tokens=100, completion_tokens=7)
    c = OpenAIClient(settings_for(server, max_invalid_retries=1))
    try:
        with pytest.raises(LLMError) as info:
            await c.complete(make_request(), Answer)
    finally:
        await c.aclose()
    assert (info.value.tokens_in, info.value.tokens_out) == (200, 14)

    svc = SwarmService(data_dir=tmp_path)
    try:
        svc.save_config(SwarmConfig(id="never-valid", name="never valid", llm=settings_for(
            server, max_retries=0, max_invalid_retries=1)), owner_id="u1")
        for _ in range(2):
            server.reply_content(json.dumps({"wrong": 1}), prompt_tokens=100, completion_tokens=7)
        swarm = svc.create_swarm("u1", "Write a haiku", config_id="never-valid")
        svc.spawn(swarm.id)
        await svc.run_until_idle(swarm.id, timeout=60)
        assert svc.get_swarm(swarm.id).status is SwarmStatus.FAILED
        failed = [call for call in svc.node_detail(swarm.id, "n").llm_calls if call.error]
        assert [(call.tokens_in, call.tokens_out) for call in failed] == [(200, 14)]
        assert failed[0].cost_usd == pytest.approx(cost_usd("gpt-4o-mini", 200, 14))
        usage = svc.state(swarm.id).usage
        assert (usage.tokens_in, usage.tokens_out) == (200, 14)
        assert usage.cost_usd == pytest.approx(cost_usd("gpt-4o-mini", 200, 14))
    finally:
        svc.close()
