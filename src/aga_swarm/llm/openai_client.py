"""LLMClient for OpenAI and any OpenAI-compatible chat-completions server (Ollama, vLLM, llama.cpp, Azure v1).

Transport failures (429, 408/409, 5xx, timeouts, connection errors) are retried by the SDK itself with
exponential backoff (``max_retries``); whatever is still failing afterwards becomes a TransientLLMError.
Output that is not JSON or does not validate is sent back to the model with the error, up to
``max_invalid_retries`` extra times, then becomes an LLMError.

The API key is read from the environment variable *named* by ``settings.api_key_env`` and never appears
in a log line or an error message.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import openai
from pydantic import BaseModel, ValidationError

from ..schemas.config import LLMSettings
from .prices import price_cost, price_for, price_of
from .protocol import LLMError, LLMRequest, LLMResponse, TransientLLMError
from .redact import install_log_redaction, redact_url, redact_urls_in

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

log = logging.getLogger(__name__)
# httpx logs every request's full URL, and the SDK logs its options: a password in the base URL must not follow.
install_log_redaction("httpx", "httpx2", "openai", "openai._base_client", __name__)

# Local servers (Ollama, vLLM, llama.cpp) ignore the key, but the SDK insists on having one.
_NO_KEY = "no-key-configured"
_MAX_ERROR_CHARS = 2000
_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n(.*?)\n?\s*```\s*$", re.DOTALL)


def _wire_messages(request: LLMRequest) -> list[ChatCompletionMessageParam]:
    """The prompt in the chat-completions format; the call's images (data URLs) go as ``image_url`` content
    parts of its last user message (a message of their own when there is none)."""
    messages: list[dict[str, Any]] = [_wire_message(m) for m in request.messages]
    if request.image_data:
        images = [{"type": "image_url", "image_url": {"url": url}} for url in request.image_data]
        last = next((m for m in reversed(messages) if m["role"] == "user"), None)
        if last is None:
            messages.append({"role": "user", "content": images})
        else:
            last["content"] = [{"type": "text", "text": last["content"]}, *images]
    return [cast("ChatCompletionMessageParam", m) for m in messages]


def _strip_fence(text: str) -> str:
    """Accept a reply wrapped in a single Markdown code fence, as local models often do."""
    match = _FENCE.match(text)
    return match.group(1) if match else text


def _describe_validation_error(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False)[:10]:
        loc = ".".join(str(p) for p in e.get("loc", ())) or "(root)"
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    more = len(err.errors()) - len(parts)
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)


@dataclass(frozen=True)
class _Reply:
    """What the client uses of a chat completion, read defensively (servers send all sorts of 200s)."""

    model: str | None
    tokens_in: int
    tokens_out: int
    content: str | None
    refusal: str | None
    finish_reason: str | None
    tool_calls: list[dict[str, Any]]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _describe_shape(value: Any) -> str:
    if isinstance(value, str):
        return "text" if value.strip() else "an empty body"
    return {list: "a JSON list", dict: "a JSON object", type(None): "nothing"}.get(type(value), "something else")


def _read_reply(completion: Any) -> _Reply:
    """The parts of a completion the client needs; ValueError with a short description when it is not one."""
    from openai.types.chat import ChatCompletion

    if not isinstance(completion, ChatCompletion):
        raise ValueError(f"{_describe_shape(completion)} instead of a chat completion")
    choices = completion.choices
    if choices is not None and not isinstance(choices, list):
        raise ValueError("a chat completion whose 'choices' is not a list")
    choice = choices[0] if choices else None
    message = getattr(choice, "message", None) if choice is not None else None
    if choice is not None and message is None:
        raise ValueError("a chat completion whose first choice has no message")
    content = getattr(message, "content", None)
    refusal = getattr(message, "refusal", None)
    if content is not None and not isinstance(content, str):
        raise ValueError("a chat completion whose message content is not text")
    usage = completion.usage
    model = completion.model if isinstance(completion.model, str) else None
    calls: list[dict[str, Any]] = []
    for call in getattr(message, "tool_calls", None) or []:
        function = getattr(call, "function", None)
        name = getattr(function, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError("a chat completion with a tool call that names no function")
        arguments = getattr(function, "arguments", None)
        calls.append({"id": str(getattr(call, "id", "") or f"call_{len(calls) + 1}"), "name": name,
                      "arguments": arguments if isinstance(arguments, str) else "{}"})
    return _Reply(model=model or None, tokens_in=_int(getattr(usage, "prompt_tokens", 0)),
                  tokens_out=_int(getattr(usage, "completion_tokens", 0)), content=content,
                  refusal=refusal if isinstance(refusal, str) else None,
                  finish_reason=getattr(choice, "finish_reason", None), tool_calls=calls)


def _wire_message(m: Any) -> dict[str, Any]:
    """A prompt message as the chat-completions API takes it (a tool loop's assistant calls and results
    included)."""
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [{"id": c["id"], "type": "function",
                              "function": {"name": c["name"], "arguments": c["arguments"]}} for c in m.tool_calls]
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    return out


class OpenAIClient:
    """Structured-output client on the official ``openai`` SDK (``AsyncOpenAI``)."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.model: str = settings.model
        self._secret: str | None = None
        if settings.api_key_env:
            value = os.environ.get(settings.api_key_env)
            if value is None:
                raise LLMError(f"environment variable {settings.api_key_env} is not set")
            if not value.strip():
                raise LLMError(f"environment variable {settings.api_key_env} is empty")
            api_key = value.strip()
            self._secret = api_key
        else:
            api_key = os.environ.get("OPENAI_API_KEY") or _NO_KEY
            if api_key != _NO_KEY:
                self._secret = api_key
        base_url = settings.base_url or os.environ.get("OPENAI_BASE_URL") or None
        try:
            self._client = openai.AsyncOpenAI(
                api_key=api_key,
                base_url=base_url,
                timeout=settings.timeout_s,
                max_retries=max(settings.max_retries, 0),
            )
        except openai.OpenAIError as err:
            raise LLMError(f"could not configure the OpenAI client: {self._scrub(str(err))}") from None
        self.base_url = redact_url(str(self._client.base_url))  # for messages and logs; the client keeps the real one

    def __repr__(self) -> str:
        return f"OpenAIClient(model={self.model!r}, base_url={self.base_url!r})"

    async def aclose(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> OpenAIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ helpers

    def _scrub(self, text: str) -> str:
        """Remove the key and URL credentials from text that may echo them (e.g. a 401 body), and bound its
        length."""
        if self._secret:
            text = text.replace(self._secret, "***")
        text = redact_urls_in(text)
        if len(text) > _MAX_ERROR_CHARS:
            text = text[:_MAX_ERROR_CHARS] + "..."
        return text

    def _official(self) -> bool:
        """OpenAI's own API (and Azure's) takes the output cap as ``max_completion_tokens`` (its reasoning
        models refuse ``max_tokens``); compatible servers (Ollama, vLLM, llama.cpp) know ``max_tokens``."""
        host = self.base_url.lower()
        return "openai.com" in host or "azure.com" in host

    def _cost(self, model_seen: str, tokens_in: int, tokens_out: int) -> float:
        """At the config's own price if it gives one, else at the table's for the model that answered."""
        explicit = self.settings.price_in_per_mtok is not None and self.settings.price_out_per_mtok is not None
        price = (price_of(self.settings) if explicit else price_for(model_seen)) or price_of(self.settings)
        return 0.0 if price is None else price_cost(price, tokens_in, tokens_out)

    def _where(self) -> str:
        return f"model {self.model!r} at {self.base_url}"

    def _map_error(self, err: openai.OpenAIError, attempts: int, last: str | None) -> LLMError:
        where = self._where()
        retries = self.settings.max_retries
        if isinstance(err, openai.APITimeoutError):
            return TransientLLMError(
                f"request to {where} timed out after {self.settings.timeout_s}s (retried {retries} times)",
                raw_output=last,
                attempts=attempts,
            )
        if isinstance(err, openai.APIConnectionError):
            cause = err.__cause__
            detail = f": {self._scrub(str(cause))}" if cause is not None and str(cause) else ""
            return TransientLLMError(
                f"could not connect to {where} (retried {retries} times){detail}",
                raw_output=last,
                attempts=attempts,
            )
        if isinstance(err, openai.APIStatusError):
            status = err.status_code
            detail = self._scrub(err.message)
            if isinstance(err, openai.RateLimitError):
                return TransientLLMError(
                    f"rate limited by {where} (HTTP 429, retried {retries} times): {detail}",
                    raw_output=last,
                    attempts=attempts,
                )
            if isinstance(err, openai.InternalServerError) or status >= 500 or status in (408, 409):
                return TransientLLMError(
                    f"server error from {where} (HTTP {status}, retried {retries} times): {detail}",
                    raw_output=last,
                    attempts=attempts,
                )
            if isinstance(err, (openai.AuthenticationError, openai.PermissionDeniedError)):
                key = self.settings.api_key_env or "OPENAI_API_KEY"
                return LLMError(
                    f"{where} rejected the credentials (HTTP {status}); check the key in {key}: {detail}",
                    raw_output=last,
                    attempts=attempts,
                )
            return LLMError(
                f"{where} refused the request (HTTP {status}): {detail}", raw_output=last, attempts=attempts
            )
        return LLMError(
            f"call to {where} failed: {self._scrub(str(err))}", raw_output=last, attempts=attempts
        )

    # ------------------------------------------------------------------ the call

    async def complete(self, request: LLMRequest, output_model: type[BaseModel]) -> LLMResponse:
        messages = _wire_messages(request)
        tools: Any = openai.omit
        if request.tools:  # a turn of a tool-using loop: the model may call these functions, or answer
            tools = [{"type": "function", "function": {"name": f["name"], "description": f.get("description", ""),
                                                       "parameters": f.get("parameters") or {"type": "object"}}}
                     for f in request.tools]
        response_format: Any = {
            "type": "json_schema",
            "json_schema": {"name": request.schema_name, "schema": request.output_schema, "strict": False},
        }
        max_attempts = 1 + max(self.settings.max_invalid_retries, 0)
        cap, official = self.settings.max_tokens, self._official()
        tokens_in = tokens_out = 0
        model_seen = self.model
        last: str | None = None
        started = time.perf_counter()

        for attempt in range(1, max_attempts + 1):
            try:
                completion: ChatCompletion = await self._client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    response_format=response_format,
                    temperature=self.settings.temperature,
                    timeout=self.settings.timeout_s,
                    max_completion_tokens=cap if official else openai.omit,
                    max_tokens=openai.omit if official else cap,
                    tools=tools,
                )
            except openai.OpenAIError as err:
                mapped = self._map_error(err, attempt, last)
                mapped.tokens_in, mapped.tokens_out = tokens_in, tokens_out  # earlier attempts were paid
                raise mapped from None
            except ValueError:  # a 200 whose body is not JSON (wrong base_url, broken proxy)
                raise LLMError(
                    f"{self._where()} sent a malformed response (not JSON); check that the base URL points at "
                    "an OpenAI-compatible API",
                    raw_output=last,
                    attempts=attempt,
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                ) from None
            try:
                reply = _read_reply(completion)
            except ValueError as err:
                raise LLMError(
                    f"{self._where()} sent a malformed response ({err}); check that the base URL points at an "
                    "OpenAI-compatible API",
                    raw_output=last,
                    attempts=attempt,
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                ) from None

            if reply.model:
                model_seen = reply.model
            tokens_in += reply.tokens_in
            tokens_out += reply.tokens_out
            content = reply.content
            last = content
            if reply.tool_calls and request.tools:  # the model calls tools: the loop runs them, then asks again
                return LLMResponse(
                    model=model_seen,
                    raw_output=content or "",
                    parsed={},
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                    latency_ms=(time.perf_counter() - started) * 1000.0,
                    cost_usd=self._cost(model_seen, tokens_in, tokens_out),
                    attempts=attempt,
                    tool_calls=reply.tool_calls,
                )
            problem: str
            if content is None or not content.strip():
                refusal = reply.refusal
                problem = f"the reply was empty{f' (refusal: {refusal})' if refusal else ''}"
            else:
                try:
                    data = json.loads(_strip_fence(content))
                except json.JSONDecodeError as err:
                    problem = f"invalid JSON ({err})"
                else:
                    try:
                        validated = output_model.model_validate(data)
                    except ValidationError as err:
                        problem = f"the JSON does not match the schema: {_describe_validation_error(err)}"
                    else:
                        latency_ms = (time.perf_counter() - started) * 1000.0
                        return LLMResponse(
                            model=model_seen,
                            raw_output=content,
                            parsed=validated.model_dump(mode="json"),
                            tokens_in=tokens_in,
                            tokens_out=tokens_out,
                            latency_ms=latency_ms,
                            cost_usd=self._cost(model_seen, tokens_in, tokens_out),
                            attempts=attempt,
                        )
            if reply.finish_reason == "length":
                problem += " (the reply was cut off at the token limit)"
            log.info("%s: attempt %d/%d for %s was not valid: %s", self._where(), attempt, max_attempts,
                     request.purpose, problem)
            if attempt == max_attempts:
                raise LLMError(
                    f"{self._where()} gave no valid output for {request.purpose!r} after {attempt} attempts: "
                    f"{problem}",
                    raw_output=last,
                    attempts=attempt,
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                )
            messages = [
                *messages,
                cast("ChatCompletionMessageParam", {"role": "assistant", "content": content or ""}),
                cast(
                    "ChatCompletionMessageParam",
                    {
                        "role": "user",
                        "content": f"Your reply was not valid: {problem}. "
                        "Reply again with only JSON matching the schema.",
                    },
                ),
            ]
        raise AssertionError("unreachable")  # pragma: no cover
