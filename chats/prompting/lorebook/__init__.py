"""Lorebook (world info) activation with SillyTavern's semantics, as a pure function.

    result = lorebook_activate(books=[BookInput(id=7, book=lorebook)], history=messages,
                               settings=ActivationSettings(), state=chat_state, turn=len(chat),
                               rng=random.Random())
    result.before_char, result.at_depth, result.report, result.state  # store state in the chat

Keep `lorebook_compile(book_input)` per book (keyed by id and updated_at) and pass
the compiled book instead of the input to skip parsing keys on every turn.
"""

from chats.prompting.lorebook.activation import lorebook_activate as lorebook_activate
from chats.prompting.lorebook.budget import BudgetSpend as BudgetSpend
from chats.prompting.lorebook.budget import lorebook_budget as lorebook_budget
from chats.prompting.lorebook.compiled import CompiledBook as CompiledBook
from chats.prompting.lorebook.compiled import lorebook_compile as lorebook_compile
from chats.prompting.lorebook.compiled import timer_key as timer_key
from chats.prompting.lorebook.inputs import ActivationSettings as ActivationSettings
from chats.prompting.lorebook.inputs import BookId as BookId
from chats.prompting.lorebook.inputs import BookInput as BookInput
from chats.prompting.lorebook.inputs import ScanExtras as ScanExtras
from chats.prompting.lorebook.inputs import ScanMessage as ScanMessage
from chats.prompting.lorebook.report import EntryReport as EntryReport
from chats.prompting.lorebook.report import Reason as Reason
from chats.prompting.lorebook.result import ActivatedEntry as ActivatedEntry
from chats.prompting.lorebook.result import ActivationResult as ActivationResult
from chats.prompting.lorebook.timed_effects import EntryTimers as EntryTimers
from chats.prompting.lorebook.timed_effects import TimedEffect as TimedEffect
from chats.prompting.lorebook.timed_effects import TimedEffectsState as TimedEffectsState
