"""The wire server answers the official `openai` client, sync and async, as OpenAI would."""

import base64
import struct
import time

import openai
import pytest

from tavern.ai.tokenizer import count_message_tokens, count_tokens
from tavern.testing.openai_wire_payloads import text_embedding
from tavern.testing.openai_wire_server import (
    CHAT_COMPLETIONS_PATH,
    EMBEDDINGS_PATH,
    MODELS_PATH,
    OpenAIWireServer,
)
from tavern.testing.waits import EVENT_WAIT_SECONDS

MODEL = "gpt-4o-mini"
GREETING = [
    {"role": "system", "content": "You are Seraphina, a forest guardian."},
    {"role": "user", "content": "Hello, who are you?"},
]


@pytest.fixture
def wire_server():
    with OpenAIWireServer() as server:
        yield server


@pytest.fixture
def client(wire_server):
    with openai.OpenAI(base_url=wire_server.base_url, api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture
async def async_client(wire_server):
    async with openai.AsyncOpenAI(base_url=wire_server.base_url, api_key="sk-test", max_retries=0) as client:
        yield client


def test_base_url_is_loopback_with_v1(wire_server):
    assert wire_server.base_url == f"http://127.0.0.1:{wire_server.port}/v1"


def test_default_reply_echoes_the_last_user_message(client):
    completion = client.chat.completions.create(model=MODEL, messages=GREETING)

    assert completion.choices[0].message.content == "You said: Hello, who are you?"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == MODEL


def test_scripted_replies_answer_in_order_then_the_default(client, wire_server):
    wire_server.script_reply("First.")
    wire_server.script_reply("Second.")

    replies = [
        client.chat.completions.create(model=MODEL, messages=GREETING).choices[0].message.content
        for _ in range(3)
    ]

    assert replies == ["First.", "Second.", "You said: Hello, who are you?"]
    assert wire_server.pending_replies == 0


def test_usage_counts_prompt_and_reply_tokens(client, wire_server):
    wire_server.script_reply("I guard this forest.")

    completion = client.chat.completions.create(model=MODEL, messages=GREETING)

    assert completion.usage is not None
    assert completion.usage.prompt_tokens == count_message_tokens(GREETING)
    assert completion.usage.completion_tokens == count_tokens("I guard this forest.")


def test_every_request_body_is_recorded(client, wire_server):
    client.chat.completions.create(model=MODEL, messages=GREETING, temperature=0.7)

    [request] = wire_server.requests
    assert request.method == "POST"
    assert request.path == CHAT_COMPLETIONS_PATH
    assert request.body == {"model": MODEL, "messages": GREETING, "temperature": 0.7}
    assert request.headers["authorization"] == "Bearer sk-test"


def test_max_tokens_cuts_the_reply_with_finish_reason_length(client, wire_server):
    wire_server.script_reply("One two three four five six seven eight.")

    completion = client.chat.completions.create(model=MODEL, messages=GREETING, max_completion_tokens=3)

    assert completion.choices[0].message.content == "One two three"
    assert completion.choices[0].finish_reason == "length"


def test_stream_sends_one_chunk_per_word_then_done(client, wire_server):
    wire_server.script_reply("I guard this forest.")

    stream = client.chat.completions.create(model=MODEL, messages=GREETING, stream=True)
    chunks = list(stream)

    assert [chunk.choices[0].delta.content for chunk in chunks] == [
        "",
        "I ",
        "guard ",
        "this ",
        "forest.",
        None,
    ]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [chunk.choices[0].finish_reason for chunk in chunks][-1] == "stop"
    assert {chunk.id for chunk in chunks} == {chunks[0].id}
    assert all(chunk.usage is None for chunk in chunks)


def test_stream_with_include_usage_ends_with_a_usage_chunk(client, wire_server):
    wire_server.script_reply("I guard this forest.")

    stream = client.chat.completions.create(
        model=MODEL, messages=GREETING, stream=True, stream_options={"include_usage": True}
    )
    *content_chunks, usage_chunk = list(stream)

    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert usage_chunk.usage.prompt_tokens == count_message_tokens(GREETING)
    assert usage_chunk.usage.completion_tokens == count_tokens("I guard this forest.")
    assert all(chunk.usage is None for chunk in content_chunks)
    assert wire_server.requests[0].body["stream_options"] == {"include_usage": True}


def test_stream_failing_mid_way_raises_after_the_words_sent(client, wire_server):
    wire_server.script_reply("One two three four.", fail_after_chunks=2)
    received: list[str] = []

    stream = client.chat.completions.create(model=MODEL, messages=GREETING, stream=True)
    with pytest.raises(openai.APIConnectionError):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")

    assert "".join(received) == "One two "


def test_non_streamed_request_failing_gets_no_answer(client, wire_server):
    wire_server.script_reply("Never sent.", fail_after_chunks=0)

    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=MODEL, messages=GREETING)


@pytest.mark.parametrize(
    ("status", "error_class", "error_type", "code"),
    [
        (500, openai.InternalServerError, "server_error", None),
        (429, openai.RateLimitError, "requests", "rate_limit_exceeded"),
        (401, openai.AuthenticationError, "invalid_request_error", "invalid_api_key"),
    ],
    ids=["server error", "rate limited", "bad key"],
)
def test_scripted_status_answers_openai_error_shape(
    client, wire_server, status, error_class, error_type, code
):
    wire_server.script_reply("", status=status)

    with pytest.raises(error_class) as raised:
        client.chat.completions.create(model=MODEL, messages=GREETING, stream=True)

    assert raised.value.status_code == status
    assert raised.value.type == error_type
    assert raised.value.code == code


def test_scripted_error_body_is_sent_verbatim(client, wire_server):
    body = {"error": {"message": "context too long", "type": "invalid_request_error", "code": "ctx"}}
    wire_server.script_reply("", status=400, error_body=body)

    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=GREETING)

    assert raised.value.body == body["error"]


def test_client_retries_take_the_next_scripted_reply(wire_server):
    wire_server.script_reply("", status=503)
    wire_server.script_reply("Recovered.")

    with openai.OpenAI(base_url=wire_server.base_url, api_key="sk-test", max_retries=1) as client:
        completion = client.chat.completions.create(model=MODEL, messages=GREETING)

    assert completion.choices[0].message.content == "Recovered."
    assert len(wire_server.requests) == 2


def test_required_api_key_refuses_another():
    with (
        OpenAIWireServer(api_key="sk-right") as server,
        openai.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0) as client,
        pytest.raises(openai.AuthenticationError),
    ):
        client.chat.completions.create(model=MODEL, messages=GREETING)


def test_chunk_delay_paces_the_stream(client, wire_server):
    wire_server.script_reply("one two three four", chunk_delay=0.05)

    started = time.perf_counter()
    list(client.chat.completions.create(model=MODEL, messages=GREETING, stream=True))

    assert time.perf_counter() - started >= 0.2


def test_closing_a_stream_early_is_seen_as_cancelled(client, wire_server):
    wire_server.script_reply("word " * 200, chunk_delay=0.005)

    stream = client.chat.completions.create(model=MODEL, messages=GREETING, stream=True)
    next(iter(stream))
    stream.close()

    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while wire_server.cancelled_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert wire_server.cancelled_streams == 1


async def test_async_client_non_streaming(async_client, wire_server):
    wire_server.script_reply("Async hello.")

    completion = await async_client.chat.completions.create(model=MODEL, messages=GREETING)

    assert completion.choices[0].message.content == "Async hello."


async def test_async_client_streaming(async_client, wire_server):
    wire_server.script_reply("Async streamed hello.")

    stream = await async_client.chat.completions.create(model=MODEL, messages=GREETING, stream=True)
    pieces = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]

    assert "".join(piece or "" for piece in pieces) == "Async streamed hello."


async def test_async_client_stream_failing_mid_way(async_client, wire_server):
    wire_server.script_reply("One two three four.", fail_after_chunks=3)
    received: list[str] = []

    stream = await async_client.chat.completions.create(model=MODEL, messages=GREETING, stream=True)
    with pytest.raises(openai.APIConnectionError):
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")

    assert "".join(received) == "One two three "


async def test_async_client_error_status(async_client, wire_server):
    wire_server.script_reply("", status=429)

    with pytest.raises(openai.RateLimitError):
        await async_client.chat.completions.create(model=MODEL, messages=GREETING, stream=True)


def test_embeddings_have_the_requested_dimensions(client, wire_server):
    response = client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], dimensions=256, encoding_format="float"
    )

    assert [len(item.embedding) for item in response.data] == [256, 256]
    assert response.data[0].embedding == pytest.approx(text_embedding("a", 256))
    assert wire_server.requests_to(EMBEDDINGS_PATH)[0].body["dimensions"] == 256


def test_embeddings_default_to_384_dimensions(client):
    response = client.embeddings.create(model="text-embedding-3-small", input="a", encoding_format="float")

    assert len(response.data[0].embedding) == 384


def test_embeddings_in_base64_decode_to_the_same_vector(client, wire_server):
    # The client asks for base64 when no encoding_format is given.
    client.embeddings.create(model="text-embedding-3-small", input=["a"], dimensions=8)
    raw = wire_server.requests_to(EMBEDDINGS_PATH)[0]
    assert raw.body["encoding_format"] == "base64"

    response = client.embeddings.create(
        model="text-embedding-3-small", input=["a"], dimensions=8, encoding_format="base64"
    )
    encoded = response.data[0].embedding
    assert isinstance(encoded, str)
    decoded = list(struct.unpack("<8f", base64.b64decode(encoded)))

    assert decoded == pytest.approx(text_embedding("a", 8), abs=1e-6)


def test_embeddings_of_equal_texts_are_equal_and_unit_length(client):
    response = client.embeddings.create(
        model="text-embedding-3-small", input=["same", "same", "other"], encoding_format="float"
    )
    same, again, other = (item.embedding for item in response.data)

    assert same == again
    assert same != other
    assert sum(value * value for value in same) == pytest.approx(1.0)


def test_embeddings_error_can_be_scripted(client, wire_server):
    wire_server.script_embeddings_error(429)

    with pytest.raises(openai.RateLimitError):
        client.embeddings.create(model="text-embedding-3-small", input=["a"])


def test_models_are_listed(client, wire_server):
    models = client.models.list()

    assert [model.id for model in models] == ["gpt-4o-mini", "text-embedding-3-small"]
    assert wire_server.requests[0].path == MODELS_PATH


def test_unknown_path_answers_404_in_openai_shape(client):
    with pytest.raises(openai.NotFoundError) as raised:
        client.post("/nowhere", cast_to=object, body={})

    assert raised.value.code == "unknown_url"


def test_stopped_server_refuses_connections(wire_server):
    base_url = wire_server.base_url
    wire_server.stop()

    with (
        openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0) as client,
        pytest.raises(openai.APIConnectionError),
    ):
        client.models.list()


def test_reset_forgets_requests_and_scripts(client, wire_server):
    wire_server.script_reply("Scripted.")
    client.models.list()

    wire_server.reset()

    assert wire_server.requests == []
    assert wire_server.pending_replies == 0
