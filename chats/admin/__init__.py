"""Back office for chats: shared model connections (staff), chats with their
messages and swipes (read-only; message text only under a logged grant, see
`chats.private_access`), presets (read-only) and usage with totals.

Writes go through `chats.services` and `chats.private_access`."""

from . import connections as connections
from . import conversations as conversations
from . import usage as usage
from .conversations import CHAT_RECENT_MESSAGES as CHAT_RECENT_MESSAGES
