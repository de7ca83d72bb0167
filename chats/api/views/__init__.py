"""The chats API, one view per operation, one module per resource."""

from .chat_files import ChatExportApi as ChatExportApi
from .chat_files import ChatImportApi as ChatImportApi
from .chats import ChatArchiveApi as ChatArchiveApi
from .chats import ChatBranchApi as ChatBranchApi
from .chats import ChatDetailApi as ChatDetailApi
from .chats import ChatListCreateApi as ChatListCreateApi
from .chats import ChatPromptPreviewApi as ChatPromptPreviewApi
from .chats import ChatStopApi as ChatStopApi
from .connections import ConnectionDetailApi as ConnectionDetailApi
from .connections import ConnectionListCreateApi as ConnectionListCreateApi
from .connections import ConnectionTestApi as ConnectionTestApi
from .messages import MessageContinueApi as MessageContinueApi
from .messages import MessageDetailApi as MessageDetailApi
from .messages import MessageListSendApi as MessageListSendApi
from .messages import MessageRegenerateApi as MessageRegenerateApi
from .messages import MessageSwipeApi as MessageSwipeApi
from .participants import ParticipantAddApi as ParticipantAddApi
from .participants import ParticipantDetailApi as ParticipantDetailApi
from .presets import PresetDetailApi as PresetDetailApi
from .presets import PresetImportApi as PresetImportApi
from .presets import PresetListCreateApi as PresetListCreateApi
from .usage import UsageApi as UsageApi
