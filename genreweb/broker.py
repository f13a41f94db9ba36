"""The embedded broker: kombu's filesystem transport, with messages that appear whole.

kombu writes a message straight into its final file name, so a worker polling the folder can
take the file between its creation and its write, read nothing, and die on the empty JSON.
Here a message is written under a name no queue reads, then renamed into place; a rename
within one folder is atomic, so a reader sees the whole message or none.
"""
import contextlib
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

# Queues find their files by ".<queue>.msg" in the name; a partial file never holds that.
PARTIAL_PREFIX = ".partial-"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # Same name scheme as kombu's: readers take files in sorted order, oldest first.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        partial = os.path.join(self.data_folder_out, PARTIAL_PREFIX + uuid.uuid4().hex)
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, os.path.join(self.data_folder_out, name))
        except OSError as error:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add message {name!r} to {self.data_folder_out!r}: {error}") from error


class Transport(filesystem.Transport):
    Channel = Channel
