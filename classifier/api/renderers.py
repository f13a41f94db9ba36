"""M3U playlists as a DRF renderer, chosen by `Accept: audio/x-mpegurl` or `?format=m3u`."""
import json

from rest_framework.renderers import BaseRenderer


class M3URenderer(BaseRenderer):
    media_type = "audio/x-mpegurl"
    format = "m3u"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode(self.charset)
        # Errors keep their JSON body even when a playlist was asked for.
        return json.dumps(data).encode(self.charset)


def m3u_playlist(entries) -> str:
    """Extended M3U text from (seconds, label, url) entries."""
    lines = ["#EXTM3U"]
    for seconds, label, url in entries:
        label = " ".join(label.split())  # one line per entry, whatever the tags contain
        lines.append(f"#EXTINF:{round(seconds) if seconds else -1},{label}")
        lines.append(url)
    return "\n".join(lines) + "\n"
