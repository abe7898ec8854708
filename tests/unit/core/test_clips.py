"""The clip ring's bounds (time and bytes) and the choice of a clip's frames/packets."""

from __future__ import annotations

import pytest

from core.clips import ClipRequest, MediaRing, RingItem, clip_due, clip_key, clip_window, segment_key


def item(ts: int, size: int = 10, key: bool = True) -> RingItem:
    return RingItem(ts, b"x" * size, key)


def test_ring_drops_items_older_than_the_horizon() -> None:
    ring = MediaRing(horizon_ms=1000, max_bytes=10**6)
    for ts in range(0, 3001, 100):
        ring.add(item(ts))
    st = ring.stats()
    assert st.span_ms == 1000 and st.items == 11 and st.bytes == 110
    assert ring.window(0, 1999) == []  # gone
    assert ring.newest_ts_ms == 3000


def test_ring_memory_never_exceeds_its_cap_and_drops_are_counted() -> None:
    ring = MediaRing(horizon_ms=10**9, max_bytes=1000)
    for ts in range(100):
        ring.add(item(ts, size=64))
        assert ring.stats().bytes <= 1000
    st = ring.stats()
    assert st.items == 1000 // 64 and st.dropped_for_memory == 100 - st.items
    assert ring.window(0, 10**6)[0].ts_ms == 100 - st.items  # the oldest went first


def test_ring_ignores_an_item_older_than_the_newest() -> None:
    ring = MediaRing(1000, 1000)
    ring.add(item(500))
    ring.add(item(400))
    assert [i.ts_ms for i in ring.window(0, 1000)] == [500]


@pytest.mark.parametrize("horizon,cap", [(0, 10), (10, 0), (-1, 10)])
def test_ring_rejects_non_positive_bounds(horizon: int, cap: int) -> None:
    with pytest.raises(ValueError):
        MediaRing(horizon, cap)


@pytest.mark.parametrize(
    "keys,start,end,want",
    [
        ("KKKKKK", 200, 400, [200, 300, 400]),  # all keyframes: exactly the window
        ("KddKdd", 400, 500, [300, 400, 500]),  # mid-GOP start: back to the keyframe before
        ("ddKddd", 0, 300, [200, 300]),  # no keyframe before: first keyframe inside
        ("dddddd", 0, 500, []),  # no keyframe at all: nothing decodable
        ("KKKKKK", 600, 900, []),  # after the ring
        ("KKKKKK", 300, 200, []),  # empty window
    ],
)
def test_clip_window(keys: str, start: int, end: int, want: list[int]) -> None:
    items = [item(i * 100, key=k == "K") for i, k in enumerate(keys)]
    assert [i.ts_ms for i in clip_window(items, start, end)] == want


def req(end: int) -> ClipRequest:
    return ClipRequest("violation", "v1", "cam", end - 4000, end - 8000, end)


def test_a_clip_is_due_once_a_frame_past_its_end_arrived() -> None:
    assert not clip_due(req(10_000), 9_900, now_ts_ms=9_950, grace_ms=2000)
    assert clip_due(req(10_000), 10_000, now_ts_ms=9_950, grace_ms=2000)


def test_a_quiet_camera_still_gets_its_clip_after_the_grace() -> None:
    assert not clip_due(req(10_000), 9_000, now_ts_ms=11_999, grace_ms=2000)
    assert clip_due(req(10_000), 9_000, now_ts_ms=12_000, grace_ms=2000)
    assert clip_due(req(10_000), None, now_ts_ms=12_000, grace_ms=2000)


def test_keys_are_per_camera_and_utc_day() -> None:
    ts = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    assert clip_key("cam-1", "violation", "abc", ts) == "clips/cam-1/2026-01-01/violation-abc.mp4"
    assert segment_key("cam-1", ts - 1) == f"recordings/cam-1/2025-12-31/{ts - 1}.mp4"
