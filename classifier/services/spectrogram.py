"""Draw a log-mel spectrogram as a PNG with Pillow (done by the worker, never in a request)."""
import io

import numpy as np
from PIL import Image

# Dark blue → purple → orange → pale yellow: low energy recedes, loud parts stand out.
_COLOURS = np.array(
    [[8, 8, 32], [60, 15, 110], [150, 40, 120], [230, 90, 60], [250, 200, 90], [252, 250, 190]],
    dtype=np.float32,
)


def spectrogram_png(mel: np.ndarray, height: int = 192) -> bytes:
    """`mel` is (n_mels, frames) log-mel; low frequencies end up at the bottom of the image."""
    if mel.size == 0:
        raise ValueError("empty spectrogram")
    lo, hi = np.percentile(mel, [2, 99.5])
    scaled = np.clip((mel - lo) / max(hi - lo, 1e-6), 0.0, 1.0)[::-1]
    position = scaled * (len(_COLOURS) - 1)
    index = np.minimum(position.astype(int), len(_COLOURS) - 2)
    frac = (position - index)[..., None]
    rgb = _COLOURS[index] * (1 - frac) + _COLOURS[index + 1] * frac
    image = Image.fromarray(rgb.astype(np.uint8))
    image = image.resize((image.width, height), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
