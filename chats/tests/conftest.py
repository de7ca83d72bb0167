import pytest

from tavern.testing.openai_wire_server import OpenAIWireServer


@pytest.fixture
def server():
    with OpenAIWireServer() as server:
        yield server
