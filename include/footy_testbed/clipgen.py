"""Deterministic synthetic football clips for tests and benchmarks (ffmpeg + libx264).

A *scene* is one goal: a fixed 20 s timeline of 22 players and a ball on a striped pitch,
seeded by the scene id. Every scene is filmed in the same stadium with the same broadcast
graphics, so frames of different goals look alike (as they do in one real broadcast) while
their content (play, camera path, kits) differs. ``angle`` picks a camera: 0 is the main
broadcast camera, 1 a camera behind the goal, 2 a low close-up camera, >= 3 seeded variants.

Frames are drawn once at a base resolution with numpy/OpenCV and piped to ffmpeg, which does
the re-upload transformations (mirror, crop, scale, letterbox, logo) and encodes H.264.

Public API: :class:`ClipSpec`, :func:`render`, :func:`render_cached`, :func:`labeled_set`,
:class:`LabeledClip`, :func:`is_true_duplicate`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

GENERATOR_VERSION = 3
SCENE_LENGTH = 20.0  # seconds of timeline per scene
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"

PITCH_X, PITCH_Y = 105.0, 68.0
_TEX_SCALE = 8.0  # texture pixels per metre
_MARGIN = 24.0  # metres of surroundings (track, advertising boards, stands) around the pitch
_BASE_W, _BASE_H = 640, 360

_KITS = [
    (40, 40, 200),  # red (BGR)
    (235, 235, 235),  # white
    (200, 90, 30),  # blue
    (30, 200, 240),  # yellow
    (30, 30, 30),  # black
    (150, 60, 150),  # purple
    (0, 140, 255),  # orange
    (200, 200, 120),  # light blue
]


@dataclass(frozen=True)
class ClipSpec:
    scene: int
    angle: int = 0
    start: float = 0.0
    duration: float = 8.0
    width: int = 1280
    height: int = 720
    fps: float = 30.0
    bitrate_kbps: int = 2500
    letterbox: bool = False
    crop: float = 0.0
    logo: bool = False
    mirror: bool = False

    def digest(self) -> str:
        payload = json.dumps({"v": GENERATOR_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def frame_size(self) -> tuple[int, int]:
        """Coded (width, height) of the output file; a letterboxed clip is 4:3."""
        if self.letterbox:
            return self.width, _even(self.width * 3 / 4)
        return self.width, self.height


def _even(v: float) -> int:
    return max(2, int(round(v / 2.0)) * 2)


# --------------------------------------------------------------------------------------------
# The stadium (identical for every scene: one broadcast)


@lru_cache(maxsize=1)
def _stadium_texture() -> np.ndarray:
    s = _TEX_SCALE
    w = int((PITCH_X + 2 * _MARGIN) * s)
    h = int((PITCH_Y + 2 * _MARGIN) * s)
    rng = np.random.default_rng(12345)
    # stands: blocky crowd noise, darker than the pitch
    crowd = rng.integers(20, 150, size=(h // 4 + 1, w // 4 + 1, 3), dtype=np.uint8)
    tex = cv2.resize(crowd, (w, h), interpolation=cv2.INTER_NEAREST)

    def px(x: float, y: float) -> tuple[int, int]:
        return int(round((x + _MARGIN) * s)), int(round((y + _MARGIN) * s))

    # grass surround and mown stripes
    x0, y0 = px(-6, -5)
    x1, y1 = px(PITCH_X + 6, PITCH_Y + 5)
    tex[y0:y1, x0:x1] = (40, 120, 45)
    stripe = PITCH_X / 16
    for i in range(16):
        a, _ = px(i * stripe, 0)
        b, _ = px((i + 1) * stripe, 0)
        colour = (38, 132, 50) if i % 2 == 0 else (52, 158, 66)
        tex[y0:y1, a:b] = colour
    grain = rng.integers(-8, 9, size=(y1 - y0, x1 - x0, 1), dtype=np.int16)
    tex[y0:y1, x0:x1] = np.clip(tex[y0:y1, x0:x1].astype(np.int16) + grain, 0, 255)
    # advertising boards along the near and far touchlines
    for y in (-4.0, PITCH_Y + 3.0):
        for k in range(14):
            a, b1 = px(k * 7.5, y)
            c, b2 = px(k * 7.5 + 7.0, y + 1.0)
            tex[b1:b2, a:c] = _KITS[(k * 3) % len(_KITS)]
    draw_markings(tex, px, s, width=2, spot=3)
    # pre-filtered so that a cheap nearest-neighbour warp does not alias too badly
    return cv2.GaussianBlur(tex, (3, 3), 0)


def visible_players(p: np.ndarray, players: np.ndarray, w: int, h: int):
    """(index, foot x, foot y, head x, head y, height) in pixels of each player the camera
    ``p`` sees, far players first (so near ones are drawn over them)."""
    n = len(players)
    feet = np.concatenate([players, np.zeros((n, 1)), np.ones((n, 1))], axis=1)
    heads = feet.copy()
    heads[:, 2] = 1.85
    pf, ph = feet @ p.T, heads @ p.T
    for i in np.argsort(-pf[:, 2]):
        if pf[i, 2] <= 0.5:
            continue
        fx, fy = pf[i, 0] / pf[i, 2], pf[i, 1] / pf[i, 2]
        hx, hy = ph[i, 0] / ph[i, 2], ph[i, 1] / ph[i, 2]
        height = abs(fy - hy)
        if height >= 1 and -50 < fx < w + 50 and -50 < fy < h + 200:
            yield int(i), fx, fy, hx, hy, height


def draw_markings(tex: np.ndarray, px, scale: float, *, width: int, spot: int) -> None:
    """White pitch markings on a top-down texture; ``px(x, y)`` maps metres to pixels."""
    white = (235, 240, 235)

    def line(xa, ya, xb, yb):
        cv2.line(tex, px(xa, ya), px(xb, yb), white, width, cv2.LINE_AA)

    def rect(xa, ya, xb, yb):
        cv2.rectangle(tex, px(xa, ya), px(xb, yb), white, width, cv2.LINE_AA)

    rect(0, 0, PITCH_X, PITCH_Y)
    line(PITCH_X / 2, 0, PITCH_X / 2, PITCH_Y)
    cv2.circle(tex, px(PITCH_X / 2, PITCH_Y / 2), int(9.15 * scale), white, width, cv2.LINE_AA)
    for gx, d in ((0.0, 1), (PITCH_X, -1)):
        rect(gx, PITCH_Y / 2 - 20.16, gx + d * 16.5, PITCH_Y / 2 + 20.16)
        rect(gx, PITCH_Y / 2 - 9.16, gx + d * 5.5, PITCH_Y / 2 + 9.16)
        cv2.circle(tex, px(gx + d * 11, PITCH_Y / 2), spot, white, -1)
        # goal frame (flat on the texture) and net
        rect(gx, PITCH_Y / 2 - 3.66, gx - d * 2.0, PITCH_Y / 2 + 3.66)


def make_once(final: Path, make) -> Path:
    """``final``, made at most once: ``make(tmp)`` writes a temporary file beside it that then
    replaces ``final`` whole, so a crash or a parallel maker never leaves half a file."""
    if final.exists() and final.stat().st_size > 0:
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    try:
        make(tmp)
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return final


# --------------------------------------------------------------------------------------------
# The scene: play as analytic functions of time


@dataclass(frozen=True)
class _Scene:
    goal_x: float
    direction: float
    waypoints: np.ndarray  # (k, 2) ball positions, last is inside the goal
    way_times: np.ndarray  # (k,)
    base: np.ndarray  # (22, 2) formation positions
    wander_amp: np.ndarray  # (22, 2, 3)
    wander_freq: np.ndarray  # (22, 2, 3)
    wander_phase: np.ndarray  # (22, 2, 3)
    kits: tuple[tuple[int, int, int], tuple[int, int, int]]
    minute: int
    zoom_phase: float
    t_goal: float


@lru_cache(maxsize=64)
def _scene(scene: int) -> _Scene:
    rng = np.random.default_rng(1_000_003 * (scene + 1))
    direction = 1.0 if rng.random() < 0.5 else -1.0
    goal_x = PITCH_X if direction > 0 else 0.0
    t_goal = float(rng.uniform(11.0, 14.0))
    k = int(rng.integers(4, 7))
    # build-up from somewhere in the own half or midfield towards the goal
    xs = np.linspace(rng.uniform(25, 60), rng.uniform(80, 92), k)
    if direction < 0:
        xs = PITCH_X - xs
    ys = rng.uniform(8, 60, size=k)
    ys[-1] = rng.uniform(20, 48)
    pts = np.stack([xs, ys], axis=1)
    goal_pt = np.array([[goal_x + direction * 1.0, PITCH_Y / 2 + rng.uniform(-3, 3)]])
    waypoints = np.concatenate([pts, goal_pt])
    way_times = np.concatenate([np.sort(rng.uniform(0.0, t_goal - 1.0, size=k)), [t_goal]])
    way_times[0] = 0.0
    # formations: attackers (team 0) pushed up, defenders (team 1) deep
    base = np.zeros((22, 2))
    for team in (0, 1):
        depth = rng.uniform(45, 75, size=11) if team == 0 else rng.uniform(70, 98, size=11)
        depth[0] = 10 if team == 0 else 101  # goalkeepers
        if direction < 0:
            depth = PITCH_X - depth
        base[team * 11 : team * 11 + 11, 0] = depth
        base[team * 11 : team * 11 + 11, 1] = rng.uniform(6, 62, size=11)
        base[team * 11, 1] = PITCH_Y / 2
    kit_ids = rng.choice(len(_KITS), size=2, replace=False)
    return _Scene(
        goal_x=goal_x,
        direction=direction,
        waypoints=waypoints,
        way_times=way_times,
        base=base,
        wander_amp=rng.uniform(0.5, 3.5, size=(22, 2, 3)),
        wander_freq=rng.uniform(0.2, 1.2, size=(22, 2, 3)),
        wander_phase=rng.uniform(0, 2 * np.pi, size=(22, 2, 3)),
        kits=(_KITS[int(kit_ids[0])], _KITS[int(kit_ids[1])]),
        minute=int(rng.integers(3, 88)),
        zoom_phase=float(rng.uniform(0, 2 * np.pi)),
        t_goal=t_goal,
    )


def _ball(sc: _Scene, t: float) -> np.ndarray:
    """Ball (x, y, z) at time t."""
    wt = sc.way_times
    if t >= wt[-1]:
        p = sc.waypoints[-1]
        return np.array([p[0] + sc.direction * 0.3 * math.sin(t), p[1], 0.2])
    i = int(np.searchsorted(wt, t, side="right") - 1)
    i = max(0, min(i, len(wt) - 2))
    u = (t - wt[i]) / max(wt[i + 1] - wt[i], 1e-6)
    u_s = u * u * (3 - 2 * u)
    p = sc.waypoints[i] * (1 - u_s) + sc.waypoints[i + 1] * u_s
    z = (4.0 if i < len(wt) - 2 else 1.5) * 4 * u * (1 - u)
    return np.array([p[0], p[1], z])


def _players(sc: _Scene, t: float, ball: np.ndarray) -> np.ndarray:
    """(22, 2) player positions at time t."""
    wander = (sc.wander_amp * np.sin(sc.wander_freq * t + sc.wander_phase)).sum(axis=2)
    pos = sc.base + wander
    # everyone drifts towards the ball a little; attackers push towards goal over time
    pos = pos + 0.25 * (ball[None, :2] - pos)
    pos[:11, 0] += sc.direction * 0.6 * t
    if t > sc.t_goal:  # celebration: attackers run towards the corner flag
        corner = np.array([sc.goal_x, 0.0 if sc.waypoints[-1][1] < PITCH_Y / 2 else PITCH_Y])
        a = min(1.0, (t - sc.t_goal) / 5.0)
        pos[1:11] = pos[1:11] * (1 - a) + (corner + (pos[1:11] - corner) * 0.15) * a
    return pos


# --------------------------------------------------------------------------------------------
# Cameras


def _camera(sc: _Scene, angle: int, t: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Camera (position, target, horizontal field of view in degrees) at time t."""
    # lagged, smoothed ball position as the camera's target
    lag = np.mean([_ball(sc, t - 0.25 * k)[:2] for k in range(6)], axis=0)
    if angle == 0:
        tx = float(np.clip(lag[0], 18, PITCH_X - 18))
        ty = PITCH_Y / 2 + 0.45 * (lag[1] - PITCH_Y / 2)
        pos = np.array([PITCH_X / 2, -32.0, 19.0])
        fov = 34.0 + 7.0 * math.sin(0.21 * t + sc.zoom_phase)
        return pos, np.array([tx, ty, 0.0]), fov
    if angle == 1:
        pos = np.array([sc.goal_x + sc.direction * 14.0, PITCH_Y / 2 + 6.0, 7.0])
        return pos, np.array([lag[0], lag[1], 0.0]), 48.0
    if angle == 2:
        pos = np.array([sc.goal_x - sc.direction * 24.0, -7.0, 4.0])
        return pos, np.array([lag[0], lag[1], 0.6]), 16.0 + 3.0 * math.sin(0.5 * t)
    rng = np.random.default_rng(angle * 7919)
    pos = np.array([rng.uniform(0, PITCH_X), rng.choice([-30.0, PITCH_Y + 30]), 15.0])
    return pos, np.array([lag[0], lag[1], 0.0]), float(rng.uniform(25, 45))


def _projection(pos: np.ndarray, target: np.ndarray, fov: float, w: int, h: int) -> np.ndarray:
    f = target - pos
    f = f / np.linalg.norm(f)
    r = np.cross(f, [0.0, 0.0, 1.0])
    r = r / np.linalg.norm(r)
    d = np.cross(f, r)
    rot = np.stack([r, d, f])
    fx = (w / 2) / math.tan(math.radians(fov) / 2)
    k = np.array([[fx, 0, w / 2], [0, fx, h / 2], [0, 0, 1]])
    return k @ np.concatenate([rot, (-rot @ pos)[:, None]], axis=1)


def _draw_frame(scene: int, angle: int, t: float, w: int, h: int) -> np.ndarray:
    sc = _scene(scene)
    pos, target, fov = _camera(sc, angle, t)
    p = _projection(pos, target, fov, w, h)
    s = _TEX_SCALE
    tex_to_world = np.array([[1 / s, 0, -_MARGIN], [0, 1 / s, -_MARGIN], [0, 0, 1]])
    homog = p[:, [0, 1, 3]] @ tex_to_world
    frame = cv2.warpPerspective(
        _stadium_texture(),
        homog,
        (w, h),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(60, 55, 50),
    )
    ball = _ball(sc, t)
    players = _players(sc, t, ball)
    for i, fx_, fy_, hx_, hy_, height in visible_players(p, players, w, h):
        kit = sc.kits[0] if i < 11 else sc.kits[1]
        if i in (0, 11):
            kit = (20, 220, 20) if i == 0 else (180, 0, 180)
        cx, cy = (fx_ + hx_) / 2, (fy_ + hy_) / 2
        axes = (max(1, int(height * 0.2)), max(1, int(height * 0.5)))
        cv2.ellipse(frame, (int(cx), int(cy)), axes, 0, 0, 360, kit, -1, cv2.LINE_AA)
        head_r = max(1, int(height * 0.09))
        cv2.circle(frame, (int(hx_), int(hy_)), head_r, (120, 160, 210), -1, cv2.LINE_AA)
    pb = p @ np.array([ball[0], ball[1], ball[2] + 0.11, 1.0])
    if pb[2] > 0.5:
        pr = p @ np.array([ball[0], ball[1], ball[2] + 0.33, 1.0])
        rad = max(1, int(abs(pb[1] / pb[2] - pr[1] / pr[2])))
        cv2.circle(frame, (int(pb[0] / pb[2]), int(pb[1] / pb[2])), rad, (250, 250, 250), -1)
    _scoreboard(frame, sc, t)
    return frame


def _scoreboard(frame: np.ndarray, sc: _Scene, t: float) -> None:
    secs = sc.minute * 60 + int(t)
    score = "1-0" if t >= sc.t_goal else "0-0"
    draw_score_bug(frame, sc.kits, f"HOM {score} AWY {secs // 60:02d}:{secs % 60:02d}", 8, 12)


def draw_score_bug(frame: np.ndarray, kits, text: str, stripe: int, indent: int) -> None:
    """A broadcaster's score bug in the top-left corner (sizes in 640-wide pixels)."""
    u = frame.shape[1] / 640.0
    x0, y0, bw, bh = int(18 * u), int(14 * u), int(170 * u), int(22 * u)
    frame[y0 : y0 + bh, x0 : x0 + bw] = (40, 25, 20)
    frame[y0 : y0 + bh, x0 : x0 + int(stripe * u)] = kits[0]
    frame[y0 : y0 + bh, x0 + bw - int(stripe * u) : x0 + bw] = kits[1]
    cv2.putText(frame, text, (x0 + int(indent * u), y0 + int(16 * u)), cv2.FONT_HERSHEY_SIMPLEX,
                0.42 * u, (240, 240, 240), max(1, int(u)), cv2.LINE_AA)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Rendering


def _filters(spec: ClipSpec) -> str:
    out_w, out_h = spec.frame_size
    chain = []
    if spec.mirror:
        chain.append("hflip")
    if spec.crop > 0:
        keep = 1.0 - spec.crop
        chain.append(f"crop=iw*{keep:.4f}:ih*{keep:.4f}")
    chain.append(f"scale={_even(spec.width)}:{_even(spec.height)}:flags=bilinear")
    if spec.letterbox:
        chain.append(f"pad={out_w}:{out_h}:(ow-iw)/2:(oh-ih)/2:black")
    if spec.logo:
        lw, lh = _even(out_w * 0.11), _even(out_h * 0.07)
        lx, ly = int(out_w * 0.86) - lw // 2, int(out_h * 0.06)
        chain.append(f"drawbox=x={lx}:y={ly}:w={lw}:h={lh}:color=white@0.65:t=fill")
        chain.append(
            f"drawbox=x={lx + lw // 4}:y={ly + lh // 4}:w={lw // 2}:h={lh // 2}"
            ":color=0xC03020@0.9:t=fill"
        )
    chain.append("format=yuv420p")
    return ",".join(chain)


def render(spec: ClipSpec, path: str | os.PathLike[str]) -> Path:
    """Render ``spec`` to an H.264 MP4 at ``path`` (overwritten)."""
    path = Path(path)
    if spec.duration <= 0 or spec.fps <= 0:
        raise ValueError(f"bad spec: {spec}")
    n_frames = max(1, int(round(spec.duration * spec.fps)))
    bitrate = int(spec.bitrate_kbps)
    gop = max(1, int(round(spec.fps * 2)))
    cmd = [
        FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{_BASE_W}x{_BASE_H}",
        "-r", f"{spec.fps:g}", "-i", "pipe:0",
        "-vf", _filters(spec),
        "-c:v", "libx264", "-preset", "ultrafast", "-threads", "1",
        "-b:v", f"{bitrate}k", "-maxrate", f"{int(bitrate * 1.5)}k",
        "-bufsize", f"{bitrate * 2}k", "-g", str(gop),
        "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", str(path),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for i in range(n_frames):
            t = spec.start + i / spec.fps
            proc.stdin.write(_draw_frame(spec.scene, spec.angle, t, _BASE_W, _BASE_H).data)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed rendering {spec}: {err.strip()[-500:]}")
    return path


def render_cached(spec: ClipSpec, cache_dir: str | os.PathLike[str]) -> Path:
    """Render ``spec`` into ``cache_dir`` under a name derived from the spec, once."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    return make_once(cache_dir / f"clip-{spec.digest()}.mp4", lambda tmp: render(spec, tmp))


# --------------------------------------------------------------------------------------------
# The labeled set


@dataclass(frozen=True)
class LabeledClip:
    path: Path
    spec: ClipSpec
    label: str  # clips with the same label are true duplicates of each other


def clip_label(spec: ClipSpec) -> str:
    return f"scene{spec.scene}-angle{spec.angle}" + ("-mirrored" if spec.mirror else "")


def is_true_duplicate(a: ClipSpec, b: ClipSpec) -> bool:
    """Same scene, camera and orientation, with overlapping time ranges."""
    overlap = min(a.start + a.duration, b.start + b.duration) - max(a.start, b.start)
    return clip_label(a) == clip_label(b) and overlap > 0


def labeled_specs(scenes: int = 3) -> list[ClipSpec]:
    """The variants of every goal in the labeled set (see module docstring)."""
    specs: list[ClipSpec] = []
    for s in range(scenes):
        hd, sd = {"width": 1920, "height": 1080}, {"width": 854, "height": 480}
        ld = {"width": 640, "height": 360}
        specs += [
            ClipSpec(s, start=2.0, duration=8.0),  # the broadcast clip, 720p30 2.5 Mb/s
            ClipSpec(s, start=4.0, duration=5.0),  # trimmed at both ends
            ClipSpec(s, start=1.0, duration=6.0, bitrate_kbps=1800),  # starts earlier
            ClipSpec(s, start=3.0, duration=6.0, bitrate_kbps=8000, **hd),  # the best copy
            ClipSpec(s, start=3.0, duration=6.0, bitrate_kbps=600, **ld),
            ClipSpec(s, start=2.0, duration=6.0, bitrate_kbps=1000, **sd),
            ClipSpec(s, start=2.5, duration=6.0, bitrate_kbps=700),  # starved 720p
            ClipSpec(s, start=2.0, duration=6.0, letterbox=True, **sd),
            ClipSpec(s, start=3.0, duration=5.0, crop=0.05),
            ClipSpec(s, start=2.5, duration=5.0, crop=0.10, **sd),
            ClipSpec(s, start=2.0, duration=6.0, logo=True, bitrate_kbps=2000),
            ClipSpec(s, start=2.0, duration=6.0, fps=25.0, **sd),
            ClipSpec(s, start=3.5, duration=5.0, fps=50.0, bitrate_kbps=3000),
            ClipSpec(
                s,
                start=1.5,
                duration=6.0,
                fps=25.0,
                bitrate_kbps=500,
                letterbox=True,
                logo=True,
                crop=0.06,
                **ld,
            ),  # fmt: skip
            # replays from other cameras (distinct clusters), one with its own re-upload
            ClipSpec(s, angle=1, start=7.0, duration=6.0),
            ClipSpec(s, angle=1, start=8.0, duration=5.0, bitrate_kbps=900, **sd),
            ClipSpec(s, angle=2, start=6.0, duration=6.0),
            # a mirrored re-upload of the broadcast (a distinct cluster)
            ClipSpec(s, start=2.0, duration=6.0, mirror=True),
        ]
    return specs


def labeled_set(
    out_dir: str | os.PathLike[str], *, scenes: int = 3, workers: int | None = None
) -> list[LabeledClip]:
    """Render (or reuse) the labeled set in ``out_dir``; returns clips with their labels."""
    specs = labeled_specs(scenes)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        paths = list(pool.map(lambda sp: render_cached(sp, out_dir), specs))
    return [LabeledClip(p, sp, clip_label(sp)) for p, sp in zip(paths, specs, strict=True)]
