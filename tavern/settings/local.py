"""`make run`: development on this machine."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=False)  # `make run` sets DEBUG=1
