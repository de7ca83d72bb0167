"""Prompt assembly: the builder and lorebook activation, pure functions."""
