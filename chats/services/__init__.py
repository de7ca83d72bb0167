"""Writes for chats: creating and branching chats, storing messages and swipes,
connections (keys encrypted), presets, usage. One module per resource; every public
name is re-exported here, so callers import from `chats.services`."""

from ..limits import MAX_MESSAGE_CHARS as MAX_MESSAGE_CHARS
from ..limits import MAX_PARTICIPANTS as MAX_PARTICIPANTS
from .chats import chat_archive as chat_archive
from .chats import chat_branch as chat_branch
from .chats import chat_create as chat_create
from .chats import chat_delete as chat_delete
from .chats import chat_update as chat_update
from .chats import participant_add as participant_add
from .chats import participant_update as participant_update
from .connections import connection_record_test as connection_record_test
from .connections import connection_save as connection_save
from .errors import ChatError as ChatError
from .messages import message_add_swipe as message_add_swipe
from .messages import message_append_reply as message_append_reply
from .messages import message_append_user as message_append_user
from .messages import message_continue as message_continue
from .messages import message_delete as message_delete
from .messages import message_edit as message_edit
from .messages import message_set_hidden as message_set_hidden
from .messages import message_swipe_select as message_swipe_select
from .presets import preset_import_file as preset_import_file
from .presets import preset_import_sillytavern as preset_import_sillytavern
from .presets import preset_save as preset_save
from .usage import GenerationRecord as GenerationRecord
from .usage import usage_record as usage_record
