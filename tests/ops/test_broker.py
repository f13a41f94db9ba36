"""The embedded broker under a race: a worker polling the queue folder while jobs are written.

kombu's own filesystem transport lets a reader take a message file before its bytes are in it;
the worker then dies on the empty JSON (seen in CI: the runapp worker exited, its job stayed
queued). These tests run a real writer and reader against each other on one folder."""
import contextlib
import threading
from queue import Empty

import pytest
from kombu import Connection

from genreweb.broker import PARTIAL_PREFIX, Transport

MESSAGES = 400
# Large enough that writing one takes a while: the window in which a reader can see it half done.
BODY = "x" * 256 * 1024


def connection(folder):
    return Connection("filesystem://", transport=Transport, transport_options={
        "data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(folder / "control"),
    })


def test_a_reader_polling_while_messages_are_written_gets_every_message_whole(tmp_path):
    writer, reader = connection(tmp_path), connection(tmp_path)
    inbox = reader.default_channel
    failures = []

    def write():
        try:
            for number in range(MESSAGES):
                writer.default_channel._put("jobs", {"number": number, "body": BODY})
        except Exception as error:  # reported by the main thread's assertion
            failures.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    received = []
    while thread.is_alive():
        with contextlib.suppress(Empty):
            received.append(inbox._get("jobs"))
    thread.join()
    with contextlib.suppress(Empty):
        while True:
            received.append(inbox._get("jobs"))
    assert failures == []
    # Files are taken in name order, whose clock counts milliseconds: order holds between them.
    assert sorted(message["number"] for message in received) == list(range(MESSAGES))
    assert all(message["body"] == BODY for message in received)
    assert not list(tmp_path.glob(PARTIAL_PREFIX + "*"))


def test_a_message_is_only_visible_to_its_own_queue(tmp_path):
    channel = connection(tmp_path).default_channel
    channel._put("jobs", {"n": 1})
    with pytest.raises(Empty):
        channel._get("other")
    assert channel._get("jobs") == {"n": 1}
    with pytest.raises(Empty):
        channel._get("jobs")
