"""How long a test waits for something that should happen.

Generous on purpose: a wait ends as soon as its event happens, so only a broken test
ever waits this long, and a busy laptop (a build, a video call, two test runs) never
turns a slow event into a failure."""

EVENT_WAIT_SECONDS = 60.0
