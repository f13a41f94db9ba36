#!/usr/bin/env python
"""The README's screenshots, of a library that looks lived in and owes nothing to anyone.

Makes a small catalogue on the spot: five made-up artists, an album each, every track
synthesised here (drums, bass, chords and a melody in the album's style), encoded to MP3 with
its tags (title, artist, album, track number, year) and a cover drawn here. It uploads them into
a throw-away GenreWeb (SQLite and media in a temporary folder), classifies them with the
installed model, plays an album in the player bar and photographs the pages with headless
Chromium into static/img/.

Synthesised instruments sound like what they are, so the model calls most of these tracks
electronic. Where an album was meant as another style, its owner sets that genre, as a user
would; the pages show it as "set by you" beside what the model said.

    .venv/bin/python scripts/screenshots.py            # needs ffmpeg, /usr/bin/chromium and the
                                                       # dev packages (make test-deps)
    .venv/bin/python scripts/screenshots.py --keep     # keep the temporary site for a look after
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
from scipy import signal

ROOT = Path(__file__).resolve().parents[1]
SR = 22050
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "screenshots-only-password"
USERNAME = "robin"


# --- Sound -------------------------------------------------------------------------------

def hz(midi):
    return 440.0 * 2 ** ((np.asarray(midi, dtype=float) - 69) / 12)


def envelope(n, attack=0.005, decay=0.3):
    t = np.arange(n) / SR
    return np.minimum(t / attack, 1.0) * np.exp(-t / decay)


def lowpass(x, cutoff, order=2):
    b, a = signal.butter(order, cutoff / (SR / 2), "low")
    return signal.lfilter(b, a, x)


def highpass(x, cutoff, order=2):
    b, a = signal.butter(order, cutoff / (SR / 2), "high")
    return signal.lfilter(b, a, x)


def saw(freq, n, detune=0.0):
    t = np.arange(n) / SR
    return 2 * ((t * freq * (1 + detune)) % 1.0) - 1


def kick(n):
    t = np.arange(n) / SR
    sweep = 2 * np.pi * np.cumsum(50 + 110 * np.exp(-t * 30)) / SR
    return np.sin(sweep) * np.exp(-t * 9)


def snare(n, rng):
    t = np.arange(n) / SR
    return (0.6 * highpass(rng.standard_normal(n), 1500) + 0.4 * np.sin(2 * np.pi * 185 * t)) * np.exp(-t * 22)


def hat(n, rng, length=35):
    return highpass(rng.standard_normal(n), 7000) * np.exp(-np.arange(n) / SR * length) * 0.5


def pluck(freq, n, brightness=0.996):
    """Karplus-Strong string: a burst of noise through a tuned feedback comb."""
    period = max(int(SR / freq), 2)
    rng = np.random.default_rng(int(freq * 100))
    burst = np.zeros(n)
    burst[:period] = rng.uniform(-1, 1, period)
    a = np.zeros(period + 2)
    a[0], a[period], a[period + 1] = 1.0, -brightness / 2, -brightness / 2
    return signal.lfilter([1.0], a, burst)


def keys(freq, n, decay=0.9):
    """An electric-piano-like tone: a few decaying partials."""
    t = np.arange(n) / SR
    tone = sum(amp * np.sin(2 * np.pi * freq * k * t) * np.exp(-t * k / decay) for k, amp in [(1, 1), (2, .4), (3, .15), (4, .08)])
    return tone * np.minimum(t / 0.004, 1)


def strings(freqs, n):
    """Bowed-string section: detuned saws, slow attack, vibrato, soft top."""
    t = np.arange(n) / SR
    out = np.zeros(n)
    for f in freqs:
        vib = 1 + 0.004 * np.sin(2 * np.pi * 5.2 * t)
        for d in (-0.004, 0.0, 0.005):
            out += 2 * ((np.cumsum(f * vib * (1 + d)) / SR) % 1.0) - 1
    swell = np.minimum(t / 0.35, 1) * np.minimum((n - np.arange(n)) / (0.25 * SR), 1)
    return lowpass(out, 2200) * swell / (3 * len(freqs))


@dataclass
class Style:
    bpm: float
    root: int  # MIDI note of the key
    chords: list  # each chord as semitones above the root
    drums: str  # "four", "backbeat", "swing", "boombap", "onedrop", ""
    bass: str  # "eighths", "walking", "roots", "sub", ""
    lead: str  # "keys", "pluck", "strings", "saw", "guitar"


def place(track, start, sound, gain=1.0):
    start = int(start)
    if start >= track.size:
        return
    end = min(track.size, start + sound.size)
    track[start:end] += gain * sound[: end - start]


def render(style: Style, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    mix = np.zeros(n)
    beat = 60 / style.bpm * SR
    bar = 4 * beat
    bars = int(np.ceil(n / bar))
    melody_scale = np.array([0, 2, 4, 7, 9, 12, 14, 16])
    for b in range(bars):
        chord = style.chords[b % len(style.chords)]
        notes = style.root + np.array(chord)
        t0 = b * bar
        # Drums.
        for step in range(16):
            at = t0 + step * beat / 4
            if style.drums == "swing" and step % 4 == 2:
                at += beat / 12  # swung eighths
            if style.drums == "four":
                if step % 4 == 0:
                    place(mix, at, kick(int(0.35 * SR)), 0.9)
                if step % 8 == 4:
                    place(mix, at, snare(int(0.2 * SR), rng), 0.5)
                if step % 4 == 2:
                    place(mix, at, hat(int(0.08 * SR), rng), 0.6)
            elif style.drums in ("backbeat", "boombap"):
                if step in ((0, 8, 10) if style.drums == "backbeat" else (0, 7, 10)):
                    place(mix, at, kick(int(0.35 * SR)), 0.9)
                if step in (4, 12):
                    place(mix, at, snare(int(0.25 * SR), rng), 0.7)
                if step % 2 == 0:
                    place(mix, at, hat(int(0.05 * SR), rng), 0.35)
            elif style.drums == "swing":
                if step % 4 == 0 or step % 8 == 6:
                    place(mix, at, hat(int(0.3 * SR), rng, length=8), 0.35)  # ride
                if step in (4, 12):
                    place(mix, at, snare(int(0.15 * SR), rng), 0.15)  # brushed
            elif style.drums == "onedrop":
                if step == 8:
                    place(mix, at, kick(int(0.35 * SR)), 0.9)
                    place(mix, at, snare(int(0.2 * SR), rng), 0.5)
                if step % 2 == 0:
                    place(mix, at, hat(int(0.05 * SR), rng), 0.3)
        # Bass.
        if style.bass == "eighths":
            for step in range(8):
                f = hz(notes[0] - 24)
                place(mix, t0 + step * beat / 2, lowpass(saw(f, int(beat / 2)), 600) * envelope(int(beat / 2), decay=0.2), 0.35)
        elif style.bass == "walking":
            walk = [0, 4, 7, 9] if b % 2 == 0 else [0, 3, 5, 6]
            for step, interval in enumerate(walk):
                place(mix, t0 + step * beat, pluck(float(hz(notes[0] - 24 + interval)), int(beat), 0.993), 0.8)
        elif style.bass == "roots":
            for step, interval in enumerate([0, 7, 0, 7]):
                place(mix, t0 + step * beat, pluck(float(hz(notes[0] - 24 + interval)), int(beat), 0.995), 0.7)
        elif style.bass == "sub":
            f = float(hz(notes[0] - 24))
            place(mix, t0, np.sin(2 * np.pi * f * np.arange(int(bar)) / SR) * envelope(int(bar), decay=1.2), 0.6)
        # Chords and melody.
        if style.lead == "strings":
            place(mix, t0, strings(hz(notes), int(bar * 1.05)), 0.9)
            for step in range(4):
                f = float(hz(style.root + 12 + melody_scale[rng.integers(len(melody_scale))]))
                place(mix, t0 + step * beat, strings([f], int(beat * 1.1)), 0.6)
        elif style.lead == "keys":
            for at in (0, 1.5, 2.5) if style.drums == "swing" else (0, 2):
                for f in hz(notes + 12):
                    place(mix, t0 + at * beat, keys(float(f), int(beat * 1.5)), 0.12)
            for step in range(8):
                if rng.random() < 0.55:
                    f = float(hz(style.root + 24 + melody_scale[rng.integers(len(melody_scale))]))
                    place(mix, t0 + step * beat / 2, keys(f, int(beat), decay=0.4), 0.2)
        elif style.lead == "pluck":
            offs = (1, 3) if style.drums == "onedrop" else (0, 1, 2, 3)
            for at in offs:
                for k, f in enumerate(hz(notes + 12)):
                    place(mix, t0 + at * beat + k * SR * 0.012, pluck(float(f), int(beat * 1.2)), 0.22)
            for step in range(4):
                if rng.random() < 0.6:
                    f = float(hz(style.root + 24 + melody_scale[rng.integers(len(melody_scale))]))
                    place(mix, t0 + (step + 0.5) * beat, pluck(f, int(beat)), 0.3)
        elif style.lead == "saw":
            pad = sum(lowpass(saw(float(f), int(bar), d), 1800) for f in hz(notes + 12) for d in (-0.003, 0.003))
            place(mix, t0, pad * envelope(int(bar), attack=0.1, decay=3.0), 0.06)
            for step in range(16):
                f = float(hz(notes[step % len(notes)] + 24))
                place(mix, t0 + step * beat / 4, lowpass(saw(f, int(beat / 4)), 3000) * envelope(int(beat / 4), decay=0.08), 0.12)
        elif style.lead == "guitar":
            for step in range(8):
                power = [notes[0] - 12, notes[0] - 5, notes[0]]
                chunk = sum(saw(float(f), int(beat / 2), 0.002) for f in hz(power))
                place(mix, t0 + step * beat / 2, np.tanh(4 * lowpass(chunk, 2500)) * envelope(int(beat / 2), decay=0.5), 0.25)
    mix = highpass(mix, 30)
    fade = np.minimum(1, np.minimum(np.arange(n) / (0.05 * SR), (n - np.arange(n)) / (1.5 * SR)))
    mix *= fade
    return (0.9 * mix / (np.abs(mix).max() + 1e-9)).astype(np.float32)


# --- Covers ------------------------------------------------------------------------------

def cover(title: str, artist: str, palette, motif: str, seed: int) -> bytes:
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    size = 600
    rng = np.random.default_rng(seed)
    top, bottom, ink = (np.array(c, dtype=float) for c in palette)
    gradient = np.linspace(0, 1, size)[:, None, None]
    pixels = (top * (1 - gradient) + bottom * gradient).repeat(size, axis=1)
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image, "RGBA")
    ink = tuple(int(c) for c in ink)
    if motif == "circles":
        for r in range(260, 20, -34):
            draw.ellipse([300 - r, 250 - r, 300 + r, 250 + r], outline=ink + (160,), width=6)
    elif motif == "stripes":
        for x in range(-600, 600, 48):
            draw.polygon([(x, 600), (x + 24, 600), (x + 624, 0), (x + 600, 0)], fill=ink + (70,))
    elif motif == "grid":
        for x in range(60, 560, 70):
            for y in range(60, 420, 70):
                if rng.random() < 0.6:
                    draw.rectangle([x, y, x + 46, y + 46], fill=ink + (int(rng.integers(60, 200)),))
    elif motif == "mountains":
        for layer, alpha in enumerate((90, 140, 210)):
            points = [(0, 600)] + [(x, 330 + layer * 60 - rng.integers(0, 160)) for x in range(0, 601, 75)] + [(600, 600)]
            draw.polygon(points, fill=ink + (alpha,))
    elif motif == "sun":
        draw.ellipse([170, 90, 430, 350], fill=ink + (230,))
        for y in range(240, 360, 18):
            draw.rectangle([150, y, 450, y + 7], fill=tuple(int(c) for c in bottom) + (255,))
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    draw = ImageDraw.Draw(image, "RGBA")
    draw.rectangle([0, 455, 600, 600], fill=(0, 0, 0, 120))
    draw.text((36, 470), title, font=ImageFont.load_default(size=52), fill=(255, 255, 255))
    draw.text((38, 540), artist.upper(), font=ImageFont.load_default(size=26), fill=(235, 235, 235))
    out = BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


# --- The catalogue -----------------------------------------------------------------------

ALBUMS = [
    {"artist": "Marlow Static", "album": "Night Transit", "genre": "electronic", "year": 2023, "motif": "grid",
     "palette": [(18, 24, 64), (92, 32, 120), (80, 220, 255)],
     "style": Style(124, 57, [[0, 3, 7], [-4, 0, 3], [-2, 2, 5], [-5, -2, 2]], "four", "eighths", "saw"),
     "tracks": ["Last Train Out", "Sodium Lights", "Platform Nine"]},
    {"artist": "Ivy Calloway Trio", "album": "Blue Hours", "genre": "jazz", "year": 2019, "motif": "circles",
     "palette": [(12, 40, 70), (20, 80, 120), (240, 200, 120)],
     "style": Style(132, 50, [[0, 4, 7, 11], [5, 9, 12, 15], [2, 5, 9, 12], [7, 11, 14, 17]], "swing", "walking", "keys"),
     "tracks": ["Late Set", "Velvet Steps", "After the Rain"]},
    {"artist": "Granite Choir", "album": "Fault Lines", "genre": "metal", "year": 2021, "motif": "mountains",
     "palette": [(60, 60, 66), (150, 40, 30), (20, 20, 24)],
     "style": Style(150, 40, [[0], [5], [3], [7]], "backbeat", "eighths", "guitar"),
     "tracks": ["Tectonic", "Aftershock", "Bedrock"]},
    {"artist": "Aurelia Quartet", "album": "Four Small Rooms", "genre": "classical", "year": 2017, "motif": "stripes",
     "palette": [(245, 236, 220), (210, 190, 160), (120, 80, 60)],
     "style": Style(66, 55, [[0, 4, 7], [-3, 0, 4], [5, 9, 12], [7, 11, 14]], "", "", "strings"),
     "tracks": ["First Room", "Window Seat", "The Long Corridor"]},
    {"artist": "The Copper Lanterns", "album": "Dust & Daylight", "genre": "country", "year": 2022, "motif": "sun",
     "palette": [(250, 200, 120), (200, 110, 60), (255, 240, 200)],
     "style": Style(100, 52, [[0, 4, 7], [5, 9, 12], [7, 11, 14], [0, 4, 7]], "backbeat", "roots", "pluck"),
     "tracks": ["County Road", "Porch Light", "Ten Mile Sky"]},
]


def write_track(folder: Path, album: dict, number: int, title: str, art: bytes, seconds: float) -> Path:
    from mutagen.id3 import APIC, TALB, TDRC, TIT2, TPE1, TPE2, TRCK, ID3
    import soundfile as sf

    base = folder / f"{album['artist']} - {number:02d} {title}"
    wav = base.with_suffix(".wav")
    sf.write(wav, render(album["style"], seconds, seed=zlib.crc32(f"{album['album']}{number}".encode())), SR)
    mp3 = base.with_suffix(".mp3")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "0",
                    str(mp3)], check=True)
    wav.unlink()
    tags = ID3()
    tags.add(TIT2(encoding=3, text=title))
    tags.add(TPE1(encoding=3, text=album["artist"]))
    tags.add(TPE2(encoding=3, text=album["artist"]))
    tags.add(TALB(encoding=3, text=album["album"]))
    tags.add(TRCK(encoding=3, text=f"{number}/{len(album['tracks'])}"))
    tags.add(TDRC(encoding=3, text=str(album["year"])))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=art))
    tags.save(mp3)
    return mp3


def make_catalogue(folder: Path, seconds: float) -> list[Path]:
    files = []
    for index, album in enumerate(ALBUMS):
        art = cover(album["album"], album["artist"], album["palette"], album["motif"], seed=index)
        for number, title in enumerate(album["tracks"], start=1):
            files.append(write_track(folder, album, number, title, art, seconds))
            print(f"  made {files[-1].name}")
    return files


# --- The site ----------------------------------------------------------------------------

def start_site(var_dir: Path):
    """Django on a temporary SQLite database and media folder, served from a thread."""
    os.environ["GENREWEB_VAR_DIR"] = str(var_dir)
    for name in ("DATABASE_URL", "REDIS_URL", "STORAGE_URL", "MEDIA_ROOT"):
        os.environ.pop(name, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genreweb.settings")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs beside the ORM
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def serve():
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    return server, f"http://127.0.0.1:{server.port}"


def upload_and_classify(files, username):
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from classifier.models import Track
    from classifier.services.classification import tracks_classify
    from classifier.services.corrections import track_set_genre
    from classifier.services.uploads import track_upload

    user = get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD)
    ids = []
    for path in files:
        with open(path, "rb") as handle:
            ids.append(track_upload(owner=user, upload=File(handle, name=path.name)).track.pk)
    print(f"Classifying {len(ids)} tracks with the installed model...")
    errors = tracks_classify(track_ids=ids)
    if errors:
        raise SystemExit(f"Could not classify: {errors}")
    meant = {album["album"]: album["genre"] for album in ALBUMS}
    for track in Track.objects.filter(pk__in=ids).select_related("prediction").order_by("album", "track_number"):
        heard = track.prediction.genre if hasattr(track, "prediction") else track.failure_reason
        if heard != meant[track.album]:
            track_set_genre(track=track, genre=meant[track.album])
        print(f"  {track.album:18} {track.display_title:18} model: {heard:12} shown: {meant[track.album]}")


def photograph(base: str, username: str, out: Path):
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    from classifier.models import Album, Track

    shots = []

    def shoot(page, name, height=860):
        path = out / f"screenshot-{name}.png"
        page.set_viewport_size({"width": 1280, "height": height})
        page.wait_for_load_state("networkidle")
        # Covers load lazily: wait for the ones on screen.
        page.wait_for_function("""() => Array.from(document.images)
            .filter(i => i.getBoundingClientRect().top < window.innerHeight)
            .every(i => i.complete && i.naturalWidth > 0)""")
        page.screenshot(path=str(path))
        # 256 colours are plenty for a page and make the PNGs a third of the size.
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        small.save(path, optimize=True)
        shots.append(path)
        print(f"  wrote {path}")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
            "--hide-scrollbars"])
        page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        expect(page.locator("#player")).to_be_visible()

        # An album playing in the bar, a few seconds in, while we look round.
        album = Album.objects.get(title="Blue Hours")
        track = Track.objects.filter(album_ref=album).order_by("track_number").first()
        page.goto(f"{base}/tracks/{track.pk}/")
        page.get_by_role("button", name=f"Play {track.display_title}", exact=True).click()
        page.goto(f"{base}/albums/{album.pk}/")
        play_album = page.locator("[data-player=play][data-player-src*='album=']").first
        if play_album.count():
            play_album.click()
        page.wait_for_function("() => document.getElementById('player-audio').currentTime > 4")
        page.locator("#player-queue-toggle").click()
        shoot(page, "album")
        page.locator("#player-queue-toggle").click()

        # Round the site by its links: the album keeps playing in the bar.
        for link, path in [("Albums", "/albums/"), ("Library", "/library/"), ("Genres", "/genres/")]:
            page.locator(".site-nav").get_by_role("link", name=link, exact=True).click()
            page.wait_for_url(base + path)
            page.wait_for_selector("html:not(.page-loading)")
            shoot(page, link.lower())

        # A track's result: genre, probabilities, tags, timeline and spectrogram.
        shown = Track.objects.filter(album_ref__title="Night Transit").order_by("track_number").first()
        page.goto(f"{base}/tracks/{shown.pk}/")
        shoot(page, "track", height=1420)
        browser.close()
    return shots


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "static" / "img", help="where the PNGs go")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each made-up track")
    parser.add_argument("--keep", action="store_true", help="keep the temporary site folder")
    parser.add_argument("--site", type=Path, help="photograph a folder kept by an earlier --keep run again")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists() or not shutil.which("ffmpeg"):
        raise SystemExit(f"Needs ffmpeg and {CHROMIUM} (make test-deps installs both).")

    var_dir = args.site or Path(tempfile.mkdtemp(prefix="genreweb-screenshots-"))
    try:
        start_site(var_dir)
        if not args.site:
            print("Making the catalogue...")
            upload_and_classify(make_catalogue(var_dir, args.seconds), USERNAME)
        server, base = serve()
        print(f"Photographing {base} ...")
        args.out.mkdir(parents=True, exist_ok=True)
        photograph(base, USERNAME, args.out)
        server.terminate()
    finally:
        if args.keep or args.site:
            print(f"The site's files are in {var_dir} (--site {var_dir} photographs them again)")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
