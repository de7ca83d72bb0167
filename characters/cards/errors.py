"""The one exception the card codecs raise for bad input."""


class CardError(ValueError):
    """A card, lorebook or container could not be read or written.

    The message names the failing field path (``data.alternate_greetings``) or
    the container problem (``PNG chunk IHDR: bad CRC``) so it can be shown to
    the user as is.
    """
