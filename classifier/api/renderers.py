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

