"""Live events: the bus, pushing to a user, what every socket does."""
