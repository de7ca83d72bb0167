"""Live events (`tavern.realtime.bus`): this process's sockets get an event at once and
exactly once, other processes' through Redis Pub/Sub, in order and none dropped however
many; a process that goes away leaves no subscription behind; Redis going away costs
the other processes' events only, and the sockets are told once it is back."""

import asyncio

import pytest
import redis

from tavern.realtime.bus import Bus, Subscriber
from tavern.testing.redis_server import ThrowawayRedis
from tavern.testing.waits import EVENT_WAIT_SECONDS

TOPIC = "chat.1"


class Inbox:
    """A socket stand-in: what it received, and the gaps it was told of."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.gaps = 0
        self.changed = asyncio.Event()
        self.subscriber = Subscriber(deliver=self._deliver, on_gap=self._on_gap)

    async def _deliver(self, frame: str) -> None:
        self.frames.append(frame)
        self.changed.set()

    async def _on_gap(self) -> None:
        self.gaps += 1
        self.changed.set()

    async def until(self, condition) -> None:  # type: ignore[no-untyped-def]
        async with asyncio.timeout(EVENT_WAIT_SECONDS):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def buses():
    """Two buses in one loop stand for two processes: each has its own origin and connection."""
    here, there = Bus(), Bus()
    yield here, there
    await here.close()
    await there.close()


async def test_an_event_reaches_local_sockets_once_and_other_processes_through_redis(buses):
    here, there = buses
    near, far = Inbox(), Inbox()
    await here.join(TOPIC, near.subscriber)
    await there.join(TOPIC, far.subscriber)

    await here.publish(TOPIC, {"type": "token", "text": "Hé"})
    await far.until(lambda: far.frames)
    await here.publish(TOPIC, {"type": "done"})  # after the first, so the first's echo came and went
    await far.until(lambda: len(far.frames) == 2)

    assert near.frames == ['{"type":"token","text":"Hé"}', '{"type":"done"}']
    assert far.frames == near.frames


async def test_thousands_of_events_arrive_in_order_and_none_is_dropped(buses):
    here, there = buses
    far = Inbox()
    await there.join(TOPIC, far.subscriber)

    for n in range(5000):
        await here.publish(TOPIC, {"n": n})
    await far.until(lambda: len(far.frames) == 5000)

    assert far.frames == [f'{{"n":{n}}}' for n in range(5000)]


async def test_a_topic_nobody_here_listens_to_leaves_no_subscription(buses, settings):
    here, _ = buses
    inbox = Inbox()
    client = redis.Redis.from_url(settings.REDIS_URL)
    channel = f"{settings.REDIS_KEY_PREFIX}:live:{TOPIC}"

    await here.join(TOPIC, inbox.subscriber)
    listening = client.pubsub_numsub(channel)[0][1]
    await here.leave(TOPIC, inbox.subscriber)
    await here.join("chat.2", Inbox().subscriber)  # answered after the unsubscribe: it is done
    after_leaving = client.pubsub_numsub(channel)[0][1]
    await here.close()  # a process that ends takes its subscriptions with it
    async with asyncio.timeout(EVENT_WAIT_SECONDS):
        while client.pubsub_numsub(f"{settings.REDIS_KEY_PREFIX}:live:chat.2")[0][1]:
            await asyncio.sleep(0.01)

    assert (listening, after_leaving) == (1, 0)


async def test_without_redis_local_sockets_still_get_events_and_are_told_of_the_gap_after(settings):
    with ThrowawayRedis() as server:
        settings.REDIS_URL = server.url
        here, there = Bus(), Bus()
        near, far = Inbox(), Inbox()
        await here.join(TOPIC, near.subscriber)
        await there.join(TOPIC, far.subscriber)

        server.kill()
        await here.publish(TOPIC, {"type": "token", "text": "alone"})
        server.restart()
        await far.until(lambda: far.gaps == 1)
        await near.until(lambda: near.gaps == 1)
        await here.publish(TOPIC, {"type": "done"})
        await far.until(lambda: far.frames)
        await here.close()
        await there.close()

    assert near.frames == ['{"type":"token","text":"alone"}', '{"type":"done"}']
    assert far.frames == ['{"type":"done"}']


async def test_publishers_share_round_trips_and_keep_their_order(buses):
    """Many chats publishing at once: their events go out in a few shared pipelines, each
    chat's in the order published, and each publisher gets its own commands' results."""
    here, there = buses
    topics = [f"chat.{n}" for n in range(20)]
    far = {topic: Inbox() for topic in topics}
    for topic in topics:
        await there.join(topic, far[topic].subscriber)
    client = redis.Redis.from_url(here_redis_url())
    client.delete(*[f"bus-test:{topic}" for topic in topics])

    def append(topic: str, text: str):  # type: ignore[no-untyped-def]
        return lambda pipe: pipe.append(f"bus-test:{topic}", text)

    async def chat(topic: str) -> list:
        return [await here.publish(topic, {"n": n}, with_steps=append(topic, f"{n},")) for n in range(25)]

    results = await asyncio.gather(*(chat(topic) for topic in topics))
    for topic in topics:
        await far[topic].until(lambda topic=topic: len(far[topic].frames) == 25)

    assert all(frames == [f'{{"n":{n}}}' for n in range(25)] for frames in (far[t].frames for t in topics))
    assert [client.get(f"bus-test:{topic}") for topic in topics] == [
        "".join(f"{n}," for n in range(25)).encode()
    ] * 20
    # APPEND answers the new length; PUBLISH the listeners reached (the other bus).
    assert results[0][0] == [len("0,"), 1]
    assert results[0][24][0] == len("".join(f"{n}," for n in range(25)))
    client.delete(*[f"bus-test:{topic}" for topic in topics])


async def test_a_failing_command_fails_its_own_publish_only(buses):
    here, _ = buses
    client = redis.Redis.from_url(here_redis_url())
    client.set("bus-test:not-a-list", "text")

    bad, good = await asyncio.gather(
        here.publish(TOPIC, {"n": 1}, with_steps=lambda pipe: pipe.lpush("bus-test:not-a-list", "x")),
        here.publish(TOPIC, {"n": 2}, with_steps=lambda pipe: pipe.incr("bus-test:counter")),
    )

    assert bad is None  # WRONGTYPE: logged, this publish's results are unknown
    assert good is not None and good[0] >= 1
    client.delete("bus-test:not-a-list", "bus-test:counter")


async def test_local_first_reaches_this_process_before_redis_answers(buses):
    here, there = buses
    near, far = Inbox(), Inbox()
    await here.join(TOPIC, near.subscriber)
    await there.join(TOPIC, far.subscriber)

    sent = await here.publish_local_first(TOPIC, {"type": "token", "text": "a"})

    assert near.frames == ['{"type":"token","text":"a"}']  # delivered before the round trip
    assert await sent == [2]  # PUBLISH: both processes listen to the topic
    await far.until(lambda: far.frames)
    assert far.frames == near.frames


def here_redis_url() -> str:
    from django.conf import settings

    return settings.REDIS_URL
