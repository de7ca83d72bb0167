"""Chat completions from any OpenAI-compatible endpoint: streaming, fallback, errors a user can act on.

config = ChatConnectionConfig(label="OpenRouter", base_url="https://openrouter.ai/api/v1",
                              api_key=key, model="deepseek/deepseek-chat")
async with aclosing(stream_with_fallback([config, offline], messages, params)) as events:
    async for event in events:
        ...  # ConnectionUsed, then TokenDelta / ReasoningDelta, then StreamFinished
"""

from tavern.ai.chat.config import ChatConnectionConfig as ChatConnectionConfig
from tavern.ai.chat.config import GenerationParams as GenerationParams
from tavern.ai.chat.config import chat_request_arguments as chat_request_arguments
from tavern.ai.chat.connection_test import ConnectionTestResult as ConnectionTestResult
from tavern.ai.chat.connection_test import ProbeLimits as ProbeLimits
from tavern.ai.chat.connection_test import connection_test as connection_test
from tavern.ai.chat.errors import AllProvidersFailed as AllProvidersFailed
from tavern.ai.chat.errors import ChatProviderError as ChatProviderError
from tavern.ai.chat.errors import FailureKind as FailureKind
from tavern.ai.chat.errors import ProviderRequestFailed as ProviderRequestFailed
from tavern.ai.chat.errors import ProviderStreamBroken as ProviderStreamBroken
from tavern.ai.chat.fallback import ChatConnection as ChatConnection
from tavern.ai.chat.fallback import stream_with_fallback as stream_with_fallback
from tavern.ai.chat.stream import ChatCompletionResult as ChatCompletionResult
from tavern.ai.chat.stream import chat_client as chat_client
from tavern.ai.chat.stream import complete_chat as complete_chat
from tavern.ai.chat.stream import stream_chat as stream_chat
from tavern.ai.reply_events import ConnectionUsed as ConnectionUsed
from tavern.ai.reply_events import ReasoningDelta as ReasoningDelta
from tavern.ai.reply_events import StreamEvent as StreamEvent
from tavern.ai.reply_events import StreamFinished as StreamFinished
from tavern.ai.reply_events import TokenDelta as TokenDelta
from tavern.ai.reply_events import TokenUsage as TokenUsage
