"""Events in batches: a socket that asks for them at its handshake (``auth: {batch: true}``, as the web app does)
gets each committed batch of a swarm's events as one ``swarm_events`` packet; any other socket gets each event as
its own ``swarm_event``. Both see exactly the history, in order, once."""

from __future__ import annotations

from .helpers import Recorder, Server, agent_message, awaiting_chat, create_swarm, full_history, signup, status_event


async def test_a_batching_socket_and_a_plain_one_see_the_same_events(server: Server) -> None:
    acct = await signup(server)
    other = await signup(server)
    batched = await Recorder(server, batch=True).connect(acct.token)
    plain = await Recorder(server).connect(acct.token)
    stranger = await Recorder(server, batch=True).connect(other.token)
    try:
        async with acct.http() as http:
            sid = (await create_swarm(http, "Ask the user which colour the poster should use"))["id"]
            await batched.wait_event(sid, agent_message(), what="the question, batched")
            await plain.wait_event(sid, agent_message(), what="the question, one by one")
            chat = await awaiting_chat(http, sid)
            before = len(batched.packets)
            r = await http.post(f"/api/swarms/{sid}/chats/{chat['id']}/messages",
                                json={"content": "Blue, like the sea at noon."})
            assert r.status_code == 202, r.text
            await batched.wait_event(sid, status_event("completed"), what="completion, batched")
            await plain.wait_event(sid, status_event("completed"), what="completion, one by one")
            await batched.quiet(sid, 0.2)
            await plain.quiet(sid, 0.2)
            history = await full_history(http, sid)
    finally:
        for rec in (batched, plain, stranger):
            await rec.close()
    assert batched.swarm_events(sid) == plain.swarm_events(sid) == history
    assert not stranger.events, "another user's socket got nothing"
    assert batched.singles == 0 and not plain.packets, "each socket got one kind of packet"
    assert len(batched.packets) < len(history)
    for packet in batched.packets:  # one swarm's events, in seq order, with no gap
        assert {e["swarm_id"] for e in packet} == {sid}
        assert [e["seq"] for e in packet] == list(range(packet[0]["seq"], packet[0]["seq"] + len(packet)))
    # the reply's transaction, then the resumed node's step (its answer): a packet each, not one per event
    reply_packets = batched.packets[before:]
    assert len(reply_packets) <= 4, [[e["type"] for e in p] for p in reply_packets]
    assert sum(len(p) for p in reply_packets) > len(reply_packets)
