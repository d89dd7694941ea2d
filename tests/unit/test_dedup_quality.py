"""Best-copy ordering (pure)."""

from __future__ import annotations

from footy.dedup.quality import Quality, band_limit, compare_reason, explain, rank


def q(w=1280, h=720, bpp=0.1, fps=30.0, dur=10.0) -> Quality:
    return Quality(eff_width=w, eff_height=h, bits_per_pixel=bpp, fps=fps, duration=dur)


def test_effective_resolution_first():
    items = {"hd": q(1920, 1080, bpp=0.05), "sd": q(854, 480, bpp=0.4, fps=60)}
    assert rank(items) == ["hd", "sd"]


def test_bits_per_pixel_then_frame_rate_then_duration():
    assert rank({"lo": q(bpp=0.05), "hi": q(bpp=0.1)}) == ["hi", "lo"]
    assert rank({"p25": q(fps=25), "p50": q(fps=50)}) == ["p50", "p25"]
    assert rank({"short": q(dur=8.0), "long": q(dur=10.0)}) == ["long", "short"]


def test_small_differences_are_ties_broken_by_key():
    # 1 % more bits per pixel is noise, not quality: the key decides, in both orders
    a, b = q(bpp=0.100), q(bpp=0.101)
    assert rank({"b": b, "a": a}) == ["a", "b"]
    assert rank({"a": b, "b": a}) == ["a", "b"]


def test_compilation_never_beats_a_focused_clip():
    items = {
        "compilation": q(1920, 1080, bpp=0.3, fps=60, dur=95.0),
        "focused": q(854, 480, bpp=0.05, fps=25, dur=12.0),
    }
    assert rank(items) == ["focused", "compilation"]
    why = explain(items)
    assert "outside the duration band" in why


def test_band_uses_low_median():
    assert band_limit([10.0, 60.0]) == 20.0
    assert band_limit([8.0, 9.0, 10.0, 11.0]) == 18.0
    # a cluster of one long clip is its own median: it stays in band
    assert rank({"only": q(dur=95.0)}) == ["only"]


def test_letterboxed_copy_loses_on_effective_resolution():
    items = {"boxed": q(1280, 540, bpp=0.2), "full": q(1280, 720, bpp=0.1)}
    assert rank(items) == ["full", "boxed"]
    assert "effective resolution" in compare_reason(items["full"], items["boxed"], 1e9)


def test_explain_names_every_loser():
    items = {"a": q(1920, 1080), "b": q(bpp=0.05), "c": q(fps=25)}
    why = explain(items)
    assert why.startswith("best of 3: 1920x1080")
    assert "b: lower effective resolution" in why and "c: lower effective resolution" in why
    assert explain({"x": q()}).startswith("only copy")


def test_deterministic():
    items = {f"k{i}": q(bpp=0.1 * (1 + i % 3), fps=25 + 5 * (i % 2)) for i in range(9)}
    orders = {tuple(rank(dict(reversed(list(items.items()))))), tuple(rank(items))}
    assert len(orders) == 1
