"""An OpenAI-compatible API where `model` names one of the caller's characters.

    GET  /v1/models             the caller's characters, as models
    GET  /v1/models/<slug>      one of them
    POST /v1/chat/completions   a reply in character (streamed or not)

The client's messages are the chat; the character's card, lorebooks and
memories are added around them by the prompt builder, and the reply comes from
the character's connection (or the offline demo). Callers authenticate with a
personal API key only, and every answer, errors included, is in OpenAI's shape,
so the official clients work unchanged.
"""
