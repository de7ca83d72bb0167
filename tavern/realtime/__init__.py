"""Live events: group names, pushing to a user, socket authentication."""
