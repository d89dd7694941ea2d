"""Original broadcast footage for the re-upload sets: one stadium per match, several goals.

A :class:`Source` is one piece of original footage: a goal of a match seen from one camera.
Every goal of a match is filmed in the same stadium (pitch, crowd, advertising boards) with
the same kits and the same score bug, so goals of one match are hard negatives for each
other, as they are in a real broadcast. ``angle`` 0 is the main broadcast camera (moving and
zooming with play); 1 and 2 are replay cameras (behind the goal, low close-up) and give a
distinct clip of the same goal.

The play (ball path, 22 players, camera path) comes from :mod:`footy_testbed.clipgen`; the
stadium here is textured at 16 px per metre so that 1080p frames keep fine detail: grass
with mown stripes and blotches, a crowd of small heads in tiers, boards with lettering.
A master is rendered once at 1920x1080, 30 fps, near-lossless H.264, and every re-upload is
transcoded from it (:mod:`footy_testbed.reuploads`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from footy_testbed.clipgen import (
    FFMPEG,
    PITCH_X,
    PITCH_Y,
    _ball,
    _camera,
    _players,
    _projection,
    _scene,
    draw_markings,
    draw_score_bug,
    make_once,
    visible_players,
)

RENDER_VERSION = 1
MASTER_W, MASTER_H, MASTER_FPS = 1920, 1080, 30.0
MASTER_LENGTH = 13.0  # seconds: 9 s of build-up before the goal, 4 s after
_SCALE = 16.0  # texture pixels per metre
_MARGIN = 24.0  # metres of surroundings around the pitch
_TEAMS = ["ARS", "CHE", "LIV", "MCI", "MUN", "TOT", "NEW", "AVL", "BHA", "WHU", "BOU", "FUL"]
_KIT_COLOURS = [
    (40, 40, 200), (235, 235, 235), (200, 90, 30), (30, 200, 240), (30, 30, 30),
    (150, 60, 150), (0, 140, 255), (200, 200, 120), (60, 160, 60), (120, 40, 90),
]  # fmt: skip


@dataclass(frozen=True)
class Source:
    """Original footage: goal ``goal`` of match ``match`` from camera ``angle``."""

    match: int
    goal: int
    angle: int = 0

    @property
    def label(self) -> str:
        return f"match{self.match}-goal{self.goal}-angle{self.angle}"

    @property
    def scene(self) -> int:
        # play seeds far from clipgen's own scenes (0..99 in tests and scenarios)
        return 100_000 + self.match * 16 + self.goal

    def digest(self) -> str:
        payload = json.dumps({"v": RENDER_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _Match:
    kits: tuple[tuple[int, int, int], tuple[int, int, int]]
    shorts: tuple[tuple[int, int, int], tuple[int, int, int]]
    teams: tuple[str, str]
    grass: tuple[int, int, int]
    stripes: int


@lru_cache(maxsize=16)
def _match(match: int) -> _Match:
    rng = np.random.default_rng(7_000_003 * (match + 1))
    k = rng.choice(len(_KIT_COLOURS), size=4, replace=False)
    t = rng.choice(len(_TEAMS), size=2, replace=False)
    g = rng.integers(-12, 13, size=3)
    return _Match(
        kits=(_KIT_COLOURS[int(k[0])], _KIT_COLOURS[int(k[1])]),
        shorts=(_KIT_COLOURS[int(k[2])], _KIT_COLOURS[int(k[3])]),
        teams=(_TEAMS[int(t[0])], _TEAMS[int(t[1])]),
        grass=(int(45 + g[0]), int(135 + g[1]), int(55 + g[2])),
        stripes=int(rng.choice([14, 16, 18, 20])),
    )


@lru_cache(maxsize=2)
def _stadium(match: int) -> np.ndarray:
    """The match's stadium as a top-down texture (BGR), ``_SCALE`` pixels per metre."""
    m = _match(match)
    rng = np.random.default_rng(31_337 + match)
    s = _SCALE
    w, h = int((PITCH_X + 2 * _MARGIN) * s), int((PITCH_Y + 2 * _MARGIN) * s)

    def px(x: float, y: float) -> tuple[int, int]:
        return int(round((x + _MARGIN) * s)), int(round((y + _MARGIN) * s))

    # crowd: small heads (about 0.4 m) in tiers, sections of different brightness
    heads = rng.integers(25, 200, size=(h // 6 + 1, w // 6 + 1, 3), dtype=np.uint8)
    tex = cv2.resize(heads, (w, h), interpolation=cv2.INTER_NEAREST).astype(np.int16)
    tier = (np.arange(h) // int(1.5 * s)) % 2 == 0
    tex[tier] -= 25
    sec_w = int(12 * s)
    for i in range(0, w, sec_w):
        tex[:, i : i + sec_w] += int(rng.integers(-30, 30))
    # grass with mown stripes, blotches (about 2 m) and grain
    x0, y0 = px(-6, -5)
    x1, y1 = px(PITCH_X + 6, PITCH_Y + 5)
    grass = np.empty((y1 - y0, x1 - x0, 3), np.int16)
    grass[:] = m.grass
    stripe = PITCH_X / m.stripes
    for i in range(-1, m.stripes + 1):
        a = int(round((i * stripe + 6) * s))
        if i % 2 == 0:
            grass[:, max(0, a) : max(0, a + int(stripe * s))] += (6, 18, 10)
    blotch = rng.normal(0, 7, size=((y1 - y0) // 32 + 2, (x1 - x0) // 32 + 2)).astype(np.float32)
    blotch = cv2.resize(blotch, (x1 - x0, y1 - y0), interpolation=cv2.INTER_CUBIC)
    grass += blotch.astype(np.int16)[:, :, None]
    grass += rng.integers(-9, 10, size=(y1 - y0, x1 - x0, 1), dtype=np.int16)
    tex[y0:y1, x0:x1] = grass
    # advertising boards with lettering along both touchlines and behind the goals
    for y in (-4.0, PITCH_Y + 3.0):
        for k in range(14):
            a, b1 = px(k * 7.5, y)
            c, b2 = px(k * 7.5 + 7.0, y + 1.0)
            colour = _KIT_COLOURS[int(rng.integers(len(_KIT_COLOURS)))]
            tex[b1:b2, a:c] = colour
            for _ in range(int(rng.integers(3, 7))):
                lx = int(rng.integers(a, max(a + 1, c - 12)))
                tex[b1 + 3 : b2 - 3, lx : lx + int(rng.integers(4, 12))] = 255 - np.array(colour)
    tex = np.clip(tex, 0, 255).astype(np.uint8)
    draw_markings(tex, px, s, width=3, spot=4)
    return cv2.GaussianBlur(tex, (3, 3), 0)


def _t0(src: Source) -> float:
    """Scene time of the master's first frame: 9 s before the goal."""
    return _scene(src.scene).t_goal - 9.0


def draw_frame(src: Source, t: float, w: int = MASTER_W, h: int = MASTER_H) -> np.ndarray:
    """One BGR frame of ``src`` at master time ``t`` (seconds from the master's start)."""
    sc = _scene(src.scene)
    m = _match(src.match)
    st = _t0(src) + t
    pos, target, fov = _camera(sc, src.angle, st)
    p = _projection(pos, target, fov, w, h)
    s = _SCALE
    tex_to_world = np.array([[1 / s, 0, -_MARGIN], [0, 1 / s, -_MARGIN], [0, 0, 1]])
    frame = cv2.warpPerspective(
        _stadium(src.match), p[:, [0, 1, 3]] @ tex_to_world, (w, h),
        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(60, 55, 50),
    )  # fmt: skip
    ball = _ball(sc, st)
    players = _players(sc, st, ball)
    for i, fx, fy, hx, hy, height in visible_players(p, players, w, h):
        team = 0 if i < 11 else 1
        kit = m.kits[team] if i not in (0, 11) else ((20, 220, 20) if i == 0 else (180, 0, 180))
        cx = (fx + hx) / 2
        body = (max(1, int(height * 0.2)), max(1, int(height * 0.28)))
        cv2.ellipse(frame, (int(cx), int(hy + height * 0.38)), body, 0, 0, 360, kit, -1,
                    cv2.LINE_AA)  # fmt: skip
        legs = (max(1, int(height * 0.16)), max(1, int(height * 0.22)))
        cv2.ellipse(frame, (int(fx), int(fy - height * 0.22)), legs, 0, 0, 360,
                    m.shorts[team], -1, cv2.LINE_AA)  # fmt: skip
        cv2.circle(frame, (int(hx), int(hy)), max(1, int(height * 0.09)), (120, 160, 210), -1,
                   cv2.LINE_AA)  # fmt: skip
    pb = p @ np.array([ball[0], ball[1], ball[2] + 0.11, 1.0])
    if pb[2] > 0.5:
        pr = p @ np.array([ball[0], ball[1], ball[2] + 0.33, 1.0])
        rad = max(2, int(abs(pb[1] / pb[2] - pr[1] / pr[2])))
        cv2.circle(frame, (int(pb[0] / pb[2]), int(pb[1] / pb[2])), rad, (250, 250, 250), -1,
                   cv2.LINE_AA)  # fmt: skip
    _score_bug(frame, src, st, sc.minute, sc.t_goal)
    return frame


def _score_bug(frame: np.ndarray, src: Source, st: float, minute: int, t_goal: float) -> None:
    """The broadcaster's score bug: the same place and style for every goal of a match."""
    m = _match(src.match)
    score = f"{src.goal + (st >= t_goal)}-0"  # src.goal goals were scored before this one
    secs = minute * 60 + int(st)
    text = f"{m.teams[0]} {score} {m.teams[1]} {secs // 60:02d}:{secs % 60:02d}"
    draw_score_bug(frame, m.kits, text, 6, 10)


def render_master(src: Source, cache_dir: str | os.PathLike[str]) -> Path:
    """The near-lossless 1080p30 master of ``src`` in ``cache_dir``, rendered once."""
    return make_once(Path(cache_dir) / f"master-{src.digest()}.mp4", lambda t: _master(src, t))


def _master(src: Source, path: str) -> None:
    n = int(round(MASTER_LENGTH * MASTER_FPS))
    cmd = [
        FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{MASTER_W}x{MASTER_H}",
        "-r", f"{MASTER_FPS:g}", "-i", "pipe:0",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-threads", "1",
        "-g", str(int(MASTER_FPS)), "-pix_fmt", "yuv420p", "-f", "mp4", path,
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    try:
        for i in range(n):
            proc.stdin.write(draw_frame(src, i / MASTER_FPS).data)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed rendering {src}: {err.strip()[-500:]}")
